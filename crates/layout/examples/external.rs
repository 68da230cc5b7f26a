//! Real documents, not ours: line items on CORD receipts and total/date on SROIE receipts, from
//! their labelled words (no OCR).
//!
//! `cargo run -p claimscan-layout --example external -- --cord ../shared/data/cord/dev
//!   --sroie ../shared/data/sroie-train [--model models/layout-gbdt]`
//!
//! CORD: a line is right when its description (menu.nm words) and amount (menu.price) equal a true
//! line's (and the quantity, where CORD has one). SROIE: `total` equal as a number, `date` equal
//! after both are normalised to ISO 8601 (a key date we cannot parse counts as wrong).
use std::path::{Path, PathBuf};

use claimscan_doc::{Document, Page, PageSource, Word};
use claimscan_layout::{text, InvoiceReader};
use serde_json::Value;

fn doc_of(words: Vec<(String, [f32; 4])>, w: f32, h: f32, name: &str) -> Document {
    let words = words
        .into_iter()
        .filter(|(t, _)| !t.trim().is_empty())
        .map(|(t, b)| Word::new(t, b, 1.0, w, h))
        .collect();
    Document::of_words(
        name,
        vec![Page::new(0, w, h, None, PageSource::Input, words)],
    )
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn cord(dir: &Path, readers: &[InvoiceReader]) {
    let files = files(&dir.join("json"), "json");
    if files.is_empty() {
        println!("CORD: no {}/json/*.json, skipped", dir.display());
        return;
    }
    let mut counts = vec![(0usize, 0usize, 0usize); readers.len()];
    for f in &files {
        let Some(r) = claimscan_layout::external::cord_receipt(
            &std::fs::read(f).unwrap(),
            &f.display().to_string(),
        ) else {
            continue;
        };
        let truth = &r.lines;
        for (ri, reader) in readers.iter().enumerate() {
            let inv = reader.read(&r.doc);
            let mut used = vec![false; truth.len()];
            let mut right = 0;
            for l in &inv.lines {
                let d = l.description.clone().unwrap_or_default();
                if let Some(i) = (0..truth.len()).find(|&i| {
                    !used[i]
                        && truth[i].description == d
                        && match (truth[i].amount, l.amount) {
                            (Some(a), Some(b)) => text::money_eq(a, b),
                            _ => false,
                        }
                        && truth[i]
                            .quantity
                            .is_none_or(|q| l.quantity.is_some_and(|lq| (lq - q).abs() < 1e-6))
                }) {
                    used[i] = true;
                    right += 1;
                }
            }
            counts[ri].0 += right;
            counts[ri].1 += inv.lines.len();
            counts[ri].2 += truth.len();
        }
    }
    println!(
        "CORD {} ({} receipts): line items (description, quantity, amount)",
        dir.display(),
        files.len()
    );
    for (r, c) in readers.iter().zip(&counts) {
        let (p, rc, f) = claimscan_layout::eval::prf(c.0, c.1, c.2);
        println!(
            "  {:<20} P {:.1}% R {:.1}% F1 {:.1}% ({} right, {} read, {} true)",
            r.name(),
            p * 100.0,
            rc * 100.0,
            f * 100.0,
            c.0,
            c.1,
            c.2
        );
    }
}

fn sroie(dir: &Path, readers: &[InvoiceReader]) {
    let boxes = files(&dir.join("box"), "csv");
    if boxes.is_empty() {
        println!("SROIE: no {}/box/*.csv, skipped", dir.display());
        return;
    }
    let mut right = vec![(0usize, 0usize); readers.len()];
    let mut n = 0;
    let mut key_dates_unparsed = 0;
    for b in &boxes {
        let stem = b.file_stem().unwrap().to_string_lossy().to_string();
        let Ok(key) = std::fs::read(dir.join("key").join(format!("{stem}.json"))) else {
            continue;
        };
        let key: Value = serde_json::from_slice(&key).unwrap_or(Value::Null);
        let text_all = String::from_utf8_lossy(&std::fs::read(b).unwrap()).to_string();
        let mut words = Vec::new();
        let (mut w, mut h) = (1f32, 1f32);
        for line in text_all.lines() {
            let parts: Vec<&str> = line.splitn(9, ',').collect();
            if parts.len() < 9 {
                continue;
            }
            let nums: Vec<f32> = parts[..8]
                .iter()
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            if nums.len() != 8 {
                continue;
            }
            let x0 = nums.iter().step_by(2).copied().fold(f32::MAX, f32::min);
            let x1 = nums.iter().step_by(2).copied().fold(f32::MIN, f32::max);
            let y0 = nums
                .iter()
                .skip(1)
                .step_by(2)
                .copied()
                .fold(f32::MAX, f32::min);
            let y1 = nums
                .iter()
                .skip(1)
                .step_by(2)
                .copied()
                .fold(f32::MIN, f32::max);
            w = w.max(x1 + 20.0);
            h = h.max(y1 + 20.0);
            // the box is a text line: split it into words with proportional x
            let t = parts[8].trim();
            let chars = t.chars().count().max(1) as f32;
            let mut at = 0usize;
            for tok in t.split(' ') {
                let len = tok.chars().count();
                if len > 0 {
                    let a = x0 + (x1 - x0) * at as f32 / chars;
                    let z = x0 + (x1 - x0) * (at + len) as f32 / chars;
                    words.push((tok.to_string(), [a, y0, z, y1]));
                }
                at += len + 1;
            }
        }
        n += 1;
        let want_total = key["total"]
            .as_str()
            .and_then(|t| text::parse_number(t, None));
        let want_date = key["date"]
            .as_str()
            .and_then(|d| d.split_whitespace().find_map(text::parse_date));
        if want_date.is_none() {
            key_dates_unparsed += 1;
        }
        let doc = doc_of(words, w, h, &stem);
        for (ri, r) in readers.iter().enumerate() {
            let inv = r.read(&doc);
            if let (Some(a), Some(b)) = (want_total, inv.header.total) {
                if text::money_eq(a, b) {
                    right[ri].0 += 1;
                }
            }
            if want_date.is_some() && want_date == inv.header.invoice_date {
                right[ri].1 += 1;
            }
        }
    }
    println!(
        "SROIE {} ({n} receipts; {key_dates_unparsed} key dates not in a numeric format we parse):",
        dir.display()
    );
    for (r, c) in readers.iter().zip(&right) {
        println!(
            "  {:<20} total {:.1}%  date {:.1}%",
            r.name(),
            c.0 as f64 * 100.0 / n.max(1) as f64,
            c.1 as f64 * 100.0 / n.max(1) as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mut readers = vec![InvoiceReader::rules()];
    if let Some(m) = get("--model") {
        readers.push(InvoiceReader::load(Path::new(&m)).unwrap_or_else(|e| panic!("{m}: {e}")));
    }
    if let Some(d) = get("--cord") {
        cord(Path::new(&d), &readers);
    }
    if let Some(d) = get("--sroie") {
        sroie(Path::new(&d), &readers);
    }
}
