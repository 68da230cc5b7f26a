//! Harness for the service tests: the real RabbitMQ (127.0.0.1:5672) and PostgreSQL
//! (127.0.0.1:5432) that `make test` starts, and an S3-compatible server (moto, installed by
//! `scripts/setup.sh`) started per test on a free port. Each test gets its own queue prefix,
//! database schema and buckets, so tests run in parallel and leave nothing behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscan_contracts::{encode, InvoiceUploaded};
use claimscan_worker::config::Names;
use claimscan_worker::{amqp, s3::Store, Config, Worker};
use futures_lite::StreamExt;
use lapin::options::{
    BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};
use tokio::sync::watch;

pub const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const UPLOADS: &str = "uploads";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("training-data/fixtures").join(name)
}

/// An S3-compatible server for one test, killed on drop. Its access log is kept, so a test can
/// check which requests the worker made ([`S3Server::requests`]).
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

impl S3Server {
    pub fn start() -> S3Server {
        let bin = std::env::var("CLAIMSCAN_S3_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").unwrap())
                    .join(".cache/claimscan/s3-venv/bin/moto_server")
            });
        assert!(
            bin.exists(),
            "{} is missing: run `bash scripts/setup.sh` (make test does)",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("claimscan-moto-{port}.log"));
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("moto log file"))
            .spawn()
            .expect("start moto_server");
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// `(method, path)` of every request the server has answered so far, in order (from its
    /// access log: `127.0.0.1 - - [date] "GET /bucket/key HTTP/1.1" 200 -`).
    pub fn requests(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let quoted = l.split('"').nth(1)?;
                let mut parts = quoted.split_whitespace();
                // the log colours the request line with ANSI escapes on some levels
                let method = parts.next()?.rsplit('m').next()?.to_string();
                let path = parts.next()?.to_string();
                parts.next()?.starts_with("HTTP/").then_some((method, path))
            })
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One test's world: names, schema, storage, a tap on every event, direct database access.
pub struct Env {
    pub name: String,
    pub cfg: Config,
    pub s3: S3Server,
    pub store: Store,
    pub pg: PgPool,
    pub conn: lapin::Connection,
    pub publish: lapin::Channel,
    pub tap: String,
}

pub fn unique(name: &str) -> String {
    format!(
        "t{}_{}_{}",
        std::process::id(),
        name,
        uuid::Uuid::new_v4().simple().to_string().get(..6).unwrap()
    )
}

