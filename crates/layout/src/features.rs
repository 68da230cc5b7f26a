//! The one feature extractor: per word, text features, normalised geometry and neighbour context
//! (the words left, right, above and below, the line, the label phrase it follows, and the rule
//! reader's label of it and its neighbours). Training export ([`export_truth`]) and inference
//! ([`crate::model`]) both call [`document_features`], so there is no train/serve skew.
//!
//! Bump [`SCHEMA_VERSION`] on any change to the features or their order: a model trained on
//! another schema is refused at load.

use std::collections::HashMap;
use std::io::Write;

use claimscan_doc::{Document, Page};

use crate::labels::{Label, Tags};
use crate::lexicon::{self, Column, Field};
use crate::text::{self, fold};

/// Version of the feature schema (names, order, meaning).
pub const SCHEMA_VERSION: u32 = 1;

/// Feature names, in tensor order.
pub const NAMES: &[&str] = &[
    // the word's text
    "len",
    "digit_ratio",
    "alpha_ratio",
    "upper_ratio",
    "is_money",
    "is_number",
    "is_integer",
    "decimals",
    "log_abs_value",
    "is_negative",
    "is_date",
    "is_vat_id",
    "is_currency",
    "ends_colon",
    "has_percent",
    "has_slash",
    "has_dash",
    "has_dot",
    "first_is_digit",
    "is_legal_form",
    "column_class",
    "field_class",
    "pages_with_text",
    // geometry
    "x0",
    "x1",
    "y_centre",
    "width",
    "height_rel",
    "page_index",
    "is_last_page",
    "page_count",
    "line_pos",
    "line_pos_from_right",
    "line_words",
    "line_index_rel",
    "gap_left",
    "gap_right",
    "gap_line_above",
    "gap_line_below",
    // the line
    "line_money_count",
    "money_rank_from_right",
    "line_number_count",
    "line_first_field",
    "line_column_labels",
    "line_has_colon_label",
    // neighbours
    "left_column_class",
    "left_field_class",
    "left_is_money",
    "left_ends_colon",
    "right_column_class",
    "right_field_class",
    "right_is_money",
    "above_column_class",
    "above_field_class",
    "above_is_money",
    "below_is_money",
    "label_left_field",
    "label_left_column",
    "label_left_dist",
    "label_above_field",
    // the rule reader
    "rule_label",
    "rule_left",
    "rule_right",
    "rule_above",
    "rule_below",
];

/// Number of features per word.
pub fn count() -> usize {
    NAMES.len()
}

fn column_code(c: Option<Column>) -> f32 {
    c.map(|c| Column::ALL.iter().position(|x| *x == c).unwrap_or(0) as f32 + 1.0)
        .unwrap_or(0.0)
}

fn field_code(f: Option<Field>) -> f32 {
    f.map(|f| Field::ALL.iter().position(|x| *x == f).unwrap_or(0) as f32 + 1.0)
        .unwrap_or(0.0)
}

/// Per-word facts computed once per page.
struct WordInfo {
    money: bool,
    col: Option<Column>,
    field: Option<Field>,
    colon: bool,
}

fn word_info(t: &str) -> WordInfo {
    let f = fold(t);
    WordInfo {
        money: text::looks_like_money(t),
        col: lexicon::column(&f),
        field: lexicon::field(&f),
        colon: t.ends_with(':'),
    }
}

const LEGAL: &[&str] = &[
    "plc", "ltd", "limited", "gmbh", "gesmbh", "ag", "kg", "sarl", "sas", "sa", "sl", "spa", "srl",
    "bv", "nv", "lda", "spzoo", "oo", "spj", "teoranta", "ab", "oy", "co",
];

/// Features of every word of every page: `out[page]` is `words × count()` values, row-major.
/// `rule_tags` are the rule reader's labels of the same document.
pub fn document_features(doc: &Document, rule_tags: &Tags) -> Vec<Vec<f32>> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for page in &doc.pages {
        let mut on_page: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
        on_page.sort_unstable();
        on_page.dedup();
        for t in on_page {
            *seen.entry(t).or_default() += 1;
        }
    }
    doc.pages
        .iter()
        .enumerate()
        .map(|(pi, page)| page_features(doc, pi, page, &rule_tags[pi], &seen))
        .collect()
}

