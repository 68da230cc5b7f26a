//! `claimscan review serve|add-manager|export`: the manager review web app and its tools.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use claimscan_worker::{db::Db, Config};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ReviewCmd {
    /// Configuration file (TOML, the worker's); `CLAIMSCAN_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, global = true, env = "CLAIMSCAN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ReviewSub,
}

#[derive(Debug, Subcommand)]
pub enum ReviewSub {
    /// Serve the review web app until SIGTERM.
    Serve {
        /// Address to listen on (default: `review.listen` of the configuration).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create a manager (or reset their password) and give them programs. The password is read
    /// from CLAIMSCAN_REVIEW_PASSWORD, else from the first line of stdin.
    AddManager {
        #[arg(long)]
        email: String,
        /// Program(s) the manager may review (repeat the flag for several).
        #[arg(long = "program", required = true)]
        programs: Vec<String>,
    },
    /// Write every manager correction as a labelled example (JSONL) for retraining.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

impl ReviewCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        let cfg = Config::load(self.config.as_deref())?;
        runtime()?.block_on(async move {
            match self.command {
                ReviewSub::Serve { listen } => {
                    let listen = listen.unwrap_or_else(|| cfg.review.listen.clone());
                    let state = claimscan_review::AppState::from_config(&cfg).await?;
                    eprintln!("claimscan review: http://{listen}/");
                    claimscan_review::serve(state, &listen)
                        .await
                        .with_context(|| format!("serving on {listen}"))?;
                    Ok(0)
                }
                ReviewSub::AddManager { email, programs } => {
                    let password = match std::env::var("CLAIMSCAN_REVIEW_PASSWORD") {
                        Ok(p) => p,
                        Err(_) => {
                            let mut line = String::new();
                            std::io::stdin().lock().read_line(&mut line)?;
                            line.trim_end_matches(['\r', '\n']).to_string()
                        }
                    };
                    let db = Db::connect(&cfg.database).await?;
                    let id =
                        claimscan_review::auth::add_manager(&db.pool, &email, &password, &programs)
                            .await?;
                    println!("manager {id}: {} program(s)", programs.len());
                    Ok(0)
                }
                ReviewSub::Export { out } => {
                    let db = Db::connect(&cfg.database).await?;
                    let file = std::fs::File::create(&out)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    let n = claimscan_review::export::export(&db.pool, &mut w).await?;
                    w.flush()?;
                    eprintln!("{n} corrections written to {}", out.display());
                    Ok(0)
                }
            }
        })
    }
}
