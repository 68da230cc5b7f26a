//! The shipped model (`models/layout-gbdt`) against the fixtures, and load-time refusals.
//! Skipped (with a message) when ONNX Runtime is not installed (`make setup`).

use std::path::{Path, PathBuf};

use claimscan_layout::{eval, truth::Truth, InvoiceReader, LayoutError};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(dir: &Path) -> Option<Result<InvoiceReader, LayoutError>> {
    match InvoiceReader::load(dir) {
        Err(e) if e.code() == "model_runtime_missing" => {
            eprintln!("skipped: {e}");
            None
        }
        r => Some(r),
    }
}

#[test]
fn shipped_model_reads_the_fixtures() {
    let Some(reader) = load(&root().join("models/layout-gbdt")) else {
        return;
    };
    let reader = reader.expect("the shipped model loads");
    assert_eq!(reader.name(), "layout-gbdt@1.0.0");
    for name in [
        "fx01_digital_de_multipage",
        "fx02_digital_fr_credit",
        "fx03_digital_en_twoline",
        "fx04_digital_it_blocks",
        "fx05_digital_pl_iso",
        "fx06_scan_es",
        "fx07_scan_nl_binarized",
    ] {
        let t =
            Truth::load(&root().join(format!("training-data/fixtures/{name}.truth.json"))).unwrap();
        let got = reader.read(&t.document());
        let want = t.invoice();
        let h = eval::header_correct(&got, &want);
        assert!(h.iter().all(|x| *x), "{name}: {h:?} {:?}", got.header);
        let (c, p, n) = eval::line_counts(&got, &want);
        assert_eq!((c, p), (n, n), "{name}");
        assert_eq!(got.reader.as_deref(), Some("layout-gbdt@1.0.0"));
        assert!(got.confidence > 0.5, "{name}: {}", got.confidence);
    }
}

