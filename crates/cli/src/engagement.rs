//! `claimscan engagement ...` (owned by the engagement work; wired in main.rs).
//!
//! * `score`: disengagement score, segment, expected purchases and a reason per partner.
//! * `segments`: silhouette / inertia over a range of k, to justify the segment count.
//! * `synth`: simulated partner activity (Parquet) for benchmarks and evaluation.
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use claimscan_engagement as eng;
use clap::{Args, Subcommand};

/// Score partners for disengagement, plan reactivation challenges, run the worker.
#[derive(Debug, Args)]
pub struct EngagementCmd {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Score every partner with a purchase before --as-of: P(no purchase in the horizon).
    Score(ScoreArgs),
    /// Print silhouette and inertia of KMeans segments for a range of k.
    Segments(SegmentsArgs),
    /// Write simulated partner activity to a Parquet file.
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// Events as CSV or Parquet: partner_id,occurred_at[,kind,quantity,amount].
    #[arg(long)]
    events: PathBuf,
    /// Score as of this date (YYYY-MM-DD); only earlier events are read.
    #[arg(long)]
    as_of: String,
    /// Horizon of the "no purchase" question, in days.
    #[arg(long, default_value_t = 91)]
    horizon_days: i32,
    /// Output CSV: partner_id,score,segment,expected_purchases,reason ("-" for stdout).
    #[arg(long)]
    out: PathBuf,
    /// Number of segments.
    #[arg(long, default_value_t = 5)]
    segments: usize,
    /// Also write the fitted model, segments and timings as JSON.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Print nothing on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct SegmentsArgs {
    #[arg(long)]
    events: PathBuf,
    #[arg(long)]
    as_of: String,
    /// Smallest and largest k to try.
    #[arg(long, default_value_t = 3)]
    k_min: usize,
    #[arg(long, default_value_t = 8)]
    k_max: usize,
    /// Partners used to fit, and (a subset) to compute silhouettes.
    #[arg(long, default_value_t = 20_000)]
    sample: usize,
    #[arg(long, default_value_t = 3_000)]
    silhouette_sample: usize,
}

#[derive(Debug, Args)]
struct SynthArgs {
    /// Output Parquet file.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    partners: usize,
    /// First simulated day.
    #[arg(long, default_value = "2023-01-01")]
    start: String,
    /// Simulated days.
    #[arg(long, default_value_t = 730)]
    days: i32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also write partner_id,profile,churn_day as CSV.
    #[arg(long)]
    truth: Option<PathBuf>,
}

/// Peak resident set size of this process in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

impl EngagementCmd {
    pub fn run(self) -> anyhow::Result<i32> {
        match self.cmd {
            Sub::Score(a) => score(a),
            Sub::Segments(a) => segments(a),
            Sub::Synth(a) => synth(a),
        }
    }
}