impl Env {
    pub async fn new(name: &str) -> Env {
        let id = unique(name);
        let s3 = S3Server::start();
        let mut cfg = Config::default();
        cfg.amqp.url = AMQP.into();
        cfg.amqp.prefix = id.clone();
        cfg.amqp.retry_delays_ms = vec![200, 400];
        cfg.amqp.max_attempts = 3;
        cfg.amqp.prefetch = 4;
        cfg.database.url = PG.into();
        cfg.database.schema = id.to_lowercase();
        cfg.database.max_connections = 4;
        cfg.s3.endpoint = s3.endpoint.clone();
        cfg.s3.artifacts_bucket = "artifacts".into();
        cfg.pipeline.catalog = fixture("catalog.csv");
        // The shipped layout model, through ONNX Runtime, as in production.
        cfg.pipeline.reader = root().join("models/layout-gbdt-cord").display().to_string();
        cfg.http.listen = String::new();
        cfg.pipeline.validation_data = fixture("");
        // Fixture invoices are dated 2025-2026: accept them whatever today is.
        cfg.rules.max_invoice_age_days = 3650;
        cfg.rules.future_tolerance_days = 3650;
        cfg.validate().expect("test config");
        let store = Store::new(&cfg.s3);
        store.ensure_bucket(UPLOADS).await.unwrap();
        let pg = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(
                PG.parse::<sqlx::postgres::PgConnectOptions>()
                    .unwrap()
                    .options([("search_path", cfg.database.schema.as_str())]),
            )
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (make test starts it)");
        let conn = amqp::connect(AMQP)
            .await
            .expect("RabbitMQ at 127.0.0.1:5672 (make test starts it)");
        let publish = amqp::confirm_channel(&conn).await.unwrap();
        amqp::declare_topology(&publish, &cfg.amqp).await.unwrap();
        // Make sure the schema exists before the tests read it.
        claimscan_worker::db::Db::connect(&cfg.database)
            .await
            .unwrap();
        let tap = format!("{id}.tap");
        let names = Names::new(&id);
        publish
            .queue_declare(
                tap.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        publish
            .queue_bind(
                tap.as_str().into(),
                names.events().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        Env {
            name: id,
            cfg,
            s3,
            store,
            pg,
            conn,
            publish,
            tap,
        }
    }

    pub fn names(&self) -> Names {
        Names::new(&self.cfg.amqp.prefix)
    }

    /// Puts a file and announces it, as the app's backend does.
    pub async fn upload(
        &self,
        bytes: Vec<u8>,
        upload_id: &str,
        partner: &str,
        ext: &str,
    ) -> InvoiceUploaded {
        let key = format!("prog/{partner}/{upload_id}.{ext}");
        self.store
            .put(UPLOADS, &key, bytes, "application/octet-stream")
            .await
            .unwrap();
        let msg = InvoiceUploaded {
            upload_id: upload_id.into(),
            program_id: "prog".into(),
            partner_id: partner.into(),
            bucket: UPLOADS.into(),
            key,
            content_type: "application/octet-stream".into(),
            uploaded_at: "2026-11-23T10:00:00Z".into(),
        };
        self.send(&msg).await;
        msg
    }

    pub async fn send(&self, msg: &InvoiceUploaded) {
        self.publish_raw(&encode(msg)).await;
    }

    pub async fn publish_raw(&self, body: &[u8]) {
        amqp::publish_confirmed(
            &self.publish,
            &self.names().events(),
            amqp::UPLOADED,
            body,
            amqp::properties("test", Default::default()),
        )
        .await
        .unwrap();
    }

    /// The upload's status, or None if unknown.
    pub async fn status(&self, upload_id: &str) -> Option<(String, Option<String>)> {
        sqlx::query("SELECT status, reason_code FROM uploads WHERE upload_id = $1")
            .bind(upload_id)
            .fetch_optional(&self.pg)
            .await
            .unwrap()
            .map(|r| (r.get("status"), r.get("reason_code")))
    }

    /// Waits until `n` uploads are decided (not processing); panics after `timeout`.
    pub async fn wait_decided(&self, n: i64, timeout: Duration) {
        let t0 = Instant::now();
        loop {
            let done: i64 =
                sqlx::query_scalar("SELECT count(*) FROM uploads WHERE status <> 'processing'")
                    .fetch_one(&self.pg)
                    .await
                    .unwrap();
            if done >= n {
                return;
            }
            assert!(
                t0.elapsed() < timeout,
                "only {done} of {n} uploads decided after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pg).await.unwrap()
    }

    /// Messages in a queue right now (ready ones).
    pub async fn depth(&self, queue: &str) -> u32 {
        let ch = self.conn.create_channel().await.unwrap();
        amqp::queue_depth(&ch, queue).await.unwrap()
    }

    /// Drains up to `n` messages of the event tap (waits up to `timeout`), returning them
    /// as (routing key, JSON).
    pub async fn tap_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<(String, serde_json::Value)> {
        let ch = self.conn.create_channel().await.unwrap();
        let mut c = ch
            .basic_consume(
                self.tap.as_str().into(),
                "tap".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while out.len() < n {
            match tokio::time::timeout_at(deadline, c.next()).await {
                Ok(Some(Ok(d))) => out.push((
                    d.routing_key.as_str().to_string(),
                    serde_json::from_slice(&d.data).unwrap(),
                )),
                _ => break,
            }
        }
        let _ = ch.close(200, "done".into()).await;
        out
    }

    /// Starts an in-process worker; returns it and the switch that stops it.
    pub async fn worker(
        &self,
    ) -> (
        Arc<Worker>,
        watch::Sender<bool>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        self.worker_with(self.cfg.clone()).await
    }

    /// [`Env::worker`] with a configuration of the test's own (this one's, changed).
    pub async fn worker_with(
        &self,
        cfg: Config,
    ) -> (
        Arc<Worker>,
        watch::Sender<bool>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let w = Worker::start(cfg).await.unwrap();
        let (tx, rx) = watch::channel(false);
        let h = tokio::spawn(w.clone().run(rx));
        (w, tx, h)
    }

    /// Environment for a worker subprocess with this test's configuration.
    pub fn worker_command(&self, http: Option<&str>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_claimscan"));
        let cfg = &self.cfg;
        c.arg("worker")
            .env("CLAIMSCAN_AMQP__URL", &cfg.amqp.url)
            .env("CLAIMSCAN_AMQP__PREFIX", &cfg.amqp.prefix)
            .env("CLAIMSCAN_AMQP__PREFETCH", cfg.amqp.prefetch.to_string())
            .env(
                "CLAIMSCAN_AMQP__MAX_ATTEMPTS",
                cfg.amqp.max_attempts.to_string(),
            )
            .env("CLAIMSCAN_AMQP__RETRY_DELAYS_MS", "[200,400]")
            .env("CLAIMSCAN_DATABASE__URL", &cfg.database.url)
            .env("CLAIMSCAN_DATABASE__SCHEMA", &cfg.database.schema)
            .env("CLAIMSCAN_S3__ENDPOINT", &cfg.s3.endpoint)
            .env("CLAIMSCAN_S3__ARTIFACTS_BUCKET", &cfg.s3.artifacts_bucket)
            .env("CLAIMSCAN_PIPELINE__CATALOG", &cfg.pipeline.catalog)
            .env("CLAIMSCAN_PIPELINE__READER", &cfg.pipeline.reader)
            .env(
                "CLAIMSCAN_PIPELINE__VALIDATION_DATA",
                &cfg.pipeline.validation_data,
            )
            .env("CLAIMSCAN_HTTP__ADMIN_TOKEN", &cfg.http.admin_token)
            .env(
                "CLAIMSCAN_RULES__MAX_INVOICE_AGE_DAYS",
                cfg.rules.max_invoice_age_days.to_string(),
            )
            .env(
                "CLAIMSCAN_RULES__FUTURE_TOLERANCE_DAYS",
                cfg.rules.future_tolerance_days.to_string(),
            )
            .env("CLAIMSCAN_HTTP__LISTEN", http.unwrap_or(""))
            .env("CLAIMSCAN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        c
    }

    /// Deletes this test's queues, exchanges and schema.
    pub async fn cleanup(self) {
        let n = self.names();
        let ch = self.conn.create_channel().await.unwrap();
        let mut queues = vec![n.invoices(), n.parked(), self.tap.clone()];
        queues.extend(
            self.cfg
                .amqp
                .retry_delays_ms
                .iter()
                .map(|d| n.retry_queue(*d)),
        );
        for q in queues {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for x in [n.events(), n.retry_exchange(), n.parking_exchange()] {
            let _ = ch
                .exchange_delete(x.as_str().into(), Default::default())
                .await;
        }
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.cfg.database.schema
        )))
        .execute(&self.pg)
        .await;
    }
}

/// Word JSON of a fixture (its truth words), with `suffix` appended to the invoice number, so
/// that many distinct invoices can be made quickly (no OCR): `(bytes, invoice number)`.
pub fn words_invoice(fixture_name: &str, suffix: &str) -> (Vec<u8>, String) {
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture(&format!("{fixture_name}.truth.json"))).unwrap(),
    )
    .unwrap();
    let number = truth["header"]["invoice_number"]
        .as_str()
        .unwrap()
        .to_string();
    let new_number = format!("{number}{suffix}");
    let pages: Vec<serde_json::Value> = truth["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let words: Vec<serde_json::Value> = p["words"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    let text = w[0].as_str().unwrap();
                    let text = if text == number { new_number.clone() } else { text.to_string() };
                    serde_json::json!({"text": text, "bbox": w[1]})
                })
                .collect();
            serde_json::json!({"width": p["width"], "height": p["height"], "dpi": p["dpi"], "words": words})
        })
        .collect();
    (
        serde_json::to_vec(&serde_json::json!({"pages": pages})).unwrap(),
        new_number,
    )
}
