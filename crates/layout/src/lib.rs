//! Reads the structure of an invoice from a [`claimscan_doc::Document`]'s words: the header fields
//! (supplier, VAT id, invoice number, date, currency, subtotal, tax, total) and the line items, with
//! per-field, per-line and per-invoice confidence.
//!
//! Two readers share one pipeline: each labels every word ([`labels::Label`]), and one assembler
//! ([`assemble`]) turns labels into an [`Invoice`], normalises values (dates to ISO 8601, amounts by
//! locale, ISO 4217 currency) and runs the arithmetic checks that feed confidence.
//! - [`InvoiceReader::rules`]: keywords and geometry, no model.
//! - [`InvoiceReader::load`]: an ONNX word classifier (`models/<name>/`, see `models/README.md`)
//!   over the features of [`features`], the same code that exports training data.

use std::path::Path;

use claimscan_doc::{Document, Invoice};

pub mod assemble;
pub mod channel;
pub mod cli;
pub mod eval;
pub mod external;
pub mod features;
pub mod geometry;
pub mod headers;
pub mod labels;
pub mod lexicon;
pub mod model;
pub mod repair;
pub mod rules;
pub mod specks;
pub mod text;
pub mod truth;
pub mod verifier;
pub mod vocabulary;

pub use model::{Manifest, ModelReader};

/// Why a model could not be loaded. [`LayoutError::code`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot read {path}: {message}")]
    ModelMissing { path: String, message: String },
    #[error("invalid model manifest {path}: {message}")]
    ManifestInvalid { path: String, message: String },
    #[error("the model does not fit this code: {0}")]
    SchemaMismatch(String),
    #[error("the model failed to load: {0}")]
    LoadFailed(String),
    #[error("ONNX Runtime is not available: {0}")]
    Runtime(String),
    #[error("inference failed: {0}")]
    Inference(String),
}

impl LayoutError {
    /// Stable snake_case error code.
    pub fn code(&self) -> &'static str {
        match self {
            LayoutError::ModelMissing { .. } => "model_missing",
            LayoutError::ManifestInvalid { .. } => "model_manifest_invalid",
            LayoutError::SchemaMismatch(_) => "model_schema_mismatch",
            LayoutError::LoadFailed(_) => "model_load_failed",
            LayoutError::Runtime(_) => "model_runtime_missing",
            LayoutError::Inference(_) => "model_inference_failed",
        }
    }
}

/// The invoice header fields, in report order (read, scored and shown in this order).
pub const HEADER_FIELDS: [&str; 8] = [
    "supplier_name",
    "supplier_vat_id",
    "invoice_number",
    "invoice_date",
    "currency",
    "subtotal",
    "tax",
    "total",
];

enum Kind {
    Rules,
    Model(Box<ModelReader>),
}

/// Reads invoices from documents. `Send + Sync`: share one reader between threads.
pub struct InvoiceReader {
    kind: Kind,
}

impl InvoiceReader {
    /// The rule-based reader (no model).
    pub fn rules() -> Self {
        InvoiceReader { kind: Kind::Rules }
    }

    /// Loads an ONNX model directory (`model.onnx` + `manifest.toml`), checks it against this
    /// code's feature schema and label set, and warms it up.
    pub fn load(model_dir: &Path) -> Result<Self, LayoutError> {
        Ok(InvoiceReader {
            kind: Kind::Model(Box::new(ModelReader::load(model_dir)?)),
        })
    }

    /// Reads as [`InvoiceReader::read_with`] does, without calibrating the invoice confidence
    /// (to fit a calibration); also returns the verifier's inputs ([`verifier::features`]).
    pub fn read_raw(
        &self,
        doc: &Document,
        vocabulary: Option<&vocabulary::Vocabulary>,
    ) -> (Invoice, Vec<f32>) {
        self.read_inner(doc, vocabulary, false)
    }

    /// `rules`, or the model's `name@version`.
    pub fn name(&self) -> String {
        match &self.kind {
            Kind::Rules => "rules".into(),
            Kind::Model(m) => m.name(),
        }
    }

    /// Reads the invoice. Never fails: what could not be read is `null` and listed in `errors`.
    ///
    /// Pages whose words do not run left to right are turned upright first ([`geometry`]); the
    /// boxes in the result are always in the input's coordinates.
    pub fn read(&self, doc: &Document) -> Invoice {
        self.read_inner(doc, None, true).0
    }