fn page_features(
    doc: &Document,
    pi: usize,
    page: &Page,
    rule: &[crate::labels::Tag],
    seen: &HashMap<&str, u32>,
) -> Vec<f32> {
    let n = count();
    let mut out = vec![0f32; page.words.len() * n];
    let info: Vec<WordInfo> = page.words.iter().map(|w| word_info(&w.text)).collect();
    let mut hs: Vec<f32> = page.words.iter().map(|w| w.bbox[3] - w.bbox[1]).collect();
    hs.sort_by(f32::total_cmp);
    let med_h = hs.get(hs.len() / 2).copied().unwrap_or(10.0).max(1.0);
    let (pw, ph) = (page.width.max(1.0), page.height.max(1.0));
    let n_lines = page.lines.len().max(1) as f32;
    let rl = |w: usize| rule.get(w).map(|t| t.label as u8 as f32).unwrap_or(0.0);

    // the word of a neighbouring line most overlapping x-range [x0, x1]
    let overlap_in = |li: usize, x0: f32, x1: f32| -> Option<usize> {
        let line = page.lines.get(li)?;
        line.words
            .iter()
            .copied()
            .map(|w| {
                let b = page.words[w].bbox;
                (w, b[2].min(x1) - b[0].max(x0))
            })
            .filter(|(_, o)| *o > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(w, _)| w)
    };

    for (li, line) in page.lines.iter().enumerate() {
        let words = &line.words;
        let lw = words.len();
        let folded: Vec<String> = words.iter().map(|&w| fold(&page.words[w].text)).collect();
        let money_pos: Vec<usize> = (0..lw).filter(|&k| info[words[k]].money).collect();
        let number_count = words
            .iter()
            .filter(|&&w| text::parse_number(&page.words[w].text, None).is_some())
            .count();
        let first_field = lexicon::field_prefix(&folded).map(|(f, _)| f);
        let mut col_labels = 0;
        let mut k = 0;
        while k < lw {
            if let Some((_, m)) = lexicon::column_prefix(&folded[k..]) {
                col_labels += 1;
                k += m;
            } else {
                k += 1;
            }
        }
        // label phrases in the line: (position after the phrase, field, column)
        let mut phrases: Vec<(usize, usize, Option<Field>, Option<Column>)> = Vec::new();
        for k in 0..lw {
            if let Some((f, m)) = lexicon::field_prefix(&folded[k..]) {
                phrases.push((k, k + m, Some(f), None));
            } else if let Some((c, m)) = lexicon::column_prefix(&folded[k..]) {
                phrases.push((k, k + m, None, Some(c)));
            }
        }
        let has_colon_label = phrases
            .iter()
            .any(|p| page.words[words[p.1 - 1]].text.ends_with(':'));
        let gap_above = if li > 0 {
            (line.bbox[1] - page.lines[li - 1].bbox[3]) / med_h
        } else {
            10.0
        };
        let gap_below = page
            .lines
            .get(li + 1)
            .map(|l| (l.bbox[1] - line.bbox[3]) / med_h)
            .unwrap_or(10.0);

        for (k, &w) in words.iter().enumerate() {
            let word = &page.words[w];
            let t = word.text.as_str();
            let b = word.bbox;
            let chars = t.chars().count().max(1) as f32;
            let digits = t.chars().filter(|c| c.is_ascii_digit()).count() as f32;
            let alpha = t.chars().filter(|c| c.is_alphabetic()).count() as f32;
            let upper = t.chars().filter(|c| c.is_uppercase()).count() as f32;
            let num = text::parse_number(t.trim_end_matches('%'), None);
            let decimals = t
                .rfind(['.', ','])
                .map(|i| t.len() - i - 1)
                .filter(|d| *d <= 3 && num.is_some())
                .unwrap_or(0) as f32;
            let f = &folded[k];
            let left = (k > 0).then(|| words[k - 1]);
            let right = words.get(k + 1).copied();
            let above = if li > 0 {
                overlap_in(li - 1, b[0], b[2])
            } else {
                None
            };
            let below = overlap_in(li + 1, b[0], b[2]);
            let money_rank = money_pos
                .iter()
                .rev()
                .position(|&p| p == k)
                .map(|r| r as f32)
                .unwrap_or(-1.0);
            // the nearest label phrase ending before this word
            let label_left = phrases.iter().rev().find(|p| p.1 <= k);
            // a label straight above (grid meta blocks)
            let label_above = above.and_then(|a| info[a].field);

            let row = &mut out[w * n..(w + 1) * n];
            let vals: [f32; 65] = [
                chars,
                digits / chars,
                alpha / chars,
                if alpha > 0.0 { upper / alpha } else { 0.0 },
                info[w].money as u8 as f32,
                num.is_some() as u8 as f32,
                (num.is_some() && t.chars().all(|c| c.is_ascii_digit())) as u8 as f32,
                decimals,
                num.map(|v| (v.abs() + 1.0).log10() as f32).unwrap_or(-1.0),
                num.map(|v| (v < 0.0) as u8 as f32).unwrap_or(0.0),
                text::parse_date(t).is_some() as u8 as f32,
                text::looks_like_vat_id(t) as u8 as f32,
                text::currency_of(t).is_some() as u8 as f32,
                info[w].colon as u8 as f32,
                t.contains('%') as u8 as f32,
                t.contains('/') as u8 as f32,
                t.contains('-') as u8 as f32,
                t.contains('.') as u8 as f32,
                t.chars().next().is_some_and(|c| c.is_ascii_digit()) as u8 as f32,
                LEGAL.contains(&f.as_str()) as u8 as f32,
                column_code(info[w].col),
                field_code(info[w].field),
                seen.get(t).copied().unwrap_or(1) as f32,
                b[0] / pw,
                b[2] / pw,
                (b[1] + b[3]) * 0.5 / ph,
                (b[2] - b[0]) / pw,
                (b[3] - b[1]) / med_h,
                pi as f32,
                (pi + 1 == doc.pages.len()) as u8 as f32,
                doc.pages.len() as f32,
                k as f32,
                (lw - 1 - k) as f32,
                lw as f32,
                li as f32 / n_lines,
                left.map(|l| (b[0] - page.words[l].bbox[2]) / med_h)
                    .unwrap_or(-1.0),
                right
                    .map(|r| (page.words[r].bbox[0] - b[2]) / med_h)
                    .unwrap_or(-1.0),
                gap_above,
                gap_below,
                money_pos.len() as f32,
                money_rank,
                number_count as f32,
                field_code(first_field),
                col_labels as f32,
                has_colon_label as u8 as f32,
                left.map(|l| column_code(info[l].col)).unwrap_or(-1.0),
                left.map(|l| field_code(info[l].field)).unwrap_or(-1.0),
                left.map(|l| info[l].money as u8 as f32).unwrap_or(-1.0),
                left.map(|l| info[l].colon as u8 as f32).unwrap_or(-1.0),
                right.map(|r| column_code(info[r].col)).unwrap_or(-1.0),
                right.map(|r| field_code(info[r].field)).unwrap_or(-1.0),
                right.map(|r| info[r].money as u8 as f32).unwrap_or(-1.0),
                above.map(|a| column_code(info[a].col)).unwrap_or(-1.0),
                above.map(|a| field_code(info[a].field)).unwrap_or(-1.0),
                above.map(|a| info[a].money as u8 as f32).unwrap_or(-1.0),
                below.map(|a| info[a].money as u8 as f32).unwrap_or(-1.0),
                label_left.map(|p| field_code(p.2)).unwrap_or(-1.0),
                label_left.map(|p| column_code(p.3)).unwrap_or(-1.0),
                label_left.map(|p| (k - p.1) as f32).unwrap_or(-1.0),
                field_code(label_above),
                rl(w),
                left.map(rl).unwrap_or(-1.0),
                right.map(rl).unwrap_or(-1.0),
                above.map(rl).unwrap_or(-1.0),
                below.map(rl).unwrap_or(-1.0),
            ];
            row.copy_from_slice(&vals);
        }
    }
    out
}

