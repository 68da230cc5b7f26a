//! The model reader: an ONNX word classifier over [`crate::features`], run with ONNX Runtime.
//!
//! A model directory holds `model.onnx` and `manifest.toml` (contract in `models/README.md`). At
//! load the manifest is checked against this code (feature schema version, feature names, label
//! set) and the graph against the manifest (input name, element type and width; the probability
//! output and its width); any difference is refused with [`LayoutError::SchemaMismatch`] naming
//! it. Sessions run on one intra-op thread each, in a small pool behind mutexes (the reader is
//! `Send + Sync`), and are warmed up by a real inference before `load` returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use claimscan_doc::Document;
use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;

use crate::features;
use crate::labels::{Label, Tag, Tags};
use crate::LayoutError;

/// `manifest.toml` of a model directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub feature_schema_version: u32,
    pub feature_count: usize,
    pub features: Vec<String>,
    pub labels: Vec<String>,
    /// Name of the float input `[words, feature_count]`.
    pub input: String,
    #[serde(default)]
    pub input_shape: Vec<toml::Value>,
    /// Name of the int64 label output `[words]`.
    pub output_label: String,
    /// Name of the float probability output `[words, labels]`.
    pub output_probabilities: String,
    pub training_data: String,
    #[serde(default)]
    pub trained_with: String,
    /// Validation and evaluation figures recorded at training time (free form).
    #[serde(default)]
    pub validation: toml::Table,
    #[serde(default)]
    pub eval: toml::Table,
    /// Maps the raw invoice confidence to the observed share of entirely right invoices.
    #[serde(default)]
    pub calibration: Option<Calibration>,
    /// Scores the read invoice (see [`crate::verifier`]); without it the reader's own
    /// confidence is calibrated.
    #[serde(default)]
    pub verifier: Option<crate::verifier::Verifier>,
}

/// A monotone piecewise-linear map from raw confidence to probability (isotonic fit on
/// documents the model was not trained on; see `claimscan model eval --fit-calibration`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub raw: Vec<f32>,
    pub calibrated: Vec<f32>,
    #[serde(default)]
    pub fitted_on: String,
}

impl Calibration {
    /// Applies the map (clamped at both ends). A tiny share of the raw value is kept so that the
    /// map is strictly increasing: invoices stay ranked inside a flat isotonic step.
    pub fn apply(&self, x: f32) -> f32 {
        self.step(x) * 0.999 + 0.001 * x.clamp(0.0, 1.0)
    }

    fn step(&self, x: f32) -> f32 {
        let (r, c) = (&self.raw, &self.calibrated);
        if r.is_empty() || r.len() != c.len() {
            return x;
        }
        if x <= r[0] {
            return c[0];
        }
        for i in 1..r.len() {
            if x <= r[i] {
                let t = if r[i] > r[i - 1] {
                    (x - r[i - 1]) / (r[i] - r[i - 1])
                } else {
                    1.0
                };
                return c[i - 1] + t * (c[i] - c[i - 1]);
            }
        }
        c[c.len() - 1]
    }

    /// Isotonic regression (pool adjacent violators) of correctness on raw confidence.
    pub fn fit(points: &[(f32, bool)], fitted_on: &str) -> Calibration {
        let mut v = points.to_vec();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        // blocks: (sum raw, sum right, count)
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (x, ok) in v {
            blocks.push((x as f64, ok as u8 as f64, 1.0));
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 >= b.1 / b.2 {
                    blocks.pop();
                    blocks[n - 2] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
                } else {
                    break;
                }
            }
        }
        // Laplace-smoothed: a block of n all-right invoices maps to (n + 0.5) / (n + 1), never 1;
        // smoothing can break monotony where a small block follows a big one: keep a running max
        let mut calibrated: Vec<f32> = blocks
            .iter()
            .map(|b| ((b.1 + 0.5) / (b.2 + 1.0)) as f32)
            .collect();
        for i in 1..calibrated.len() {
            calibrated[i] = calibrated[i].max(calibrated[i - 1]);
        }
        Calibration {
            raw: blocks.iter().map(|b| (b.0 / b.2) as f32).collect(),
            calibrated,
            fitted_on: fitted_on.to_string(),
        }
    }
}

