//! The generator's truth files (`<doc>.truth.json`, see `training-data/README.md`): their words as
//! a [`Document`] (no OCR needed), the label of each word, and the expected invoice.

use std::path::{Path, PathBuf};

use claimscan_doc::{Document, Header, Invoice, LineItem, Page, PageSource, Word};
use serde::Deserialize;

use crate::labels::{Label, Tag, Tags};

#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    pub doc_id: String,
    #[serde(default)]
    pub distributor_id: String,
    #[serde(default)]
    pub split: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub currency: Option<String>,
    pub header: TruthHeader,
    pub pages: Vec<TruthPage>,
    pub lines: Vec<TruthLine>,
    /// Where this truth file was loaded from.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthHeader {
    pub supplier_name: Option<String>,
    pub supplier_vat_id: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<String>,
    pub subtotal: Option<f64>,
    pub tax: Option<f64>,
    pub total: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthPage {
    pub width: f32,
    pub height: f32,
    #[serde(default)]
    pub dpi: Option<f32>,
    #[serde(default)]
    pub fields: Vec<TruthField>,
    pub words: Vec<(String, [f32; 4])>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthField {
    pub name: String,
    pub bbox: [f32; 4],
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthLine {
    /// The program's SKU this line is (product lines of the catalog; `None` for other brands,
    /// shipping, fees, discounts).
    #[serde(default)]
    pub sku: Option<String>,
    pub description: Option<String>,
    pub product_code: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub unit_price: Option<f64>,
    pub amount: Option<f64>,
    #[serde(default)]
    pub page: usize,
    #[serde(default)]
    pub bbox: std::collections::BTreeMap<String, [f32; 4]>,
}

/// Why a truth file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a truth file: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

impl Truth {
    pub fn load(path: &Path) -> Result<Truth, TruthError> {
        let bytes = std::fs::read(path).map_err(|source| TruthError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut t: Truth = serde_json::from_slice(&bytes).map_err(|source| TruthError::Json {
            path: path.display().to_string(),
            source,
        })?;
        t.path = Some(path.to_path_buf());
        Ok(t)
    }

    /// The rendered document this truth describes (`<doc>.pdf`, `<doc>.jpg`, ... beside the truth
    /// file), if it is there.
    pub fn original(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let name = path.file_name()?.to_str()?;
        let stem = name.strip_suffix(".truth.json")?;
        let dir = path.parent()?;
        ["pdf", "jpg", "jpeg", "png", "tif", "tiff", "webp"]
            .iter()
            .map(|ext| dir.join(format!("{stem}.{ext}")))
            .find(|p| p.is_file())
    }

    /// The truth words as a document (source `input`), words in drawing order.
    pub fn document(&self) -> Document {
        let pages = self
            .pages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let words = p
                    .words
                    .iter()
                    .filter(|(t, _)| !t.trim().is_empty())
                    .map(|(t, b)| Word::new(t.clone(), *b, 1.0, p.width, p.height))
                    .collect();
                Page::new(i, p.width, p.height, p.dpi, PageSource::Input, words)
            })
            .collect();
        Document::of_words(format!("{}.truth.json", self.doc_id), pages)
    }

    /// The label of every word of [`Truth::document`]: a word whose centre lies in a field's box
    /// takes that field's label.
    pub fn tags(&self, doc: &Document) -> Tags {
        doc.pages
            .iter()
            .enumerate()
            .map(|(pi, page)| {
                let tp = &self.pages[pi];
                let mut boxes: Vec<([f32; 4], Label)> = Vec::new();
                for f in &tp.fields {
                    if let Some(l) = Label::from_truth(&f.name, false) {
                        boxes.push((f.bbox, l));
                    }
                }
                for line in &self.lines {
                    if line.page != pi + 1 {
                        continue;
                    }
                    for (name, b) in &line.bbox {
                        if let Some(l) = Label::from_truth(name, true) {
                            boxes.push((*b, l));
                        }
                    }
                }
                page.words
                    .iter()
                    .map(|w| {
                        let cx = (w.bbox[0] + w.bbox[2]) * 0.5;
                        let cy = (w.bbox[1] + w.bbox[3]) * 0.5;
                        let label = boxes
                            .iter()
                            .find(|(b, _)| {
                                cx >= b[0] - 1.0
                                    && cx <= b[2] + 1.0
                                    && cy >= b[1] - 1.0
                                    && cy <= b[3] + 1.0
                            })
                            .map(|(_, l)| *l)
                            .unwrap_or(Label::Other);
                        Tag { label, prob: 1.0 }
                    })
                    .collect()
            })
            .collect()
    }

    /// The invoice a perfect reader would return.
    pub fn invoice(&self) -> Invoice {
        Invoice {
            header: Header {
                supplier_name: self.header.supplier_name.clone(),
                supplier_vat_id: self.header.supplier_vat_id.clone(),
                invoice_number: self.header.invoice_number.clone(),
                invoice_date: self.header.invoice_date.clone(),
                currency: self.currency.clone(),
                subtotal: self.header.subtotal,
                tax: self.header.tax,
                total: self.header.total,
            },
            lines: self
                .lines
                .iter()
                .map(|l| LineItem {
                    description: l.description.clone(),
                    product_code: l.product_code.clone(),
                    quantity: l.quantity,
                    unit: l.unit.clone(),
                    unit_price: l.unit_price,
                    amount: l.amount,
                    confidence: 1.0,
                    boxes: Default::default(),
                })
                .collect(),
            confidence: 1.0,
            ..Default::default()
        }
    }
}

/// Every `*.truth.json` under a directory (recursively), sorted.
pub fn truth_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".truth.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