    /// Reads the invoice, corrects OCR confusions in its descriptions against the vocabulary
    /// (the catalog's words and those distributors print: [`vocabulary::Vocabulary`]), and
    /// scores it with the model's verifier ([`verifier`]), which counts the description words
    /// that no one writes. What the worker and `claimscan extract` run.
    pub fn read_with(
        &self,
        doc: &Document,
        vocabulary: Option<&vocabulary::Vocabulary>,
    ) -> Invoice {
        self.read_inner(doc, vocabulary, true).0
    }

    /// [`InvoiceReader::read_with`], with the verifier's inputs ([`verifier::features`]).
    pub fn read_scored(
        &self,
        doc: &Document,
        vocabulary: Option<&vocabulary::Vocabulary>,
    ) -> (Invoice, Vec<f32>) {
        self.read_inner(doc, vocabulary, true)
    }

    fn read_inner(
        &self,
        doc: &Document,
        vocabulary: Option<&vocabulary::Vocabulary>,
        calibrate: bool,
    ) -> (Invoice, Vec<f32>) {
        let _span =
            tracing::debug_span!("layout_read", reader = %self.name(), pages = doc.pages.len())
                .entered();
        let upright = geometry::upright(doc);
        let work = upright.as_ref().unwrap_or(doc);
        // labels see the table headers OCR misread as the labels they are; values keep the words
        let mended = headers::mend(work);
        let work = mended.as_ref().unwrap_or(work);
        // OCR specks between a label and its value hide the value from the labeller
        let unspecked = specks::hide(work);
        let seen = unspecked.as_ref().unwrap_or(work);
        let mut fallback = None;
        let mut tags = match &self.kind {
            Kind::Rules => rules::label(seen),
            Kind::Model(m) => match m.label_with_rules(seen) {
                Ok((mut t, mut by_rules)) => {
                    dates_are_no_invoice_numbers(seen, &mut t);
                    dates_are_no_invoice_numbers(seen, &mut by_rules);
                    header_fields_from_rules(&mut t, &by_rules);
                    t
                }
                Err(e) => {
                    fallback = Some(claimscan_doc::InvoiceIssue {
                        code: e.code().into(),
                        message: format!("{e}; fell back to the rule reader"),
                    });
                    rules::label(seen)
                }
            },
        };
        if let Some(seen) = &unspecked {
            specks::tag_as_nothing(work, seen, &mut tags);
        }
        description_gaps_filled(work, &mut tags);
        description_heads_filled(work, &mut tags);
        description_debris_dropped(work, &mut tags);
        // A value is only as sure as the words it is made of: a word the OCR engine was unsure
        // of lowers the confidence of every field and line it is part of (text-layer and input
        // words have confidence 1). Without this, an OCR misreading that keeps the sums right
        // ("HOSVV" for "HOSE") would be as confident as a clean digital PDF.
        // A word without a letter or digit (a dash between code and wording, a speck) changes no
        // value however it was read, and Tesseract gives such marks little confidence (`-` at 0);
        // currency signs are values.
        for (ptags, page) in tags.iter_mut().zip(&work.pages) {
            for (tag, word) in ptags.iter_mut().zip(&page.words) {
                tag.prob *= ocr_doubt(word);
            }
        }
        // rows come from the upright geometry, boxes from the input
        let mut inv = match &upright {
            Some(up) => {
                let mut hybrid = doc.clone();
                for (p, u) in hybrid.pages.iter_mut().zip(&up.pages) {
                    p.lines = u.lines.clone();
                }
                assemble::assemble(&hybrid, &tags)
            }
            None => assemble::assemble(doc, &tags),
        };
        // perspective and warped pages group lines less reliably
        let straight = doc
            .pages
            .iter()
            .map(geometry::straightness)
            .fold(1.0f32, f32::min);
        inv.confidence *= 0.6 + 0.4 * straight * straight;
        if let Some(v) = vocabulary {
            v.correct_invoice(doc, &mut inv);
        }
        let x = verifier::features(doc, &inv, inv.confidence, vocabulary);
        if let (Kind::Model(m), None) = (&self.kind, &fallback) {
            if let Some(v) = m.verifier() {
                inv.confidence = v.score(&x);
            }
            if calibrate {
                inv.confidence = m.calibrate(inv.confidence);
            }
        }
        inv.errors.extend(fallback);
        inv.reader = Some(self.name());
        (inv, x)
    }
}

