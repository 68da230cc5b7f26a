//! The per-word label set. Both readers label every word of a document with one of these, and one
//! assembler ([`crate::assemble`]) turns labels into an [`claimscan_doc::Invoice`]. The model's
//! output classes are these labels in this order (see `models/README.md`).

/// What a word is on the invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Label {
    Other = 0,
    SupplierName,
    SupplierVatId,
    InvoiceNumber,
    InvoiceDate,
    Currency,
    Subtotal,
    Tax,
    Total,
    LineCode,
    LineDescription,
    LineQuantity,
    LineUnit,
    LineUnitPrice,
    LineNetPrice,
    LineAmount,
    LineDiscount,
    LineOther,
}

impl Label {
    pub const ALL: [Label; 18] = [
        Label::Other,
        Label::SupplierName,
        Label::SupplierVatId,
        Label::InvoiceNumber,
        Label::InvoiceDate,
        Label::Currency,
        Label::Subtotal,
        Label::Tax,
        Label::Total,
        Label::LineCode,
        Label::LineDescription,
        Label::LineQuantity,
        Label::LineUnit,
        Label::LineUnitPrice,
        Label::LineNetPrice,
        Label::LineAmount,
        Label::LineDiscount,
        Label::LineOther,
    ];

    /// Stable snake_case name (the manifest's `labels` list).
    pub fn name(self) -> &'static str {
        match self {
            Label::Other => "other",
            Label::SupplierName => "supplier_name",
            Label::SupplierVatId => "supplier_vat_id",
            Label::InvoiceNumber => "invoice_number",
            Label::InvoiceDate => "invoice_date",
            Label::Currency => "currency",
            Label::Subtotal => "subtotal",
            Label::Tax => "tax",
            Label::Total => "total",
            Label::LineCode => "line_product_code",
            Label::LineDescription => "line_description",
            Label::LineQuantity => "line_quantity",
            Label::LineUnit => "line_unit",
            Label::LineUnitPrice => "line_unit_price",
            Label::LineNetPrice => "line_net_price",
            Label::LineAmount => "line_amount",
            Label::LineDiscount => "line_discount",
            Label::LineOther => "line_other",
        }
    }

    pub fn from_index(i: usize) -> Label {
        Label::ALL.get(i).copied().unwrap_or(Label::Other)
    }

    pub fn is_line(self) -> bool {
        (self as u8) >= (Label::LineCode as u8)
    }

    /// The label of a truth field name (header `fields[].name` or a line `bbox` key).
    pub fn from_truth(name: &str, in_line: bool) -> Option<Label> {
        Some(if in_line {
            match name {
                "product_code" => Label::LineCode,
                "description" => Label::LineDescription,
                "quantity" => Label::LineQuantity,
                "unit" => Label::LineUnit,
                "unit_price" => Label::LineUnitPrice,
                "net_price" => Label::LineNetPrice,
                "amount" => Label::LineAmount,
                "discount_pct" => Label::LineDiscount,
                _ => Label::LineOther,
            }
        } else {
            match name {
                "supplier_name" => Label::SupplierName,
                "supplier_vat_id" => Label::SupplierVatId,
                "invoice_number" => Label::InvoiceNumber,
                "invoice_date" => Label::InvoiceDate,
                "currency" => Label::Currency,
                "subtotal" => Label::Subtotal,
                "tax" => Label::Tax,
                "total" => Label::Total,
                _ => return None,
            }
        })
    }
}

/// One word's label and the reader's probability for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tag {
    pub label: Label,
    pub prob: f32,
}

impl Default for Tag {
    fn default() -> Self {
        Tag {
            label: Label::Other,
            prob: 1.0,
        }
    }
}

/// Labels of every word of a document: `tags[page][word]`, parallel to `Document::pages[p].words`.
pub type Tags = Vec<Vec<Tag>>;
