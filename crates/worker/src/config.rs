//! Worker configuration: a TOML file plus `CLAIMSCAN_<SECTION>__<KEY>` environment variables
//! (environment wins), validated at start so that every problem is reported at once.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The whole configuration. Unknown keys are refused (a typo must not silently fall back).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub amqp: AmqpConfig,
    pub s3: S3Config,
    pub database: DatabaseConfig,
    pub pipeline: PipelineConfig,
    pub rules: RulesConfig,
    pub http: HttpConfig,
    /// The manager review web app (`claimscan review serve`).
    pub review: ReviewConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpConfig {
    /// `amqp://user:pass@host:port/vhost`.
    pub url: String,
    /// Prefix of every exchange and queue name (several deployments can share a broker).
    pub prefix: String,
    /// Unacknowledged deliveries per worker (per consumer channel) at start, and the least the
    /// worker holds.
    pub prefetch: u16,
    /// The most the worker holds. Above `prefetch`, the worker raises or lowers its prefetch
    /// between the two from the measured time uploads spend on and off its extraction threads
    /// (`pace.rs`); equal to `prefetch`, the prefetch is fixed.
    pub prefetch_max: u16,
    /// How much the time an upload spends off the extraction threads counts when the adaptive
    /// prefetch is worked out (`pace.rs`): higher holds more deliveries per unit of round-trip
    /// time. 3.0 keeps two threads fed with digital PDFs on a machine whose services share its
    /// cores (README, Benchmarks); photos (2 s on a thread, ~50 ms off it) stay at the floor for any weight under 10.
    pub prefetch_outside_weight: f64,
    /// Processing attempts before a message is parked.
    pub max_attempts: u32,
    /// Delays of the retry queues, in milliseconds; attempt n waits `retry_delays_ms[n-1]`
    /// (the last delay repeats).
    pub retry_delays_ms: Vec<u32>,
    /// Broker-side redelivery limit of the quorum work queue (crashes while processing count);
    /// past it the broker itself dead-letters the message to the parking queue.
    pub delivery_limit: u32,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        AmqpConfig {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            prefix: "claimscan".into(),
            prefetch: 2,
            prefetch_max: 16,
            prefetch_outside_weight: crate::pace::OUTSIDE_WEIGHT,
            max_attempts: 5,
            retry_delays_ms: vec![1_000, 10_000, 60_000, 300_000],
            delivery_limit: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Custom endpoint (MinIO, moto, Ceph...); empty for AWS itself.
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers.
    pub path_style: bool,
    /// Where extraction JSON and page images go for the review UI.
    pub artifacts_bucket: String,
    /// Objects larger than this are refused from the GET response's `Content-Length`, before
    /// any of the body is read.
    pub max_object_bytes: u64,
    /// Create the artifacts bucket at start when it does not exist.
    pub create_bucket: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            access_key: "claimscan".into(),
            secret_key: "claimscan".into(),
            path_style: true,
            artifacts_bucket: "claimscan-artifacts".into(),
            max_object_bytes: 50 * 1024 * 1024,
            create_bucket: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// PostgreSQL schema holding claimscan's tables (created by the migrations).
    pub schema: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://postgres@127.0.0.1:5432/test".into(),
            max_connections: 8,
            schema: "claimscan".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// SKU catalog (CSV or Parquet): `sku,name,...,points_per_unit,eligible`.
    pub catalog: PathBuf,
    /// `rules` (no model) or a model directory (`models/layout-gbdt`).
    pub reader: String,
    /// Refuse PDFs with more pages.
    pub max_pages: usize,
    /// Tesseract languages (`eng+deu+fra`...), or `auto` (detect each document's language).
    pub ocr_languages: String,
    /// Long-lived extraction threads (`threads`), each with its own warm OCR engines.
    pub extraction_threads: usize,
    /// A candidate model that reads every upload beside the live one (shadow mode); its
    /// disagreements are recorded in `shadow_results`. Empty: none.
    pub shadow_reader: String,
    /// Labelled documents (`*.truth.json`) a model must read before a hot swap makes it live.
    /// Empty: hot swaps are refused.
    pub validation_data: PathBuf,
    /// A candidate may trail the live model on the validation data by at most this much
    /// (absolute share, on header accuracy, line F1 and invoices right).
    pub max_regression: f64,
    /// Uploads after a swap during which a model failure rolls the swap back by itself.
    pub probation_reads: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            catalog: PathBuf::from("training-data/fixtures/catalog.csv"),
            reader: "rules".into(),
            max_pages: 20,
            ocr_languages: "auto".into(),
            extraction_threads: 2,
            shadow_reader: String::new(),
            validation_data: PathBuf::from("training-data/fixtures"),
            max_regression: 0.02,
            probation_reads: 50,
        }
    }
}

