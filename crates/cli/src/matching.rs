//! `claimscan match ...` (owned by the matching work; wired in main.rs).
//!
//! * `claimscan match --catalog FILE --queries FILE [--top K] [--format csv|json] [--out FILE]
//!   [--model FILE] [--memory FILE.sqlite]` -> `id,sku,score,probability,decision`
//! * `claimscan match train --catalog FILE --lines FILE --out model.json` (train distributors only)
//! * `claimscan match eval --catalog FILE --lines FILE [--days 15] [--json]`: trains on the train
//!   distributors' lines, reports on the held-out ones (top-1, none-rate, calibration, learning curve)
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use claimscan_matching::{io, train, Catalog, Matcher, Model, SqliteMemory};
use clap::{Args, Subcommand, ValueEnum};
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Match invoice lines to catalog SKUs (or to none).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MatchCmd {
    #[command(subcommand)]
    sub: Option<MatchSub>,
    /// Catalog CSV or Parquet: sku,name[,brand,family,gtin,mpn,unit,pack_size,list_price,points_per_unit,eligible]
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Queries CSV: id,description[,product_code,unit_price,distributor]
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Candidates kept per line (JSON output)
    #[arg(long, default_value_t = 5)]
    top: usize,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Output file (default: stdout)
    #[arg(long)]
    out: Option<PathBuf>,
    /// Model JSON from `claimscan match train` (default: the embedded one)
    #[arg(long)]
    model: Option<PathBuf>,
    /// Per-distributor memory (SQLite file; created if absent)
    #[arg(long)]
    memory: Option<PathBuf>,
    /// JSON output: add each candidate's ranking features and the probability features by name
    #[arg(long)]
    explain: bool,
}

#[derive(Debug, Subcommand)]
enum MatchSub {
    /// Fit lexicon, ranker, calibration and thresholds on train distributors' lines.
    Train(TrainArgs),
    /// Train on train distributors, report on held-out ones, simulate the review loop day by day.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
struct TrainArgs {
    #[arg(long)]
    catalog: PathBuf,
    /// Lines with truth (pipelines/matching/gen_lines.py output or training-data/out/lines.csv)
    #[arg(long)]
    lines: PathBuf,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct EvalArgs {
    #[arg(long)]
    catalog: PathBuf,
    #[arg(long)]
    lines: PathBuf,
    /// Days of the learning-curve simulation
    #[arg(long, default_value_t = 15)]
    days: usize,
    /// Use this model instead of training one on the train split
    #[arg(long)]
    model: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// Also write each held-out line's result (no memory) as CSV, for error analysis:
    /// `row,doc_id,distributor,kind,truth,sku,probability,decision,right,top5`
    #[arg(long)]
    dump: Option<PathBuf>,
}

fn load_model(p: Option<&PathBuf>) -> anyhow::Result<Model> {
    Ok(match p {
        Some(p) => Model::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("parsing model {}", p.display()))?,
        None => Model::trained_default(),
    })
}

impl MatchCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        match self.sub {
            Some(MatchSub::Train(a)) => return run_train(a),
            Some(MatchSub::Eval(a)) => return run_eval(a),
            None => {}
        }
        let (Some(catalog), Some(queries)) = (self.catalog.as_ref(), self.queries.as_ref()) else {
            anyhow::bail!("`claimscan match` needs --catalog FILE and --queries FILE (or a subcommand: train, eval)");
        };
        let t0 = Instant::now();
        let cat = Catalog::from_path(catalog)?;
        let n = cat.len();
        let mut m = Matcher::new(cat, load_model(self.model.as_ref())?);
        m.top_k = self.top.max(1);
        let t_index = t0.elapsed();
        let rows = io::read_queries(queries)?;
        let mem = match &self.memory {
            Some(p) => Some(
                SqliteMemory::open(p).with_context(|| format!("opening memory {}", p.display()))?,
            ),
            None => None,
        };
        let t1 = Instant::now();
        let memory = mem.as_ref().map(|s| &s.memory);
        let timed: Vec<_> = rows
            .par_iter()
            .map(|q| {
                let t = Instant::now();
                let r = m.match_line(&q.query, memory);
                (r, t.elapsed().as_secs_f64() * 1e6)
            })
            .collect();
        let mut lat: Vec<f64> = timed.iter().map(|x| x.1).collect();
        lat.sort_by(f64::total_cmp);
        let pct = |p: usize| lat.get(lat.len() * p / 100).copied().unwrap_or(0.0);
        let results: Vec<_> = timed.into_iter().map(|x| x.0).collect();
        let t_match = t1.elapsed();
        let w: Box<dyn Write> = match &self.out {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        match self.format {
            Format::Csv => io::write_csv(w, &rows, &results)?,
            Format::Json => io::write_json(w, &rows, &results, self.explain)?,
        }
        eprintln!(
            "claimscan match: {} SKUs indexed in {:.2}s, {} lines matched in {:.3}s ({:.0} lines/s), p50 {:.0} us, p99 {:.0} us",
            n,
            t_index.as_secs_f64(),
            rows.len(),
            t_match.as_secs_f64(),
            rows.len() as f64 / t_match.as_secs_f64().max(1e-9),
            pct(50),
            pct(99)
        );
        Ok(0)
    }
}

