//! claimscan-engagement: partner activity series, disengagement scores, segments.
//!
//! * [`events`]: load CSV/Parquet activity events with polars into per-partner series.
//! * [`features`]: rhythm-aware per-partner features at a point in time.
//! * [`model`]: ridge logistic / Poisson regression fitted by Newton's method.
//! * [`score`]: back-dated training, scores in `[0,1]`, expected purchases, reasons.
//! * [`segment`]: linfa KMeans segments named by their centroids.
//! * [`plan`]: reactivation challenges (goal, multiplier, budget, send time, message).
//! * [`tables`]: consent, earlier challenges and message opens from files; the plan as CSV.
//! * [`synth`]: a fast synthetic activity generator for the scale benchmark.

pub mod date;
pub mod events;
pub mod features;
pub mod model;
pub mod plan;
pub mod score;
pub mod segment;
pub mod synth;
pub mod tables;

pub use events::{load, ActivityTable, Kind};
pub use score::{score_table, write_csv, PartnerScore, ScoreConfig, ScoreRun};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Polars(#[from] polars::prelude::PolarsError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Load `path` and score every partner with a purchase before `cfg.as_of`.
pub fn score_file(path: &std::path::Path, cfg: &ScoreConfig) -> Result<ScoreRun> {
    let table = load(path, cfg.as_of)?;
    score_table(&table, cfg)
}
