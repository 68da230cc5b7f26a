//! `claimscan engagement ...` (owned by the engagement work; wired in main.rs).
//!
//! * `score`: disengagement score, segment, expected purchases and a reason per partner.
//! * `segments`: silhouette / inertia over a range of k, to justify the segment count.
//! * `synth`: simulated partner activity (Parquet) for benchmarks and evaluation.
//! * `plan`: reactivation challenges for the partners at risk (offline; the worker plans the
//!   same way from PostgreSQL).
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
    pub cmd: Sub,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Score every partner with a purchase before --as-of: P(no purchase in the horizon).
    Score(ScoreArgs),
    /// Print silhouette and inertia of KMeans segments for a range of k.
    Segments(SegmentsArgs),
    /// Write simulated partner activity to a Parquet file.
    Synth(SynthArgs),
    /// Plan reactivation challenges for the partners at risk (CSV, or JSON for a .json --out).
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Events as CSV or Parquet: partner_id,occurred_at[,kind,quantity,amount]; its
    /// `message_opened` rows teach each segment's send hour.
    #[arg(long)]
    events: PathBuf,
    /// Plan as of this date (YYYY-MM-DD): scores use earlier events; "now" is its midnight in
    /// the program's time unless --now is given.
    #[arg(long)]
    as_of: String,
    /// The current time (RFC 3339), for send times.
    #[arg(long)]
    now: Option<String>,
    #[arg(long, default_value_t = 91)]
    horizon_days: i32,
    #[arg(long, default_value_t = 5)]
    segments: usize,
    /// Program id written into the challenges.
    #[arg(long, default_value = "default")]
    program: String,
    /// Consent: partner_id[,consented] (CSV or Parquet). Without it, nobody has consented
    /// unless --all-consented.
    #[arg(long)]
    consent: Option<PathBuf>,
    /// Treat every partner as consenting (trials on historical data).
    #[arg(long, conflicts_with = "consent")]
    all_consented: bool,
    /// Earlier challenges: partner_id,send_at[,status] (for the cooldown).
    #[arg(long)]
    existing: Option<PathBuf>,
    /// Program settings as JSON (the keys of `[engagement.plan]`, see the README).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Extra points available for challenges (overrides the settings' budget_points).
    #[arg(long)]
    budget: Option<f64>,
    /// Score at or above which a partner is at risk.
    #[arg(long)]
    threshold: Option<f64>,
    #[arg(long)]
    window_days: Option<i32>,
    #[arg(long)]
    cooldown_days: Option<i32>,
    #[arg(long)]
    multiplier: Option<f64>,
    /// Program time zone as minutes east of UTC.
    #[arg(long, allow_hyphen_values = true)]
    utc_offset_minutes: Option<i32>,
    /// Output: CSV (challenge_id,...,message) or JSON (with stats and send hours) for `.json`.
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
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
pub struct SegmentsArgs {
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
pub struct SynthArgs {
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
    /// Partners per Parquet row group (8,000 is about 1 M events; the loader reads any size
    /// in slices of at most 1 Mi rows).
    #[arg(long, default_value_t = 8_000)]
    row_group_partners: usize,
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
            Sub::Plan(a) => plan(a),
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
    let rss_loaded = peak_rss_mib();
    let storage = table.storage();
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
            "load {:.2}s (peak RSS {} MiB; {storage}), score {:.2}s, total {:.2}s, {:.0} events/s, peak RSS {} MiB; {:?}",
            loaded.as_secs_f64(),
            rss_loaded.map_or("?".to_string(), |m| format!("{m:.0}")),
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

fn plan(a: PlanArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(a.horizon_days >= 1, "--horizon-days must be at least 1");
    let as_of = eng::date::parse_date(&a.as_of)?;
    let mut s: eng::plan::PlanSettings = match &a.settings {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("settings {}", p.display()))?,
        None => Default::default(),
    };
    if let Some(v) = a.budget {
        s.budget_points = v;
    }
    if let Some(v) = a.threshold {
        s.threshold = v;
    }
    if let Some(v) = a.window_days {
        s.window_days = v;
    }
    if let Some(v) = a.cooldown_days {
        s.cooldown_days = v;
    }
    if let Some(v) = a.multiplier {
        s.multiplier = v;
        s.min_multiplier = s.min_multiplier.min(v);
    }
    if let Some(v) = a.utc_offset_minutes {
        s.utc_offset_minutes = v;
    }
    let problems = s.problems("settings");
    anyhow::ensure!(
        problems.is_empty(),
        "invalid settings:\n  - {}",
        problems.join("\n  - ")
    );
    let now = match &a.now {
        Some(t) => eng::tables::parse_timestamp(t, false)
            .with_context(|| format!("--now {t:?} is not an RFC 3339 timestamp"))?,
        None => i64::from(as_of) * 86_400 - i64::from(s.utc_offset_minutes) * 60,
    };