/// A word labelled the invoice number that is a date (`06.06.2024`, the due date beside it on an
/// Italian scan; `15/04/2023` under a column header) is labelled nothing: the number is then the
/// rule reader's, or not found, rather than a date. None of the 1,200 truth numbers of seeds 73,
/// 89 and 61 reads as a date.
fn dates_are_no_invoice_numbers(doc: &Document, tags: &mut labels::Tags) {
    for (ptags, page) in tags.iter_mut().zip(&doc.pages) {
        for (tag, word) in ptags.iter_mut().zip(&page.words) {
            if tag.label == labels::Label::InvoiceNumber && text::parse_date(&word.text).is_some() {
                *tag = labels::Tag {
                    label: labels::Label::Other,
                    prob: tag.prob,
                };
            }
        }
    }
}

/// Words labelled nothing between two description words of one line, close to both, are the
/// description's: on photos the model drops a description's middle words (`BORA 3S 3-18 POMPA
/// SOMMERSA` labelled description, nothing, nothing, nothing, description: seed 89's
/// `inv000257`), and the line is read `BORA SOMMERSA`. At most three words, each with a letter
/// or digit, no colon (a label: `MPN:` beside a wrapped description), on the row of the two and
/// at most one and a half line heights from its neighbours; they keep the doubt of having been
/// labelled nothing (`1 - prob`, at most the description words' least).
fn description_gaps_filled(doc: &Document, tags: &mut labels::Tags) {
    use labels::Label;
    const MAX_RUN: usize = 3;
    for (ptags, page) in tags.iter_mut().zip(&doc.pages) {
        for line in &page.lines {
            let ws = &line.words;
            let mut i = 0;
            while i < ws.len() {
                if ptags[ws[i]].label != Label::LineDescription {
                    i += 1;
                    continue;
                }
                // the run of words labelled nothing after description word `i`
                let mut j = i + 1;
                while j < ws.len() && j - i - 1 <= MAX_RUN && ptags[ws[j]].label == Label::Other {
                    j += 1;
                }
                let run = j - i - 1;
                let closed = j < ws.len() && ptags[ws[j]].label == Label::LineDescription;
                if run == 0 || run > MAX_RUN || !closed {
                    i = j.max(i + 1);
                    continue;
                }
                let h = ws[i..=j]
                    .iter()
                    .map(|&w| page.words[w].bbox[3] - page.words[w].bbox[1])
                    .fold(0.0f32, f32::max)
                    .max(1.0);
                let close = ws[i..=j]
                    .windows(2)
                    .all(|p| page.words[p[1]].bbox[0] - page.words[p[0]].bbox[2] < 1.5 * h);
                // on the row of the two description words, and no label (`MPN:` of a
                // reference printed beside a wrapped description)
                let yc = |w: usize| (page.words[w].bbox[1] + page.words[w].bbox[3]) * 0.5;
                let row = (yc(ws[i]) + yc(ws[j])) * 0.5;
                let wordy = ws[i + 1..j].iter().all(|&w| {
                    let t = &page.words[w].text;
                    t.chars().any(char::is_alphanumeric)
                        && !t.contains(':')
                        && (yc(w) - row).abs() < 0.5 * h
                });
                if close && wordy {
                    let sure = ptags[ws[i]].prob.min(ptags[ws[j]].prob);
                    for &w in &ws[i + 1..j] {
                        let doubt = (1.0 - ptags[w].prob).clamp(0.0, sure);
                        ptags[w] = labels::Tag {
                            label: Label::LineDescription,
                            prob: doubt,
                        };
                    }
                }
                i = j;
            }
        }
    }
}

