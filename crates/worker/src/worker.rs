//! The invoice worker: consumes `invoice.uploaded`, fetches the file, runs the pipeline,
//! decides, records the outcome in PostgreSQL (with its outbox) and only then acks.
//!
//! Failures the file is not to blame for (storage, database, a crashed extraction) go to a retry
//! queue with a growing delay; after `amqp.max_attempts` the message is parked with its reason.
//! A message that cannot be decoded is parked at once. The broker's delivery limit parks a
//! message that keeps killing workers (a `kill -9` mid-invoice is simply redelivered).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscan_contracts::{decode, ContractError, InvoiceUploaded};
use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn, Instrument};

use crate::amqp;
use crate::config::{Config, Names};
use crate::db::{Begin, Db, Recorded};
use crate::decide::{decide, Outcome};
use crate::metrics::{Health, Metrics};
use crate::pace::Pace;
use crate::pipeline::{memory_from, Pipeline};
use crate::s3::{Fetched, S3Error, Store};
use crate::threads::{ThreadError, Threads};

/// Resolution of the PDF page pictures stored for the review UI (pictures only, never read).
const REVIEW_PAGE_DPI: f32 = 100.0;
/// Pages pictured per upload for the review UI.
const REVIEW_MAX_PAGES: usize = 5;
/// How long deliveries in flight may take to finish after the broker connection died.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(10);

/// A failure worth another attempt later.
#[derive(Debug)]
pub struct Transient {
    pub code: &'static str,
    pub message: String,
}

impl Transient {
    fn new(code: &'static str, e: impl std::fmt::Display) -> Self {
        Transient {
            code,
            message: e.to_string(),
        }
    }
}

impl From<sqlx::Error> for Transient {
    fn from(e: sqlx::Error) -> Self {
        Transient::new("database_unavailable", e)
    }
}

impl From<S3Error> for Transient {
    fn from(e: S3Error) -> Self {
        Transient::new(e.code(), e)
    }
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Recorded(Recorded),
    /// Already decided earlier (redelivery or re-sent message).
    AlreadyDone,
}

/// Everything a worker holds.
pub struct Worker {
    pub cfg: Config,
    pub names: Names,
    pub pipeline: Arc<Pipeline>,
    pub db: Db,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    /// The extraction threads (`pipeline.extraction_threads`), each with its warm engines.
    threads: Arc<Threads>,
    outbox_notify: Arc<Notify>,
    /// Time spent on and off the extraction threads, and the prefetch it calls for.
    pace: Pace,
}

/// Where one upload's handling time went, for [`Pace`].
#[derive(Debug, Default)]
struct Spent {
    /// Waiting for a free extraction thread.
    wait: f64,
    /// On the extraction thread (read, layout, hash); `None` when the upload never got there.
    inside: Option<f64>,
}

/// What the consumers of a session hand to its loop.
enum Feed {
    Delivery(Box<Delivery>),
    /// A consumer's stream ended: cancelled (by us on a prefetch change or shutdown, or by the
    /// broker), or failed.
    End {
        tag: String,
        error: Option<lapin::Error>,
    },
}

/// Hands every delivery of `consumer` to the session loop, then its end. A consumer cancelled
/// on a prefetch change still hands over the deliveries it had received: they are handled and
/// acked like any other.
fn forward(mut consumer: lapin::Consumer, tx: mpsc::UnboundedSender<Feed>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let tag = consumer.tag().to_string();
        let error = loop {
            match consumer.next().await {
                Some(Ok(d)) => {
                    if tx.send(Feed::Delivery(Box::new(d))).is_err() {
                        return;
                    }
                }
                Some(Err(e)) => break Some(e),
                None => break None,
            }
        };
        let _ = tx.send(Feed::End { tag, error });
    })
}

impl From<ThreadError> for Transient {
    fn from(e: ThreadError) -> Self {
        match e {
            ThreadError::Panicked(_) => Transient::new("extraction_crashed", e),
            ThreadError::Shutdown => Transient::new("shutdown", e),
        }
    }
}

