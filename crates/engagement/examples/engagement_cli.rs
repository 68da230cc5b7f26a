//! Stand-alone build of the `claimscan engagement ...` subcommand.
//!
//! The subcommand's code lives in `crates/cli/src/engagement.rs` (wired into the `claimscan`
//! binary there); compiling the same file here lets this crate build, test and benchmark the
//! CLI contract without the OCR/PDF parts of the workspace:
//! `cargo run --release -p claimscan-engagement --example engagement-cli -- engagement score ...`
#[path = "../../cli/src/engagement.rs"]
mod engagement;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "claimscan")]
struct Cli {
    #[command(subcommand)]
    cmd: Top,
}

#[derive(Subcommand)]
enum Top {
    Engagement(engagement::EngagementCmd),
}

fn main() -> anyhow::Result<()> {
    let Top::Engagement(cmd) = Cli::parse().cmd;
    std::process::exit(cmd.run()?)
}