/// A campaign: more points per unit for SKUs of a family (or SKU prefix) during a period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub name: String,
    /// Applies to SKUs starting with this prefix...
    #[serde(default)]
    pub sku_prefix: Option<String>,
    /// ...or of this catalog family (`pumps/circulators`); both unset = all SKUs.
    #[serde(default)]
    pub family: Option<String>,
    pub multiplier: f64,
    /// Invoice dates `from..=to`, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Auto-approve when the extraction's confidence and every paid line's match probability
    /// reach this; below, a manager reviews.
    pub auto_approve_confidence: f32,
    /// Match probability under which a line goes to review rather than being paid.
    pub line_match_min: f32,
    /// A line matched to no product whose probability of being one of the program's products
    /// reaches this goes to review: the partner may be owed its points (1 = never). 0.7 from a
    /// sweep on seven held-out sets (`pipelines/layout/README.md`, "What partners would be paid").
    pub unmatched_ours_review: f32,
    /// Invoices older than this many days are refused.
    pub max_invoice_age_days: i64,
    /// Invoice dates later than today by more than this are refused.
    pub future_tolerance_days: i64,
    /// Relative tolerance of the arithmetic checks (qty x price vs amount, sums vs totals).
    pub amount_tolerance: f64,
    /// A quantity above `quantity_factor` x the partner's largest earlier quantity of that SKU
    /// (or above `max_quantity_without_history` without history) goes to review.
    pub quantity_factor: f64,
    pub max_quantity_without_history: f64,
    /// Points per partner per calendar month; 0 = no cap. Points above the cap go to review.
    pub monthly_points_cap: i64,
    /// Perceptual hashes within this Hamming distance count as the same picture.
    pub phash_max_distance: u32,
    pub campaigns: Vec<Campaign>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            auto_approve_confidence: 0.9,
            line_match_min: 0.8,
            unmatched_ours_review: 0.7,
            max_invoice_age_days: 365,
            future_tolerance_days: 2,
            amount_tolerance: 0.01,
            quantity_factor: 10.0,
            max_quantity_without_history: 500.0,
            monthly_points_cap: 0,
            phash_max_distance: 4,
            campaigns: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `/healthz`, `/readyz`, `/metrics` (and `/admin/...`); empty to disable.
    pub listen: String,
    /// Bearer token for the model admin endpoints (`/admin/model`, `/admin/shadow`); empty
    /// disables them. Prefer the environment: `CLAIMSCAN_HTTP__ADMIN_TOKEN`.
    pub admin_token: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:9464".into(),
            admin_token: String::new(),
        }
    }
}

/// The manager review web app (`claimscan review serve`); it shares the database, object storage,
/// catalog and rules of the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// Address the web app listens on.
    pub listen: String,
    /// Mark the session cookie `Secure` (keep on; browsers accept it on http://localhost too).
    pub cookie_secure: bool,
    /// A login lasts this long.
    pub session_hours: u32,
    /// Tasks per queue page.
    pub page_size: u32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            listen: "127.0.0.1:8080".into(),
            cookie_secure: true,
            session_hours: 12,
            page_size: 50,
        }
    }
}

/// Configuration problems, all of them.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl ConfigError {
    pub fn code(&self) -> &'static str {
        "config_invalid"
    }
}

