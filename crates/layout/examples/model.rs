//! `cargo run -p claimscan-layout --example model -- check DIR` /
//! `... -- eval rules models/layout-gbdt --data DIR [--split heldout]`: the same commands as
//! `claimscan model ...`, usable before the binary wires them in.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    cmd: claimscan_layout::cli::ModelCmd,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = cli.cmd.run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
