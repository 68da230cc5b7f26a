//! The invoice verifier: how likely a read invoice is entirely right, from what the reading
//! itself shows.
//!
//! The reader's own invoice confidence is the least sure header field or line, cut when a check
//! fails. It ranks a scan whose description OCR misread (`PACKOF1` for `PACK OF 1`, the sums all
//! right) beside a clean one, and those misreadings are most of the wrong invoices that pass
//! every check. The verifier adds what tells them apart: description words that neither the
//! catalog nor any distributor writes (after the vocabulary's corrections), missing quantities,
//! the OCR engine's doubt over the whole page, which checks failed and how often.
//!
//! It is a logistic regression over [`FEATURES`], trained by `pipelines/layout/verifier.py` on
//! what `claimscan model eval --dump` writes for the generator's *train* distributors, and kept
//! in the model's manifest (`[verifier]`); its output is then calibrated like the reader's
//! confidence was (`[calibration]`, fitted on other documents). A manifest without a
//! `[verifier]` keeps the reader's confidence.

use claimscan_doc::{Document, Invoice};
use serde::{Deserialize, Serialize};

use crate::vocabulary::{exact_pages, Vocabulary};

/// The verifier's inputs, in order (the manifest's `[verifier] features` must equal them).
pub const FEATURES: [&str; 26] = [
    "ocr_pages",
    "reader_confidence",
    "conf_supplier_name",
    "conf_supplier_vat_id",
    "conf_invoice_number",
    "conf_invoice_date",
    "conf_currency",
    "conf_subtotal",
    "conf_tax",
    "conf_total",
    "line_conf_min",
    "line_conf_mean",
    "log_lines",
    "errors_line_arithmetic",
    "errors_line_repaired",
    "errors_lines_sum_mismatch",
    "errors_totals_mismatch",
    "errors_field_missing",
    "errors_no_lines",
    "lines_without_quantity",
    "lines_without_description",
    "word_conf_mean",
    "low_conf_words",
    "lines_unknown_word",
    "lines_unknown_number_word",
    "any_unknown_word",
];

/// The verifier's inputs for a read invoice: `reader_confidence` is the reader's own (before
/// calibration), `inv` the invoice after the vocabulary's corrections. Without a vocabulary no
/// description word counts as unknown.
pub fn features(
    doc: &Document,
    inv: &Invoice,
    reader_confidence: f32,
    vocabulary: Option<&Vocabulary>,
) -> Vec<f32> {
    let exact = exact_pages(doc);
    let ocr = exact.iter().any(|e| !e);
    let mut f = vec![f32::from(u8::from(ocr)), reader_confidence];
    for name in crate::HEADER_FIELDS {
        f.push(inv.field_confidence.get(name).copied().unwrap_or(0.0));
    }
    let confs: Vec<f32> = inv.lines.iter().map(|l| l.confidence).collect();
    let (min, mean) = if confs.is_empty() {
        (0.0, 0.0)
    } else {
        (
            confs.iter().copied().fold(1.0f32, f32::min),
            confs.iter().sum::<f32>() / confs.len() as f32,
        )
    };
    f.extend([min, mean, (inv.lines.len() as f32).ln_1p()]);
    for code in [
        "line_arithmetic",
        "line_repaired",
        "lines_sum_mismatch",
        "totals_mismatch",
        "field_missing",
        "no_lines",
    ] {
        f.push(inv.errors.iter().filter(|e| e.code == code).count() as f32);
    }
    f.push(inv.lines.iter().filter(|l| l.quantity.is_none()).count() as f32);
    f.push(inv.lines.iter().filter(|l| l.description.is_none()).count() as f32);
    let words: Vec<f32> = doc.words().map(|w| w.confidence).collect();
    let n = words.len().max(1) as f32;
    f.push(words.iter().sum::<f32>() / n);
    f.push(words.iter().filter(|c| **c < 0.9).count() as f32 / n);
    // description words no one writes, on lines read from OCR'd pages
    let (mut unknown, mut unknown_number) = (0usize, 0usize);
    if let Some(v) = vocabulary.filter(|v| !v.is_empty()) {
        for line in &inv.lines {
            let page = line.boxes.get("description").map(|b| b.page);
            if page.is_none_or(|p| exact.get(p).copied().unwrap_or(false)) {
                continue;
            }
            let words = line.description.as_deref().unwrap_or("").split_whitespace();
            let (mut word, mut number) = (false, false);
            for w in words.filter(|w| !v.knows(w)) {
                if w.chars().any(|c| c.is_ascii_digit()) {
                    number = true;
                } else {
                    word = true;
                }
            }
            unknown += usize::from(word);
            unknown_number += usize::from(number);
        }
    }
    f.extend([
        unknown as f32,
        unknown_number as f32,
        f32::from(u8::from(unknown > 0)),
    ]);
    debug_assert_eq!(f.len(), FEATURES.len());
    f
}

