//! Model operations for the `claimscan` binary: `model check DIR` and
//! `model eval DIR|rules ... --data PATH`. The binary wires [`ModelCmd`] in with one variant and
//! one call to [`ModelCmd::run`]:
//!
//! ```ignore
//! /// Check and evaluate layout models.
//! Model(claimscan_layout::cli::ModelCmd),
//! // ...
//! Cmd::Model(m) => m.run().map_err(|e| anyhow::anyhow!(e))?,
//! ```
//!
//! `cargo run -p claimscan-layout --example model -- ...` runs the same commands today.

use std::path::{Path, PathBuf};
use std::time::Instant;

use claimscan_doc::Document;
use clap::{Args, Subcommand};

use crate::channel::{Channel, Threshold};
use crate::eval::{self, HEADER_FIELDS};
use crate::truth::{truth_files, Truth};
use crate::vocabulary::Vocabulary;
use crate::InvoiceReader;

/// `claimscan model ...`
#[derive(Debug, Args)]
pub struct ModelCmd {
    #[command(subcommand)]
    pub command: ModelSub,
}

#[derive(Debug, Subcommand)]
pub enum ModelSub {
    /// Load a model directory, check its manifest and graph against this code, run one warm-up.
    Check(CheckArgs),
    /// Evaluate readers side by side on labelled documents (generator truth files).
    Eval(EvalArgs),
    /// Learn what OCR does to printed characters from read and true descriptions
    /// (`claimscan_layout::channel`), or score a learned table on other documents.
    Channel(ChannelArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Model directory (model.onnx + manifest.toml).
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directories, or `rules` for the rule reader.
    #[arg(required = true)]
    pub readers: Vec<String>,
    /// A directory of `*.truth.json` files (searched recursively), e.g. the generator's `out/docs`.
    #[arg(long)]
    pub data: PathBuf,
    /// Which distributors: `heldout` (the only honest figure), `train` or `all`.
    #[arg(long, default_value = "heldout")]
    pub split: String,
    /// Evaluate at most this many documents.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Largest error rate among auto-approved invoices, for the automation figure.
    #[arg(long, default_value_t = 0.01)]
    pub max_error: f64,
    /// Print each wrong field and line (for debugging a reader).
    #[arg(long)]
    pub verbose: bool,
    /// Correct OCR character confusions in line descriptions against this catalog's words (CSV
    /// or Parquet), as the worker does with its catalog (`claimscan_layout::vocabulary`).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// With `--catalog`: leave out the OCR channel's corrections (`claimscan_layout::channel`),
    /// to see what they add.
    #[arg(long)]
    pub no_channel: bool,
    /// Also print a reliability table (invoice confidence bins vs observed accuracy).
    #[arg(long)]
    pub reliability: bool,
    /// Also print what is wrong with the wrong lines, per document kind: which of description,
    /// quantity, unit price and amount differ from the closest true line.
    #[arg(long)]
    pub faults: bool,
    /// Which words the readers get: `truth` (the generator's exact words and boxes; isolates the
    /// reader) or `read` (each original PDF or photo read by the real pipeline: pdfium text layer,
    /// rendering and Tesseract; the figure a partner will see).
    #[arg(long, value_enum, default_value = "truth")]
    pub words: WordsFrom,
    /// With `--words read`: keep each document's read words here as `<doc_id>.words.json` and reuse
    /// them on the next run, so candidates are compared on the very same words without re-reading.
    #[arg(long)]
    pub read_cache: Option<PathBuf>,
    /// Write each document's read invoice (the first reader's, as scored) with its score here as
    /// `<doc_id>.json`: `{"doc_id", "kind", "right", "header_right", "lines_right",
    /// "verifier_feature_names", "verifier_features", "invoice"}`, what
    /// `pipelines/layout/verifier.py` trains on (and to study confidence outside Rust).
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// Fit an isotonic calibration of the first model's raw invoice confidence on this data and
    /// print it as the manifest's `[calibration]` table (use documents the model was not trained on).
    #[arg(long)]
    pub fit_calibration: bool,
}

/// Where the evaluated documents' words come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WordsFrom {
    Truth,
    Read,
}

impl ModelCmd {
    /// Runs the command, printing to stdout.
    pub fn run(&self) -> anyhow_lite::Result<()> {
        match &self.command {
            ModelSub::Check(a) => check(a),
            ModelSub::Eval(a) => run_eval(a),
            ModelSub::Channel(a) => run_channel(a),
        }
    }
}