/// Words labelled nothing right before a row's first description word, set as close as the
/// description's own words, are its head: the model drops a description's first words (`RAD PNL
/// BRIXO` read `BRIXO` on seed 89's photo `inv000255`, `Sconto 5%` read `5%` on a discount row of
/// a scan). At most two words, each with a letter, no colon, on the row and at most
/// one line height from the next; the word before them, if any, is at least three line heights
/// away (the code column); they keep the doubt of having been labelled nothing (`1 - prob`, at
/// most the description word's).
fn description_heads_filled(doc: &Document, tags: &mut labels::Tags) {
    use labels::Label;
    const MAX_RUN: usize = 2;
    for (ptags, page) in tags.iter_mut().zip(&doc.pages) {
        for line in &page.lines {
            let ws = &line.words;
            let Some(first) = ws
                .iter()
                .position(|&w| ptags[w].label == Label::LineDescription)
            else {
                continue;
            };
            let bbox = |w: usize| page.words[w].bbox;
            let h = (bbox(ws[first])[3] - bbox(ws[first])[1]).max(1.0);
            let yc = |w: usize| (bbox(w)[1] + bbox(w)[3]) * 0.5;
            let row = yc(ws[first]);
            // the run of words labelled nothing right before it, close to each other
            let mut start = first;
            while start > 0
                && first - start < MAX_RUN
                && ptags[ws[start - 1]].label == Label::Other
                && bbox(ws[start])[0] - bbox(ws[start - 1])[2] < h
            {
                let t = &page.words[ws[start - 1]].text;
                if !t.chars().any(char::is_alphabetic)
                    || t.contains(':')
                    || (yc(ws[start - 1]) - row).abs() >= 0.5 * h
                {
                    break;
                }
                start -= 1;
            }
            if start == first {
                continue;
            }
            let apart = start == 0 || bbox(ws[start])[0] - bbox(ws[start - 1])[2] >= 3.0 * h;
            if !apart {
                continue;
            }
            let sure = ptags[ws[first]].prob;
            for &w in &ws[start..first] {
                let doubt = (1.0 - ptags[w].prob).clamp(0.0, sure);
                ptags[w] = labels::Tag {
                    label: Label::LineDescription,
                    prob: doubt,
                };
            }
        }
    }
}

/// Debris OCR read as a letter or digit and the model took for part of a description is
/// nothing: on scans a table rule, a speck or the edge of a cell is read as a word of one or two
/// characters (`i`, `e`, `E`, `5`) at almost no confidence, and the line's description ends in
/// it (`Leitungsschutzschalter Elvo D4 1 i`). Such a word is read at under 0.15 confidence, is
/// narrower than 0.3 of its box's height, where a printed letter or digit is about half as wide
/// as high (`1` is as narrow and is never dropped), and it stands apart from the words beside
/// it on its line (at least 0.15 of its height away). On OCR'd pages only.
fn description_debris_dropped(doc: &Document, tags: &mut labels::Tags) {
    use labels::Label;
    const MIN_GAP_PER_HEIGHT: f32 = 0.15;
    let exact = vocabulary::exact_pages(doc);
    for ((ptags, page), exact) in tags.iter_mut().zip(&doc.pages).zip(exact) {
        if exact {
            continue;
        }
        for line in &page.lines {
            for (k, &w) in line.words.iter().enumerate() {
                let word = &page.words[w];
                if ptags[w].label != Label::LineDescription || !is_debris(word) {
                    continue;
                }
                // apart from its neighbours: a narrow letter touching a word (`RADIA V`, 3 px
                // apart, both read at 0) is a piece of a word the engine split
                let h = word.bbox[3] - word.bbox[1];
                let apart = k
                    .checked_sub(1)
                    .map(|p| page.words[line.words[p]].bbox[2])
                    .is_none_or(|x1| word.bbox[0] - x1 >= MIN_GAP_PER_HEIGHT * h)
                    && line.words.get(k + 1).is_none_or(|&n| {
                        page.words[n].bbox[0] - word.bbox[2] >= MIN_GAP_PER_HEIGHT * h
                    });
                if apart {
                    ptags[w] = labels::Tag {
                        label: Label::Other,
                        prob: 1.0 - word.confidence.clamp(0.0, 1.0),
                    };
                }
            }
        }
    }
}