fn score(a: ScoreArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(a.horizon_days >= 1, "--horizon-days must be at least 1");
    let start = Instant::now();
    let as_of = eng::date::parse_date(&a.as_of)?;
    let mut cfg = eng::ScoreConfig::new(as_of, a.horizon_days);
    cfg.k = a.segments.max(1);
    let table = eng::load(&a.events, as_of)
        .with_context(|| format!("reading events from {}", a.events.display()))?;
    let loaded = start.elapsed();
    let run = eng::score_table(&table, &cfg)?;
    drop(table);
    let scored = start.elapsed();
    if a.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        eng::write_csv(&run.scores, &mut w)?;
        w.flush()?;
    } else {
        let f = std::fs::File::create(&a.out)
            .with_context(|| format!("creating {}", a.out.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        eng::write_csv(&run.scores, &mut w)?;
        w.flush()?;
    }
    if let Some(p) = &a.summary {
        std::fs::write(p, serde_json::to_string_pretty(&run.summary)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let total = start.elapsed().as_secs_f64();
    if !a.quiet {
        let s = &run.summary;
        eprintln!(
            "scored {} partners from {} events as of {} (horizon {} days) with {} on {} training rows",
            s.partners, s.events, s.as_of, s.horizon_days, s.method, s.training_rows
        );
        eprintln!(
            "load {:.2}s, score {:.2}s, total {:.2}s, {:.0} events/s, peak RSS {} MiB; {:?}",
            loaded.as_secs_f64(),
            (scored - loaded).as_secs_f64(),
            total,
            s.events as f64 / total.max(1e-9),
            peak_rss_mib().map_or("?".to_string(), |m| format!("{m:.0}")),
            s.timings_ms
        );
        for seg in &s.segments {
            eprintln!(
                "segment {:<22} {:>8} partners  {:.1}/month (recent {:.1}), overdue x{:.1}, tenure {:.0}d, {:.0} per order",
                seg.name, seg.size, seg.centroid[0], seg.centroid[1], seg.centroid[2], seg.centroid[3], seg.centroid[4]
            );
        }
    }
    Ok(0)
}

fn segments(a: SegmentsArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(
        a.k_min >= 2 && a.k_min <= a.k_max,
        "need 2 <= k-min <= k-max"
    );
    let as_of = eng::date::parse_date(&a.as_of)?;
    let table = eng::load(&a.events, as_of)?;
    let rows = eng::score::segment_rows(&table, as_of, a.sample);
    let ks: Vec<usize> = (a.k_min..=a.k_max).collect();
    let report = eng::segment::choose_k(&rows, &ks, a.silhouette_sample, 42)?;
    println!("k,silhouette,inertia_per_point,segments");
    for r in report {
        println!(
            "{},{:.4},{:.4},{}",
            r.k,
            r.silhouette,
            r.inertia_per_point,
            r.names.join(" ")
        );
    }
    Ok(0)
}

fn synth(a: SynthArgs) -> anyhow::Result<i32> {
    let start = Instant::now();
    let cfg = eng::synth::SynthConfig {
        partners: a.partners,
        start_day: eng::date::parse_date(&a.start)?,
        days: a.days,
        seed: a.seed,
        batch: 50_000,
    };
    let (n, truth) = eng::synth::generate_parquet(&cfg, &a.out)?;
    if let Some(p) = &a.truth {
        let mut w = std::io::BufWriter::new(std::fs::File::create(p)?);
        writeln!(w, "partner_id,profile,churn_day")?;
        for t in &truth {
            let churn = t.churn_day.map(eng::date::format_date).unwrap_or_default();
            writeln!(w, "{},{},{}", t.partner_id, t.profile, churn)?;
        }
        w.flush()?;
    }
    eprintln!(
        "wrote {n} events for {} partners to {} in {:.1}s",
        a.partners,
        a.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        cmd: EngagementCmd,
    }

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("claimscan-eng-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn run(args: &[&str]) -> i32 {
        let mut all = vec!["engagement"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).unwrap().cmd.run().unwrap()
    }

    fn read_rows(path: &std::path::Path) -> (String, Vec<Vec<String>>) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_string();
        let rows = lines
            .map(|l| {
                // Split the first four fields; the reason (last) may be quoted and hold commas.
                let mut parts: Vec<String> = l.splitn(5, ',').map(str::to_string).collect();
                let reason = parts.pop().unwrap();
                parts.push(reason.trim_matches('"').to_string());
                parts
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn score_contract_minimal_csv() {
        let events = tmp("min.csv");
        let mut csv = String::from("partner_id,occurred_at\n");
        // 007: weekly then silent; 008: one purchase; 009: only after the as-of date.
        for w in 0..30 {
            csv.push_str(&format!("007,2024-01-{:02}\n", 1 + (w % 4) * 7));
            csv.push_str(&format!(
                "010,2024-02-{:02}T09:30:00+01:00\n",
                1 + (w % 4) * 7
            ));
        }
        csv.push_str("008,2023-12-24\n009,2024-04-02\n");
        std::fs::write(&events, csv).unwrap();
        let out = tmp("min_out.csv");
        let code = run(&[
            "score",
            "--events",
            events.to_str().unwrap(),
            "--as-of",
            "2024-03-01",
            "--horizon-days",
            "30",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0);
        let (header, rows) = read_rows(&out);
        assert_eq!(header, "partner_id,score,segment,expected_purchases,reason");
        let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            ids,
            ["007", "008", "010"],
            "leading zeros kept, 009 excluded"
        );
        for r in &rows {
            let s: f64 = r[1].parse().unwrap();
            assert!((0.0..=1.0).contains(&s), "{r:?}");
            let e: f64 = r[3].parse().unwrap();
            assert!(e.is_finite() && e >= 0.0);
            assert!(!r[2].is_empty() && !r[4].is_empty());
        }
        let score = |id: &str| -> f64 {
            rows.iter().find(|r| r[0] == id).unwrap()[1]
                .parse()
                .unwrap()
        };
        assert!(
            score("007") > score("010"),
            "silent weekly buyer must outrank an active one"
        );
    }

    #[test]
    fn score_reads_parquet_with_kinds() {
        let pq = tmp("synth.parquet");
        assert_eq!(
            run(&[
                "synth",
                "--out",
                pq.to_str().unwrap(),
                "--partners",
                "300",
                "--days",
                "400"
            ]),
            0
        );
        let out = tmp("synth_out.csv");
        let code = run(&[
            "score",
            "--events",
            pq.to_str().unwrap(),
            "--as-of",
            "2024-01-15",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0);
        let (_, rows) = read_rows(&out);
        assert!(rows.len() > 250 && rows.len() <= 300, "{}", rows.len());
        assert!(rows
            .iter()
            .all(|r| r[1].parse::<f64>().unwrap().is_finite()));
    }

    #[test]
    fn bad_as_of_is_an_error() {
        let args = [
            "engagement",
            "score",
            "--events",
            "x.csv",
            "--as-of",
            "1997/10/01",
            "--out",
            "-",
        ];
        assert!(Wrapper::try_parse_from(args).unwrap().cmd.run().is_err());
    }
}