fn run_train(a: TrainArgs) -> anyhow::Result<i32> {
    let cat = Catalog::from_path(&a.catalog)?;
    let lines = train::read_lines(&a.lines)?;
    let tr: Vec<_> = lines.into_iter().filter(|l| l.split == "train").collect();
    let t = Instant::now();
    let model = train::train(&cat, &tr);
    std::fs::write(&a.out, model.to_json())?;
    eprintln!(
        "trained on {} lines of train distributors in {:.1}s: {} lexicon entries, {} noise words, thresholds match {:.3} review {:.3} -> {}",
        tr.len(),
        t.elapsed().as_secs_f64(),
        model.lexicon.expand.len(),
        model.lexicon.noise.len(),
        model.match_threshold,
        model.review_threshold,
        a.out.display()
    );
    Ok(0)
}

fn run_eval(a: EvalArgs) -> anyhow::Result<i32> {
    let cat = Catalog::from_path(&a.catalog)?;
    let lines = train::read_lines(&a.lines)?;
    let (tr, ho): (Vec<_>, Vec<_>) = lines.into_iter().partition(|l| l.split == "train");
    let t = Instant::now();
    let model = match &a.model {
        Some(p) => load_model(Some(p))?,
        None => train::train(&cat, &tr),
    };
    let t_train = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let m = Matcher::new(cat, model);
    let t_index = t.elapsed().as_secs_f64();
    let rep = train::evaluate(&m, &ho);
    let days = train::simulate(&m, &ho, a.days);
    if let Some(p) = &a.dump {
        train::write_dump(&m, &ho, p).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.json {
        println!("{}", serde_json::json!({"report": rep, "days": days}));
        return Ok(0);
    }
    println!(
        "train lines {} (train distributors), held-out lines {}; model {}; index {:.2}s",
        tr.len(),
        ho.len(),
        if a.model.is_some() {
            "given".to_string()
        } else {
            format!("trained in {t_train:.1}s")
        },
        t_index
    );
    println!(
        "thresholds: match >= {:.3}, review >= {:.3}",
        m.model.match_threshold, m.model.review_threshold
    );
    println!(
        "held-out catalog lines: {}  top-1 {:.4}  top-5 {:.4}",
        rep.catalog_lines, rep.top1, rep.top5
    );
    println!(
        "held-out non-catalog lines: {}  answered none {:.4}  auto-matched {:.4}",
        rep.non_catalog_lines, rep.none_rate, rep.non_catalog_auto_matched
    );
    println!(
        "no memory: automation {:.4}, accuracy of automatic decisions {:.4}",
        rep.auto_rate, rep.auto_accuracy
    );
    println!(
        "latency p50 {:.0} us, p99 {:.0} us, {:.0} lines/s (all threads)",
        rep.p50_us, rep.p99_us, rep.queries_per_s
    );
    println!("calibration (probability bin: lines, mean probability, observed top-1 right):");
    for (lo, hi, n, mp, acc) in &rep.calibration {
        if *n > 0 {
            println!("  [{lo:.1},{hi:.1}) {n:6}  {mp:.3}  {acc:.3}");
        }
    }
    println!("learning curve (held-out distributors, reviews feed the memory):");
    println!("  day  docs  lines  automation  auto-accuracy  final-accuracy  memory");
    for d in &days {
        println!(
            "  {:3}  {:4}  {:5}  {:10.4}  {:13.4}  {:14.4}  {:6}",
            d.day,
            d.documents,
            d.lines,
            d.automation,
            d.auto_accuracy,
            d.final_accuracy,
            d.memory_size
        );
    }
    Ok(0)
}