fn copy_model(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("claimscan-layout-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["model.onnx", "manifest.toml"] {
        std::fs::copy(root().join("models/layout-gbdt").join(f), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn a_model_that_does_not_fit_the_code_is_refused_with_what_differs() {
    let dir = copy_model("schema");
    let m = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    std::fs::write(
        dir.join("manifest.toml"),
        m.replace("feature_schema_version = 1", "feature_schema_version = 99"),
    )
    .unwrap();
    let e = InvoiceReader::load(&dir).err().expect("refused");
    assert_eq!(e.code(), "model_schema_mismatch");
    assert!(
        e.to_string()
            .contains("feature schema version: manifest 99, code 1"),
        "{e}"
    );

    std::fs::write(
        dir.join("manifest.toml"),
        m.replace("input = \"features\"", "input = \"x\""),
    )
    .unwrap();
    if let Some(r) = load(&dir) {
        let e = r.err().expect("refused");
        assert_eq!(e.code(), "model_schema_mismatch");
        assert!(
            e.to_string()
                .contains("input `x` not in the graph (graph inputs: features)"),
            "{e}"
        );
    }
    std::fs::write(dir.join("manifest.toml"), "name = \"x\"").unwrap();
    assert_eq!(
        InvoiceReader::load(&dir).err().unwrap().code(),
        "model_manifest_invalid"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The digital fixtures read by the real pipeline (pdfium's text layer, not the truth's words):
/// the train/serve skew of word boxes once made the model unsure of every one of them.
#[test]
fn digital_fixtures_read_through_pdfium_are_read_right_and_confidently() {
    use claimscan_layout::cli::{documents, load_truths, WordsFrom};
    let Some(reader) = load(&root().join("models/layout-gbdt-cord")) else {
        return;
    };
    let reader = reader.expect("the shipped model loads");
    let truths: Vec<Truth> = load_truths(&root().join("training-data/fixtures"), "all", None)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "digital_pdf")
        .collect();
    assert_eq!(truths.len(), 5);
    assert!(truths.iter().all(|t| t.original().is_some()));
    let (docs, unreadable) = documents(&truths, WordsFrom::Read, None);
    assert_eq!(unreadable, 0);
    let mut confident = 0;
    for (t, doc) in truths.iter().zip(&docs) {
        assert_eq!(doc.source.format, "pdf", "{}", t.doc_id);
        let got = reader.read(doc);
        let want = t.invoice();
        assert_eq!(got.header.total, want.header.total, "{}", t.doc_id);
        assert_eq!(
            got.header.invoice_number, want.header.invoice_number,
            "{}",
            t.doc_id
        );
        confident += (got.confidence >= 0.95) as usize;
    }
    // measured: 4 of 5 at 0.99 (fx04 0.50); with ink boxes it was 0 of 5 at >= 0.95
    assert!(confident >= 4, "{confident} of 5 confident");
}

/// An OCR engine's doubt about a word carries into the values made of it: the same document
/// with one amount word read at confidence 0.5 gives that line, and the invoice, less confidence.
#[test]
fn unsure_ocr_words_lower_the_confidence_of_their_values() {
    let t = Truth::load(&root().join("training-data/fixtures/fx03_digital_en_twoline.truth.json"))
        .unwrap();
    let doc = t.document();
    let reader = InvoiceReader::rules();
    let sure = reader.read(&doc);
    let line = &sure.lines[0];
    assert!(line.confidence > 0.3 && sure.confidence > 0.1, "{sure:?}");
    let amount = line
        .boxes
        .get("amount")
        .expect("first line has an amount box");
    let mut doubtful = doc.clone();
    let mut touched = 0;
    for w in &mut doubtful.pages[amount.page].words {
        let b = w.bbox;
        let c = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
        let a = amount.bbox;
        if c[0] >= a[0] && c[0] <= a[2] && c[1] >= a[1] && c[1] <= a[3] {
            w.confidence = 0.5;
            touched += 1;
        }
    }
    assert!(touched >= 1, "the amount's word was found");
    let unsure = reader.read(&doubtful);
    assert_eq!(
        unsure.lines[0].amount, line.amount,
        "the value itself is unchanged"
    );
    assert!(
        unsure.lines[0].confidence <= 0.5 * line.confidence + 1e-6,
        "line: {} -> {}",
        line.confidence,
        unsure.lines[0].confidence
    );
    assert!(unsure.lines[1].confidence == sure.lines[1].confidence);
    assert!(
        unsure.confidence < sure.confidence,
        "invoice: {} -> {}",
        sure.confidence,
        unsure.confidence
    );
}

/// OCR specks between a label and its value (`Numéro: - R-101036`, `fattura. N.: = INV-06295` on
/// seed 73's scans) moved the value away from its label in every line feature and the model,
/// trained on printed words, called it nothing; they are now out of its sight. The same page with
/// the specks a scan gives, around each header value, reads as the clean page does.
#[test]
fn specks_between_labels_and_values_do_not_hide_the_values() {
    use claimscan_doc::{Page, Word};
    let Some(reader) = load(&root().join("models/layout-gbdt-cord")) else {
        return;
    };
    let reader = reader.expect("the shipped model loads");
    for name in [
        "fx01_digital_de_multipage",
        "fx02_digital_fr_credit",
        "fx03_digital_en_twoline",
        "fx04_digital_it_blocks",
        "fx05_digital_pl_iso",
    ] {
        let t =
            Truth::load(&root().join(format!("training-data/fixtures/{name}.truth.json"))).unwrap();
        let want = t.invoice();
        let doc = t.document();
        let page = &doc.pages[0];
        let value = |text: &str| page.words.iter().position(|w| w.text == text);
        let number = want.header.invoice_number.clone().expect("a number");
        let at = value(&number).unwrap_or_else(|| panic!("{name}: {number} is one word"));
        // as OCR reads it: confidences below 1, and a speck in the gap before the number
        let mut words: Vec<Word> = page.words.clone();
        for w in &mut words {
            w.confidence = 0.93;
        }
        let b = words[at].bbox;
        let h = b[3] - b[1];
        for w in &mut words {
            if w.bbox[1] < b[3] && w.bbox[3] > b[1] && w.bbox[2] <= b[0] {
                // the label's words step left, out of the speck's way
                w.bbox[0] -= h;
                w.bbox[2] -= h;
            }
        }
        words.push(Word::new(
            "-",
            [
                b[0] - 0.8 * h,
                b[1] + 0.4 * h,
                b[0] - 0.4 * h,
                b[1] + 0.6 * h,
            ],
            0.2,
            page.width,
            page.height,
        ));
        let ocr = |words: Vec<Word>| {
            let mut d = doc.clone();
            d.pages[0] = Page::new(
                0,
                page.width,
                page.height,
                page.dpi,
                claimscan_doc::PageSource::Ocr,
                words,
            );
            d
        };
        let clean = reader.read(&ocr(words[..words.len() - 1].to_vec()));
        let specked = reader.read(&ocr(words));
        assert_eq!(
            clean.header.invoice_number.as_deref(),
            Some(number.as_str()),
            "{name}: the page without the speck"
        );
        assert_eq!(
            specked.header.invoice_number.as_deref(),
            Some(number.as_str()),
            "{name}: the speck before the number"
        );
    }
}

/// The shipped model's verifier: the same scanned invoice, with one word of a description
/// misread into a word no catalog or distributor writes (every sum still right), is trusted
/// less than as printed.
#[test]
fn a_description_misread_into_a_word_no_one_writes_is_trusted_less() {
    use claimscan_doc::PageSource;
    use claimscan_layout::vocabulary::Vocabulary;
    let Some(reader) = load(&root().join("models/layout-gbdt-cord")) else {
        return;
    };
    let reader = reader.expect("the shipped model loads");
    let catalog =
        claimscan_matching::Catalog::from_path(&root().join("training-data/fixtures/catalog.csv"))
            .unwrap();
    let vocabulary =
        Vocabulary::from_catalog_and_model(&catalog, &claimscan_matching::Model::trained_default());
    let t = Truth::load(&root().join("training-data/fixtures/fx03_digital_en_twoline.truth.json"))
        .unwrap();
    // as a scan reads it: OCR'd pages, every word a little doubtful
    let mut scan = t.document();
    for p in &mut scan.pages {
        p.source = PageSource::Ocr;
        for w in &mut p.words {
            w.confidence = 0.96;
        }
    }
    let clean = reader.read_with(&scan, Some(&vocabulary));
    assert!(!clean.lines.is_empty());
    // the first description word of five letters or more that the vocabulary knows, misread
    let first = clean.lines[0].description.clone().expect("a description");
    let known = first
        .split_whitespace()
        .find(|w| {
            w.chars().count() >= 5 && w.chars().all(char::is_alphabetic) && vocabulary.knows(w)
        })
        .expect("a known word")
        .to_string();
    let mut misread = scan.clone();
    let word = misread
        .pages
        .iter_mut()
        .flat_map(|p| p.words.iter_mut())
        .find(|w| w.text == known)
        .expect("the word on the page");
    word.text = format!("{}qxv", known.chars().take(2).collect::<String>());
    let got = reader.read_with(&misread, Some(&vocabulary));
    assert_eq!(got.lines.len(), clean.lines.len());
    assert_ne!(got.lines[0].description, clean.lines[0].description);
    assert_eq!(got.header, clean.header);
    assert!(
        got.confidence < clean.confidence - 0.05,
        "{:?}: {} -> {:?}: {}",
        clean.lines[0].description,
        clean.confidence,
        got.lines[0].description,
        got.confidence
    );
}

/// `model eval --dump`: one JSON per document with what `pipelines/layout/verifier.py` trains on
/// (the verifier's inputs under the code's names, and whether the invoice was entirely right).
#[test]
fn eval_dump_writes_the_verifiers_inputs_and_the_score_of_each_invoice() {
    use claimscan_layout::cli::{documents, load_truths, score, WordsFrom};
    use claimscan_layout::verifier::FEATURES;
    let Some(reader) = load(&root().join("models/layout-gbdt-cord")) else {
        return;
    };
    let reader = reader.expect("the shipped model loads");
    let truths = load_truths(&root().join("training-data/fixtures"), "all", None).unwrap();
    let (docs, _) = documents(&truths, WordsFrom::Truth, None);
    let dir = std::env::temp_dir().join(format!("claimscan-dump-{}", std::process::id()));
    let s = score(&reader, None, &truths, &docs, false, Some(&dir));
    assert_eq!(s.docs, truths.len());
    let mut right = 0;
    for t in &truths {
        let path = dir.join(format!("{}.json", t.doc_id));
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("one file per document")).unwrap();
        assert_eq!(v["doc_id"], t.doc_id.as_str());
        let names: Vec<&str> = v["verifier_feature_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(names, FEATURES);
        assert_eq!(
            v["verifier_features"].as_array().unwrap().len(),
            FEATURES.len()
        );
        let all = |k: &str| v[k].as_array().unwrap().iter().all(|b| b == true);
        let lines_read = v["invoice"]["lines"].as_array().unwrap().len();
        let lines_true = t.invoice().lines.len();
        assert_eq!(
            v["right"] == true,
            all("header_right") && all("lines_right") && lines_read == lines_true,
            "{}",
            t.doc_id
        );
        right += usize::from(v["right"] == true);
    }
    assert_eq!(right, s.invoice_right);
    std::fs::remove_dir_all(&dir).ok();
}