/// A tiny error type so the crate needs no `anyhow`: every failure is a message.
pub mod anyhow_lite {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}

fn check(a: &CheckArgs) -> anyhow_lite::Result<()> {
    let start = Instant::now();
    let reader = InvoiceReader::load(&a.dir).map_err(|e| format!("{} ({})", e, e.code()))?;
    println!(
        "ok: {} loads, matches feature schema {} and {} labels, warm-up done ({} ms)",
        reader.name(),
        crate::features::SCHEMA_VERSION,
        crate::labels::Label::ALL.len(),
        start.elapsed().as_millis()
    );
    Ok(())
}

/// Totals of one reader over a data set.
#[derive(Debug, Default, Clone)]
pub struct Scores {
    pub docs: usize,
    pub pages: usize,
    pub header_right: [usize; 8],
    pub lines: (usize, usize, usize),
    pub lines_by_kind: std::collections::BTreeMap<String, (usize, usize, usize)>,
    pub invoice_right: usize,
    pub conf: Vec<(f32, bool)>,
    pub seconds: f64,
    /// Wrong read lines by (document kind, fields wrong): see [`eval::line_faults`].
    pub line_faults: std::collections::BTreeMap<(String, String), usize>,
}

impl Scores {
    pub fn header_exact(&self) -> f64 {
        self.header_right.iter().sum::<usize>() as f64 / (8 * self.docs.max(1)) as f64
    }
    pub fn line_prf(&self) -> (f64, f64, f64) {
        eval::prf(self.lines.0, self.lines.1, self.lines.2)
    }
    pub fn ms_per_page(&self) -> f64 {
        self.seconds * 1000.0 / self.pages.max(1) as f64
    }
}

/// Loads the truth files of a split.
pub fn load_truths(
    data: &Path,
    split: &str,
    limit: Option<usize>,
) -> anyhow_lite::Result<Vec<Truth>> {
    let files = truth_files(data);
    if files.is_empty() {
        return Err(format!("no *.truth.json under {}", data.display()).into());
    }
    let mut out = Vec::new();
    for f in files {
        let t = Truth::load(&f)?;
        if split != "all" && t.split != split {
            continue;
        }
        out.push(t);
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    Ok(out)
}

/// The documents to evaluate on, one per truth: the truth's own words, or the original file read
/// by the real pipeline. A file that cannot be read becomes a document without words (the reader
/// then gets it wrong, as it would in production); the second value counts them.
///
/// With a `cache` directory, read documents are stored there as `<doc_id>.words.json` and read
/// back on later runs instead of reading the original again.
pub fn documents(
    truths: &[Truth],
    words: WordsFrom,
    cache: Option<&Path>,
) -> (Vec<Document>, usize) {
    match words {
        WordsFrom::Truth => (truths.iter().map(Truth::document).collect(), 0),
        WordsFrom::Read => {
            use rayon::prelude::*;
            let opts = claimscan_read::ReadOptions::default();
            if let Some(dir) = cache {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("{}: {e}; not caching read words", dir.display());
                }
            }
            let read: Vec<Option<Document>> = truths
                .par_iter()
                .map(|t| {
                    let cached = cache.map(|d| d.join(format!("{}.words.json", t.doc_id)));
                    if let Some(doc) = cached
                        .as_ref()
                        .and_then(|c| std::fs::read(c).ok())
                        .and_then(|b| serde_json::from_slice::<Document>(&b).ok())
                    {
                        return Some(doc);
                    }
                    let path = t.original()?;
                    match claimscan_read::read_path(&path, &opts) {
                        Ok(d) => {
                            if let Some(c) = &cached {
                                if let Ok(b) = serde_json::to_vec(&d) {
                                    let _ = std::fs::write(c, b);
                                }
                            }
                            Some(d)
                        }
                        Err(e) => {
                            eprintln!("{}: {} ({})", path.display(), e, e.code());
                            None
                        }
                    }
                })
                .collect();
            let failed = read.iter().filter(|d| d.is_none()).count();
            let docs = truths
                .iter()
                .zip(read)
                .map(|(t, d)| {
                    d.unwrap_or_else(|| {
                        let mut doc = t.document();
                        doc.pages.iter_mut().for_each(|p| {
                            p.words.clear();
                            p.lines.clear();
                        });
                        doc
                    })
                })
                .collect();
            (docs, failed)
        }
    }
}