/// Writes training rows of a document with known labels (e.g. a CORD receipt).
pub fn export_labelled(
    doc: &Document,
    labels: &Tags,
    id: &str,
    kind: &str,
    out: &mut impl Write,
) -> std::io::Result<usize> {
    let work = crate::geometry::upright(doc).unwrap_or_else(|| doc.clone());
    let rule_tags = crate::rules::label(&work);
    let feats = document_features(&work, &rule_tags);
    write_rows(&work, labels, &feats, id, "train", kind, out)
}

fn write_rows(
    work: &Document,
    labels: &Tags,
    feats: &[Vec<f32>],
    id: &str,
    split: &str,
    kind: &str,
    out: &mut impl Write,
) -> std::io::Result<usize> {
    let n = count();
    let mut rows = 0;
    for (pi, page) in work.pages.iter().enumerate() {
        for wi in 0..page.words.len() {
            let label: Label = labels[pi][wi].label;
            write!(out, "{id},{split},{kind},{pi},{wi},{}", label as u8)?;
            for v in &feats[pi][wi * n..(wi + 1) * n] {
                if v.fract() == 0.0 {
                    write!(out, ",{}", *v as i64)?;
                } else {
                    write!(out, ",{v:.5}")?;
                }
            }
            writeln!(out)?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// Writes the training rows of one labelled document as CSV lines:
/// `doc_id,split,kind,page,word,label,<features...>`. `header` writes the column names first.
pub fn export_truth(
    truth: &crate::truth::Truth,
    out: &mut impl Write,
    header: bool,
) -> std::io::Result<usize> {
    if header {
        write!(out, "doc_id,split,kind,page,word,label")?;
        for n in NAMES {
            write!(out, ",{n}")?;
        }
        writeln!(out)?;
    }
    let doc = truth.document();
    let labels = truth.tags(&doc);
    let work = crate::geometry::upright(&doc).unwrap_or(doc);
    let rule_tags = crate::rules::label(&work);
    let feats = document_features(&work, &rule_tags);
    write_rows(
        &work,
        &labels,
        &feats,
        &truth.doc_id,
        &truth.split,
        &truth.kind,
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_of_the_declared_width_per_word() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../training-data/fixtures");
        let t = crate::truth::Truth::load(&dir.join("fx03_digital_en_twoline.truth.json")).unwrap();
        let doc = t.document();
        let f = document_features(&doc, &crate::rules::label(&doc));
        assert_eq!(f[0].len(), doc.pages[0].words.len() * count());
        assert!(f[0].iter().all(|v| v.is_finite()));
        let mut buf = Vec::new();
        let rows = export_truth(&t, &mut buf, true).unwrap();
        assert_eq!(rows, doc.pages[0].words.len());
        let text = String::from_utf8(buf).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(first.split(',').count(), 6 + count());
    }
}