impl Worker {
    /// Loads the pipeline, connects to the database (migrating it) and object storage.
    pub async fn start(cfg: Config) -> anyhow::Result<Arc<Worker>> {
        let pcfg = cfg.pipeline.clone();
        let (pipeline, threads) = tokio::task::spawn_blocking(move || {
            let pipeline = Pipeline::load(&pcfg)?;
            // Each extraction thread loads pdfium and builds its OCR engine before its first
            // job; this returns once they all have.
            let ocr = pipeline.read_options.ocr.clone();
            let threads = Threads::start(pcfg.extraction_threads, "extract", move |_| {
                let _ = claimscan_pdf::pdfium();
                if let Err(e) = claimscan_ocr::warm_up(&ocr) {
                    warn!(error = %e, "OCR engine not warmed up");
                }
            })?;
            anyhow::Ok((pipeline, threads))
        })
        .await??;
        let metrics = Metrics::new();
        let health = Arc::new(Health::default());
        health.pipeline.store(true, Ordering::Relaxed);
        let db = connect_db_with_backoff(&cfg, &health).await;
        let store = Store::new(&cfg.s3);
        if cfg.s3.create_bucket {
            store.ensure_bucket(&cfg.s3.artifacts_bucket).await?;
        }
        let threads_n = threads.size();
        let pace = Pace::new(
            threads_n,
            cfg.amqp.prefetch_outside_weight,
            cfg.amqp.prefetch,
            cfg.amqp.prefetch_max,
        );
        Ok(Arc::new(Worker {
            names: Names::new(&cfg.amqp.prefix),
            threads: Arc::new(threads),
            cfg,
            pipeline: Arc::new(pipeline),
            db,
            store,
            metrics,
            health,
            outbox_notify: Arc::new(Notify::new()),
            pace,
        }))
    }