/// Scores one reader on documents (`docs[i]` holds the words of `truths[i]`).
pub fn score(
    reader: &InvoiceReader,
    vocabulary: Option<&Vocabulary>,
    truths: &[Truth],
    docs: &[Document],
    verbose: bool,
    dump: Option<&Path>,
) -> Scores {
    let mut s = Scores::default();
    if let Some(dir) = dump {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("--dump {}: {e}", dir.display());
        }
    }
    for (t, doc) in truths.iter().zip(docs) {
        let expected = t.invoice();
        let start = Instant::now();
        let (got, verifier_features) = reader.read_scored(doc, vocabulary);
        s.seconds += start.elapsed().as_secs_f64();
        s.docs += 1;
        s.pages += doc.pages.len();
        let h = eval::header_correct(&got, &expected);
        for (i, ok) in h.iter().enumerate() {
            if *ok {
                s.header_right[i] += 1;
            } else if verbose {
                let show = |inv: &claimscan_doc::Invoice| {
                    let v = serde_json::to_value(&inv.header).unwrap_or_default();
                    v.get(HEADER_FIELDS[i]).cloned().unwrap_or_default()
                };
                println!(
                    "{} [{}] {}: got {} want {}",
                    t.doc_id,
                    t.kind,
                    HEADER_FIELDS[i],
                    show(&got),
                    show(&expected)
                );
            }
        }
        let c = eval::line_counts(&got, &expected);
        if verbose && (c.0 != c.1 || c.0 != c.2) {
            println!(
                "{} [{}] lines: {} right of {} read, {} true",
                t.doc_id, t.kind, c.0, c.1, c.2
            );
            let ok = eval::lines_correct(&got, &expected);
            for (l, ok) in got.lines.iter().zip(ok) {
                if !ok {
                    println!(
                        "   got  {:?} q={:?} p={:?} a={:?}",
                        l.description, l.quantity, l.unit_price, l.amount
                    );
                }
            }
            for l in expected.lines.iter().take(3) {
                println!(
                    "   want {:?} q={:?} p={:?} a={:?}",
                    l.description, l.quantity, l.unit_price, l.amount
                );
            }
        }
        s.lines.0 += c.0;
        s.lines.1 += c.1;
        s.lines.2 += c.2;
        for (pi, ti, f) in eval::line_faults(&got, &expected) {
            if verbose {
                let show = |l: &claimscan_doc::LineItem| {
                    format!(
                        "{:?} q={:?} p={:?} a={:?}",
                        l.description, l.quantity, l.unit_price, l.amount
                    )
                };
                println!("   fault {f}: got {}", show(&got.lines[pi]));
                if let Some(ti) = ti {
                    println!(
                        "   {:w$}  want {}",
                        "",
                        show(&expected.lines[ti]),
                        w = f.len() + 6
                    );
                }
            }
            *s.line_faults.entry((t.kind.clone(), f)).or_default() += 1;
        }
        let k = s.lines_by_kind.entry(t.kind.clone()).or_default();
        k.0 += c.0;
        k.1 += c.1;
        k.2 += c.2;
        let right = h.iter().all(|x| *x) && c.0 == c.1 && c.0 == c.2;
        if verbose {
            let codes: Vec<&str> = got.errors.iter().map(|e| e.code.as_str()).collect();
            let confs: Vec<f32> = doc.words().map(|w| w.confidence).collect();
            let mean = confs.iter().sum::<f32>() / confs.len().max(1) as f32;
            let low = confs.iter().filter(|c| **c < 0.9).count() as f32 / confs.len().max(1) as f32;
            println!(
                "DOC {} [{}] conf {:.4} right {} word_conf_mean {:.3} low_conf_words {:.3} errors {:?}",
                t.doc_id, t.kind, got.confidence, right, mean, low, codes
            );
        }
        if let Some(dir) = dump {
            let record = serde_json::json!({
                "doc_id": t.doc_id,
                "kind": t.kind,
                "right": right,
                "header_right": h,
                "lines_right": eval::lines_correct(&got, &expected),
                "verifier_feature_names": crate::verifier::FEATURES,
                "verifier_features": verifier_features,
                "invoice": got,
            });
            let path = dir.join(format!("{}.json", t.doc_id));
            if let Err(e) = std::fs::write(&path, record.to_string()) {
                eprintln!("{}: {e}", path.display());
            }
        }
        if right {
            s.invoice_right += 1;
        }
        s.conf.push((got.confidence, right));
    }
    s
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn run_eval(a: &EvalArgs) -> anyhow_lite::Result<()> {
    let truths = load_truths(&a.data, &a.split, a.limit)?;
    let mut readers = Vec::new();
    for r in &a.readers {
        let reader = if r == "rules" {
            InvoiceReader::rules()
        } else {
            InvoiceReader::load(Path::new(r)).map_err(|e| format!("{r}: {e} ({})", e.code()))?
        };
        readers.push(reader);
    }
    let vocabulary = match &a.catalog {
        Some(path) => {
            let c = claimscan_matching::Catalog::from_path(path)
                .map_err(|e| format!("catalog {}: {e}", path.display()))?;
            let m = claimscan_matching::Model::trained_default();
            let v = if a.no_channel {
                Vocabulary::from_catalog(&c).with_printed_words(&m.printed_words)
            } else {
                Vocabulary::from_catalog_and_model(&c, &m)
            };
            println!("vocabulary: {} words from {}", v.len(), path.display());
            Some(v)
        }
        None => None,
    };
    let start = Instant::now();
    let (docs, unreadable) = documents(&truths, a.words, a.read_cache.as_deref());
    let pages: usize = docs.iter().map(|d| d.pages.len()).sum();
    println!(
        "data: {} ({} documents, {} pages, split {}, words {})",
        a.data.display(),
        truths.len(),
        pages,
        a.split,
        match a.words {
            WordsFrom::Truth => "from the truth files".to_string(),
            WordsFrom::Read => format!(
                "read from the original files in {:.1} s, {} unreadable",
                start.elapsed().as_secs_f64(),
                unreadable
            ),
        }
    );
    if a.fit_calibration {
        let reader = readers.first().ok_or("no reader")?;
        let mut pts = Vec::new();
        for (t, doc) in truths.iter().zip(&docs) {
            // as scored and as the worker reads: descriptions corrected against the catalog
            let (inv, _) = reader.read_raw(doc, vocabulary.as_ref());
            pts.push((inv.confidence, eval::invoice_correct(&inv, &t.invoice())));
        }
        let c = crate::model::Calibration::fit(
            &pts,
            &format!(
                "{} documents of {} (split {})",
                truths.len(),
                a.data.display(),
                a.split
            ),
        );
        let mut table = toml::Table::new();
        table.insert("calibration".into(), toml::Value::try_from(&c)?);
        println!("{}", toml::to_string(&table)?);
        return Ok(());
    }
    let scores: Vec<Scores> = readers
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let dump = a.dump.as_deref().filter(|_| i == 0);
            score(r, vocabulary.as_ref(), &truths, &docs, a.verbose, dump)
        })
        .collect();
    print_table(
        &readers.iter().map(|r| r.name()).collect::<Vec<_>>(),
        &scores,
        a.max_error,
    );
    if a.reliability {
        for (r, s) in readers.iter().zip(&scores) {
            println!("\nreliability of invoice confidence, {}:", r.name());
            print_reliability(&s.conf);
        }
    }
    if a.faults {
        for (r, s) in readers.iter().zip(&scores) {
            println!(
                "\nwrong lines by the fields that differ from the closest true line, {}:",
                r.name()
            );
            print_faults(s);
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ChannelArgs {
    /// Model directory (or `rules`) that reads the lines whose descriptions are compared.
    pub reader: String,
    /// A directory of `*.truth.json` files with their original PDFs and photos.
    #[arg(long)]
    pub data: PathBuf,
    /// Which distributors: `train` (learn here), `heldout` or `all`.
    #[arg(long, default_value = "train")]
    pub split: String,
    /// Use at most this many documents.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep and reuse read words here, as `model eval --read-cache`.
    #[arg(long)]
    pub read_cache: Option<PathBuf>,
    /// The catalog whose words (with the words distributors print) are the known words.
    #[arg(long)]
    pub catalog: PathBuf,
    /// Learn a table from these documents and write it here (JSON), e.g.
    /// `crates/layout/src/ocr_channel.json`.
    #[arg(long, conflicts_with = "check")]
    pub out: Option<PathBuf>,
    /// Score a learned table (a file, or `default` for the shipped one) on these documents'
    /// words instead: words fixed and words spoiled, at several thresholds.
    #[arg(long)]
    pub check: Option<String>,
    /// With `--check`: print each word the shipped threshold fixes or spoils.
    #[arg(long)]
    pub verbose: bool,
}

/// (printed, read) word pairs of the descriptions read from OCR'd pages, each read line paired
/// with its true line (the one it equals, or the closest one left over).
fn description_word_pairs(
    reader: &InvoiceReader,
    vocabulary: &Vocabulary,
    truths: &[Truth],
    docs: &[Document],
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (t, doc) in truths.iter().zip(docs) {
        let exact = crate::vocabulary::exact_pages(doc);
        let expected = t.invoice();
        let mut got = reader.read(doc);
        vocabulary.correct_invoice(doc, &mut got);
        let mut truth_of: Vec<Option<usize>> = eval::matched_lines(&got, &expected);
        for (pi, ti, _) in eval::line_faults(&got, &expected) {
            truth_of[pi] = ti;
        }
        for (line, ti) in got.lines.iter().zip(truth_of) {
            let page = line.boxes.get("description").map(|b| b.page);
            if page.is_none_or(|p| exact.get(p).copied().unwrap_or(true)) {
                continue;
            }
            let (Some(read), Some(printed)) = (
                line.description.as_deref(),
                ti.and_then(|i| expected.lines[i].description.as_deref()),
            ) else {
                continue;
            };
            for (p, r) in crate::channel::word_pairs(printed, read) {
                pairs.push((p.to_string(), r.to_string()));
            }
        }
    }
    pairs
}

fn run_channel(a: &ChannelArgs) -> anyhow_lite::Result<()> {
    let truths = load_truths(&a.data, &a.split, a.limit)?;
    let reader = if a.reader == "rules" {
        InvoiceReader::rules()
    } else {
        InvoiceReader::load(Path::new(&a.reader))
            .map_err(|e| format!("{}: {e} ({})", a.reader, e.code()))?
    };
    let catalog = claimscan_matching::Catalog::from_path(&a.catalog)
        .map_err(|e| format!("catalog {}: {e}", a.catalog.display()))?;
    let model = claimscan_matching::Model::trained_default();
    let plain = Vocabulary::from_catalog(&catalog).with_printed_words(&model.printed_words);
    let (docs, unreadable) = documents(&truths, WordsFrom::Read, a.read_cache.as_deref());
    let pairs = description_word_pairs(&reader, &plain, &truths, &docs);
    let wrong = pairs.iter().filter(|(p, r)| p != r).count();
    println!(
        "{} documents ({} unreadable), split {}: {} description words paired, {} read wrong",
        truths.len(),
        unreadable,
        a.split,
        pairs.len(),
        wrong
    );
    if let Some(out) = &a.out {
        let source = format!(
            "descriptions of {} documents of {} (split {}) read by {} and claimscan's OCR path",
            truths.len(),
            a.data.display(),
            a.split,
            reader.name()
        );
        let ch = Channel::learn(pairs.iter().map(|(p, r)| (p.as_str(), r.as_str())), &source);
        let mut edits: Vec<(u32, &str, &str)> = ch
            .edits
            .iter()
            .flat_map(|(p, rs)| rs.iter().map(move |(r, n)| (*n, p.as_str(), r.as_str())))
            .filter(|(_, p, r)| p != r)
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        println!("most frequent edits (printed -> read, times):");
        for (n, p, r) in edits.iter().take(30) {
            println!("  {p:?} -> {r:?}  {n}");
        }
        std::fs::write(out, serde_json::to_string_pretty(&ch)? + "\n")?;
        println!("wrote {}", out.display());
        return Ok(());
    }
    let ch = match a.check.as_deref() {
        None | Some("default") => Channel::trained_default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            Channel::from_json(&text).map_err(|e| format!("{path}: {e}"))?
        }
    };
    let vocabulary = plain.with_channel(ch);
    if a.verbose {
        for (p, r) in &pairs {
            if let Some(c) = vocabulary.correct_by_channel(r, Threshold::default(), false) {
                let what = if c == *p {
                    "fixed"
                } else if p == r {
                    "spoiled"
                } else {
                    "still wrong"
                };
                println!("  {what}: read {r:?} -> {c:?}, printed {p:?}");
            }
        }
    }
    println!("threshold (unknown word, per char, margin): words fixed / spoiled / changed but still wrong / left wrong");
    for (uw, uc) in [2.0, 4.0, 6.0]
        .into_iter()
        .flat_map(|uw| [1.5, 2.0, 2.5, 3.0].map(|uc| (uw, uc)))
    {
        for margin in [1.0, 2.0, 3.0] {
            let th = Threshold {
                unknown_word: uw,
                unknown_char: uc,
                margin,
            };
            let (mut fixed, mut spoiled, mut other, mut left) = (0, 0, 0, 0);
            for (p, r) in &pairs {
                match vocabulary.correct_by_channel(r, th, false) {
                    Some(c) if c == *p => fixed += 1,
                    Some(_) if p == r => spoiled += 1,
                    Some(_) => other += 1,
                    None if p != r => left += 1,
                    None => {}
                }
            }
            println!(
                "  ({:.1}, {uc:.1}, {margin:.1}): {fixed} / {spoiled} / {other} / {left}",
                th.unknown_word
            );
        }
    }
    Ok(())
}

/// Prints readers side by side.
pub fn print_table(names: &[String], scores: &[Scores], max_error: f64) {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    rows.push((
        "header fields exact".into(),
        scores.iter().map(|s| pct(s.header_exact())).collect(),
    ));
    for (i, f) in HEADER_FIELDS.iter().enumerate() {
        rows.push((
            format!("  {f}"),
            scores
                .iter()
                .map(|s| pct(s.header_right[i] as f64 / s.docs.max(1) as f64))
                .collect(),
        ));
    }
    rows.push((
        "line items P / R / F1".into(),
        scores
            .iter()
            .map(|s| {
                let (p, r, f) = s.line_prf();
                format!("{} / {} / {}", pct(p), pct(r), pct(f))
            })
            .collect(),
    ));
    for kind in ["digital_pdf", "scanned_pdf", "photo"] {
        rows.push((
            format!("  line F1 {kind}"),
            scores
                .iter()
                .map(|s| match s.lines_by_kind.get(kind) {
                    Some(c) => pct(eval::prf(c.0, c.1, c.2).2),
                    None => "-".into(),
                })
                .collect(),
        ));
    }
    rows.push((
        "invoices entirely right".into(),
        scores
            .iter()
            .map(|s| pct(s.invoice_right as f64 / s.docs.max(1) as f64))
            .collect(),
    ));
    rows.push((
        format!("automation at <= {}% error", max_error * 100.0),
        scores
            .iter()
            .map(|s| {
                let (share, thr, err) = eval::automation(&s.conf, max_error);
                format!("{} (conf >= {:.3}, err {})", pct(share), thr, pct(err))
            })
            .collect(),
    ));
    rows.push((
        "ms per page (reader only)".into(),
        scores
            .iter()
            .map(|s| format!("{:.2}", s.ms_per_page()))
            .collect(),
    ));
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(10) + 2;
    let widths: Vec<usize> = (0..names.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.1[i].chars().count())
                .chain(std::iter::once(names[i].len()))
                .max()
                .unwrap_or(8)
                + 2
        })
        .collect();
    print!("{:w0$}", "");
    for (n, w) in names.iter().zip(&widths) {
        print!("{n:>w$}");
    }
    println!();
    for (label, vals) in rows {
        print!("{label:w0$}");
        for (v, w) in vals.iter().zip(&widths) {
            print!("{v:>w$}");
        }
        println!();
    }
}

