//! Configuration of the engagement worker: the invoice worker's `[amqp]`, `[database]` and
//! `[http]` sections (same keys, so one file can serve both) plus `[engagement]`. Loaded from a
//! TOML file and `CLAIMSCAN_<SECTION>__<KEY>` variables of those four sections (the invoice
//! worker's other sections are not this worker's business); unknown keys are refused.

use std::collections::BTreeMap;
use std::path::Path;

use claimscan_engagement::plan::PlanSettings;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::config::{AmqpConfig, ConfigError, DatabaseConfig, HttpConfig};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngagementConfig {
    pub amqp: AmqpConfig,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub engagement: EngagementSection,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        EngagementConfig {
            // a fixed prefetch: events are small and handled in batches (`prefetch_max` is the
            // invoice worker's)
            amqp: AmqpConfig {
                prefetch: 50,
                prefetch_max: 50,
                ..Default::default()
            },
            database: DatabaseConfig::default(),
            http: HttpConfig {
                listen: "127.0.0.1:9465".into(),
                ..Default::default()
            },
            engagement: EngagementSection::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngagementSection {
    /// Score every program and plan challenges this often (seconds).
    pub score_interval_secs: u64,
    /// Also score once right after start.
    pub score_on_start: bool,
    /// How often due challenges are looked for (milliseconds).
    pub scheduler_interval_ms: u64,
    /// "No purchase in the next N days".
    pub horizon_days: i32,
    /// Number of segments (KMeans k).
    pub segments: usize,
    /// Days of events read for scoring.
    pub history_days: i32,
    /// Days of `message_opened` events read to learn send hours.
    pub opens_days: i32,
    /// Challenge settings of every program...
    pub plan: PlanSettings,
    /// ...unless a program has its own (whole settings, keyed by program_id).
    pub programs: BTreeMap<String, PlanSettings>,
}

impl Default for EngagementSection {
    fn default() -> Self {
        EngagementSection {
            score_interval_secs: 3_600,
            score_on_start: true,
            scheduler_interval_ms: 1_000,
            horizon_days: 91,
            segments: 5,
            history_days: 730,
            opens_days: 180,
            plan: PlanSettings::default(),
            programs: BTreeMap::new(),
        }
    }
}

impl EngagementSection {
    /// The settings of a program.
    pub fn settings(&self, program_id: &str) -> &PlanSettings {
        self.programs.get(program_id).unwrap_or(&self.plan)
    }
}

const SECTIONS: [&str; 4] = ["amqp", "database", "http", "engagement"];

impl EngagementConfig {
    /// Defaults, then the file (if given), then `CLAIMSCAN_SECTION__KEY` variables; validated.
    pub fn load(file: Option<&Path>) -> Result<EngagementConfig, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(EngagementConfig::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(vec![format!(
                    "config file {} does not exist",
                    f.display()
                )]));
            }
            fig = fig.merge(Toml::file(f));
        }
        // Keys keep their case here (`AMQP.URL`); they are lowercased later.
        fig = fig.merge(Env::prefixed("CLAIMSCAN_").split("__").filter(|k| {
            k.as_str().split_once('.').is_some_and(|(section, _)| {
                SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(section))
            })
        }));
        let cfg: EngagementConfig = fig
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Every problem at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        let a = &self.amqp;
        if !a.url.starts_with("amqp://") && !a.url.starts_with("amqps://") {
            p.push(format!(
                "amqp.url must start with amqp:// or amqps://, got {:?}",
                a.url
            ));
        }
        if a.prefix.is_empty()
            || !a
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            p.push("amqp.prefix must be non-empty letters, digits, '-', '_' or '.'".into());
        }
        if a.prefetch == 0 || a.delivery_limit == 0 {
            p.push("amqp.prefetch and amqp.delivery_limit must be at least 1".into());
        }
        let d = &self.database;
        if !d.url.starts_with("postgres://") && !d.url.starts_with("postgresql://") {
            p.push("database.url must start with postgres://".into());
        }
        if d.schema.is_empty()
            || !d
                .schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            p.push("database.schema must be lowercase letters, digits and '_'".into());
        }
        if d.max_connections == 0 {
            p.push("database.max_connections must be at least 1".into());
        }
        if !self.http.listen.is_empty() && self.http.listen.parse::<std::net::SocketAddr>().is_err()
        {
            p.push(format!(
                "http.listen {:?} is not host:port",
                self.http.listen
            ));
        }
        let e = &self.engagement;
        if e.score_interval_secs == 0 || e.scheduler_interval_ms == 0 {
            p.push(
                "engagement.score_interval_secs and scheduler_interval_ms must be at least 1"
                    .into(),
            );
        }
        if !(1..=3_650).contains(&e.horizon_days) || !(1..=20).contains(&e.segments) {
            p.push("engagement.horizon_days must be 1-3650 and segments 1-20".into());
        }
        if e.history_days < e.horizon_days || e.opens_days < 1 {
            p.push("engagement.history_days must be >= horizon_days, opens_days >= 1".into());
        }
        p.extend(e.plan.problems("engagement.plan"));
        for (id, s) in &e.programs {
            p.extend(s.problems(&format!("engagement.programs.{id}")));
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(p))
        }
    }
}

/// Queue names of the engagement worker (under the same prefix as the invoice worker's).
#[derive(Debug, Clone)]
pub struct EngagementNames {
    pub prefix: String,
}

impl EngagementNames {
    pub fn new(prefix: &str) -> Self {
        EngagementNames {
            prefix: prefix.to_string(),
        }
    }
    /// The topic exchange shared with the invoice worker.
    pub fn events(&self) -> String {
        format!("{}.events", self.prefix)
    }
    /// `activity.recorded` work queue (quorum; dead-letters to [`Self::parked`]).
    pub fn activity(&self) -> String {
        format!("{}.engagement.activity", self.prefix)
    }
    /// Refused activity messages, reason in headers.
    pub fn parked(&self) -> String {
        format!("{}.engagement.parked", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_problems_are_all_listed() {
        EngagementConfig::default().validate().unwrap();
        let mut c = EngagementConfig::default();
        c.amqp.url = "http://x".into();
        c.engagement.horizon_days = 0;
        c.engagement.plan.default_send_hour = 23;
        c.engagement.programs.insert(
            "p1".into(),
            PlanSettings {
                threshold: 2.0,
                ..Default::default()
            },
        );
        let e = c.validate().unwrap_err();
        assert_eq!(e.0.len(), 4, "{e}");
        assert!(
            e.to_string().contains("engagement.programs.p1.threshold"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_and_programs_override() {
        let dir = std::env::temp_dir().join(format!("cs-eng-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.toml");
        std::fs::write(&f, "[engagement.plan]\ntreshold = 0.3\n").unwrap();
        let e = EngagementConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("treshold"), "{e}");
        let f = dir.join("good.toml");
        std::fs::write(
            &f,
            "[engagement]\nscore_interval_secs = 60\n[engagement.programs.vip]\nthreshold = 0.3\nbudget_points = 5.0\n",
        )
        .unwrap();
        let c = EngagementConfig::load(Some(&f)).unwrap();
        assert_eq!(c.engagement.score_interval_secs, 60);
        assert_eq!(c.engagement.settings("vip").threshold, 0.3);
        assert_eq!(c.engagement.settings("vip").window_days, 14);
        assert_eq!(c.engagement.settings("other").threshold, 0.5);
    }
}
