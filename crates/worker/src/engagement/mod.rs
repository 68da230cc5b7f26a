//! The engagement worker: `activity.recorded` in (RabbitMQ), activity, scores and challenges in
//! PostgreSQL, `challenge.scheduled` out when due.
//!
//! ```text
//! <p>.events (topic) --activity.recorded--> <p>.engagement.activity (quorum, delivery-limit,
//!                                             dead-letters to <p>.engagement.parked)
//! every score_interval (and on demand): PG events -> score (crates/engagement) -> partner_scores
//!                                       -> plan -> challenges (status scheduled)
//! every scheduler_interval: due challenges -> published + outbox row (one transaction)
//! outbox relay (publisher confirms) --challenge.scheduled--> <p>.events
//! ```
//!
//! A delivery is acked only after its insert committed; the event id is the AMQP `message_id`
//! (or the body's SHA-256), so a redelivered or re-sent event is stored once. A message that
//! cannot be used is parked with its reason code and acked; the worker goes on.

pub mod config;
pub mod store;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use claimscan_contracts::{decode, ActivityRecorded, Message};
use claimscan_engagement as eng;
use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Notify};
use tracing::{info, warn, Instrument};

use crate::amqp;
use crate::db::Db;
use crate::metrics::Health;
pub use config::{EngagementConfig, EngagementNames};
pub use store::{NewEvent, Published, QuietNow, KINDS};

/// Engagement metrics (prefix `claimscan_engagement_`).
pub struct EngagementMetrics {
    pub registry: Registry,
    /// Activity messages by outcome: stored, duplicate, parked (and code).
    pub activity: IntCounterVec,
    /// Partners scored, challenges planned and published, by program.
    pub scored: IntCounterVec,
    pub planned: IntCounterVec,
    pub published: IntCounterVec,
    /// Seconds per cycle stage: load, score, store_scores, plan.
    pub stage_seconds: HistogramVec,
    pub outbox_pending: IntGauge,
}