/// Prints the wrong-line table of [`Scores::line_faults`], most frequent first per kind.
pub fn print_faults(s: &Scores) {
    let mut rows: Vec<(&(String, String), &usize)> = s.line_faults.iter().collect();
    rows.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(b.1.cmp(a.1)));
    for ((kind, fault), n) in rows {
        let read = s.lines_by_kind.get(kind).map_or(0, |c| c.1);
        println!(
            "  {kind:<12} {fault:<40} {n:>5}  ({:.1}% of read lines)",
            100.0 * *n as f64 / read.max(1) as f64
        );
    }
}

/// Prints confidence bins with the observed share of entirely right invoices.
pub fn print_reliability(conf: &[(f32, bool)]) {
    let edges = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01];
    println!(
        "{:>13} {:>6} {:>10} {:>10}",
        "confidence", "n", "mean conf", "observed"
    );
    for w in edges.windows(2) {
        let bin: Vec<&(f32, bool)> = conf
            .iter()
            .filter(|(c, _)| (*c as f64) >= w[0] && (*c as f64) < w[1])
            .collect();
        if bin.is_empty() {
            continue;
        }
        let mean = bin.iter().map(|(c, _)| *c as f64).sum::<f64>() / bin.len() as f64;
        let obs = bin.iter().filter(|(_, ok)| *ok).count() as f64 / bin.len() as f64;
        println!(
            "{:>6.2}-{:<6.2} {:>6} {:>10.3} {:>10.3}",
            w[0],
            w[1].min(1.0),
            bin.len(),
            mean,
            obs
        );
    }
}