/// A logistic regression over standardised [`FEATURES`] (`[verifier]` of a manifest).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Verifier {
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
    #[serde(default)]
    pub trained_on: String,
}

impl Verifier {
    /// What differs between this table and the code's [`FEATURES`] (empty: it fits).
    pub fn differences(&self) -> Vec<String> {
        let mut d = Vec::new();
        let n = FEATURES.len();
        if self.features.len() != n {
            d.push(format!(
                "verifier features: manifest has {}, code has {n}",
                self.features.len()
            ));
        }
        if let Some((i, (m, c))) = self
            .features
            .iter()
            .zip(FEATURES)
            .enumerate()
            .find(|(_, (m, c))| m != c)
        {
            d.push(format!("verifier feature {i}: manifest `{m}`, code `{c}`"));
        }
        for (name, len) in [
            ("mean", self.mean.len()),
            ("scale", self.scale.len()),
            ("weights", self.weights.len()),
        ] {
            if len != n {
                d.push(format!(
                    "verifier {name}: {len} values, code has {n} features"
                ));
            }
        }
        if !self.scale.iter().all(|s| s.is_finite() && *s > 0.0) {
            d.push("verifier scale: every value must be above 0".into());
        }
        d
    }

    /// The probability that the invoice is entirely right (before calibration).
    pub fn score(&self, x: &[f32]) -> f32 {
        let z = self.bias
            + x.iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((x, m), s), w)| w * (x - m) / s)
                .sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::{LineItem, Page, PageSource, Word};

    fn table() -> Verifier {
        let n = FEATURES.len();
        let mut weights = vec![0.0; n];
        // only unknown description words count, against
        weights[FEATURES
            .iter()
            .position(|f| *f == "lines_unknown_word")
            .unwrap()] = -2.0;
        Verifier {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            mean: vec![0.0; n],
            scale: vec![1.0; n],
            weights,
            bias: 1.0,
            trained_on: "test".into(),
        }
    }

    fn scan(description: &str) -> (Document, Invoice) {
        let words = vec![Word::new("x", [0.0, 0.0, 10.0, 10.0], 0.8, 100.0, 100.0)];
        let page = Page::new(0, 100.0, 100.0, None, PageSource::Ocr, words);
        let doc = Document::of_words("t", vec![page]);
        let mut line = LineItem {
            description: Some(description.into()),
            quantity: Some(1.0),
            confidence: 0.9,
            ..Default::default()
        };
        line.boxes.insert(
            "description".into(),
            claimscan_doc::ValueBox {
                page: 0,
                bbox: [0.0, 0.0, 10.0, 10.0],
            },
        );
        let inv = Invoice {
            lines: vec![line],
            ..Default::default()
        };
        (doc, inv)
    }

    #[test]
    fn a_description_word_no_one_writes_lowers_the_score() {
        let v = Vocabulary::from_texts(["Circulator pump CIRCA 15-40"]);
        let (doc, known) = scan("Circulator pump CIRCA 15-40");
        let (_, misread) = scan("Circulator pnmp CIRCA 15-40");
        let (_, number) = scan("Circulator pump CIRCA 15-4O");
        let f = |inv: &Invoice| features(&doc, inv, 0.5, Some(&v));
        let at = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        assert_eq!(f(&known)[at("lines_unknown_word")], 0.0);
        assert_eq!(f(&misread)[at("lines_unknown_word")], 1.0);
        assert_eq!(f(&misread)[at("any_unknown_word")], 1.0);
        assert_eq!(f(&number)[at("lines_unknown_word")], 0.0);
        assert_eq!(f(&number)[at("lines_unknown_number_word")], 1.0);
        assert_eq!(f(&known)[at("ocr_pages")], 1.0);
        assert!((f(&known)[at("word_conf_mean")] - 0.8).abs() < 1e-6);
        assert_eq!(f(&known)[at("low_conf_words")], 1.0);
        // without a vocabulary nothing is unknown
        assert_eq!(
            features(&doc, &misread, 0.5, None)[at("lines_unknown_word")],
            0.0
        );
        let t = table();
        assert!(t.differences().is_empty());
        assert!(t.score(&f(&known)) > 0.7);
        assert!(t.score(&f(&misread)) < 0.3);
    }

    #[test]
    fn a_table_for_other_features_is_named_for_what_differs() {
        let mut t = table();
        t.features[3] = "conf_vat".into();
        t.weights.pop();
        let d = t.differences().join("; ");
        assert!(d.contains("verifier feature 3: manifest `conf_vat`, code `conf_supplier_vat_id`"));
        assert!(d.contains("verifier weights: 25 values, code has 26 features"));
    }
}