    /// Consumes until `shutdown` turns true, reconnecting with backoff when the broker goes away.
    /// On shutdown: stop consuming, finish and ack what is in flight, return.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let me = self.clone();
        let result = amqp::reconnecting(&self.health.broker, shutdown, move |mut rx| {
            let me = me.clone();
            async move { me.session(&mut rx).await }
        })
        .await;
        // Every delivery in flight has been finished: let the extraction threads go.
        let threads = self.threads.clone();
        let _ = tokio::task::spawn_blocking(move || threads.shutdown()).await;
        result
    }

    /// One broker connection's life. `Ok` only on shutdown.
    async fn session(self: &Arc<Self>, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let conn = amqp::connect(&self.cfg.amqp.url).await?;
        let setup = conn.create_channel().await?;
        amqp::declare_topology(&setup, &self.cfg.amqp).await?;
        let consume = conn.create_channel().await?;
        let publish = amqp::confirm_channel(&conn).await?;
        let relay_ch = amqp::confirm_channel(&conn).await?;
        let (feed_tx, mut feed) = mpsc::unbounded_channel();
        let mut prefetch = self.cfg.amqp.prefetch;
        let mut generation = 0u32;
        let consumer = self.consume(&consume, prefetch, generation).await?;
        let mut current = consumer.tag().to_string();
        let mut forwarders = vec![forward(consumer, feed_tx.clone())];
        self.health.broker.store(true, Ordering::Relaxed);
        info!(
            queue = %self.names.invoices(),
            prefetch,
            prefetch_max = self.cfg.amqp.prefetch_max,
            "consuming"
        );

        let (relay_stop_tx, relay_stop) = watch::channel(false);
        let relay = tokio::spawn(self.clone().relay(relay_ch, relay_stop.clone()));
        let gauges = tokio::spawn(self.clone().gauges(setup, relay_stop));

        let mut tasks: JoinSet<()> = JoinSet::new();
        // lapin does not always end the consumer stream when the connection dies: look at the
        // connection's state too, so a broker restart always ends this session.
        let mut watchdog = tokio::time::interval(Duration::from_secs(1));
        let result = loop {
            tokio::select! {
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        break Ok(());
                    }
                }
                _ = watchdog.tick() => {
                    if !conn.status().connected() || !consume.status().connected() {
                        break Err(anyhow::anyhow!("the broker connection is gone"));
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                    // An upload is done: the figures may call for another prefetch. The new
                    // consumer starts before the old one is cancelled, so the queue always has
                    // this worker's consumer on it.
                    if let Some(p) = self.pace.propose(prefetch) {
                        generation += 1;
                        let next = match self.consume(&consume, p, generation).await {
                            Ok(c) => c,
                            Err(e) => break Err(e.into()),
                        };
                        if let Err(e) = consume
                            .basic_cancel(current.as_str().into(), BasicCancelOptions::default())
                            .await
                        {
                            break Err(e.into());
                        }
                        info!(from = prefetch, to = p, "prefetch changed");
                        prefetch = p;
                        current = next.tag().to_string();
                        forwarders.push(forward(next, feed_tx.clone()));
                        forwarders.retain(|f| !f.is_finished());
                        self.pace.changed();
                    }
                }
                Some(f) = feed.recv() => match f {
                    Feed::Delivery(delivery) => {
                        let me = self.clone();
                        let ch = publish.clone();
                        tasks.spawn(async move { me.on_delivery(*delivery, &ch).await });
                    }
                    Feed::End { tag, error } if tag == current => {
                        break Err(match error {
                            Some(e) => anyhow::Error::from(e),
                            None => anyhow::anyhow!("the broker cancelled the consumer"),
                        })
                    }
                    // a consumer replaced on a prefetch change has handed over all it had
                    Feed::End { .. } => {}
                },
            }
        };
        // Drain: no new deliveries; finish (and ack) those in flight.
        self.health
            .draining
            .store(result.is_ok(), Ordering::Relaxed);
        if result.is_ok() {
            let _ = consume
                .basic_cancel(current.as_str().into(), BasicCancelOptions::default())
                .await;
            info!(in_flight = tasks.len(), "draining");
        }
        if result.is_ok() {
            while tasks.join_next().await.is_some() {}
        } else {
            // The connection is gone: deliveries in flight cannot be acked any more and will be
            // redelivered; give them a moment to finish their database work, then drop them (an
            // unfinished transaction rolls back, the redelivery does the upload again).
            let drained = tokio::time::timeout(IN_FLIGHT_GRACE, async {
                while tasks.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                warn!(
                    in_flight = tasks.len(),
                    "deliveries still in flight after the connection died; dropping them (they will be redelivered)"
                );
                tasks.shutdown().await;
            }
        }
        // Deliveries received but not taken (the connection died, or shutdown) are left unacked:
        // the broker gives them to another consumer when this connection closes.
        for f in forwarders {
            f.abort();
        }
        let _ = relay_stop_tx.send(true);
        for mut h in [relay, gauges] {
            if tokio::time::timeout(IN_FLIGHT_GRACE, &mut h).await.is_err() {
                h.abort();
            }
        }
        if result.is_ok() {
            // Last outbox messages out before leaving.
            while self.store_artifacts(200).await.unwrap_or(0) > 0 {}
            let ch = amqp::confirm_channel(&conn).await?;
            while self
                .db
                .relay_outbox(&ch, &self.names.events(), 500)
                .await
                .unwrap_or(0)
                > 0
            {}
            let _ = conn.close(200, "shutdown".into()).await;
        }
        result
    }

    /// A consumer of the work queue holding at most `prefetch` unacknowledged deliveries (a
    /// per-consumer limit: set on the channel before the consumer starts).
    async fn consume(
        &self,
        ch: &Channel,
        prefetch: u16,
        generation: u32,
    ) -> Result<lapin::Consumer, lapin::Error> {
        ch.basic_qos(prefetch, BasicQosOptions::default()).await?;
        let c = ch
            .basic_consume(
                self.names.invoices().as_str().into(),
                format!("claimscan-worker-{}-{generation}", std::process::id())
                    .as_str()
                    .into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.metrics.prefetch.set(i64::from(prefetch));
        Ok(c)
    }

    /// Stores pending extraction JSONs (at most `limit`); how many.
    async fn store_artifacts(&self, limit: i64) -> anyhow::Result<usize> {
        let t = Instant::now();
        let bucket = self.cfg.s3.artifacts_bucket.as_str();
        let n = self
            .db
            .store_pending_artifacts(limit, |key, json| async move {
                self.store.put(bucket, &key, json, "application/json").await
            })
            .await?;
        if n > 0 {
            self.metrics
                .observe("artifacts_relay", t.elapsed().as_secs_f64());
        }
        Ok(n)
    }

    /// Publishes the outbox and stores the extraction JSONs decided uploads left pending, the
    /// JSONs first: a claim's JSON is normally stored before its claim.created goes out.
    async fn relay(self: Arc<Self>, ch: Channel, mut stop: watch::Receiver<bool>) {
        loop {
            let stored = match self.store_artifacts(50).await {
                Ok(n) => n,
                Err(e) => {
                    warn!(error = %e, "extraction JSONs not stored; will retry");
                    0
                }
            };
            match self.db.relay_outbox(&ch, &self.names.events(), 200).await {
                Ok(n) if n + stored > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    warn!(error = %e, "outbox relay failed; will retry");
                    if !ch.status().connected() {
                        return;
                    }
                }
            }
            tokio::select! {
                _ = self.outbox_notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    async fn gauges(self: Arc<Self>, ch: Channel, mut stop: watch::Receiver<bool>) {
        loop {
            if let Ok(n) = amqp::queue_depth(&ch, &self.names.invoices()).await {
                self.metrics.queue_depth.set(i64::from(n));
            }
            let db_ok = match self.db.outbox_pending().await {
                Ok(n) => {
                    self.metrics.outbox_pending.set(n);
                    true
                }
                Err(_) => false,
            };
            if let Ok(n) = self.db.artifacts_pending().await {
                self.metrics.artifacts_pending.set(n);
            }
            self.health.database.store(db_ok, Ordering::Relaxed);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Handles one delivery to the end: ack after the durable write, retry or park otherwise.
    async fn on_delivery(self: Arc<Self>, d: Delivery, publish: &Channel) {
        let started = Instant::now();
        self.metrics.in_flight.inc();
        let attempt = amqp::attempt_of(&d.properties);
        let msg = match decode::<InvoiceUploaded>(&d.data) {
            Ok(m) => m,
            Err(e) => {
                self.park_undecodable(&d, &e, publish).await;
                self.metrics.in_flight.dec();
                return;
            }
        };
        // The span covers the awaits after `process` too (ack, retry, park) through `instrument`:
        // an `enter()` guard held across an await is left on whichever thread polls next, and
        // tracing-subscriber's registry then panics with "tried to clone a span that already
        // closed" (seen in the kill -9 test's worker).
        let span = tracing::info_span!("upload", upload_id = %msg.upload_id, attempt);
        let mut spent = Spent::default();
        let label = async {
            match self.process(&msg, attempt, &mut spent).await {
                Ok(Handled::Recorded(ref r)) => {
                    let (kind, code) = match r {
                        Recorded::Claim { .. } => ("claim", ""),
                        Recorded::Review { .. } => ("review", ""),
                        Recorded::Rejected { code } => ("reject", code.as_str()),
                        Recorded::AlreadyDecided => ("already_decided", ""),
                    };
                    self.metrics.outcomes.with_label_values(&[kind, code]).inc();
                    self.outbox_notify.notify_one();
                    info!(outcome = kind, code, "decided");
                    ack(&d).await;
                    kind
                }
                Ok(Handled::AlreadyDone) => {
                    self.metrics
                        .outcomes
                        .with_label_values(&["duplicate_message", ""])
                        .inc();
                    debug!("already decided; acking");
                    ack(&d).await;
                    "duplicate_message"
                }
                Err(t) => {
                    self.retry_or_park(&d, &msg, attempt, t, publish).await;
                    "retry"
                }
            }
        }
        .instrument(span)
        .await;
        let total = started.elapsed().as_secs_f64();
        self.metrics
            .upload_seconds
            .with_label_values(&[label])
            .observe(total);
        if let Some(inside) = spent.inside {
            self.pace
                .observe(inside, (total - spent.wait - inside).max(0.0));
        }
        self.metrics.in_flight.dec();
    }

    /// The work for one upload. `Err` = try again later; every other end is recorded. `spent`
    /// gets the time waited for an extraction thread and spent on it.
    async fn process(
        &self,
        m: &InvoiceUploaded,
        attempt: u32,
        spent: &mut Spent,
    ) -> Result<Handled, Transient> {
        let t = Instant::now();
        let begin = self.db.begin_upload(m).await?;
        self.metrics.observe("begin", t.elapsed().as_secs_f64());
        match begin {
            Begin::Done { .. } => return Ok(Handled::AlreadyDone),
            Begin::Conflict => {
                return Err(Transient {
                    code: "upload_id_conflict",
                    message: "this upload_id is already recorded with another partner or file"
                        .into(),
                })
            }
            Begin::Process { .. } => {}
        }
        let reject = |code: &str, message: String| Outcome::Reject {
            code: code.into(),
            message,
        };

        // --- fetch: one GET; an oversize object is refused from the response's Content-Length,
        // before its body is read
        let t = Instant::now();
        let max = self.cfg.s3.max_object_bytes;
        let bytes = match self.store.get_limited(&m.bucket, &m.key, max).await {
            Ok(Fetched::Bytes(b)) => Arc::new(b),
            Ok(Fetched::TooLarge(size)) => {
                let o = reject(
                    "file_too_large",
                    format!("the file is {size} bytes; the limit is {max}"),
                );
                return self.record(m, None, &o, None).await;
            }
            Err(S3Error::NotFound { .. }) if attempt + 1 >= 2 => {
                let o = reject(
                    "object_missing",
                    format!("no object at s3://{}/{}", m.bucket, m.key),
                );
                return self.record(m, None, &o, None).await;
            }
            Err(e) => return Err(e.into()),
        };
        self.metrics.observe("fetch", t.elapsed().as_secs_f64());

        // --- read + layout on an extraction thread (the wait for a free one is measured apart:
        // wait_extraction is observed when the job starts, read and layout when it ends)
        let pipeline = self.pipeline.clone();
        let metrics = self.metrics.clone();
        let name = m.key.rsplit('/').next().unwrap_or("upload").to_string();
        let read_bytes = bytes.clone();
        let queued = Instant::now();
        let (read, wait, inside) = self
            .threads
            .run(move || {
                let wait = queued.elapsed().as_secs_f64();
                metrics.observe("wait_extraction", wait);
                let t = Instant::now();
                let r = pipeline.read(&read_bytes, &name);
                match &r {
                    Ok(s) => {
                        metrics.observe("read", s.timings.read_ms / 1000.0);
                        metrics.observe("layout", s.timings.layout_ms / 1000.0);
                        metrics.observe("hash", s.timings.hash_ms / 1000.0);
                    }
                    Err(_) => metrics.observe("read", t.elapsed().as_secs_f64()),
                }
                (r, wait, t.elapsed().as_secs_f64())
            })
            .await?;
        spent.wait = wait;
        spent.inside = Some(inside);
        let stage = match read {
            Ok(s) => s,
            Err(e) if e.is_transient() => return Err(Transient::new(e.code(), e)),
            Err(e) => {
                let o = reject(e.code(), e.to_string());
                return self.record(m, None, &o, None).await;
            }
        };
        if let Some(diff) = &stage.shadow {
            self.metrics
                .observe("shadow", stage.timings.shadow_ms / 1000.0);
            self.metrics
                .shadow_reads
                .with_label_values(&[if diff.agree { "true" } else { "false" }])
                .inc();
            // best effort: a lost comparison must not hold up the upload
            if let Err(e) = self.db.record_shadow(&m.upload_id, diff).await {
                tracing::warn!(error = %e, "shadow result not recorded");
            }
        }
        if stage.rolled_back_to.is_some() {
            self.metrics
                .model_swaps
                .with_label_values(&["auto_rolled_back"])
                .inc();
        }

        // --- context: the distributor's memory and the decision's facts, one query
        let t = Instant::now();
        let today = chrono::Utc::now().date_naive();
        let (ctx, confirmations) = self
            .db
            .context(
                m,
                stage.fingerprint.as_deref(),
                stage.phash,
                stage.distributor_key.as_deref(),
                today,
                self.cfg.rules.phash_max_distance,
            )
            .await?;
        self.metrics.observe("context", t.elapsed().as_secs_f64());

        // --- match with the distributor's memory
        let ex = self.pipeline.finish(&stage, &memory_from(&confirmations));
        self.metrics.observe("match", ex.timings.match_ms / 1000.0);

        // --- decide
        let t = Instant::now();
        let outcome = decide(&ex, &ctx, &self.cfg.rules);
        self.metrics.observe("decide", t.elapsed().as_secs_f64());

        // --- artifacts for the review UI. A review's (JSON and page pictures) are stored while
        // the decision's statements run and awaited before its COMMIT; any other upload's JSON
        // is stored by the relay after the commit (`artifacts_pending`), off this path.
        let prefix = crate::s3::artifacts_prefix(&m.program_id, &m.upload_id);
        let review = matches!(outcome, Outcome::Review { .. });
        let artifacts = async {
            if review {
                self.artifacts(&prefix, &ex, &stage, &bytes).await
            } else {
                Ok(())
            }
        };
        let t = Instant::now();
        let r = self
            .db
            .record_with(m, Some(&ex), &outcome, Some(&prefix), artifacts)
            .await??;
        self.metrics.observe("record", t.elapsed().as_secs_f64());
        Ok(Handled::Recorded(r))
    }

    /// Stores the extraction JSON and the page pictures of an upload sent to review.
    async fn artifacts(
        &self,
        prefix: &str,
        ex: &crate::pipeline::Extraction,
        stage: &crate::pipeline::ReadStage,
        bytes: &Arc<Vec<u8>>,
    ) -> Result<(), Transient> {
        let t = Instant::now();
        let json = serde_json::to_vec_pretty(ex).unwrap_or_default();
        self.store
            .put(
                &self.cfg.s3.artifacts_bucket,
                &format!("{prefix}extraction.json"),
                json,
                "application/json",
            )
            .await?;
        // Photos keep their cleaned picture; a PDF's pages are rendered now, at a modest
        // DPI, only for uploads a manager will look at.
        let mut images = stage.images.clone();
        if ex.format == "pdf" && images.iter().all(Option::is_none) {
            let b = bytes.clone();
            images = tokio::task::spawn_blocking(move || {
                claimscan_pdf::render_pages(&b, REVIEW_PAGE_DPI, REVIEW_MAX_PAGES)
            })
            .await
            .map_err(|e| Transient::new("extraction_crashed", e))?
            .map(|v| v.into_iter().map(Some).collect())
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "pages not rendered for review");
                Vec::new()
            });
        }
        for (i, img) in images.into_iter().enumerate() {
            let Some(img) = img else { continue };
            let png = tokio::task::spawn_blocking(move || {
                let mut buf = std::io::Cursor::new(Vec::new());
                img.write_to(&mut buf, image::ImageFormat::Png)
                    .map(|_| buf.into_inner())
            })
            .await
            .map_err(|e| Transient::new("extraction_crashed", e))?
            .map_err(|e| Transient::new("image_encode_failed", e))?;
            self.store
                .put(
                    &self.cfg.s3.artifacts_bucket,
                    &format!("{prefix}page-{}.png", i + 1),
                    png,
                    "image/png",
                )
                .await?;
        }
        self.metrics.observe("artifacts", t.elapsed().as_secs_f64());
        Ok(())
    }

    async fn record(
        &self,
        m: &InvoiceUploaded,
        ex: Option<&crate::pipeline::Extraction>,
        o: &Outcome,
        prefix: Option<&str>,
    ) -> Result<Handled, Transient> {
        let t = Instant::now();
        let r = self.db.record(m, ex, o, prefix).await?;
        self.metrics.observe("record", t.elapsed().as_secs_f64());
        Ok(Handled::Recorded(r))
    }

    async fn retry_or_park(
        &self,
        d: &Delivery,
        m: &InvoiceUploaded,
        attempt: u32,
        t: Transient,
        publish: &Channel,
    ) {
        let next = attempt + 1;
        let cfg = &self.cfg.amqp;
        let parked = next >= cfg.max_attempts || t.code == "upload_id_conflict";
        let result = if parked {
            warn!(code = t.code, attempts = next, "parking");
            if t.code != "upload_id_conflict" {
                let _ = self.db.park_upload(&m.upload_id, t.code, &t.message).await;
            }
            self.metrics
                .outcomes
                .with_label_values(&["parked", t.code])
                .inc();
            amqp::publish_confirmed(
                publish,
                &self.names.parking_exchange(),
                "",
                &d.data,
                amqp::properties(&m.upload_id, amqp::headers(next, t.code, Some(&t.message))),
            )
            .await
        } else {
            let delays = &cfg.retry_delays_ms;
            let delay = delays[(attempt as usize).min(delays.len() - 1)];
            warn!(
                code = t.code,
                attempt = next,
                delay_ms = delay,
                "retrying later"
            );
            self.metrics.retries.with_label_values(&[t.code]).inc();
            let q = self.names.retry_queue(delay);
            amqp::publish_confirmed(
                publish,
                &self.names.retry_exchange(),
                &q,
                &d.data,
                amqp::properties(&m.upload_id, amqp::headers(next, t.code, None)),
            )
            .await
        };
        match result {
            Ok(()) => ack(d).await,
            // Could not hand it on: give it back to the queue (the broker's delivery limit
            // still bounds how often).
            Err(e) => {
                warn!(error = %e, "could not publish retry; requeueing");
                let _ = d
                    .acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
            }
        }
    }

    async fn park_undecodable(&self, d: &Delivery, e: &ContractError, publish: &Channel) {
        warn!(code = e.code(), "refusing message");
        self.metrics
            .outcomes
            .with_label_values(&["parked", e.code()])
            .inc();
        let _ = self
            .db
            .park_message(e.code(), &e.to_string(), &d.data)
            .await;
        let id = claimscan_read::sha256_hex(&d.data);
        match amqp::publish_confirmed(
            publish,
            &self.names.parking_exchange(),
            "",
            &d.data,
            amqp::properties(&id, amqp::headers(1, e.code(), Some(&e.to_string()))),
        )
        .await
        {
            Ok(()) => ack(d).await,
            Err(_) => {
                // Dead-letter it through the queue's own DLX rather than lose it.
                let _ = d
                    .acker
                    .nack(BasicNackOptions {
                        requeue: false,
                        ..Default::default()
                    })
                    .await;
            }
        }
    }
}

async fn ack(d: &Delivery) {
    if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
        // The decision is committed; a redelivery will find it and ack.
        warn!(error = %e, "ack failed");
    }
}

async fn connect_db_with_backoff(cfg: &Config, health: &Health) -> Db {
    let mut wait = Duration::from_millis(250);
    loop {
        match Db::connect(&cfg.database).await {
            Ok(db) => {
                health.database.store(true, Ordering::Relaxed);
                return db;
            }
            Err(e) => {
                warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "database unavailable");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(15));
            }
        }
    }
}

/// Waits for SIGTERM or Ctrl-C and flips the shutdown flag.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        info!("shutdown requested: draining");
        let _ = tx.send(true);
    });
    rx
}

/// Connection for tools and tests.
pub async fn connect(url: &str) -> Result<Connection, lapin::Error> {
    amqp::connect(url).await
}