impl EngagementMetrics {
    pub fn new() -> Arc<Self> {
        let registry =
            Registry::new_custom(Some("claimscan_engagement".into()), None).expect("valid prefix");
        let activity = IntCounterVec::new(
            Opts::new("activity_total", "activity.recorded messages by outcome"),
            &["outcome", "code"],
        )
        .unwrap();
        let scored =
            IntCounterVec::new(Opts::new("scored_total", "Partners scored"), &["program"]).unwrap();
        let planned = IntCounterVec::new(
            Opts::new("challenges_planned_total", "Challenges planned"),
            &["program"],
        )
        .unwrap();
        let published = IntCounterVec::new(
            Opts::new(
                "challenges_published_total",
                "Challenges published when due",
            ),
            &["result"],
        )
        .unwrap();
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new("stage_seconds", "Seconds per scoring-cycle stage")
                .buckets(vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0]),
            &["stage"],
        )
        .unwrap();
        let outbox_pending =
            IntGauge::new("outbox_pending", "Outbox messages not yet published").unwrap();
        for c in [
            Box::new(activity.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(scored.clone()),
            Box::new(planned.clone()),
            Box::new(published.clone()),
            Box::new(stage_seconds.clone()),
            Box::new(outbox_pending.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Arc::new(Self {
            registry,
            activity,
            scored,
            planned,
            published,
            stage_seconds,
            outbox_pending,
        })
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &self.registry.gather(),
            &mut buf,
        )
        .expect("text encoding");
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Why an activity message was refused (stable codes).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub code: &'static str,
    pub detail: String,
}

/// Decodes and checks an `activity.recorded` body into the event to store.
pub fn parse_activity(body: &[u8], message_id: Option<&str>) -> Result<NewEvent, Refused> {
    let m: ActivityRecorded = decode(body).map_err(|e| Refused {
        code: e.code(),
        detail: e.to_string(),
    })?;
    let invalid = |detail: String| Refused {
        code: "message_invalid",
        detail: format!("invalid {} message: {detail}", ActivityRecorded::TYPE),
    };
    if m.program_id.trim().is_empty() {
        return Err(invalid("`program_id` is empty".into()));
    }
    if !KINDS.contains(&m.kind.as_str()) {
        return Err(invalid(format!(
            "`kind` {:?} is not one of {KINDS:?}",
            m.kind
        )));
    }
    let occurred_at = DateTime::parse_from_rfc3339(&m.occurred_at)
        .map_err(|e| invalid(format!("`occurred_at`: {e}")))?
        .with_timezone(&Utc);
    for (name, v) in [("quantity", m.quantity), ("amount", m.amount)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(invalid(format!("`{name}` is not a finite number")));
        }
    }
    let event_id = match message_id {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => format!(
            "sha256:{}",
            Sha256::digest(body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    };
    Ok(NewEvent {
        event_id,
        program_id: m.program_id,
        partner_id: m.partner_id,
        occurred_at,
        kind: m.kind,
        quantity: m.quantity,
        amount: m.amount,
    })
}

/// Events of a file to store for `program`, with stable ids: the same row gets the same id on
/// every import (identical rows of one file are told apart by their rank), so re-importing a
/// file stores nothing new.
pub fn import_rows(program: &str, events: &[eng::tables::FileEvent]) -> Vec<NewEvent> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    events
        .iter()
        .map(|e| {
            let key = format!(
                "{program}\x1f{}\x1f{}\x1f{}\x1f{:?}\x1f{:?}",
                e.partner_id, e.occurred_at, e.kind, e.quantity, e.amount
            );
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            let h: String = Sha256::digest(format!("{key}\x1f{n}").as_bytes())[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            NewEvent {
                event_id: format!("import:{h}"),
                program_id: program.to_string(),
                partner_id: e.partner_id.clone(),
                occurred_at: DateTime::<Utc>::from_timestamp(e.occurred_at, 0).unwrap_or_default(),
                kind: e.kind.clone(),
                quantity: e.quantity,
                amount: e.amount,
            }
        })
        .collect()
}

/// What one scoring cycle did for one program.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProgramCycle {
    pub program_id: String,
    pub as_of: String,
    pub events: usize,
    pub scored: usize,
    pub method: String,
    pub stats: eng::plan::PlanStats,
    /// Challenges inserted this cycle.
    pub planned: usize,
}

pub struct EngagementWorker {
    pub cfg: EngagementConfig,
    pub names: EngagementNames,
    pub db: Db,
    pub metrics: Arc<EngagementMetrics>,
    pub health: Arc<Health>,
    /// Wakes the scoring loop (admin endpoint, tests).
    pub score_now: Arc<Notify>,
    outbox_notify: Arc<Notify>,
}

fn long(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

/// Declares the events exchange, the activity queue and its parking queue (idempotent).
pub async fn declare_topology(
    ch: &Channel,
    cfg: &crate::config::AmqpConfig,
) -> Result<(), lapin::Error> {
    let n = EngagementNames::new(&cfg.prefix);
    ch.exchange_declare(
        n.events().as_str().into(),
        ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await?;
    let qopts = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long("quorum"));
    ch.queue_declare(n.parked().as_str().into(), qopts, args)
        .await?;
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long("quorum"));
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(cfg.delivery_limit as i32),
    );
    args.insert("x-dead-letter-exchange".into(), long(""));
    args.insert("x-dead-letter-routing-key".into(), long(&n.parked()));
    ch.queue_declare(n.activity().as_str().into(), qopts, args)
        .await?;
    ch.queue_bind(
        n.activity().as_str().into(),
        n.events().as_str().into(),
        ActivityRecorded::TYPE.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
}

impl EngagementWorker {
    /// Connects to the database (migrating it), retrying until it answers.
    pub async fn start(cfg: EngagementConfig) -> anyhow::Result<Arc<Self>> {
        let health = Arc::new(Health::default());
        health.pipeline.store(true, Ordering::Relaxed);
        let mut wait = Duration::from_millis(250);
        let db = loop {
            match Db::connect(&cfg.database).await {
                Ok(db) => break db,
                Err(e) => {
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "database unavailable");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(15));
                }
            }
        };
        health.database.store(true, Ordering::Relaxed);
        Ok(Arc::new(Self {
            names: EngagementNames::new(&cfg.amqp.prefix),
            cfg,
            db,
            metrics: EngagementMetrics::new(),
            health,
            score_now: Arc::new(Notify::new()),
            outbox_notify: Arc::new(Notify::new()),
        }))
    }

    /// Runs the scoring loop, the scheduler and the broker session until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let scorer = tokio::spawn(self.clone().scoring_loop(shutdown.clone()));
        let scheduler = tokio::spawn(self.clone().scheduler_loop(shutdown.clone()));
        let result = self.clone().broker_loop(shutdown).await;
        let _ = scorer.await;
        let _ = scheduler.await;
        result
    }

    async fn scoring_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let every = Duration::from_secs(self.cfg.engagement.score_interval_secs);
        let mut first = self.cfg.engagement.score_on_start;
        loop {
            if !first {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = self.score_now.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
            first = false;
            if *shutdown.borrow() {
                return;
            }
            match self.score_and_plan(Utc::now()).await {
                Ok(r) => info!(programs = r.len(), "scoring cycle done"),
                Err(e) => warn!(error = %e, "scoring cycle failed; next one at the interval"),
            }
        }
    }

    async fn scheduler_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let every = Duration::from_millis(self.cfg.engagement.scheduler_interval_ms);
        loop {
            match self.publish_due(Utc::now()).await {
                Ok(p) if p.published > 0 => {
                    self.outbox_notify.notify_one();
                    continue;
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "scheduler step failed; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// One scheduler step (see [`Db::publish_due`]).
    pub async fn publish_due(&self, now: DateTime<Utc>) -> anyhow::Result<Published> {
        let e = &self.cfg.engagement;
        let quiet_at = |s: &eng::plan::PlanSettings| s.is_quiet(s.local_hour(now.timestamp()));
        let quiet = QuietNow {
            default: quiet_at(&e.plan),
            overrides: e
                .programs
                .iter()
                .map(|(p, s)| (p.clone(), quiet_at(s)))
                .collect(),
        };
        let p = self
            .db
            .publish_due(now, 200, &quiet, |program| quiet_at(e.settings(program)))
            .await?;
        for (result, n) in [
            ("published", p.published),
            ("expired", p.expired),
            ("deferred", p.deferred),
        ] {
            if n > 0 {
                self.metrics
                    .published
                    .with_label_values(&[result])
                    .inc_by(n as u64);
            }
        }
        if p.published > 0 {
            info!(
                published = p.published,
                "challenges due: published to the outbox"
            );
        }
        Ok(p)
    }

    /// Scores every program from its events in PostgreSQL, stores the scores, plans
    /// challenges. `now` is the current time (the as-of date is the day after it, in program
    /// time, so today's events count).
    pub async fn score_and_plan(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<ProgramCycle>> {
        let mut out = Vec::new();
        for program in self.db.engagement_programs().await? {
            let span = tracing::info_span!("engagement_cycle", program = %program);
            out.push(self.score_program(&program, now).instrument(span).await?);
        }
        Ok(out)
    }

    async fn score_program(
        &self,
        program: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ProgramCycle> {
        let e = &self.cfg.engagement;
        let s = e.settings(program).clone();
        let local_day =
            (now.timestamp() + i64::from(s.utc_offset_minutes) * 60).div_euclid(86_400) as i32;
        let as_of = local_day + 1;
        let t = Instant::now();
        let from = now - chrono::Duration::days(i64::from(e.history_days));
        let rows = self
            .db
            .program_events(program, from, s.utc_offset_minutes)
            .await?;
        let n_events = rows.len();
        self.observe("load", t);
        let t = Instant::now();
        let (horizon, k) = (e.horizon_days, e.segments);
        let run = tokio::task::spawn_blocking(move || -> eng::Result<eng::ScoreRun> {
            let table = rows.into_table(as_of)?;
            let mut cfg = eng::ScoreConfig::new(as_of, horizon);
            cfg.k = k;
            eng::score_table(&table, &cfg)
        })
        .await??;
        self.observe("score", t);
        let t = Instant::now();
        let as_of_date = chrono::NaiveDate::from_num_days_from_ce_opt(as_of + 719_163)
            .ok_or_else(|| anyhow::anyhow!("as-of date out of range"))?;
        let at_risk_days = self
            .db
            .upsert_scores(program, as_of_date, &run.scores, s.threshold)
            .await?;
        self.metrics
            .scored
            .with_label_values(&[program])
            .inc_by(run.scores.len() as u64);
        self.observe("store_scores", t);

        let t = Instant::now();
        let consent = self.db.consented(program).await?;
        let opens = self
            .db
            .opens(
                program,
                now - chrono::Duration::days(i64::from(e.opens_days)),
            )
            .await?;
        let mut stats = eng::plan::PlanStats::default();
        let inserted = self
            .db
            .plan_challenges(program, &s, now, |existing, budget| {
                let p = eng::plan::plan(
                    &eng::plan::PlanInput {
                        program_id: program,
                        scores: &run.scores,
                        consent: &consent,
                        existing,
                        opens: &opens,
                        budget_remaining: budget,
                        now: now.timestamp(),
                        at_risk_days: Some(&at_risk_days),
                    },
                    &s,
                );
                stats = p.stats;
                p.challenges
            })
            .await?;
        self.observe("plan", t);
        self.metrics
            .planned
            .with_label_values(&[program])
            .inc_by(inserted.len() as u64);
        // Counts only: partner ids are personal data.
        info!(
            events = n_events,
            scored = run.scores.len(),
            method = %run.summary.method,
            at_risk = stats.at_risk,
            unconfirmed = stats.unconfirmed,
            planned = inserted.len(),
            no_consent = stats.no_consent,
            cooldown = stats.cooldown,
            over_budget = stats.over_budget,
            "program scored and planned"
        );
        Ok(ProgramCycle {
            program_id: program.to_string(),
            as_of: eng::date::format_date(as_of),
            events: n_events,
            scored: run.scores.len(),
            method: run.summary.method.clone(),
            stats,
            planned: inserted.len(),
        })
    }

    fn observe(&self, stage: &str, t: Instant) {
        self.metrics
            .stage_seconds
            .with_label_values(&[stage])
            .observe(t.elapsed().as_secs_f64());
    }

    async fn broker_loop(self: Arc<Self>, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let me = self.clone();
        amqp::reconnecting(&self.health.broker, shutdown, move |mut rx| {
            let me = me.clone();
            async move { me.session(&mut rx).await }
        })
        .await
    }

    async fn session(self: &Arc<Self>, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let conn = amqp::connect(&self.cfg.amqp.url).await?;
        let setup = conn.create_channel().await?;
        declare_topology(&setup, &self.cfg.amqp).await?;
        let consume = conn.create_channel().await?;
        consume
            .basic_qos(self.cfg.amqp.prefetch, BasicQosOptions::default())
            .await?;
        let park_ch = amqp::confirm_channel(&conn).await?;
        let relay_ch = amqp::confirm_channel(&conn).await?;
        let mut consumer = consume
            .basic_consume(
                self.names.activity().as_str().into(),
                format!("claimscan-engagement-{}", std::process::id())
                    .as_str()
                    .into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.health.broker.store(true, Ordering::Relaxed);
        info!(queue = %self.names.activity(), "consuming");
        let (stop_tx, stop) = watch::channel(false);
        let relay = tokio::spawn(self.clone().relay(relay_ch, stop));
        let result = loop {
            tokio::select! {
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        break Ok(());
                    }
                }
                next = consumer.next() => match next {
                    Some(Ok(d)) => self.on_delivery(d, &park_ch).await,
                    Some(Err(e)) => break Err(anyhow::Error::from(e)),
                    None => break Err(anyhow::anyhow!("the broker cancelled the consumer")),
                },
            }
        };
        self.health
            .draining
            .store(result.is_ok(), Ordering::Relaxed);
        let _ = stop_tx.send(true);
        let _ = relay.await;
        if result.is_ok() {
            let _ = consume
                .basic_cancel(consumer.tag(), Default::default())
                .await;
            // Last outbox messages out before leaving.
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

    async fn relay(self: Arc<Self>, ch: Channel, mut stop: watch::Receiver<bool>) {
        loop {
            match self.db.relay_outbox(&ch, &self.names.events(), 200).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    warn!(error = %e, "outbox relay failed; will retry");
                    if !ch.status().connected() {
                        return;
                    }
                }
            }
            if let Ok(n) = self.db.outbox_pending().await {
                self.metrics.outbox_pending.set(n);
            }
            tokio::select! {
                _ = self.outbox_notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Stores one activity message, then acks; parks what cannot be used.
    async fn on_delivery(&self, d: Delivery, park_ch: &Channel) {
        let mid = d
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_string());
        let ev = match parse_activity(&d.data, mid.as_deref()) {
            Ok(ev) => ev,
            Err(r) => {
                self.park(&d, &r, park_ch).await;
                return;
            }
        };
        let span = tracing::info_span!("activity", kind = %ev.kind);
        let stored = self
            .db
            .insert_events(std::slice::from_ref(&ev))
            .instrument(span)
            .await;
        match stored {
            Ok(n) => {
                let outcome = if n == 1 { "stored" } else { "duplicate" };
                self.metrics
                    .activity
                    .with_label_values(&[outcome, ""])
                    .inc();
                if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
                    warn!(error = %e, "ack failed (the event is stored; a redelivery is a duplicate)");
                }
            }
            Err(e) => {
                // Not the message's fault: back to the queue (the delivery limit bounds it).
                warn!(error = %e, "database write failed; requeueing");
                self.health.database.store(false, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = d
                    .acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
                return;
            }
        }
        self.health.database.store(true, Ordering::Relaxed);
    }

    async fn park(&self, d: &Delivery, r: &Refused, ch: &Channel) {
        warn!(code = r.code, "refusing activity message");
        self.metrics
            .activity
            .with_label_values(&["parked", r.code])
            .inc();
        let _ = self.db.park_message(r.code, &r.detail, &d.data).await;
        let id = format!(
            "parked:{}",
            Sha256::digest(&d.data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        match amqp::publish_confirmed(
            ch,
            "",
            &self.names.parked(),
            &d.data,
            amqp::properties(&id, amqp::headers(1, r.code, Some(&r.detail))),
        )
        .await
        {
            Ok(()) => {
                let _ = d.acker.ack(BasicAckOptions::default()).await;
            }
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

#[derive(Clone)]
struct HttpState {
    worker: Arc<EngagementWorker>,
    token: Arc<str>,
}

/// `/healthz`, `/readyz`, `/metrics`, and (with a token) `POST /admin/engagement/score`, which
/// wakes the scoring loop now.
pub fn router(worker: Arc<EngagementWorker>, admin_token: &str) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(s): State<HttpState>| async move {
                let h = &s.worker.health;
                let body = format!(
                    "broker={} database={} draining={}\n",
                    h.broker.load(Ordering::Relaxed),
                    h.database.load(Ordering::Relaxed),
                    h.draining.load(Ordering::Relaxed)
                );
                let code = if h.ready() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (code, body)
            }),
        )
        .route(
            "/metrics",
            get(|State(s): State<HttpState>| async move { s.worker.metrics.render() }),
        )
        .route(
            "/admin/engagement/score",
            post(|State(s): State<HttpState>, headers: HeaderMap| async move {
                let given = headers
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .unwrap_or("");
                if s.token.is_empty() || !crate::admin::same(given.as_bytes(), s.token.as_bytes()) {
                    return (
                        StatusCode::UNAUTHORIZED,
                        "{\"code\":\"unauthorized\",\"message\":\"missing or wrong bearer token (http.admin_token)\"}\n",
                    )
                        .into_response();
                }
                s.worker.score_now.notify_one();
                (StatusCode::ACCEPTED, "{\"scoring\":\"started\"}\n").into_response()
            }),
        )
        .with_state(HttpState {
            worker,
            token: admin_token.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_contracts::encode;

    fn activity(kind: &str) -> ActivityRecorded {
        ActivityRecorded {
            partner_id: "p-1".into(),
            program_id: "prog".into(),
            occurred_at: "2026-11-23T10:00:00+01:00".into(),
            kind: kind.into(),
            quantity: Some(2.0),
            amount: None,
        }
    }

    #[test]
    fn activity_messages_become_events_or_stable_refusals() {
        let ev = parse_activity(&encode(&activity("purchase")), Some("m-1")).unwrap();
        assert_eq!(ev.event_id, "m-1");
        assert_eq!(ev.occurred_at.to_rfc3339(), "2026-11-23T09:00:00+00:00");
        assert_eq!(ev.quantity, Some(2.0));
        // Without a message id, the body identifies the event (a re-sent body is one event).
        let body = encode(&activity("login"));
        let a = parse_activity(&body, None).unwrap();
        assert!(a.event_id.starts_with("sha256:"));
        assert_eq!(
            a.event_id,
            parse_activity(&body, Some(" ")).unwrap().event_id
        );

        let code = |b: &[u8]| parse_activity(b, None).unwrap_err().code;
        assert_eq!(code(b"nope"), "message_not_json");
        assert_eq!(code(&encode(&activity("dance"))), "message_invalid");
        let mut m = activity("purchase");
        m.program_id = " ".into();
        assert_eq!(code(&encode(&m)), "message_invalid");
        let mut v: serde_json::Value =
            serde_json::from_slice(&encode(&activity("purchase"))).unwrap();
        v["version"] = 2.into();
        assert_eq!(
            code(&serde_json::to_vec(&v).unwrap()),
            "message_unsupported_version"
        );
    }
}