impl Config {
    /// Defaults, then the file (if given), then `CLAIMSCAN_SECTION__KEY` variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(vec![format!(
                    "config file {} does not exist",
                    f.display()
                )]));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig.merge(Env::prefixed("CLAIMSCAN_").split("__").filter(|k| {
            // CLAIMSCAN_LOG and CLAIMSCAN_NO_REEXEC belong to the binary, not to this file.
            k.as_str().contains('.')
        }));
        let cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Every problem at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        };
        if !self.amqp.url.starts_with("amqp://") && !self.amqp.url.starts_with("amqps://") {
            p.push(format!(
                "amqp.url must start with amqp:// or amqps://, got {:?}",
                self.amqp.url
            ));
        }
        if !name_ok(&self.amqp.prefix) {
            p.push("amqp.prefix must be non-empty letters, digits, '-', '_' or '.'".into());
        }
        if self.amqp.prefetch == 0 {
            p.push("amqp.prefetch must be at least 1".into());
        }
        if self.amqp.prefetch_max < self.amqp.prefetch {
            p.push(format!(
                "amqp.prefetch_max ({}) is below amqp.prefetch ({}): raise it, or set it equal to amqp.prefetch for a fixed prefetch",
                self.amqp.prefetch_max, self.amqp.prefetch
            ));
        }
        let w = self.amqp.prefetch_outside_weight;
        if !(w.is_finite() && w > 0.0) {
            p.push(format!(
                "amqp.prefetch_outside_weight must be a number above 0, got {w}"
            ));
        }
        if self.amqp.max_attempts == 0 {
            p.push("amqp.max_attempts must be at least 1".into());
        }
        if self.amqp.retry_delays_ms.is_empty() || self.amqp.retry_delays_ms.contains(&0) {
            p.push("amqp.retry_delays_ms needs at least one delay, none of them 0".into());
        }
        if self.amqp.delivery_limit == 0 {
            p.push("amqp.delivery_limit must be at least 1".into());
        }
        if !self.s3.endpoint.is_empty()
            && !self.s3.endpoint.starts_with("http://")
            && !self.s3.endpoint.starts_with("https://")
        {
            p.push(format!(
                "s3.endpoint must be an http(s) URL, got {:?}",
                self.s3.endpoint
            ));
        }
        if self.s3.artifacts_bucket.is_empty() {
            p.push("s3.artifacts_bucket is empty".into());
        }
        if self.s3.max_object_bytes == 0 {
            p.push("s3.max_object_bytes must be positive".into());
        }
        if !self.database.url.starts_with("postgres://")
            && !self.database.url.starts_with("postgresql://")
        {
            p.push("database.url must start with postgres://".into());
        }
        if !self
            .database
            .schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || self.database.schema.is_empty()
        {
            p.push("database.schema must be lowercase letters, digits and '_'".into());
        }
        if self.database.max_connections == 0 {
            p.push("database.max_connections must be at least 1".into());
        }
        if !self.pipeline.catalog.is_file() {
            p.push(format!(
                "pipeline.catalog {} is not a file",
                self.pipeline.catalog.display()
            ));
        }
        if self.pipeline.reader != "rules" && !Path::new(&self.pipeline.reader).is_dir() {
            p.push(format!(
                "pipeline.reader must be `rules` or a model directory; {} is neither",
                self.pipeline.reader
            ));
        }
        let pl = &self.pipeline;
        if !pl.shadow_reader.is_empty()
            && pl.shadow_reader != "rules"
            && !Path::new(&pl.shadow_reader).is_dir()
        {
            p.push(format!(
                "pipeline.shadow_reader must be empty, `rules` or a model directory; {} is neither",
                pl.shadow_reader
            ));
        }
        if !pl.validation_data.as_os_str().is_empty() && !pl.validation_data.is_dir() {
            p.push(format!(
                "pipeline.validation_data {} is not a directory (empty to refuse hot swaps)",
                pl.validation_data.display()
            ));
        }
        if !(0.0..=1.0).contains(&pl.max_regression) {
            p.push("pipeline.max_regression must be in 0..1".into());
        }
        if self.pipeline.max_pages == 0 || self.pipeline.extraction_threads == 0 {
            p.push("pipeline.max_pages and pipeline.extraction_threads must be at least 1".into());
        }
        let r = &self.rules;
        if !(0.0..=1.0).contains(&r.auto_approve_confidence)
            || !(0.0..=1.0).contains(&r.line_match_min)
            || !(0.0..=1.0).contains(&r.unmatched_ours_review)
        {
            p.push(
                "rules.auto_approve_confidence, rules.line_match_min and \
                 rules.unmatched_ours_review must be in 0..1"
                    .into(),
            );
        }
        if r.max_invoice_age_days <= 0 || r.future_tolerance_days < 0 {
            p.push(
                "rules.max_invoice_age_days must be > 0, rules.future_tolerance_days >= 0".into(),
            );
        }
        if r.amount_tolerance < 0.0 || r.quantity_factor <= 0.0 || r.monthly_points_cap < 0 {
            p.push("rules.amount_tolerance, quantity_factor and monthly_points_cap must not be negative".into());
        }
        for c in &r.campaigns {
            let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
            if !d(&c.from) || !d(&c.to) || c.from > c.to {
                p.push(format!(
                    "campaign {:?}: from/to must be YYYY-MM-DD with from <= to",
                    c.name
                ));
            }
            if !(c.multiplier > 0.0 && c.multiplier <= 100.0) {
                p.push(format!(
                    "campaign {:?}: multiplier must be in (0, 100]",
                    c.name
                ));
            }
        }
        if !self.http.listen.is_empty() && self.http.listen.parse::<std::net::SocketAddr>().is_err()
        {
            p.push(format!(
                "http.listen {:?} is not host:port",
                self.http.listen
            ));
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(p))
        }
    }
}