    let mut cfg = eng::ScoreConfig::new(as_of, a.horizon_days);
    cfg.k = a.segments.max(1);
    let table = eng::load(&a.events, as_of)
        .with_context(|| format!("reading events from {}", a.events.display()))?;
    let run = eng::score_table(&table, &cfg)?;
    drop(table);
    let opens = eng::tables::load_opens(&a.events, i64::from(as_of) * 86_400)?;
    let consent = match (&a.consent, a.all_consented) {
        (Some(p), _) => eng::tables::load_consent(p)?,
        (None, true) => run.scores.iter().map(|s| s.partner_id.clone()).collect(),
        (None, false) => Default::default(),
    };
    let existing = match &a.existing {
        Some(p) => eng::tables::load_existing(p)?,
        None => Vec::new(),
    };
    let plan = eng::plan::plan(
        &eng::plan::PlanInput {
            program_id: &a.program,
            scores: &run.scores,
            consent: &consent,
            existing: &existing,
            opens: &opens,
            budget_remaining: s.budget_points,
            now,
            // One scoring from a file: no history for the alert memory (`confirm_days`).
            at_risk_days: None,
        },
        &s,
    );
    let json = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut w: Box<dyn Write> = if a.out.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&a.out)
                .with_context(|| format!("creating {}", a.out.display()))?,
        ))
    };
    if json {
        let challenges: Vec<serde_json::Value> = plan
            .challenges
            .iter()
            .map(|c| {
                serde_json::json!({
                    "challenge_id": c.challenge_id,
                    "program_id": c.program_id,
                    "partner_id": c.partner_id,
                    "segment": c.segment,
                    "score": c.score,
                    "goal": c.goal,
                    "window_start": eng::plan::rfc3339(c.window_start),
                    "window_end": eng::plan::rfc3339(c.window_end),
                    "multiplier": c.multiplier,
                    "template": c.template,
                    "message": c.message,
                    "send_at": eng::plan::rfc3339(c.send_at),
                    "send_hour_learned": c.send_hour_learned,
                    "expected_cost": c.expected_cost,
                })
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut w,
            &serde_json::json!({
                "as_of": a.as_of,
                "now": eng::plan::rfc3339(now),
                "stats": plan.stats,
                "send_hours": plan.send_hours,
                "challenges": challenges,
            }),
        )?;
        writeln!(w)?;
    } else {
        eng::tables::write_plan_csv(&plan.challenges, &mut w)?;
    }
    w.flush()?;
    if !a.quiet {
        let st = &plan.stats;
        eprintln!(
            "{} partners scored, {} at risk: {} planned ({:.0} of {:.0} budget points), {} without consent, {} in cooldown, {} over budget",
            st.scored, st.at_risk, st.planned, st.cost, s.budget_points, st.no_consent, st.cooldown, st.over_budget
        );
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
        // About 1 M events per row group by default (pyarrow's default cap is 1 Mi rows).
        batch: a.row_group_partners.max(1),
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

    /// Purchases every 5 days from 2023-06-01; drifting partners stop on 2024-04-15 and buy
    /// once more on 2024-05-10.
    fn rhythm_events() -> PathBuf {
        let start = eng::date::parse_date("2023-06-01").unwrap();
        let stop = eng::date::parse_date("2024-04-15").unwrap();
        let end = eng::date::parse_date("2024-05-30").unwrap();
        let mut csv = String::from("partner_id,occurred_at,kind\n");
        for (id, drifting) in [("s1", false), ("d1", true), ("d2", true)] {
            let mut d = start;
            while d < end {
                if !drifting || d < stop {
                    csv.push_str(&format!(
                        "{id},{}T09:00:00Z,purchase\n",
                        eng::date::format_date(d)
                    ));
                }
                d += 5;
            }
            if drifting {
                csv.push_str(&format!("{id},2024-05-10T11:00:00Z,purchase\n"));
            }
        }
        let events = tmp("plan_events.csv");
        std::fs::write(&events, csv).unwrap();
        events
    }

    #[test]
    fn plan_contract_challenges_only_for_consented_partners_at_risk() {
        let events = rhythm_events();
        let consent = tmp("plan_consent.csv");
        std::fs::write(
            &consent,
            "partner_id,consented\ns1,true\nd1,true\nd2,false\n",
        )
        .unwrap();
        let out = tmp("plan_out.json");
        let args = |out: &std::path::Path| {
            vec![
                "plan".to_string(),
                "--events".into(),
                events.display().to_string(),
                "--as-of".into(),
                "2024-06-01".into(),
                "--now".into(),
                "2024-06-01T12:00:00Z".into(),
                "--consent".into(),
                consent.display().to_string(),
                "--program".into(),
                "prog-1".into(),
                "--out".into(),
                out.display().to_string(),
                "--quiet".into(),
            ]
        };
        let a = args(&out);
        assert_eq!(run(&a.iter().map(String::as_str).collect::<Vec<_>>()), 0);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let ch = v["challenges"].as_array().unwrap();
        let ids: Vec<&str> = ch
            .iter()
            .map(|c| c["partner_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["d1"], "{v:#}");
        assert_eq!(v["stats"]["at_risk"], 2);
        assert_eq!(v["stats"]["no_consent"], 1);
        let c = &ch[0];
        assert_eq!(c["program_id"], "prog-1");
        assert!(c["goal"].as_u64().unwrap() >= 1);
        assert!(c["multiplier"].as_f64().unwrap() > 1.0);
        // Noon is past the default hour (10:00): tomorrow at 10:00, 14-day window.
        assert_eq!(c["send_at"], "2024-06-02T10:00:00Z");
        assert_eq!(c["window_end"], "2024-06-16T10:00:00Z");
        assert!(!c["message"].as_str().unwrap().contains('{'));

        // The same as CSV; and an earlier challenge puts d1 in cooldown.
        let csv_out = tmp("plan_out.csv");
        let existing = tmp("plan_existing.csv");
        std::fs::write(&existing, "partner_id,send_at\nd1,2024-05-20T10:00:00Z\n").unwrap();
        let mut a = args(&csv_out);
        a.extend(["--existing".to_string(), existing.display().to_string()]);
        assert_eq!(run(&a.iter().map(String::as_str).collect::<Vec<_>>()), 0);
        let text = std::fs::read_to_string(&csv_out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("challenge_id,program_id,partner_id,"));
        let a = args(&csv_out);
        assert_eq!(run(&a.iter().map(String::as_str).collect::<Vec<_>>()), 0);
        let text = std::fs::read_to_string(&csv_out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().nth(1).unwrap().contains(",prog-1,d1,"));
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
