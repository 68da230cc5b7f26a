//! The `claimscan extract` command as a user runs it: a batch with good and bad files goes on past
//! the bad ones, reports each with its code, and exits 2; outputs land in --out.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_claimscan"));
    // Exercise the re-exec that sets OMP_THREAD_LIMIT for Tesseract.
    c.env_remove("OMP_THREAD_LIMIT")
        .env_remove("CLAIMSCAN_NO_REEXEC");
    c
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("claimscan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../training-data/fixtures")
        .join(name)
}

#[test]
fn batch_with_bad_files_goes_on_and_exits_2() {
    let dir = tmp("batch");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        fixture("fx03_digital_en_twoline.pdf"),
        input.join("a_good.pdf"),
    )
    .unwrap();
    std::fs::write(input.join("b_empty.pdf"), b"").unwrap();
    std::fs::write(input.join("c_notes.txt"), b"hello, not an invoice").unwrap();
    std::fs::write(
        input.join("d_broken.pdf"),
        b"%PDF-1.7\n1 0 obj << /Type /Catalog",
    )
    .unwrap();
    let out = dir.join("out");
    let o = bin()
        .args(["extract", "--jobs", "2", "--format", "json", "--out"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("b_empty.pdf: empty_file"), "{stderr}");
    assert!(
        stderr.contains("c_notes.txt: unsupported_format"),
        "{stderr}"
    );
    assert!(stderr.contains("d_broken.pdf: pdf_corrupt"), "{stderr}");
    assert!(stderr.contains("read 1 of 4 files"), "{stderr}");

    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("a_good.pdf.json")).unwrap()).unwrap();
    assert_eq!(good["schema_version"], "1");
    assert_eq!(good["errors"].as_array().unwrap().len(), 0);
    assert_eq!(good["pages"][0]["source"], "text_layer");
    assert!(good["pages"][0]["words"].as_array().unwrap().len() > 50);
    let bad: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("b_empty.pdf.json")).unwrap()).unwrap();
    assert_eq!(bad["errors"][0]["code"], "empty_file");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn jsonl_and_text_to_stdout_and_word_json_input() {
    let dir = tmp("stdout");
    let words = dir.join("words.json");
    std::fs::write(
        &words,
        br#"{"pages":[{"width":1000,"height":1000,"words":[
            {"text":"Invoice","bbox":[10,10,100,30]},{"text":"42","bbox":[110,10,140,30]},
            {"text":"Total","bbox":[10,900,80,920]},{"text":"12.50","bbox":[600,900,660,920]}]}]}"#,
    )
    .unwrap();
    let o = bin()
        .args(["extract", "--format", "jsonl"])
        .arg(&words)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(line["pages"][0]["source"], "input");
    assert_eq!(line["pages"][0]["lines"][1]["text"], "Total 12.50");

    let o = bin()
        .args(["extract", "--format", "text", "-q"])
        .arg(&words)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Invoice 42\nTotal 12.50\n"), "{text}");
    assert!(
        o.stderr.is_empty(),
        "quiet: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn debug_images_are_written_for_ocr_and_text_pages() {
    let dir = tmp("debug");
    let o = bin()
        .args(["extract", "-q", "--format", "jsonl", "--debug-image"])
        .arg(&dir)
        .arg(fixture("fx03_digital_en_twoline.pdf"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let png = dir.join("fx03_digital_en_twoline.pdf.p1.png");
    let img = image::open(&png).expect("debug image");
    assert!(img.width() > 2000, "rendered at 300 DPI: {}", img.width());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_64_and_doctor_sees_the_omp_limit() {
    let o = bin().args(["extract"]).output().unwrap();
    assert_eq!(o.status.code(), Some(64));
    let o = bin().arg("doctor").output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("OMP_THREAD_LIMIT=1 set"), "{out}");
    assert!(out.contains("onnxruntime   ok"), "{out}");
}

#[test]
fn extract_reads_the_invoice_header_and_lines_with_the_model_and_the_rules() {
    let pdf = fixture("fx03_digital_en_twoline.pdf");
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("fx03_digital_en_twoline.truth.json")).unwrap(),
    )
    .unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/layout-gbdt-cord");
    for reader in [model.display().to_string(), "rules".to_string()] {
        let o = bin()
            .args(["extract", "--format", "jsonl", "-q", "--reader", &reader])
            .arg(&pdf)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let h = &out["header"];
        for f in ["invoice_number", "invoice_date", "supplier_vat_id"] {
            assert_eq!(h[f], truth["header"][f], "{reader}: {f}");
        }
        assert_eq!(h["currency"], truth["currency"], "{reader}");
        let total = h["total"].as_f64().unwrap();
        assert!(
            (total - truth["header"]["total"].as_f64().unwrap()).abs() < 0.005,
            "{reader}"
        );
        assert_eq!(
            out["lines"].as_array().unwrap().len(),
            truth["lines"].as_array().unwrap().len(),
            "{reader}"
        );
        let c = out["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert!(out["boxes"]["total"]["bbox"].is_array(), "{reader}: boxes");
    }
    let o = bin()
        .args(["extract", "--format", "jsonl", "-q", "--reader", "none"])
        .arg(&pdf)
        .output()
        .unwrap();
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(out.get("header").is_none() && out["pages"].is_array());
}