/// Exchange and queue names, all under the configured prefix.
#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Names {
            prefix: prefix.to_string(),
        }
    }
    /// Topic exchange every message is published to, routing key = message type.
    pub fn events(&self) -> String {
        format!("{}.events", self.prefix)
    }
    /// The work queue of `invoice.uploaded`.
    pub fn invoices(&self) -> String {
        format!("{}.invoices", self.prefix)
    }
    /// Direct exchange of the retry queues (routing key = queue name).
    pub fn retry_exchange(&self) -> String {
        format!("{}.retry", self.prefix)
    }
    pub fn retry_queue(&self, delay_ms: u32) -> String {
        format!("{}.invoices.retry.{delay_ms}ms", self.prefix)
    }
    /// Fanout exchange and queue of parked (poison) messages.
    pub fn parking_exchange(&self) -> String {
        format!("{}.parking", self.prefix)
    }
    pub fn parked(&self) -> String {
        format!("{}.invoices.parked", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_listed() {
        let mut c = Config::default();
        c.amqp.url = "http://x".into();
        c.amqp.prefetch = 0;
        c.pipeline.catalog = "/nope.csv".into();
        c.pipeline.validation_data = "/nope-dir".into();
        c.rules.campaigns.push(Campaign {
            name: "x".into(),
            sku_prefix: None,
            family: None,
            multiplier: 2.0,
            from: "2026-13-01".into(),
            to: "2026-01-01".into(),
        });
        let e = c.validate().unwrap_err();
        assert_eq!(e.0.len(), 5, "{e}");
    }

    /// Every problem `validate` lists, or nothing (the default file paths may be missing here:
    /// problems other than the one a test looks for).
    fn problems(c: &Config) -> String {
        c.validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_prefetch_ceiling_under_its_floor_is_refused() {
        let mut c = Config::default();
        c.amqp.prefetch = 32;
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("amqp.prefetch_max (16) is below amqp.prefetch (32)"),
            "{e}"
        );
        c.amqp.prefetch_max = 32;
        // equal: a fixed prefetch
        let left = problems(&c);
        assert!(!left.contains("prefetch"), "{left}");
    }

    #[test]
    fn a_prefetch_outside_weight_that_is_not_a_positive_number_is_refused() {
        for w in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut c = Config::default();
            c.amqp.prefetch_outside_weight = w;
            let e = c.validate().unwrap_err().to_string();
            assert!(
                e.contains("amqp.prefetch_outside_weight must be a number above 0"),
                "{w}: {e}"
            );
        }
        let mut c = Config::default();
        c.amqp.prefetch_outside_weight = 0.5;
        let left = problems(&c);
        assert!(!left.contains("prefetch"), "{left}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("cs-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "[amqp]\nprefech = 3\n").unwrap();
        let e = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("prefech"), "{e}");
    }
}
