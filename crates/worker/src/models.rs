//! Layout model operations in a running worker: hot swap with validation before the swap,
//! rollback (by hand, or by itself when the new model fails during its probation), and shadow
//! mode (a candidate reads every upload beside the live model; disagreements are recorded).
//!
//! Swaps are atomic per upload: a read takes the live reader (an `Arc`) once and keeps it to the
//! end, so an upload in flight during a swap is read by one model only, and nothing waits.

use std::path::Path;
use std::sync::{Arc, Mutex};

use claimscan_doc::{Document, Invoice};
use claimscan_layout::eval;
use serde::Serialize;

use crate::pipeline::{load_reader, InvoiceRead};

/// Why a model operation was refused. `code` is stable (HTTP 409/422 bodies, CLI exit messages).
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// A reader's figures on the validation set.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Validation {
    pub documents: usize,
    /// Share of header fields exactly right.
    pub header_exact: f64,
    /// Line items (description, quantity, unit price and amount all right): F1.
    pub line_f1: f64,
    /// Share of invoices entirely right.
    pub invoices_right: f64,
    /// Documents on which the model failed and the rule reader stood in.
    pub inference_failures: usize,
}

/// Labelled documents a candidate must read about as well as the live model before it goes live.
pub struct ValidationSet {
    pub source: String,
    pub docs: Vec<(Document, Invoice)>,
}

impl ValidationSet {
    /// Every `*.truth.json` under `dir` (all splits: the set checks for regressions between two
    /// models, it is not a measure of accuracy).
    pub fn load(dir: &Path) -> anyhow::Result<ValidationSet> {
        let truths = claimscan_layout::cli::load_truths(dir, "all", None)
            .map_err(|e| anyhow::anyhow!("validation data {}: {e}", dir.display()))?;
        Ok(ValidationSet {
            source: dir.display().to_string(),
            docs: truths.iter().map(|t| (t.document(), t.invoice())).collect(),
        })
    }
}

/// Scores a reader on the validation set.
pub fn validate(reader: &dyn InvoiceRead, set: &ValidationSet) -> Validation {
    let (mut header, mut lines, mut right, mut failures) = (0usize, (0, 0, 0), 0usize, 0usize);
    for (doc, want) in &set.docs {
        let got = reader.read(doc);
        if got.errors.iter().any(|e| e.code == INFERENCE_FAILED) {
            failures += 1;
        }
        header += eval::header_correct(&got, want)
            .iter()
            .filter(|x| **x)
            .count();
        let c = eval::line_counts(&got, want);
        lines = (lines.0 + c.0, lines.1 + c.1, lines.2 + c.2);
        if eval::invoice_correct(&got, want) {
            right += 1;
        }
    }
    let n = set.docs.len().max(1) as f64;
    Validation {
        documents: set.docs.len(),
        header_exact: header as f64 / (n * eval_fields()),
        line_f1: eval::prf(lines.0, lines.1, lines.2).2,
        invoices_right: right as f64 / n,
        inference_failures: failures,
    }
}

fn eval_fields() -> f64 {
    claimscan_layout::HEADER_FIELDS.len() as f64
}

/// The code the layout reader puts in an invoice's errors when its model failed.
pub const INFERENCE_FAILED: &str = "model_inference_failed";

/// How two readers differed on one upload (shadow mode).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowDiff {
    pub live: String,
    pub shadow: String,
    pub agree: bool,
    /// Header fields whose values differ.
    pub header_fields: Vec<String>,
    pub live_lines: usize,
    pub shadow_lines: usize,
    /// Lines of the live reading with no equal line in the shadow reading.
    pub lines_differ: usize,
    pub live_confidence: f32,
    pub shadow_confidence: f32,
}

/// Compares the live model's reading with the shadow's.
pub fn compare(live: &str, a: &Invoice, shadow: &str, b: &Invoice) -> ShadowDiff {
    let header_fields: Vec<String> = eval::header_correct(a, b)
        .iter()
        .zip(claimscan_layout::HEADER_FIELDS)
        .filter(|(same, _)| !**same)
        .map(|(_, f)| f.to_string())
        .collect();
    let (same_lines, _, _) = eval::line_counts(a, b);
    let lines_differ = a.lines.len().saturating_sub(same_lines);
    ShadowDiff {
        live: live.into(),
        shadow: shadow.into(),
        agree: header_fields.is_empty() && lines_differ == 0 && a.lines.len() == b.lines.len(),
        header_fields,
        live_lines: a.lines.len(),
        shadow_lines: b.lines.len(),
        lines_differ,
        live_confidence: a.confidence,
        shadow_confidence: b.confidence,
    }
}

