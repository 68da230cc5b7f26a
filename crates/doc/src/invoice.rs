//! The structured invoice read from a [`crate::Document`]: header fields and line items, each with
//! where it was found and how sure the reader is.
//!
//! This is the contract between the layout stage (which fills it) and everything after it
//! (matching, checks, points, the review UI). Values are plain JSON values (`null` when unknown);
//! where each value was read is in `boxes`, keyed by field name (`"total"`, `"invoice_date"`, or
//! for a line `"quantity"`, `"amount"`, ...). Amounts are in the invoice's currency as decimal
//! numbers; dates are ISO 8601 `YYYY-MM-DD`; currency is ISO 4217.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::BBox;

/// Where a value was read: page index and box in that page's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueBox {
    pub page: usize,
    pub bbox: BBox,
}

/// The invoice header. Every field is `None` (JSON `null`) when it could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub supplier_name: Option<String>,
    pub supplier_vat_id: Option<String>,
    pub invoice_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub invoice_date: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: Option<String>,
    pub subtotal: Option<f64>,
    pub tax: Option<f64>,
    pub total: Option<f64>,
}

/// One line item as printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: Option<String>,
    /// The distributor's own product code, as printed.
    pub product_code: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub unit_price: Option<f64>,
    pub amount: Option<f64>,
    /// Probability in `0..1` that every value of this line is right.
    pub confidence: f32,
    /// Where each value was read, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boxes: BTreeMap<String, ValueBox>,
}

/// A problem found while reading or checking the invoice (a sum that does not add up, a field
/// that could not be normalised). `code` is stable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssue {
    pub code: String,
    pub message: String,
}

/// A whole structured invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub header: Header,
    pub lines: Vec<LineItem>,
    /// Probability in `0..1` that header and every line are right (calibrated).
    pub confidence: f32,
    /// Per header field confidence, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_confidence: BTreeMap<String, f32>,
    /// Where each header value was read, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boxes: BTreeMap<String, ValueBox>,
    #[serde(default)]
    pub errors: Vec<InvoiceIssue>,
    /// Which reader produced this (`rules`, or a model's `name@version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}