impl Manifest {
    /// Reads and parses `DIR/manifest.toml`.
    pub fn load(dir: &Path) -> Result<Manifest, LayoutError> {
        let path = dir.join("manifest.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| LayoutError::ModelMissing {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| LayoutError::ManifestInvalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Differences between the manifest and this code's feature schema and labels.
    pub fn check_against_code(&self) -> Result<(), LayoutError> {
        let mut diffs = Vec::new();
        if self.feature_schema_version != features::SCHEMA_VERSION {
            diffs.push(format!(
                "feature schema version: manifest {}, code {}",
                self.feature_schema_version,
                features::SCHEMA_VERSION
            ));
        }
        if self.feature_count != features::count() || self.features.len() != features::count() {
            diffs.push(format!(
                "feature count: manifest {} ({} names), code {}",
                self.feature_count,
                self.features.len(),
                features::count()
            ));
        }
        for (i, (m, c)) in self.features.iter().zip(features::NAMES).enumerate() {
            if m != c {
                diffs.push(format!("feature {i}: manifest `{m}`, code `{c}`"));
                break;
            }
        }
        let code_labels: Vec<&str> = Label::ALL.iter().map(|l| l.name()).collect();
        if self.labels.len() != code_labels.len() {
            diffs.push(format!(
                "labels: manifest has {}, code has {}",
                self.labels.len(),
                code_labels.len()
            ));
        }
        for (i, (m, c)) in self.labels.iter().zip(&code_labels).enumerate() {
            if m != c {
                diffs.push(format!("label {i}: manifest `{m}`, code `{c}`"));
                break;
            }
        }
        if let Some(v) = &self.verifier {
            diffs.extend(v.differences());
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(LayoutError::SchemaMismatch(diffs.join("; ")))
        }
    }
}

/// Checks the graph's inputs and outputs against the manifest.
fn check_graph(session: &Session, m: &Manifest) -> Result<(), LayoutError> {
    let mut diffs = Vec::new();
    let inputs: Vec<String> = session
        .inputs()
        .iter()
        .map(|i| i.name().to_string())
        .collect();
    match session.inputs().iter().find(|i| i.name() == m.input) {
        None => diffs.push(format!(
            "input `{}` not in the graph (graph inputs: {})",
            m.input,
            inputs.join(", ")
        )),
        Some(i) => {
            let ty = i.dtype();
            if ty.tensor_type() != Some(ort::value::TensorElementType::Float32) {
                diffs.push(format!(
                    "input `{}` is {ty}, expected a float32 tensor",
                    m.input
                ));
            }
            match ty.tensor_shape() {
                Some(s) if s.len() == 2 && (s[1] == m.feature_count as i64) => {}
                Some(s) => diffs.push(format!(
                    "input `{}` has shape {:?}, expected [words, {}]",
                    m.input,
                    &s[..],
                    m.feature_count
                )),
                None => diffs.push(format!("input `{}` is not a tensor", m.input)),
            }
        }
    }
    if inputs.len() != 1 {
        diffs.push(format!(
            "the graph has {} inputs ({}), expected 1",
            inputs.len(),
            inputs.join(", ")
        ));
    }
    let outputs: Vec<String> = session
        .outputs()
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    match session
        .outputs()
        .iter()
        .find(|o| o.name() == m.output_probabilities)
    {
        None => diffs.push(format!(
            "output `{}` not in the graph (graph outputs: {})",
            m.output_probabilities,
            outputs.join(", ")
        )),
        Some(o) => {
            let ty = o.dtype();
            if ty.tensor_type() != Some(ort::value::TensorElementType::Float32) {
                diffs.push(format!(
                    "output `{}` is {ty}, expected float32",
                    m.output_probabilities
                ));
            }
            if let Some(s) = ty.tensor_shape() {
                if s.len() != 2 || (s[1] >= 0 && s[1] != m.labels.len() as i64) {
                    diffs.push(format!(
                        "output `{}` has shape {:?}, expected [words, {}]",
                        m.output_probabilities,
                        &s[..],
                        m.labels.len()
                    ));
                }
            }
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(LayoutError::SchemaMismatch(diffs.join("; ")))
    }
}

/// A loaded, checked and warmed-up model.
pub struct ModelReader {
    manifest: Manifest,
    dir: PathBuf,
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for ModelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelReader")
            .field("name", &self.name())
            .field("dir", &self.dir)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

/// Sessions in the pool: as many as there are cores, at most 4.
fn pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

impl ModelReader {
    /// Loads `DIR/model.onnx` and `DIR/manifest.toml`, checks them, and warms up every session.
    pub fn load(dir: &Path) -> Result<Self, LayoutError> {
        let manifest = Manifest::load(dir)?;
        manifest.check_against_code()?;
        let model_path = dir.join("model.onnx");
        if !model_path.is_file() {
            return Err(LayoutError::ModelMissing {
                path: model_path.display().to_string(),
                message: "no such file".into(),
            });
        }
        let env =
            claimscan_native::onnxruntime().map_err(|e| LayoutError::Runtime(e.to_string()))?;
        let mut sessions = Vec::new();
        for _ in 0..pool_size() {
            let session = Session::builder(env)
                .map_err(|e| LayoutError::LoadFailed(e.to_string()))?
                .with_intra_threads(1)
                .map_err(|e| LayoutError::LoadFailed(e.to_string()))?
                .with_inter_threads(1)
                .map_err(|e| LayoutError::LoadFailed(e.to_string()))?
                .commit_from_file(&model_path)
                .map_err(|e| LayoutError::LoadFailed(format!("{}: {e}", model_path.display())))?;
            check_graph(&session, &manifest)?;
            sessions.push(Mutex::new(session));
        }
        let reader = ModelReader {
            manifest,
            dir: dir.to_path_buf(),
            sessions,
            next: AtomicUsize::new(0),
        };
        // warm-up: a real forward pass on every session
        let n = features::count();
        let probe = vec![0f32; 4 * n];
        for s in &reader.sessions {
            let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
            let probs = run(&mut s, &reader.manifest, &probe, 4)?;
            if probs.len() != 4 * reader.manifest.labels.len() {
                return Err(LayoutError::SchemaMismatch(format!(
                    "warm-up returned {} probabilities for 4 words, expected {}",
                    probs.len(),
                    4 * reader.manifest.labels.len()
                )));
            }
        }
        Ok(reader)
    }

    /// The calibrated invoice confidence for a raw one (identity without a calibration).
    pub fn calibrate(&self, raw: f32) -> f32 {
        self.manifest
            .calibration
            .as_ref()
            .map(|c| c.apply(raw))
            .unwrap_or(raw)
    }

    /// The manifest's invoice verifier, if it has one.
    pub fn verifier(&self) -> Option<&crate::verifier::Verifier> {
        self.manifest.verifier.as_ref()
    }

    /// `name@version`.
    pub fn name(&self) -> String {
        format!("{}@{}", self.manifest.name, self.manifest.version)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Word probabilities of a document, `probs[page][word * labels + label]`.
    pub fn probabilities(
        &self,
        doc: &Document,
        rule_tags: &Tags,
    ) -> Result<Vec<Vec<f32>>, LayoutError> {
        let feats = features::document_features(doc, rule_tags);
        let n = features::count();
        let all: Vec<f32> = feats.concat();
        let words = all.len() / n;
        let k = self.manifest.labels.len();
        if words == 0 {
            return Ok(doc.pages.iter().map(|_| Vec::new()).collect());
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        // take a free session if there is one, else wait for ours
        let probs = {
            let mut guard = None;
            for j in 0..self.sessions.len() {
                if let Ok(g) = self.sessions[(i + j) % self.sessions.len()].try_lock() {
                    guard = Some(g);
                    break;
                }
            }
            let mut g = match guard {
                Some(g) => g,
                None => self.sessions[i].lock().unwrap_or_else(|p| p.into_inner()),
            };
            run(&mut g, &self.manifest, &all, words)?
        };
        let mut out = Vec::with_capacity(doc.pages.len());
        let mut at = 0;
        for p in &feats {
            let w = p.len() / n;
            out.push(probs[at * k..(at + w) * k].to_vec());
            at += w;
        }
        Ok(out)
    }

    /// Labels every word with the model's most probable label.
    pub fn label(&self, doc: &Document) -> Result<Tags, LayoutError> {
        self.label_with_rules(doc).map(|(tags, _)| tags)
    }

    /// The model's labels, and the rule reader's labels its features were built from.
    pub fn label_with_rules(&self, doc: &Document) -> Result<(Tags, Tags), LayoutError> {
        let rule_tags = crate::rules::label(doc);
        let probs = self.probabilities(doc, &rule_tags)?;
        let k = self.manifest.labels.len();
        let tags = probs
            .iter()
            .map(|p| {
                p.chunks(k)
                    .map(|row| {
                        let (best, prob) = row
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .map(|(i, p)| (i, *p))
                            .unwrap_or((0, 1.0));
                        Tag {
                            label: Label::from_index(best),
                            prob,
                        }
                    })
                    .collect()
            })
            .collect();
        Ok((tags, rule_tags))
    }
}

fn run(
    session: &mut Session,
    m: &Manifest,
    data: &[f32],
    words: usize,
) -> Result<Vec<f32>, LayoutError> {
    let n = data.len() / words.max(1);
    let input = TensorRef::from_array_view(([words, n], data))
        .map_err(|e| LayoutError::Inference(e.to_string()))?;
    let outputs = session
        .run(ort::inputs![m.input.as_str() => input])
        .map_err(|e| LayoutError::Inference(e.to_string()))?;
    let value = outputs
        .get(&m.output_probabilities)
        .ok_or_else(|| LayoutError::Inference(format!("no output `{}`", m.output_probabilities)))?;
    let (_, probs) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| LayoutError::Inference(e.to_string()))?;
    Ok(probs.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            name: "t".into(),
            version: "0".into(),
            feature_schema_version: features::SCHEMA_VERSION,
            feature_count: features::count(),
            features: features::NAMES.iter().map(|s| s.to_string()).collect(),
            labels: Label::ALL.iter().map(|l| l.name().to_string()).collect(),
            input: "features".into(),
            input_shape: Vec::new(),
            output_label: "label".into(),
            output_probabilities: "probabilities".into(),
            training_data: "test".into(),
            trained_with: String::new(),
            validation: Default::default(),
            eval: Default::default(),
            calibration: None,
            verifier: None,
        }
    }

    #[test]
    fn manifest_mismatches_are_named() {
        assert!(manifest().check_against_code().is_ok());
        let mut m = manifest();
        m.feature_schema_version += 1;
        let e = m.check_against_code().unwrap_err();
        assert_eq!(e.code(), "model_schema_mismatch");
        assert!(e.to_string().contains("feature schema version"), "{e}");
        let mut m = manifest();
        m.labels[3] = "invoice_no".into();
        let e = m.check_against_code().unwrap_err().to_string();
        assert!(
            e.contains("label 3: manifest `invoice_no`, code `invoice_number`"),
            "{e}"
        );
        let mut m = manifest();
        m.features.pop();
        let e = m.check_against_code().unwrap_err().to_string();
        assert!(e.contains("feature count"), "{e}");
        // a verifier trained on other invoice features is refused too, naming the first
        let n = crate::verifier::FEATURES.len();
        let mut names: Vec<String> = crate::verifier::FEATURES
            .iter()
            .map(|s| s.to_string())
            .collect();
        names[1] = "raw_confidence".into();
        let mut m = manifest();
        m.verifier = Some(crate::verifier::Verifier {
            features: names,
            mean: vec![0.0; n],
            scale: vec![1.0; n],
            weights: vec![0.0; n],
            bias: 0.0,
            trained_on: String::new(),
        });
        let e = m.check_against_code().unwrap_err();
        assert_eq!(e.code(), "model_schema_mismatch");
        assert!(
            e.to_string().contains(
                "verifier feature 1: manifest `raw_confidence`, code `reader_confidence`"
            ),
            "{e}"
        );
    }

    #[test]
    fn isotonic_calibration_is_monotone() {
        let pts = vec![
            (0.1, false),
            (0.2, true),
            (0.3, false),
            (0.8, true),
            (0.9, true),
            (0.95, false),
        ];
        let c = Calibration::fit(&pts, "t");
        assert!(c.calibrated.windows(2).all(|w| w[0] <= w[1]));
        assert!(c.apply(0.0) <= c.apply(0.5) && c.apply(0.5) <= c.apply(1.0));
        assert_eq!(c.calibrated, vec![0.25, 0.5, 2.5 / 4.0]);
        assert!((c.apply(0.0) - 0.25).abs() < 1e-3);
    }

    #[test]
    fn missing_and_invalid_manifests_have_codes() {
        let dir =
            std::env::temp_dir().join(format!("claimscan-layout-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Manifest::load(&dir).unwrap_err().code(), "model_missing");
        std::fs::write(dir.join("manifest.toml"), "name = 3").unwrap();
        assert_eq!(
            Manifest::load(&dir).unwrap_err().code(),
            "model_manifest_invalid"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
