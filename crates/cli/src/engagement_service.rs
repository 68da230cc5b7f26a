//! `claimscan engagement ...`: the offline commands of `engagement.rs` (score, segments, synth,
//! plan) plus the service side: `worker` (RabbitMQ + PostgreSQL) and `import` (bulk events and
//! consent into PostgreSQL). Kept apart so that `engagement.rs` still builds with the
//! engagement crate alone (see crates/engagement/examples/engagement_cli.rs).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use claimscan_engagement as eng;
use claimscan_worker::db::Db;
use claimscan_worker::engagement::{import_rows, EngagementConfig, EngagementWorker, KINDS};
use clap::{Args, Subcommand};

/// Score partners for disengagement, plan reactivation challenges, run the worker.
#[derive(Debug, Args)]
pub struct EngagementCmd {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    #[command(flatten)]
    Offline(crate::engagement::Sub),
    /// Run the engagement worker (activity.recorded in; scores, challenges, challenge.scheduled
    /// out) until SIGTERM.
    Worker(WorkerArgs),
    /// Load events (CSV/Parquet) and/or consent into PostgreSQL for a program.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct WorkerArgs {
    /// Configuration file (TOML); `CLAIMSCAN_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, env = "CLAIMSCAN_ENGAGEMENT_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration, the database and the broker, then exit.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[arg(long, short, env = "CLAIMSCAN_ENGAGEMENT_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long)]
    program: String,
    /// Events: partner_id,occurred_at[,kind,quantity,amount]. Re-importing a file is a no-op.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Consent: partner_id[,consented].
    #[arg(long)]
    consent: Option<PathBuf>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

impl EngagementCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        match self.cmd {
            Sub::Offline(cmd) => crate::engagement::EngagementCmd { cmd }.run(),
            Sub::Worker(a) => worker(a),
            Sub::Import(a) => import(a),
        }
    }
}

fn worker(a: WorkerArgs) -> anyhow::Result<i32> {
    let cfg = EngagementConfig::load(a.config.as_deref())?;
    runtime()?.block_on(async move {
        if a.check {
            let db = Db::connect(&cfg.database).await?;
            println!("database   ok   schema {} migrated", cfg.database.schema);
            db.pool.close().await;
            let conn = claimscan_worker::amqp::connect(&cfg.amqp.url).await?;
            let ch = conn.create_channel().await?;
            claimscan_worker::engagement::declare_topology(&ch, &cfg.amqp).await?;
            println!("broker     ok   topology declared");
            return Ok(0);
        }
        let w = EngagementWorker::start(cfg.clone()).await?;
        if !cfg.http.listen.is_empty() {
            let app = claimscan_worker::engagement::router(w.clone(), &cfg.http.admin_token);
            let listener = tokio::net::TcpListener::bind(&cfg.http.listen)
                .await
                .with_context(|| format!("cannot listen on {}", cfg.http.listen))?;
            eprintln!(
                "claimscan engagement worker: /healthz /readyz /metrics /admin/engagement/score on http://{}",
                cfg.http.listen
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        let shutdown = claimscan_worker::worker::shutdown_on_signals();
        Arc::clone(&w).run(shutdown).await?;
        eprintln!("claimscan engagement worker: drained, exiting");
        Ok(0)
    })
}

fn import(a: ImportArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(
        a.events.is_some() || a.consent.is_some(),
        "give --events and/or --consent"
    );
    anyhow::ensure!(!a.program.trim().is_empty(), "--program is empty");
    let cfg = EngagementConfig::load(a.config.as_deref())?;
    let events = match &a.events {
        Some(p) => eng::tables::load_file_events(p)?,
        None => Vec::new(),
    };
    if let Some(bad) = events.iter().find(|e| !KINDS.contains(&e.kind.as_str())) {
        anyhow::bail!(
            "event_kind_unknown: kind {:?} is not one of {KINDS:?}",
            bad.kind
        );
    }
    let consent = match &a.consent {
        Some(p) => Some(eng::tables::load_consent_rows(p)?),
        None => None,
    };
    runtime()?.block_on(async move {
        let db = Db::connect(&cfg.database).await?;
        let rows = import_rows(&a.program, &events);
        let mut new = 0;
        for chunk in rows.chunks(5_000) {
            new += db.insert_events(chunk).await?;
        }
        let consents = match &consent {
            Some(c) => db.set_consent(&a.program, c).await?,
            None => 0,
        };
        eprintln!(
            "imported {new} new events ({} read) and {consents} consent rows for program {}",
            rows.len(),
            a.program
        );
        Ok(0)
    })
}
