//! CORD receipts (`../shared/data/cord/{train,dev}/json/*.json`, CC BY 4.0) as labelled
//! documents: their OCR words and boxes, a label per word from the word's category, and the true
//! line items. Used to add receipts to training and to measure line items on real documents.

use std::collections::BTreeMap;

use claimscan_doc::{Document, Page, PageSource, Word};
use serde_json::Value;

use crate::labels::{Label, Tag, Tags};
use crate::text;

/// One true CORD line item.
#[derive(Debug, Clone)]
pub struct CordLine {
    pub description: String,
    pub quantity: Option<f64>,
    pub amount: Option<f64>,
}

/// A CORD receipt: its words as a one-page document, their labels, and its true line items.
pub struct CordReceipt {
    pub doc: Document,
    pub tags: Tags,
    pub lines: Vec<CordLine>,
}

/// Words of one CORD group: name words, count text, price text.
type Group = (Vec<String>, Option<String>, Option<String>);

fn label_of(category: &str) -> Label {
    match category {
        "menu.nm" => Label::LineDescription,
        "menu.cnt" => Label::LineQuantity,
        "menu.unitprice" => Label::LineUnitPrice,
        "menu.price" => Label::LineAmount,
        "menu.num" => Label::LineCode,
        "sub_total.subtotal_price" => Label::Subtotal,
        "sub_total.tax_price" => Label::Tax,
        "total.total_price" => Label::Total,
        _ => Label::Other,
    }
}

/// Parses one CORD annotation file.
pub fn cord_receipt(json: &[u8], name: &str) -> Option<CordReceipt> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let w = v["meta"]["image_size"]["width"].as_f64().unwrap_or(1000.0) as f32;
    let h = v["meta"]["image_size"]["height"].as_f64().unwrap_or(1000.0) as f32;
    let mut words = Vec::new();
    let mut labels = Vec::new();
    let mut groups: BTreeMap<i64, Group> = BTreeMap::new();
    for line in v["valid_line"].as_array()? {
        let cat = line["category"].as_str().unwrap_or("");
        let gid = line["group_id"].as_i64().unwrap_or(-1);
        let mut texts = Vec::new();
        for wd in line["words"].as_array().into_iter().flatten() {
            let q = &wd["quad"];
            let xs = ["x1", "x2", "x3", "x4"].map(|k| q[k].as_f64().unwrap_or(0.0) as f32);
            let ys = ["y1", "y2", "y3", "y4"].map(|k| q[k].as_f64().unwrap_or(0.0) as f32);
            let b = [
                xs.iter().copied().fold(f32::MAX, f32::min),
                ys.iter().copied().fold(f32::MAX, f32::min),
                xs.iter().copied().fold(f32::MIN, f32::max),
                ys.iter().copied().fold(f32::MIN, f32::max),
            ];
            let t = wd["text"].as_str().unwrap_or("").trim().to_string();
            if t.is_empty() || b[0] > b[2] || b[1] > b[3] {
                continue;
            }
            texts.push(t.clone());
            words.push(Word::new(t, b, 1.0, w, h));
            labels.push(Tag {
                label: label_of(cat),
                prob: 1.0,
            });
        }
        let g = groups.entry(gid).or_default();
        match cat {
            "menu.nm" => g.0.extend(texts),
            "menu.cnt" => g.1 = Some(texts.join(" ")),
            "menu.price" => g.2 = Some(texts.join(" ")),
            _ => {}
        }
    }
    let lines = groups
        .into_values()
        .filter(|g| !g.0.is_empty() && g.2.is_some())
        .map(|g| CordLine {
            description: g.0.join(" "),
            quantity: g
                .1
                .as_deref()
                .and_then(|q| text::parse_number(q.trim_end_matches(['x', 'X']), None)),
            amount: g.2.as_deref().and_then(|a| text::parse_number(a, None)),
        })
        .collect();
    let page = Page::new(0, w, h, None, PageSource::Input, words);
    // Page::new keeps the word order, so the labels stay parallel to the words
    Some(CordReceipt {
        doc: Document::of_words(name, vec![page]),
        tags: vec![labels],
        lines,
    })
}
