//! The generator's fixture invoices read end to end with the real pdfium and Tesseract:
//! - golden text per document (`tests/golden/<file>.txt`; `UPDATE_GOLDEN=1` rewrites them),
//! - the page source chosen per kind (text layer for digital PDFs, OCR for scans and photos),
//! - recall of the printed header values against the generator's truth, per kind,
//! - word boxes of digital PDFs against the truth boxes.

use std::path::Path;

use claimscan::{fixture_docs, root, squash};
use claimscan_doc::{Document, PageSource};
use claimscan_read::{read_path, ReadOptions};
use rayon::prelude::*;

struct Read {
    name: String,
    kind: String,
    truth: serde_json::Value,
    doc: Document,
}

/// Every fixture read once per test binary (OCR is the slow part), shared by the tests.
fn read_all() -> &'static [Read] {
    static READS: std::sync::OnceLock<Vec<Read>> = std::sync::OnceLock::new();
    READS.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<Read> {
    let docs = fixture_docs();
    assert!(
        docs.len() >= 10,
        "expected the committed fixtures in training-data/fixtures, found {}",
        docs.len()
    );
    docs.par_iter()
        .map(|(path, truth)| {
            let truth: serde_json::Value = serde_json::from_slice(
                &std::fs::read(truth.as_ref().expect("every fixture has a truth file")).unwrap(),
            )
            .unwrap();
            let doc = read_path(path, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {} ({})", path.display(), e, e.code()));
            Read {
                name: path.file_name().unwrap().to_string_lossy().to_string(),
                kind: truth["kind"].as_str().unwrap_or("").to_string(),
                truth,
                doc,
            }
        })
        .collect()
}

fn field_recall(r: &Read) -> (usize, usize, Vec<String>) {
    let text = squash(&r.doc.text());
    let (mut found, mut total, mut missing) = (0, 0, Vec::new());
    for page in r.truth["pages"].as_array().unwrap() {
        for f in page["fields"].as_array().unwrap() {
            if f["visible"].as_f64().unwrap_or(1.0) < 0.99 {
                continue;
            }
            let v = f["value_text"].as_str().unwrap();
            total += 1;
            if text.contains(&squash(v)) {
                found += 1;
            } else {
                missing.push(format!("{}={v}", f["name"].as_str().unwrap_or("?")));
            }
        }
    }
    (found, total, missing)
}

fn golden(name: &str, actual: &str) -> Result<(), String> {
    let path = root().join("tests/golden").join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path).map_err(|_| {
        format!(
            "{}: no golden file (run with UPDATE_GOLDEN=1)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let diff: Vec<String> = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .filter(|(_, (e, a))| e != a)
        .take(5)
        .map(|(i, (e, a))| {
            format!(
                "  line {}: expected {e:?}\n           got      {a:?}",
                i + 1
            )
        })
        .collect();
    Err(format!(
        "{name}: text differs from {} ({} vs {} lines)\n{}",
        path.display(),
        expected.lines().count(),
        actual.lines().count(),
        diff.join("\n")
    ))
}

#[test]
fn fixtures_read_as_expected() {
    let reads = read_all();
    let mut problems = Vec::new();
    for r in reads {
        let want = match r.kind.as_str() {
            "digital_pdf" => PageSource::TextLayer,
            _ => PageSource::Ocr,
        };
        for p in &r.doc.pages {
            if p.source != want {
                problems.push(format!(
                    "{}: page {} read as {:?}",
                    r.name, p.index, p.source
                ));
            }
        }
        let pages = r.truth["pages"].as_array().unwrap().len();
        if r.doc.pages.len() != pages {
            problems.push(format!(
                "{}: {} pages, truth has {pages}",
                r.name,
                r.doc.pages.len()
            ));
        }
        if let Err(e) = golden(&r.name, &r.doc.text()) {
            problems.push(e);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn header_values_are_found_per_kind() {
    let reads = read_all();
    // Minimum share of printed header values found in the text, per kind. Digital PDFs must be
    // exact; measured today: scans 25/26, photos 52/55 (see `claimscan bench truth`).
    let floors = [("digital_pdf", 1.0), ("scanned_pdf", 0.9), ("photo", 0.9)];
    let mut report = Vec::new();
    let mut failed = false;
    for (kind, floor) in floors {
        let (mut f, mut t, mut missing) = (0, 0, Vec::new());
        for r in reads.iter().filter(|r| r.kind == kind) {
            let (a, b, m) = field_recall(r);
            f += a;
            t += b;
            missing.extend(m.into_iter().map(|m| format!("{}: {m}", r.name)));
        }
        assert!(t > 0, "no {kind} fixtures");
        let recall = f as f64 / t as f64;
        report.push(format!(
            "{kind}: {f}/{t} = {recall:.3} (floor {floor}) missing: {missing:?}"
        ));
        failed |= recall < floor;
    }
    assert!(!failed, "{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
}

#[test]
fn digital_pdf_word_boxes_match_the_truth() {
    for (path, truth) in fixture_docs() {
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(truth.unwrap()).unwrap()).unwrap();
        if truth["kind"] != "digital_pdf" {
            continue;
        }
        let doc = read_path(Path::new(&path), &ReadOptions::default()).unwrap();
        let (mut matched, mut total, mut misses) = (0, 0, Vec::new());
        for (page, tpage) in doc.pages.iter().zip(truth["pages"].as_array().unwrap()) {
            for tw in tpage["words"].as_array().unwrap() {
                let text = tw[0].as_str().unwrap();
                let b: Vec<f32> = tw[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                total += 1;
                // The truth boxes span the font's line height and advance widths; ours are ink
                // boxes (narrower for "1", taller for "Ó"). The same word is the same text with
                // our box's centre inside the truth box and its edges within 10 px of it.
                let tb = [b[0], b[1], b[2], b[3]];
                let hit = page.words.iter().any(|w| {
                    let (cx, cy) = ((w.bbox[0] + w.bbox[2]) / 2.0, (w.bbox[1] + w.bbox[3]) / 2.0);
                    w.text == text && inside([cx, cy, cx, cy], tb, 0.0) && inside(w.bbox, tb, 10.0)
                });
                matched += hit as usize;
                if !hit && misses.len() < 12 {
                    let near = page
                        .words
                        .iter()
                        .filter(|w| iou(w.bbox, [b[0], b[1], b[2], b[3]]) > 0.1)
                        .map(|w| format!("{}@{:?}", w.text, w.bbox.map(|v| v.round())))
                        .collect::<Vec<_>>();
                    misses.push(format!(
                        "{text}@{:?} ~ {near:?}",
                        b.iter().map(|v| v.round()).collect::<Vec<_>>()
                    ));
                }
            }
        }
        let share = matched as f64 / total as f64;
        assert!(
            share >= 0.97,
            "{}: {matched}/{total} truth words found with the same text in the same place; misses:\n{}",
            path.display(),
            misses.join("\n")
        );
    }
}

fn inside(a: [f32; 4], b: [f32; 4], tol: f32) -> bool {
    a[0] >= b[0] - tol && a[1] >= b[1] - tol && a[2] <= b[2] + tol && a[3] <= b[3] + tol
}

fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let area = |r: [f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    inter / (area(a) + area(b) - inter).max(1e-6)
}