/// Limits of a swap.
#[derive(Debug, Clone)]
pub struct SwapPolicy {
    /// A candidate may trail the live model by at most this much on header accuracy, line F1
    /// and invoices entirely right (absolute, 0..1).
    pub max_regression: f64,
    /// Uploads read by a new model during which a model failure rolls it back by itself.
    pub probation_reads: u32,
}

struct State {
    live: Arc<dyn InvoiceRead>,
    live_validation: Option<Validation>,
    previous: Option<(Arc<dyn InvoiceRead>, Option<Validation>)>,
    shadow: Option<Arc<dyn InvoiceRead>>,
    probation_left: u32,
}

/// What `GET /admin/model` shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub live: String,
    pub live_validation: Option<Validation>,
    pub previous: Option<String>,
    pub shadow: Option<String>,
    pub probation_left: u32,
}

/// The result of a deploy.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    pub live: String,
    pub previous: String,
    pub candidate: Validation,
    pub replaced: Validation,
}

/// The readers of one worker: live, the one before it, and an optional shadow.
pub struct Readers {
    state: Mutex<State>,
    validation: Option<ValidationSet>,
    policy: SwapPolicy,
}

impl Readers {
    pub fn new(
        live: Arc<dyn InvoiceRead>,
        validation: Option<ValidationSet>,
        policy: SwapPolicy,
    ) -> Readers {
        Readers {
            state: Mutex::new(State {
                live,
                live_validation: None,
                previous: None,
                shadow: None,
                probation_left: 0,
            }),
            validation,
            policy,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The reader for the next upload.
    pub fn live(&self) -> Arc<dyn InvoiceRead> {
        self.lock().live.clone()
    }

    /// The shadow reader, if one is set.
    pub fn shadow(&self) -> Option<Arc<dyn InvoiceRead>> {
        self.lock().shadow.clone()
    }

    pub fn status(&self) -> Status {
        let s = self.lock();
        Status {
            live: s.live.name(),
            live_validation: s.live_validation,
            previous: s.previous.as_ref().map(|p| p.0.name()),
            shadow: s.shadow.as_ref().map(|r| r.name()),
            probation_left: s.probation_left,
        }
    }

    /// Loads `spec` (a model directory or `rules`), reads the validation set with it and with the
    /// live reader, and makes it live only if it does not regress and never failed. Slow (loads
    /// and runs models): call from a blocking thread. Uploads keep flowing meanwhile.
    pub fn deploy(&self, spec: &str) -> Result<Deployed, Refusal> {
        self.deploy_reader(load(spec)?)
    }

    /// [`Readers::deploy`] for a reader already loaded.
    pub fn deploy_reader(&self, candidate: Arc<dyn InvoiceRead>) -> Result<Deployed, Refusal> {
        let live = self.live();
        let (cand_v, live_v) = match &self.validation {
            Some(set) => (validate(&*candidate, set), validate(&*live, set)),
            None => {
                return Err(Refusal::new(
                    "validation_data_missing",
                    "no validation data configured (pipeline.validation_data); refusing an unchecked swap",
                ))
            }
        };
        if cand_v.inference_failures > 0 {
            return Err(Refusal::new(
                INFERENCE_FAILED,
                format!(
                    "{} failed on {} of {} validation documents",
                    candidate.name(),
                    cand_v.inference_failures,
                    cand_v.documents
                ),
            ));
        }
        let tol = self.policy.max_regression;
        let worse: Vec<String> = [
            (
                "header fields exact",
                cand_v.header_exact,
                live_v.header_exact,
            ),
            ("line item F1", cand_v.line_f1, live_v.line_f1),
            (
                "invoices right",
                cand_v.invoices_right,
                live_v.invoices_right,
            ),
        ]
        .iter()
        .filter(|(_, c, l)| *c < *l - tol)
        .map(|(what, c, l)| format!("{what} {:.1}% < {:.1}%", c * 100.0, l * 100.0))
        .collect();
        if !worse.is_empty() {
            return Err(Refusal::new(
                "validation_regressed",
                format!(
                    "{} reads the validation set worse than {} (tolerance {:.1} points): {}",
                    candidate.name(),
                    live.name(),
                    tol * 100.0,
                    worse.join(", ")
                ),
            ));
        }
        let mut s = self.lock();
        let previous = std::mem::replace(&mut s.live, candidate);
        let prev_name = previous.name();
        s.previous = Some((previous, Some(live_v)));
        s.live_validation = Some(cand_v);
        s.probation_left = self.policy.probation_reads;
        tracing::info!(live = %s.live.name(), previous = %prev_name, "layout model deployed");
        Ok(Deployed {
            live: s.live.name(),
            previous: prev_name,
            candidate: cand_v,
            replaced: live_v,
        })
    }

    /// Puts the previous reader back. There is one step of history: a second rollback in a row
    /// is refused with `no_previous_model`.
    pub fn rollback(&self) -> Result<String, Refusal> {
        let mut s = self.lock();
        let Some((prev, v)) = s.previous.take() else {
            return Err(Refusal::new(
                "no_previous_model",
                "nothing to roll back to: no model was deployed since the worker started, or it was already rolled back",
            ));
        };
        let was = std::mem::replace(&mut s.live, prev);
        s.live_validation = v;
        s.probation_left = 0;
        tracing::warn!(live = %s.live.name(), replaced = %was.name(), "layout model rolled back");
        Ok(s.live.name())
    }

    /// Sets (or with `None` clears) the shadow reader.
    pub fn set_shadow(&self, spec: Option<&str>) -> Result<Option<String>, Refusal> {
        let shadow = match spec {
            Some(spec) => Some(load(spec)?),
            None => None,
        };
        let name = shadow.as_ref().map(|r| r.name());
        self.lock().shadow = shadow;
        Ok(name)
    }

    /// Called after each upload read by `reader`: during a new model's probation, a model failure
    /// rolls it back. Returns the reader now live when that happened.
    pub fn observe(&self, reader: &str, invoice: &Invoice) -> Option<String> {
        let mut s = self.lock();
        if s.probation_left == 0 || s.live.name() != reader {
            return None;
        }
        s.probation_left -= 1;
        if !invoice.errors.iter().any(|e| e.code == INFERENCE_FAILED) {
            return None;
        }
        drop(s);
        let back = self.rollback().ok()?;
        tracing::error!(failed = %reader, live = %back, "model failed during probation: rolled back");
        Some(back)
    }
}

fn load(spec: &str) -> Result<Arc<dyn InvoiceRead>, Refusal> {
    if spec != "rules" && !Path::new(spec).is_dir() {
        return Err(Refusal::new(
            "model_missing",
            format!("{spec} is not a model directory on this worker's machine"),
        ));
    }
    load_reader(spec).map_err(|e| {
        let msg = format!("{e:#}");
        // load_reader prefixes the layout error's stable code
        let code = [
            "model_manifest_invalid",
            "model_schema_mismatch",
            "model_load_failed",
            "model_runtime_missing",
            "model_missing",
        ]
        .into_iter()
        .find(|c| msg.starts_with(c))
        .unwrap_or("model_load_failed");
        Refusal::new(code, msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::{Header, InvoiceIssue, LineItem};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A reader that returns fixed invoices: right (the truth) or wrong, or failing.
    struct Fixed {
        name: &'static str,
        right: bool,
        fail: Arc<AtomicBool>,
    }

    fn truth() -> Invoice {
        Invoice {
            header: Header {
                supplier_name: Some("Alpha GmbH".into()),
                invoice_number: Some("A-1".into()),
                total: Some(10.0),
                ..Default::default()
            },
            lines: vec![LineItem {
                description: Some("Cable 3x1.5".into()),
                quantity: Some(2.0),
                unit_price: Some(5.0),
                amount: Some(10.0),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    impl InvoiceRead for Fixed {
        fn name(&self) -> String {
            self.name.into()
        }
        fn read(&self, _doc: &Document) -> Invoice {
            let mut inv = truth();
            if !self.right {
                inv.header.total = Some(11.0);
                inv.lines[0].amount = Some(11.0);
            }
            if self.fail.load(Ordering::Relaxed) {
                inv.errors.push(InvoiceIssue {
                    code: INFERENCE_FAILED.into(),
                    message: "boom".into(),
                });
            }
            inv
        }
    }

    fn empty_doc() -> Document {
        Document::of_words("test", Vec::new())
    }

    fn fixed(name: &'static str, right: bool) -> Arc<dyn InvoiceRead> {
        Arc::new(Fixed {
            name,
            right,
            fail: Arc::new(AtomicBool::new(false)),
        })
    }

    fn set() -> ValidationSet {
        ValidationSet {
            source: "test".into(),
            docs: vec![(empty_doc(), truth())],
        }
    }

    fn readers(live: Arc<dyn InvoiceRead>) -> Readers {
        Readers::new(
            live,
            Some(set()),
            SwapPolicy {
                max_regression: 0.02,
                probation_reads: 3,
            },
        )
    }

    #[test]
    fn validation_scores_right_and_wrong_readers() {
        let good = validate(&*fixed("good", true), &set());
        assert_eq!(good.invoices_right, 1.0);
        assert_eq!(good.line_f1, 1.0);
        let bad = validate(&*fixed("bad", false), &set());
        assert_eq!(bad.invoices_right, 0.0);
        assert_eq!(bad.line_f1, 0.0);
        assert!(bad.header_exact < 1.0);
    }

    #[test]
    fn deploy_from_a_missing_directory_is_refused_and_live_stays() {
        let r = readers(fixed("v1", true));
        let e = r.deploy("/no/such/model").unwrap_err();
        assert_eq!(e.code, "model_missing");
        assert_eq!(r.status().live, "v1");
    }

    #[test]
    fn rules_cannot_go_live_over_a_better_reader_on_the_validation_set() {
        // the fixed reader reads the (empty) validation document perfectly; the rule reader
        // finds nothing in it
        let r = readers(fixed("v1", true));
        let e = r.deploy("rules").unwrap_err();
        assert_eq!(e.code, "validation_regressed", "{e}");
        assert_eq!(r.status().live, "v1");
        assert_eq!(r.status().previous, None);
    }

    #[test]
    fn rollback_has_one_step_of_history() {
        let r = readers(fixed("v1", true));
        r.deploy_reader(fixed("v2", true)).unwrap();
        assert_eq!(r.live().name(), "v2");
        assert_eq!(r.rollback().unwrap(), "v1");
        assert_eq!(r.rollback().unwrap_err().code, "no_previous_model");
        assert_eq!(r.live().name(), "v1");
    }

    #[test]
    fn a_model_failing_during_probation_rolls_itself_back() {
        let r = readers(fixed("v1", true));
        let fail = Arc::new(AtomicBool::new(false));
        let v2: Arc<dyn InvoiceRead> = Arc::new(Fixed {
            name: "v2",
            right: true,
            fail: fail.clone(),
        });
        r.deploy_reader(v2).unwrap();
        let ok = r.live().read(&empty_doc());
        assert_eq!(r.observe("v2", &ok), None);
        assert_eq!(r.status().probation_left, 2);
        fail.store(true, Ordering::Relaxed);
        let failed = r.live().read(&empty_doc());
        assert_eq!(r.observe("v2", &failed).as_deref(), Some("v1"));
        assert_eq!(r.live().name(), "v1");
        // an upload still finishing with the old model does not trigger anything more
        assert_eq!(r.observe("v2", &failed), None);
    }

    #[test]
    fn shadow_comparison_names_what_differs() {
        let a = truth();
        let mut b = truth();
        assert!(compare("v1", &a, "v2", &b).agree);
        b.header.total = Some(12.0);
        b.lines[0].quantity = Some(3.0);
        let d = compare("v1", &a, "v2", &b);
        assert!(!d.agree);
        assert_eq!(d.header_fields, vec!["total".to_string()]);
        assert_eq!(d.lines_differ, 1);
    }
}
