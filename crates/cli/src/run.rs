//! `claimscan run INBOX`: the whole pipeline on one machine, no broker, SQLite state. Every file
//! in the folder is one upload; a file already decided is skipped, so running again (or
//! `--watch`) only takes new files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use claimscan_worker::decide::{decide, Outcome};
use claimscan_worker::embedded::LocalStore;
use claimscan_worker::pipeline::{memory_from, Pipeline};
use claimscan_worker::Config;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RunFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct RunCmd {
    /// Folder of invoice files (PDFs, photos, word JSON).
    pub inbox: PathBuf,
    /// Configuration file: the `[pipeline]` and `[rules]` sections are used.
    #[arg(long, short, env = "CLAIMSCAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite state file.
    #[arg(long, default_value = "claimscan.sqlite")]
    pub db: PathBuf,
    #[arg(long, default_value = "demo")]
    pub program: String,
    #[arg(long, default_value = "partner-1")]
    pub partner: String,
    /// Keep watching the folder for new files (Ctrl-C to stop).
    #[arg(long)]
    pub watch: bool,
    #[arg(long, value_enum, default_value_t = RunFormat::Table)]
    pub format: RunFormat,
}

fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_file()
            && !name.starts_with('.')
            && !name.ends_with(".truth.json")
            && !name.ends_with(".csv")
            && !name.ends_with(".md")
        {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

impl RunCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        let cfg = Config::load(self.config.as_deref())?;
        let pipeline = Pipeline::load(&cfg.pipeline)?;
        let mut store = LocalStore::open(&self.db)
            .with_context(|| format!("cannot open {}", self.db.display()))?;
        if matches!(self.format, RunFormat::Table) {
            println!("{:<44} {:<9} {:>7}  detail", "file", "outcome", "points");
        }
        let mut totals = (0usize, 0usize, 0usize, 0i64);
        loop {
            for f in files(&self.inbox)? {
                let bytes = std::fs::read(&f)?;
                let rel = f
                    .strip_prefix(&self.inbox)
                    .unwrap_or(&f)
                    .display()
                    .to_string();
                let upload_id = format!("{rel}:{}", &claimscan_read::sha256_hex(&bytes)[..16]);
                if store.status(&upload_id)?.is_some() {
                    continue;
                }
                let (ex, outcome) = match pipeline.read(&bytes, &rel) {
                    Err(e) => (
                        None,
                        Outcome::Reject {
                            code: e.code().into(),
                            message: e.to_string(),
                        },
                    ),
                    Ok(stage) => {
                        let conf = match &stage.distributor_key {
                            Some(k) => store.memory(&self.program, k)?,
                            None => Vec::new(),
                        };
                        let ex = pipeline.finish(&stage, &memory_from(&conf));
                        let today = chrono::Utc::now().date_naive();
                        let ctx = store.context(
                            &self.program,
                            &self.partner,
                            &upload_id,
                            &ex,
                            today,
                            cfg.rules.phash_max_distance,
                        )?;
                        let o = decide(&ex, &ctx, &cfg.rules);
                        (Some(ex), o)
                    }
                };
                let id = store.record(
                    &upload_id,
                    &self.program,
                    &self.partner,
                    &rel,
                    ex.as_ref(),
                    &outcome,
                )?;
                let (kind, points, detail) = match &outcome {
                    Outcome::Claim {
                        total_points,
                        lines,
                        ..
                    } => {
                        totals.0 += 1;
                        totals.3 += total_points;
                        (
                            "claim",
                            *total_points,
                            lines
                                .iter()
                                .map(|l| format!("{} x{}", l.sku, l.quantity))
                                .collect::<Vec<_>>()
                                .join(", "),
                        )
                    }
                    Outcome::Review {
                        reasons,
                        total_points,
                        ..
                    } => {
                        totals.1 += 1;
                        (
                            "review",
                            *total_points,
                            reasons
                                .iter()
                                .map(|r| r.code.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                        )
                    }
                    Outcome::Reject { code, .. } => {
                        totals.2 += 1;
                        ("reject", 0, code.clone())
                    }
                };
                match self.format {
                    RunFormat::Table => println!("{rel:<44} {kind:<9} {points:>7}  {detail}"),
                    RunFormat::Json => println!(
                        "{}",
                        serde_json::json!({"file": rel, "upload_id": upload_id, "id": id, "decision": outcome, "extraction": ex})
                    ),
                }
            }
            if !self.watch {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        if matches!(self.format, RunFormat::Table) {
            println!(
                "\n{} claims ({} points), {} for review, {} rejected; state in {}",
                totals.0,
                totals.3,
                totals.1,
                totals.2,
                self.db.display()
            );
        }
        Ok(0)
    }
}
