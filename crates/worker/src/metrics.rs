//! Prometheus metrics and the `/healthz`, `/readyz`, `/metrics` endpoints (axum).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Every metric the worker exports.
pub struct Metrics {
    pub registry: Registry,
    /// Seconds per stage: begin (register the upload), fetch, wait_extraction (for a free
    /// extraction thread), read, layout, hash (fingerprint and picture hash), context (memory + decision facts), match, decide,
    /// artifacts (overlaps record), record; shadow in shadow mode.
    pub stage_seconds: HistogramVec,
    /// Seconds from delivery to acknowledgement, by outcome.
    pub upload_seconds: HistogramVec,
    /// Uploads decided, by outcome (claim, review, reject, parked, duplicate_message) and code.
    pub outcomes: IntCounterVec,
    /// Messages sent to a retry queue, by reason code.
    pub retries: IntCounterVec,
    pub queue_depth: IntGauge,
    pub outbox_pending: IntGauge,
    /// Decided uploads whose extraction JSON the relay has not stored yet.
    pub artifacts_pending: IntGauge,
    pub in_flight: IntGauge,
    /// Deliveries the worker currently asks the broker for (`amqp.prefetch`..`prefetch_max`).
    pub prefetch: IntGauge,
    /// Layout model swaps, by result: deployed, refused, rolled_back, auto_rolled_back.
    pub model_swaps: IntCounterVec,
    /// Uploads read by a shadow model, by whether it agreed with the live one.
    pub shadow_reads: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new_custom(Some("claimscan".into()), None).expect("valid prefix");
        let buckets = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0,
        ];
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new("stage_seconds", "Seconds spent per pipeline stage")
                .buckets(buckets.clone()),
            &["stage"],
        )
        .unwrap();
        let upload_seconds = HistogramVec::new(
            HistogramOpts::new("upload_seconds", "Seconds from delivery to acknowledgement")
                .buckets(buckets),
            &["outcome"],
        )
        .unwrap();
        let outcomes = IntCounterVec::new(
            Opts::new("outcomes_total", "Uploads decided"),
            &["outcome", "code"],
        )
        .unwrap();
        let retries =
            IntCounterVec::new(Opts::new("retries_total", "Messages retried"), &["reason"])
                .unwrap();
        let queue_depth = IntGauge::new("queue_depth", "Ready messages in the work queue").unwrap();
        let outbox_pending =
            IntGauge::new("outbox_pending", "Outbox messages not yet published").unwrap();
        let artifacts_pending = IntGauge::new(
            "artifacts_pending",
            "Decided uploads whose extraction JSON is not stored yet",
        )
        .unwrap();
        let in_flight = IntGauge::new("in_flight", "Deliveries being processed").unwrap();
        let prefetch = IntGauge::new(
            "prefetch",
            "Unacknowledged deliveries the worker asks the broker for",
        )
        .unwrap();
        let model_swaps = IntCounterVec::new(
            Opts::new("model_swaps_total", "Layout model swaps by result"),
            &["result"],
        )
        .unwrap();
        let shadow_reads = IntCounterVec::new(
            Opts::new("shadow_reads_total", "Uploads read by the shadow model"),
            &["agree"],
        )
        .unwrap();
        for c in [
            Box::new(stage_seconds.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(upload_seconds.clone()),
            Box::new(outcomes.clone()),
            Box::new(retries.clone()),
            Box::new(queue_depth.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(artifacts_pending.clone()),
            Box::new(in_flight.clone()),
            Box::new(prefetch.clone()),
            Box::new(model_swaps.clone()),
            Box::new(shadow_reads.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Arc::new(Metrics {
            registry,
            stage_seconds,
            upload_seconds,
            outcomes,
            retries,
            queue_depth,
            outbox_pending,
            artifacts_pending,
            in_flight,
            prefetch,
            model_swaps,
            shadow_reads,
        })
    }

    pub fn observe(&self, stage: &str, seconds: f64) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(seconds);
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding");
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Liveness and readiness flags, set by the worker loop.
#[derive(Default)]
pub struct Health {
    pub broker: AtomicBool,
    pub database: AtomicBool,
    pub pipeline: AtomicBool,
    pub draining: AtomicBool,
}

impl Health {
    pub fn ready(&self) -> bool {
        self.broker.load(Ordering::Relaxed)
            && self.database.load(Ordering::Relaxed)
            && self.pipeline.load(Ordering::Relaxed)
            && !self.draining.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// The HTTP router.
pub fn router(metrics: Arc<Metrics>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(s): State<AppState>| async move {
                let h = &s.health;
                let body = format!(
                    "broker={} database={} pipeline={} draining={}\n",
                    h.broker.load(Ordering::Relaxed),
                    h.database.load(Ordering::Relaxed),
                    h.pipeline.load(Ordering::Relaxed),
                    h.draining.load(Ordering::Relaxed)
                );
                if h.ready() {
                    (StatusCode::OK, body)
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, body)
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(s): State<AppState>| async move { s.metrics.render() }),
        )
        .with_state(AppState { metrics, health })
}
