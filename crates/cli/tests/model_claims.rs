//! `claimscan model claims`: labelled invoices read, matched and decided as the worker does, each
//! claim compared with the one its truth makes. Real pdfium, the shipped layout model and the
//! fixtures' catalog.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../training-data/fixtures")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("claimscan-claims-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies a fixture into `dir` as document `id`, its truth edited by `edit`.
fn copy_fixture(dir: &Path, stem: &str, id: &str, edit: impl Fn(&mut Value)) {
    std::fs::copy(
        fixture(&format!("{stem}.pdf")),
        dir.join(format!("{id}.pdf")),
    )
    .unwrap();
    let mut truth: Value =
        serde_json::from_slice(&std::fs::read(fixture(&format!("{stem}.truth.json"))).unwrap())
            .unwrap();
    truth["doc_id"] = id.into();
    truth["files"] = serde_json::json!([format!("{id}.pdf")]);
    edit(&mut truth);
    std::fs::write(
        dir.join(format!("{id}.truth.json")),
        serde_json::to_vec(&truth).unwrap(),
    )
    .unwrap();
}

fn claims(dir: &Path, extra: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_claimscan"))
        .args(["model", "claims"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/layout-gbdt-cord"))
        .arg("--data")
        .arg(dir)
        .args(["--split", "all", "--verbose", "--catalog"])
        .arg(fixture("catalog.csv"))
        .args(extra)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The CLAIM line of one document: (outcome, points right).
fn outcome(out: &str, id: &str) -> (String, bool) {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("CLAIM {id} ")))
        .unwrap_or_else(|| panic!("no CLAIM line for {id}:\n{out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let right = words
        .iter()
        .position(|w| *w == "points_right")
        .map(|i| words[i + 1] == "true")
        .unwrap();
    (words[3].to_string(), right)
}

#[test]
fn a_managers_corrections_pay_the_distributors_next_invoice_right() {
    // fx01's distributor prints its own article codes and shortened wordings: its first invoice
    // cannot be matched surely and goes to a manager
    let dir = tmp("learn");
    for id in ["fx01a", "fx01b"] {
        copy_fixture(&dir, "fx01_digital_de_multipage", id, |_| {});
    }
    let cold = claims(&dir, &[]);
    assert_eq!(outcome(&cold, "fx01a"), ("review".into(), false), "{cold}");
    assert_eq!(outcome(&cold, "fx01b"), ("review".into(), false), "{cold}");
    // the manager's corrections of the first teach the memory: the second is paid, and right
    let learned = claims(&dir, &["--learn"]);
    assert_eq!(
        outcome(&learned, "fx01a"),
        ("review".into(), false),
        "{learned}"
    );
    assert_eq!(
        outcome(&learned, "fx01b"),
        ("claim".into(), true),
        "{learned}"
    );
    assert!(
        learned
            .contains("its later invoices: 1, paid right 100.0%, auto-approved 100.0% (wrong 0)"),
        "{learned}"
    );
}

#[test]
fn a_claim_that_pays_another_quantity_than_the_truth_is_counted_wrong() {
    let dir = tmp("wrong");
    copy_fixture(&dir, "fx03_digital_en_twoline", "fx03", |_| {});
    let out = claims(&dir, &[]);
    assert_eq!(outcome(&out, "fx03"), ("claim".into(), true), "{out}");
    assert!(out.contains("of which wrong 0"), "{out}");
    // the same invoice, but its truth says 5 units of the second product were bought, not 4
    copy_fixture(&dir, "fx03_digital_en_twoline", "fx03", |t| {
        assert_eq!(t["lines"][1]["sku"], "NV-275991");
        t["lines"][1]["quantity"] = 5.into();
    });
    let out = claims(&dir, &[]);
    assert_eq!(outcome(&out, "fx03"), ("claim".into(), false), "{out}");
    assert!(out.contains("of which wrong 1 (points 1"), "{out}");
    assert!(out.contains("owed   NV-275991 x5 ="), "{out}");
    assert!(out.contains("paid   NV-275991 x4 ="), "{out}");
}