/// A word of one or two characters, at least one a letter or digit and none the digit `1`, read
/// at under 0.15 confidence and narrower than 0.3 of its height: see
/// [`description_debris_dropped`].
fn is_debris(word: &claimscan_doc::Word) -> bool {
    const MAX_CONFIDENCE: f32 = 0.15;
    const MAX_WIDTH_PER_HEIGHT: f32 = 0.3;
    let t = &word.text;
    let (w, h) = (word.bbox[2] - word.bbox[0], word.bbox[3] - word.bbox[1]);
    t.chars().count() <= 2
        && t.chars().any(char::is_alphanumeric)
        && !t.contains('1')
        && word.confidence < MAX_CONFIDENCE
        && h > 0.0
        && w < MAX_WIDTH_PER_HEIGHT * h
}

/// Header fields the model labelled nowhere, taken from the rule reader where it labels them
/// on words the model left out or was unsure of (below 0.6), at no more than 0.6. On scans and
/// photos a label and its value beside another block of the page on one text line (`20 % 428.64
/// ... INVOICE TOTAL £ 514.37`) or behind a speck (`: SUBTOTAL € 28.592,14`) are a layout the
/// model never saw in training; the rule reader reads the label and the value after it.
fn header_fields_from_rules(tags: &mut labels::Tags, by_rules: &labels::Tags) {
    use labels::Label;
    for label in [
        Label::SupplierVatId,
        Label::InvoiceNumber,
        Label::InvoiceDate,
        Label::Subtotal,
        Label::Tax,
        Label::Total,
    ] {
        if tags.iter().flatten().any(|t| t.label == label) {
            continue;
        }
        for (page, rule_page) in tags.iter_mut().zip(by_rules) {
            for (t, r) in page.iter_mut().zip(rule_page) {
                if r.label == label && (t.label == Label::Other || t.prob < 0.6) {
                    *t = labels::Tag {
                        label,
                        prob: r.prob.min(0.6),
                    };
                }
            }
        }
    }
}

