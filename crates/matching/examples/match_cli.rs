//! Stand-alone build of the `claimscan match ...` subcommand.
//!
//! The subcommand's code lives in `crates/cli/src/matching.rs` (wired into the `claimscan`
//! binary there); compiling the same file here lets this crate build, test and benchmark the CLI
//! contract without the OCR/PDF parts of the workspace:
//! `cargo run --release -p claimscan-matching --example match-cli -- match --catalog ... --queries ...`
#[path = "../../cli/src/matching.rs"]
mod matching;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "claimscan")]
struct Cli {
    #[command(subcommand)]
    cmd: Top,
}

#[derive(Subcommand)]
enum Top {
    Match(matching::MatchCmd),
}

fn main() -> anyhow::Result<()> {
    let Top::Match(cmd) = Cli::parse().cmd;
    std::process::exit(cmd.run()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_output_one_row_per_query_same_order() {
        let dir = std::env::temp_dir().join(format!("claimscan-match-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../training-data/fixtures/catalog.csv");
        let queries = dir.join("q.csv");
        std::fs::write(
            &queries,
            "id,description,product_code,unit_price,distributor\n\
             z9,CIRCA E 20-70 220MM PN10,,304.0,D1\n\
             a1,HYDROTEC AQUAFLOW PUMP 25-60,,,D1\n\
             m5,\"Circulator pump CIRCA E 20-70 180 mm PN10 1x230V\",,,\n\
             b2,,,,\n",
        )
        .unwrap();
        let out = dir.join("out.csv");
        let cli = Cli::parse_from([
            "claimscan",
            "match",
            "--catalog",
            fx.to_str().unwrap(),
            "--queries",
            queries.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let Top::Match(cmd) = cli.cmd;
        assert_eq!(cmd.run().unwrap(), 0);
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(rows[0], ["id", "sku", "score", "probability", "decision"]);
        assert_eq!(rows.len(), 5, "{text}");
        let ids: Vec<&str> = rows[1..].iter().map(|r| r[0]).collect();
        assert_eq!(ids, ["z9", "a1", "m5", "b2"]);
        assert_eq!(rows[1][1], "NV-413629");
        assert_eq!((rows[2][1], rows[2][4]), ("", "none"));
        assert_eq!(rows[3][1], "NV-874696");
        for r in &rows[1..] {
            assert_eq!(r.len(), 5);
            let p: f64 = r[3].parse().unwrap();
            assert!((0.0..=1.0).contains(&p));
            assert!(["match", "review", "none"].contains(&r[4]));
            assert_eq!(r[1].is_empty(), r[4] == "none");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
