//! `claimscan worker`, `claimscan submit` and `claimscan partner erase`: the service side.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use claimscan_contracts::{encode, InvoiceUploaded};
use claimscan_worker::{amqp, config::Names, db::Db, s3::Store, Config, Worker};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct WorkerCmd {
    /// Configuration file (TOML); `CLAIMSCAN_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, env = "CLAIMSCAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Check the configuration and every dependency (database, broker, storage, pipeline), then exit.
    #[arg(long)]
    pub check: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

impl WorkerCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        let cfg = Config::load(self.config.as_deref())?;
        runtime()?.block_on(async move {
            if self.check {
                return check(&cfg).await;
            }
            let worker = Worker::start(cfg.clone()).await?;
            if !cfg.http.listen.is_empty() {
                let mut app = claimscan_worker::metrics::router(
                    worker.metrics.clone(),
                    worker.health.clone(),
                );
                if !cfg.http.admin_token.is_empty() {
                    app = app.merge(claimscan_worker::admin::router(
                        worker.pipeline.readers.clone(),
                        worker.metrics.clone(),
                        &cfg.http.admin_token,
                    ));
                }
                let listener = tokio::net::TcpListener::bind(&cfg.http.listen)
                    .await
                    .with_context(|| format!("cannot listen on {}", cfg.http.listen))?;
                eprintln!(
                    "claimscan worker: /healthz /readyz /metrics{} on http://{}",
                    if cfg.http.admin_token.is_empty() {
                        ""
                    } else {
                        " /admin/model /admin/shadow"
                    },
                    cfg.http.listen
                );
                tokio::spawn(async move { axum::serve(listener, app).await });
            }
            let shutdown = claimscan_worker::worker::shutdown_on_signals();
            Arc::clone(&worker).run(shutdown).await?;
            eprintln!("claimscan worker: drained, exiting");
            Ok(0)
        })
    }
}

async fn check(cfg: &Config) -> anyhow::Result<i32> {
    let mut ok = true;
    let mut line = |name: &str, r: anyhow::Result<String>| match r {
        Ok(s) => println!("{name:<10} ok   {s}"),
        Err(e) => {
            ok = false;
            println!("{name:<10} FAIL {e:#}");
        }
    };
    line("config", Ok("valid".into()));
    let db = Db::connect(&cfg.database).await;
    line(
        "database",
        db.as_ref()
            .map(|_| format!("schema {} migrated", cfg.database.schema))
            .map_err(|e| anyhow::anyhow!("{e}")),
    );
    let broker = async {
        let conn = amqp::connect(&cfg.amqp.url).await?;
        let ch = conn.create_channel().await?;
        amqp::declare_topology(&ch, &cfg.amqp).await?;
        let depth = amqp::queue_depth(&ch, &Names::new(&cfg.amqp.prefix).invoices()).await?;
        anyhow::Ok(format!("topology declared, {depth} messages waiting"))
    }
    .await;
    line("broker", broker);
    let store = Store::new(&cfg.s3);
    let s3 = async {
        if cfg.s3.create_bucket {
            store.ensure_bucket(&cfg.s3.artifacts_bucket).await?;
        }
        store.list(&cfg.s3.artifacts_bucket, "").await?;
        anyhow::Ok(format!("bucket {} reachable", cfg.s3.artifacts_bucket))
    }
    .await;
    line("storage", s3);
    let pcfg = cfg.pipeline.clone();
    let p = tokio::task::spawn_blocking(move || claimscan_worker::pipeline::Pipeline::load(&pcfg))
        .await?;
    line(
        "pipeline",
        p.map(|p| {
            format!(
                "reader {}, {} catalog products",
                p.readers.live().name(),
                p.matcher.products().len()
            )
        }),
    );
    Ok(if ok { 0 } else { crate::EXIT_FATAL as i32 })
}

/// `claimscan submit`: what the mobile app's backend does, for demos and load tests.
#[derive(Debug, Args)]
pub struct SubmitCmd {
    /// Invoice files (PDF or photo).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, default_value = "demo")]
    pub program: String,
    #[arg(long, default_value = "partner-1")]
    pub partner: String,
    /// Bucket the files are put in.
    #[arg(long, default_value = "claimscan-uploads")]
    pub bucket: String,
    #[arg(long, short, env = "CLAIMSCAN_CONFIG")]
    pub config: Option<PathBuf>,
}

impl SubmitCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        let cfg = Config::load(self.config.as_deref())?;
        runtime()?.block_on(async move {
            let store = Store::new(&cfg.s3);
            store.ensure_bucket(&self.bucket).await?;
            let conn = amqp::connect(&cfg.amqp.url).await?;
            let ch = amqp::confirm_channel(&conn).await?;
            amqp::declare_topology(&ch, &cfg.amqp).await?;
            let names = Names::new(&cfg.amqp.prefix);
            for f in &self.files {
                let bytes =
                    std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
                let upload_id = uuid::Uuid::now_v7().to_string();
                let ext = f
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("bin")
                    .to_lowercase();
                let key = format!("{}/{}/{upload_id}.{ext}", self.program, self.partner);
                let content_type = match ext.as_str() {
                    "pdf" => "application/pdf",
                    "jpg" | "jpeg" => "image/jpeg",
                    "png" => "image/png",
                    _ => "application/octet-stream",
                };
                store.put(&self.bucket, &key, bytes, content_type).await?;
                let msg = InvoiceUploaded {
                    upload_id: upload_id.clone(),
                    program_id: self.program.clone(),
                    partner_id: self.partner.clone(),
                    bucket: self.bucket.clone(),
                    key,
                    content_type: content_type.into(),
                    uploaded_at: chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                };
                amqp::publish_confirmed(
                    &ch,
                    &names.events(),
                    amqp::UPLOADED,
                    &encode(&msg),
                    amqp::properties(&upload_id, Default::default()),
                )
                .await?;
                println!("{upload_id}\t{}", f.display());
            }
            Ok(0)
        })
    }
}

#[derive(Debug, Args)]
pub struct PartnerCmd {
    #[command(subcommand)]
    pub action: PartnerAction,
}

#[derive(Debug, Subcommand)]
pub enum PartnerAction {
    /// Right of erasure: delete the partner's files and personal data; keep anonymised totals.
    Erase {
        partner_id: String,
        #[arg(long, short, env = "CLAIMSCAN_CONFIG")]
        config: Option<PathBuf>,
    },
}

impl PartnerCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        let PartnerAction::Erase { partner_id, config } = self.action;
        let cfg = Config::load(config.as_deref())?;
        runtime()?.block_on(async move {
            let db = Db::connect(&cfg.database).await?;
            let store = Store::new(&cfg.s3);
            let r = claimscan_worker::erase::erase_partner(
                &db,
                &store,
                &cfg.s3.artifacts_bucket,
                &partner_id,
            )
            .await?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(0)
        })
    }
}