/// What a word's OCR confidence takes from the values it is part of: all of it, except for a
/// word without a letter or digit that is no currency sign (it changes no value).
fn ocr_doubt(word: &claimscan_doc::Word) -> f32 {
    if word.text.chars().any(char::is_alphanumeric) || text::currency_of(&word.text).is_some() {
        word.confidence.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn doc(pages: Vec<Vec<(&str, [f32; 4])>>) -> Document {
        use claimscan_doc::{Page, PageSource, Word};
        let pages = pages
            .into_iter()
            .enumerate()
            .map(|(i, ws)| {
                let words = ws
                    .into_iter()
                    .map(|(t, b)| Word::new(t, b, 1.0, 1000.0, 1000.0))
                    .collect();
                Page::new(i, 1000.0, 1000.0, None, PageSource::Input, words)
            })
            .collect();
        Document::of_words("t", pages)
    }

    #[test]
    fn a_speck_before_a_label_does_not_hide_it() {
        let line = |speck: bool| {
            let mut ws = vec![
                ("Fattura", [205.0, 615.0, 314.0, 669.0]),
                ("n.:", [327.0, 615.0, 359.0, 669.0]),
                ("INV-136529", [435.0, 615.0, 625.0, 669.0]),
            ];
            if speck {
                ws.insert(0, (".", [170.0, 640.0, 178.0, 648.0]));
            }
            doc(vec![ws])
        };
        let reader = InvoiceReader::rules();
        for speck in [false, true] {
            assert_eq!(
                reader.read(&line(speck)).header.invoice_number.as_deref(),
                Some("INV-136529"),
                "speck {speck}"
            );
        }
    }

    /// A mark OCR read with no letter or digit (`-` between code and wording at confidence 0,
    /// seed 73's photo `inv000089`) does not make the values it is part of unsure; a currency
    /// sign and a number do.
    #[test]
    fn marks_without_letters_or_digits_carry_no_ocr_doubt() {
        let word = |t: &str| claimscan_doc::Word::new(t, [0.0; 4], 0.2, 100.0, 100.0);
        assert_eq!(ocr_doubt(&word("-")), 1.0);
        assert_eq!(ocr_doubt(&word("»-")), 1.0);
        assert_eq!(ocr_doubt(&word("€")), 0.2);
        assert_eq!(ocr_doubt(&word("12,50")), 0.2);
    }

    #[test]
    fn a_label_ocr_misread_is_still_a_label_on_ocr_words_only() {
        let read = |confidence: f32| {
            let mut d = doc(vec![vec![
                ("Factuur", [100.0, 100.0, 200.0, 130.0]),
                ("ractuurnr.", [300.0, 100.0, 420.0, 130.0]),
                ("FA/49899", [440.0, 100.0, 560.0, 130.0]),
            ]]);
            for w in &mut d.pages[0].words {
                w.confidence = confidence;
            }
            InvoiceReader::rules().read(&d).header.invoice_number
        };
        assert_eq!(read(0.9).as_deref(), Some("FA/49899"));
        // exact words print what they print: no label there
        assert_eq!(read(1.0), None);
    }

    #[test]
    fn the_documents_currency_counts_marks_not_codes_read_with_a_dollar() {
        let at = [0.0, 0.0, 10.0, 10.0];
        let codes = doc(vec![vec![
            ("GBP", at),
            ("$32243", at),
            ("$05352", at),
            ("$37617", at),
            ("£1,250.00", at),
        ]]);
        assert_eq!(assemble::document_currency(&codes), Some("GBP"));
        let prices = doc(vec![vec![("EUR", at), ("$12.50", at), ("$8.00", at)]]);
        assert_eq!(assemble::document_currency(&prices), Some("USD"));
    }

    /// Empty, tiny, degenerate and hostile inputs give an invoice with errors, never a panic.
    #[test]
    fn odd_documents_never_panic() {
        let reader = InvoiceReader::rules();
        let empty = reader.read(&doc(vec![]));
        assert!(empty.errors.iter().any(|e| e.code == "no_lines"));
        assert!(empty.confidence < 0.5);
        reader.read(&doc(vec![vec![]]));
        reader.read(&doc(vec![vec![("Total", [0.0, 0.0, 0.0, 0.0])]]));
        let mut words = Vec::new();
        let texts = [
            "Qty",
            "Description",
            "Amount",
            "1",
            "x",
            "99999999999999999999,99",
            "-",
            ":",
            "€",
            "1 2 3",
            "Total:",
            "31.12.2099",
            "ATU12345678",
        ];
        for i in 0..300 {
            let x = (i * 37 % 900) as f32;
            let y = (i * 53 % 950) as f32;
            words.push((
                texts[i % texts.len()],
                [x, y, x + 5.0 + (i % 7) as f32 * 20.0, y + 12.0],
            ));
        }
        let inv = reader.read(&doc(vec![words.clone(), words]));
        assert!(inv.confidence.is_finite());
    }

    #[test]
    fn reader_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<InvoiceReader>();
    }

    /// seed 73's `inv000104`: the due date beside the number's label, labelled the number
    #[test]
    fn a_date_labelled_the_invoice_number_is_no_number() {
        use labels::{Label, Tag};
        let tag = |label, prob| Tag { label, prob };
        let d = doc(vec![vec![
            ("NUMERO", [0.0, 0.0, 50.0, 10.0]),
            ("0111434", [60.0, 0.0, 110.0, 10.0]),
            ("SCADENZA:", [0.0, 20.0, 50.0, 30.0]),
            ("06.06.2024", [60.0, 20.0, 110.0, 30.0]),
        ]]);
        let mut tags = vec![vec![
            tag(Label::Other, 0.9),
            tag(Label::InvoiceNumber, 0.8),
            tag(Label::Other, 0.9),
            tag(Label::InvoiceNumber, 0.9),
        ]];
        dates_are_no_invoice_numbers(&d, &mut tags);
        assert_eq!(tags[0][1].label, Label::InvoiceNumber);
        assert_eq!(tags[0][3].label, Label::Other);
    }

    /// The tags of one row of words (text, x0, x1, label, prob) from y 100 to `y1`, after `step`.
    fn tagged_row(
        row: &[(&str, f32, f32, labels::Label, f32)],
        y1: f32,
        step: fn(&Document, &mut labels::Tags),
    ) -> Vec<labels::Tag> {
        let words = row
            .iter()
            .map(|&(t, x0, x1, _, _)| (t, [x0, 100.0, x1, y1]))
            .collect();
        let document = doc(vec![words]);
        let mut tags = vec![row
            .iter()
            .map(|&(_, _, _, label, prob)| labels::Tag { label, prob })
            .collect::<Vec<_>>()];
        step(&document, &mut tags);
        tags.remove(0)
    }

    #[test]
    fn words_labelled_nothing_inside_a_description_are_its_own() {
        use labels::Label;
        let (d, o) = (Label::LineDescription, Label::Other);
        // one row of words (text, x0, x1, label, prob) at y 100-120
        let filled =
            |row: &[(&str, f32, f32, Label, f32)]| tagged_row(row, 120.0, description_gaps_filled);
        let t = filled(&[
            ("BORA", 10.0, 60.0, d, 0.95),
            ("3S", 70.0, 90.0, o, 0.95),
            ("3-18", 100.0, 140.0, o, 0.9),
            ("POMPA", 150.0, 210.0, o, 0.58),
            ("SOMMERSA", 220.0, 320.0, d, 0.95),
            ("PLN-561693", 400.0, 500.0, Label::LineCode, 0.6),
        ]);
        assert!(t[1..4].iter().all(|t| t.label == d));
        // as unsure as the model was that they are nothing
        assert!((t[1].prob - 0.05).abs() < 1e-6 && (t[3].prob - 0.42).abs() < 1e-6);
        assert_eq!(t[5].label, Label::LineCode);
        // a label, a word a column away, four words, a word after the last description word
        let label = filled(&[
            ("PUMP", 10.0, 60.0, d, 0.9),
            ("MPN:", 70.0, 110.0, o, 0.9),
            ("BORA", 120.0, 170.0, d, 0.9),
        ]);
        assert_eq!(label[1].label, o);
        let far = filled(&[
            ("GRILLE", 10.0, 80.0, d, 0.9),
            ("300", 200.0, 240.0, o, 0.9),
            ("LINEAR", 250.0, 320.0, d, 0.9),
        ]);
        assert_eq!(far[1].label, o);
        let four = filled(&[
            ("A", 10.0, 20.0, d, 0.9),
            ("B", 30.0, 40.0, o, 0.9),
            ("C", 50.0, 60.0, o, 0.9),
            ("D", 70.0, 80.0, o, 0.9),
            ("E", 90.0, 100.0, o, 0.9),
            ("F", 110.0, 120.0, d, 0.9),
        ]);
        assert!(four[1..5].iter().all(|t| t.label == o));
        let open = filled(&[("PUMP", 10.0, 60.0, d, 0.9), ("EA", 70.0, 90.0, o, 0.9)]);
        assert_eq!(open[1].label, o);
    }

    #[test]
    fn words_labelled_nothing_before_a_description_are_its_head() {
        use labels::Label;
        let (c, d, o) = (Label::LineCode, Label::LineDescription, Label::Other);
        // one row of words (text, x0, x1, label, prob) at y 100-140 (40 px high)
        let filled = |row: &[(&str, f32, f32, Label, f32)]| {
            tagged_row(row, 140.0, description_heads_filled)
                .iter()
                .map(|t| t.label)
                .collect::<Vec<_>>()
        };
        // seed 89's inv000255: `GE.511002 | SKT ELVO IP44`, and a row starting with its head
        assert_eq!(
            filled(&[
                ("GE.511002", 160.0, 335.0, c, 0.9),
                ("SKT", 499.0, 560.0, o, 0.6),
                ("ELVO", 570.0, 658.0, d, 0.9),
                ("IP44", 668.0, 738.0, d, 0.9),
            ]),
            [c, d, d, d]
        );
        assert_eq!(
            filled(&[
                ("RAD", 495.0, 558.0, o, 0.6),
                ("PNL", 579.0, 635.0, o, 0.6),
                ("BRIXO", 652.0, 748.0, d, 0.9),
            ]),
            [d, d, d]
        );
        // a label, a number, a word far from the description, a word close to a column before
        // it: as labelled
        let label = [
            ("Art.:", 100.0, 160.0, o, 0.9),
            ("ELVO", 170.0, 250.0, d, 0.9),
        ];
        assert_eq!(filled(&label), [o, d]);
        let number = [("12", 100.0, 130.0, o, 0.9), ("ELVO", 140.0, 220.0, d, 0.9)];
        assert_eq!(filled(&number), [o, d]);
        let far = [
            ("Pos", 100.0, 160.0, o, 0.9),
            ("ELVO", 300.0, 380.0, d, 0.9),
        ];
        assert_eq!(filled(&far), [o, d]);
        let crowded = [
            ("GE.511002", 300.0, 400.0, c, 0.9),
            ("SKT", 430.0, 490.0, o, 0.9),
            ("ELVO", 500.0, 580.0, d, 0.9),
        ];
        assert_eq!(filled(&crowded), [c, o, d]);
    }

    #[test]
    fn debris_read_as_a_letter_is_no_part_of_a_description() {
        use claimscan_doc::{Page, PageSource, Word};
        use labels::{Label, Tag};
        let d = Label::LineDescription;
        // one row, 49 px high, every word labelled description: (text, x0, x1, OCR confidence);
        // which words stay description
        let kept = |source: PageSource, row: &[(&str, f32, f32, f32)]| {
            let words = row
                .iter()
                .map(|&(t, x0, x1, c)| Word::new(t, [x0, 100.0, x1, 149.0], c, 1000.0, 1000.0))
                .collect();
            let page = Page::new(0, 1000.0, 1000.0, None, source, words);
            let document = Document::of_words("t", vec![page]);
            let mut tags = vec![vec![
                Tag {
                    label: d,
                    prob: 0.9
                };
                row.len()
            ]];
            description_debris_dropped(&document, &mut tags);
            tags.remove(0)
                .iter()
                .map(|t| t.label == d)
                .collect::<Vec<_>>()
        };
        let ocr = |row: &[(&str, f32, f32, f32)]| kept(PageSource::Ocr, row);
        let between = |w: (&'static str, f32, f32, f32)| {
            [
                ("Elvo", 10.0, 80.0, 0.69),
                ("D4", 90.0, 130.0, 0.93),
                w,
                ("Stk", 300.0, 340.0, 0.97),
            ]
        };
        // a table rule read as `i`, and two glyphs in a sliver
        assert_eq!(
            ocr(&between(("i", 168.0, 174.0, 0.0))),
            [true, true, false, true]
        );
        assert_eq!(
            ocr(&between(("je", 160.0, 172.0, 0.05))),
            [true, true, false, true]
        );
        // a thin digit the engine doubted is printed; so is a letter as wide as a letter, and a
        // narrow one read with some confidence
        assert!(ocr(&between(("1", 140.0, 150.0, 0.05))).iter().all(|&k| k));
        assert!(ocr(&between(("E", 200.0, 230.0, 0.05))).iter().all(|&k| k));
        assert!(ocr(&between(("e", 240.0, 248.0, 0.4))).iter().all(|&k| k));
        // a narrow letter touching the word before it is a piece of the print (`RADIA V`)
        let touching = [
            ("RADIA", 378.0, 468.0, 0.0),
            ("V", 471.0, 482.0, 0.0),
            ("type", 502.0, 560.0, 0.96),
        ];
        assert!(ocr(&touching).iter().all(|&k| k));
        // a text layer's words are what the PDF prints
        let rule = between(("i", 168.0, 174.0, 0.0));
        assert!(kept(PageSource::TextLayer, &rule).iter().all(|&k| k));
    }

    /// A total the model labelled nowhere comes from the rule reader, less sure; a total the
    /// model found keeps the model's word.
    #[test]
    fn header_fields_the_model_missed_come_from_the_rules() {
        use labels::{Label, Tag};
        let tag = |label, prob| Tag { label, prob };
        let by_rules = vec![vec![
            tag(Label::Other, 0.9),
            tag(Label::Total, 0.9),
            tag(Label::Subtotal, 0.9),
        ]];
        let mut model = vec![vec![
            tag(Label::Other, 0.99),
            tag(Label::Other, 0.95),
            tag(Label::Subtotal, 0.97),
        ]];
        header_fields_from_rules(&mut model, &by_rules);
        assert_eq!(model[0][1].label, Label::Total);
        assert!(model[0][1].prob <= 0.6);
        assert_eq!(model[0][2].prob, 0.97);
        let mut found = vec![vec![
            tag(Label::Total, 0.8),
            tag(Label::Other, 0.95),
            tag(Label::Other, 0.97),
        ]];
        header_fields_from_rules(&mut found, &by_rules);
        assert_eq!(found[0][1].label, Label::Other);
        // the subtotal the model missed is taken too
        assert_eq!(found[0][2].label, Label::Subtotal);
    }
}
