//! `claimscan engagement ...` (owned by the engagement work; wired in main.rs).
use clap::Args;

/// Score partners for disengagement, plan reactivation challenges, run the worker.
#[derive(Debug, Args)]
pub struct EngagementCmd {}

impl EngagementCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        anyhow::bail!("engagement commands are not built yet")
    }
}
