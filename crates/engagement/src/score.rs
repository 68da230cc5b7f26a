//! Disengagement scores: probability of no purchase in the next `horizon` days.
//!
//! Method ("back-dated logistic"): training rows are built inside the history before the
//! as-of date by moving the as-of back by the horizon (and further by `snapshot_step` for a
//! few more snapshots): features at `t_k = as_of - horizon - k*step` use events before `t_k`,
//! the label is "no purchase in `[t_k, t_k + horizon)`", which ends on or before the as-of.
//! A ridge logistic regression on rhythm-aware features (recency, recency / the partner's own
//! usual gap, counts in several windows, long-run vs recent rate, same-season-last-year count,
//! tenure, amounts, other activity) gives the score; a Poisson regression on the same rows gives
//! the expected number of purchase days. Nothing after the as-of date is ever read.
//!
//! When the history is too short for a single snapshot, or labels are all one class, a
//! rhythm-only fallback is used (see [`fallback`]), so every partner always gets a score.

use std::time::Instant;

use rayon::prelude::*;

use crate::events::ActivityTable;
use crate::features::{features, PartnerSeries, Raw, NF};
use crate::model::{Family, Glm};
use crate::segment::{segment_features, Segment, SegmentModel, NS};
use crate::{date, Result};

#[derive(Debug, Clone)]
pub struct ScoreConfig {
    /// Days since 1970-01-01; only events strictly before it are used.
    pub as_of: i32,
    pub horizon: i32,
    /// Training snapshots (back-dated as-of dates).
    pub snapshots: usize,
    pub snapshot_step: i32,
    /// Cap on training rows (sampled deterministically by partner-id rank).
    pub max_train_rows: usize,
    pub l2: f64,
    /// Number of segments.
    pub k: usize,
    /// Partners sampled to fit segments.
    pub segment_sample: usize,
    pub seed: u64,
}

impl ScoreConfig {
    pub fn new(as_of: i32, horizon: i32) -> Self {
        Self {
            as_of,
            horizon: horizon.max(1),
            snapshots: 6,
            snapshot_step: 30,
            max_train_rows: 400_000,
            l2: 1.0,
            k: 5,
            segment_sample: 20_000,
            seed: 42,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PartnerScore {
    pub partner_id: String,
    /// Probability of no purchase in the horizon, in `[0, 1]`.
    pub score: f64,
    pub segment: String,
    /// Expected purchase days in the horizon.
    pub expected_purchases: f64,
    pub reason: String,
    #[serde(skip)]
    pub raw: Raw,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelSummary {
    /// `backdated-logistic` or `rhythm-fallback`.
    pub method: String,
    pub as_of: String,
    pub horizon_days: i32,
    pub snapshots: Vec<String>,
    pub training_rows: usize,
    pub training_lapse_rate: f64,
    pub logistic: Option<Glm>,
    pub poisson: Option<Glm>,
    pub prior_gap_days: f32,
    pub segments: Vec<Segment>,
    pub partners: usize,
    pub events: usize,
    pub timings_ms: Vec<(String, u128)>,
}

pub struct ScoreRun {
    pub scores: Vec<PartnerScore>,
    pub summary: ModelSummary,
}

fn unit_hash(a: u64, b: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(0x94D0_49BB_1331_11EB);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Median of `span / (n - 1)` over partners with two or more purchases (fallback 30 days).
fn prior_gap<'a>(raws: impl Iterator<Item = &'a Raw>) -> f32 {
    let mut gaps: Vec<f32> = raws
        .filter(|r| r.n >= 2.0)
        .map(|r| r.span / (r.n - 1.0))
        .collect();
    if gaps.is_empty() {
        return 30.0;
    }
    let mid = gaps.len() / 2;
    let (_, m, _) = gaps.select_nth_unstable_by(mid, f32::total_cmp);
    m.max(1.0)
}

/// Rhythm-only fallback: a partner whose purchases follow a Poisson process at their shrunk
/// rate, and who is still active with a probability that decays once the current gap exceeds
/// the usual gap. Returns `(P(no purchase in horizon), expected purchases)`.
pub fn fallback(r: &Raw, prior_gap: f32, horizon: i32) -> (f64, f64) {
    let gap = r.shrunk_gap(prior_gap) as f64;
    let overdue = (r.recency as f64 / gap - 1.0).max(0.0);
    let p_active = 1.0 / (1.0 + (overdue / 2.0).powi(2));
    let expected = horizon as f64 / gap;
    let p_none = 1.0 - p_active * (1.0 - (-expected).exp());
    (p_none.clamp(0.0, 1.0), p_active * expected)
}

fn fmt_num(x: f32) -> String {
    if (x - x.round()).abs() < 0.05 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

/// A manager-readable explanation of a partner's situation.
pub fn reason(r: &Raw, median_gap: Option<f32>, score: f64, horizon: i32) -> String {
    let mut parts = Vec::new();
    let recency = r.recency as i64;
    if r.n <= 1.0 {
        parts.push(format!("one purchase so far, {recency} days ago"));
    } else {
        let old_months = (r.tenure - 42.0) / 30.44;
        let old_n = r.n - r.c42;
        let recent = r.c42 / (42.0 / 30.44);
        if r.tenure >= 84.0 && old_months > 0.0 && old_n > 0.0 {
            let old = old_n / old_months;
            if recent < 0.6 * old {
                parts.push(format!(
                    "orders fell from {} a month to {} in the last six weeks",
                    fmt_num(old),
                    fmt_num(recent)
                ));
            } else if recent > 1.4 * old {
                parts.push(format!(
                    "orders rose from {} a month to {} in the last six weeks",
                    fmt_num(old),
                    fmt_num(recent)
                ));
            } else {
                parts.push(format!("orders steady at {} a month", fmt_num(old)));
            }
        } else {
            parts.push(format!("{} orders in {} days", r.n as i64, r.tenure as i64));
        }
        let usual = median_gap.unwrap_or(r.span / (r.n - 1.0));
        let mut gap = format!("usual gap {} days, current gap {recency}", fmt_num(usual));
        if usual >= 1.0 && r.recency >= 2.0 * usual {
            gap.push_str(&format!(" ({}x usual)", fmt_num(r.recency / usual)));
        }
        parts.push(gap);
    }
    if r.season > 0.0 {
        parts.push(format!(
            "{} orders in the coming {horizon} days last year",
            r.season as i64
        ));
    }
    if r.other_before > 0.0 && r.other30 == 0.0 {
        parts.push("no logins or other activity in 30 days".to_string());
    }
    let level = if score >= 0.8 {
        "high risk"
    } else if score >= 0.5 {
        "at risk"
    } else {
        "likely to buy"
    };
    format!("{level}: {}", parts.join("; "))
}

/// A partner's as-of statistics, and its sampled training rows `(snapshot, raw, purchases)`.
type PartnerPass = (Option<Scored>, Vec<(u8, Raw, f32)>);

struct Scored {
    row: usize,
    raw: Raw,
    median_gap: Option<f32>,
}

/// Score every partner with a purchase before `cfg.as_of`.
pub fn score_table(table: &ActivityTable, cfg: &ScoreConfig) -> Result<ScoreRun> {
    let t0 = Instant::now();
    let mut timings = Vec::new();
    let h = cfg.horizon;
    let min_day = table.min_day.unwrap_or(cfg.as_of);
    // Back-dated snapshots need at least four weeks of history before them.
    let snaps: Vec<i32> = (0..cfg.snapshots as i32)
        .map(|k| cfg.as_of - h - k * cfg.snapshot_step)
        .filter(|&t| t - min_day >= 28)
        .collect();
    let rate = if snaps.is_empty() {
        0.0
    } else {
        (cfg.max_train_rows as f64 / (table.len() as f64 * snaps.len() as f64)).min(1.0)
    };

    // One parallel pass: per-partner series, as-of statistics, sampled training rows.
    let per_partner: Vec<PartnerPass> = table
        .order
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |scratch, (rank, &row)| {
            let row = row as usize;
            let s = PartnerSeries::from_events(&table.events(row), scratch);
            let scored = s.raw(cfg.as_of, h).map(|raw| Scored {
                row,
                raw,
                median_gap: s.median_gap(cfg.as_of),
            });
            let mut train = Vec::new();
            for (k, &t) in snaps.iter().enumerate() {
                if unit_hash(rank as u64, k as u64) < rate {
                    if let Some(raw) = s.raw(t, h) {
                        train.push((k as u8, raw, s.count_between(t, t + h) as f32));
                    }
                }
            }
            (scored, train)
        })
        .collect();
    timings.push(("series+features".to_string(), t0.elapsed().as_millis()));

    let mut scored = Vec::with_capacity(per_partner.len());
    let mut train = Vec::new();
    for (s, t) in per_partner {
        if let Some(s) = s {
            scored.push(s);
        }
        train.extend(t);
    }
    let snap_gap: Vec<f32> = (0..snaps.len())
        .map(|k| prior_gap(train.iter().filter(|t| t.0 as usize == k).map(|t| &t.1)))
        .collect();
    let gap_now = prior_gap(scored.iter().map(|s| &s.raw));
    let x: Vec<[f32; NF]> = train
        .iter()
        .map(|(k, raw, _)| features(raw, snap_gap[*k as usize]))
        .collect();
    let lapsed: Vec<f32> = train
        .iter()
        .map(|t| if t.2 == 0.0 { 1.0 } else { 0.0 })
        .collect();
    let counts: Vec<f32> = train.iter().map(|t| t.2).collect();
    let positives = lapsed.iter().filter(|&&y| y > 0.0).count();
    let usable = x.len() >= 200 && positives >= 10 && x.len() - positives >= 10;
    let t1 = Instant::now();
    let (logistic, poisson) = if usable {
        (
            Some(Glm::fit(&x, &lapsed, Family::Logistic, cfg.l2)),
            Some(Glm::fit(&x, &counts, Family::Poisson, cfg.l2)),
        )
    } else {
        (None, None)
    };
    timings.push(("fit".to_string(), t1.elapsed().as_millis()));

    // Segments on a deterministic sample.
    let t2 = Instant::now();
    let seg_rows: Vec<[f64; NS]> = scored
        .iter()
        .map(|s| segment_features(&s.raw, gap_now))
        .collect();
    let every = (seg_rows.len() / cfg.segment_sample.max(1)).max(1);
    let sample: Vec<[f64; NS]> = seg_rows.iter().step_by(every).copied().collect();
    let mut segments = SegmentModel::fit(&sample, cfg.k, cfg.seed)?;
    let assigned: Vec<usize> = seg_rows.par_iter().map(|r| segments.assign(r)).collect();
    for &a in &assigned {
        if let Some(s) = segments.segments.get_mut(a) {
            s.size += 1;
        }
    }
    timings.push(("segments".to_string(), t2.elapsed().as_millis()));

    let t3 = Instant::now();
    let scores: Vec<PartnerScore> = scored
        .par_iter()
        .zip(assigned.par_iter())
        .map(|(s, &seg)| {
            let (fb_p, fb_e) = fallback(&s.raw, gap_now, h);
            let (mut p, mut e) = match (&logistic, &poisson) {
                (Some(l), Some(pm)) => {
                    let f = features(&s.raw, gap_now);
                    (l.predict(&f), pm.predict(&f))
                }
                _ => (fb_p, fb_e),
            };
            if !p.is_finite() {
                p = fb_p;
            }
            if !e.is_finite() {
                e = fb_e;
            }
            let p = p.clamp(0.0, 1.0);
            PartnerScore {
                partner_id: table.id(s.row).to_string(),
                score: p,
                segment: segments.name(seg).to_string(),
                expected_purchases: e.max(0.0),
                reason: reason(&s.raw, s.median_gap, p, h),
                raw: s.raw,
            }
        })
        .collect();
    timings.push(("predict+reasons".to_string(), t3.elapsed().as_millis()));

    let summary = ModelSummary {
        method: if usable {
            "backdated-logistic"
        } else {
            "rhythm-fallback"
        }
        .to_string(),
        as_of: date::format_date(cfg.as_of),
        horizon_days: h,
        snapshots: snaps.iter().map(|&t| date::format_date(t)).collect(),
        training_rows: x.len(),
        training_lapse_rate: positives as f64 / x.len().max(1) as f64,
        logistic,
        poisson,
        prior_gap_days: gap_now,
        segments: segments.segments.clone(),
        partners: scores.len(),
        events: table.n_events,
        timings_ms: timings,
    };
    Ok(ScoreRun { scores, summary })
}

/// Quote a CSV field when needed.
pub(crate) fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Write `partner_id,score,segment,expected_purchases,reason`.
pub fn write_csv(scores: &[PartnerScore], out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(out, "partner_id,score,segment,expected_purchases,reason")?;
    for s in scores {
        writeln!(
            out,
            "{},{:.6},{},{:.4},{}",
            csv_field(&s.partner_id),
            s.score,
            csv_field(&s.segment),
            s.expected_purchases,
            csv_field(&s.reason)
        )?;
    }
    Ok(())
}

/// Segment feature rows (natural units) as of `as_of` for about `sample` partners, taken
/// evenly in partner-id order.
pub fn segment_rows(table: &ActivityTable, as_of: i32, sample: usize) -> Vec<[f64; NS]> {
    let every = (table.len() / sample.max(1)).max(1);
    let raws: Vec<Raw> = table
        .order
        .par_iter()
        .step_by(every)
        .map_init(Vec::new, |scratch, &row| {
            PartnerSeries::from_events(&table.events(row as usize), scratch).raw(as_of, 91)
        })
        .flatten()
        .collect();
    let gap = prior_gap(raws.iter());
    raws.iter().map(|r| segment_features(r, gap)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    const AS_OF: i32 = 19_800; // 2024-03-18

    /// (partner, purchase days) for the probes every test checks.
    fn probes() -> Vec<(String, Vec<i32>)> {
        let weekly = |last: i32| (0..100).map(|i| last - 7 * i).collect::<Vec<_>>();
        let monthly = |last: i32| (0..24).map(|i| last - 30 * i).collect::<Vec<_>>();
        vec![
            ("weekly_stopped".into(), weekly(AS_OF - 42)),
            ("weekly_active".into(), weekly(AS_OF - 3)),
            ("monthly_21".into(), monthly(AS_OF - 21)),
            ("single".into(), vec![AS_OF - 100]),
            ("after_only".into(), vec![AS_OF + 5]),
        ]
    }

    /// Weekly and monthly buyers over two years; 40% stop for good at some point.
    fn population() -> Vec<(String, Vec<i32>)> {
        let mut out = probes();
        for i in 0..800 {
            let gap = if i % 2 == 0 { 7 } else { 30 };
            let start = AS_OF - 730 + (i * 13) % 60;
            let stop = if i % 5 < 2 {
                AS_OF - 700 + (i * 37) % 700
            } else {
                i32::MAX
            };
            let mut d = start;
            let mut days = Vec::new();
            let mut k = 0;
            while d < AS_OF + 200 && d < stop {
                days.push(d);
                k += 1;
                d += gap + (k * 7 + i) % 5 - 2;
            }
            out.push((format!("p{i:04}"), days));
        }
        out
    }

    fn frame(partners: &[(String, Vec<i32>)]) -> DataFrame {
        let mut ids = Vec::new();
        let mut at = Vec::new();
        for (id, days) in partners {
            for &d in days {
                ids.push(id.clone());
                at.push(format!("{}T10:00:00Z", date::format_date(d)));
            }
        }
        df!("partner_id" => ids, "occurred_at" => at).unwrap()
    }

    fn run(partners: &[(String, Vec<i32>)]) -> ScoreRun {
        let table = crate::events::load_lazy(frame(partners).lazy(), AS_OF).unwrap();
        score_table(&table, &ScoreConfig::new(AS_OF, 91)).unwrap()
    }

    fn by_id(run: &ScoreRun, id: &str) -> PartnerScore {
        run.scores
            .iter()
            .find(|s| s.partner_id == id)
            .unwrap()
            .clone()
    }

    fn check_probes(run: &ScoreRun) {
        let stopped = by_id(run, "weekly_stopped");
        let active = by_id(run, "weekly_active");
        let monthly = by_id(run, "monthly_21");
        let single = by_id(run, "single");
        assert!(
            stopped.score > active.score + 0.3,
            "stopped {} active {}",
            stopped.score,
            active.score
        );
        assert!(
            monthly.score < 0.5,
            "monthly buyer 3 weeks in is flagged: {}",
            monthly.score
        );
        assert!(monthly.score < stopped.score);
        assert!(single.score.is_finite() && (0.0..=1.0).contains(&single.score));
        assert!(
            stopped.reason.contains("usual gap 7 days, current gap 42"),
            "{}",
            stopped.reason
        );
        assert!(active.expected_purchases > stopped.expected_purchases);
        assert!(run.scores.iter().all(|s| s.partner_id != "after_only"));
        for s in &run.scores {
            assert!((0.0..=1.0).contains(&s.score), "{s:?}");
            assert!(s.expected_purchases.is_finite() && s.expected_purchases >= 0.0);
            assert!(!s.reason.is_empty() && !s.segment.is_empty());
        }
    }

    #[test]
    fn backdated_model_respects_each_rhythm() {
        let pop = population();
        let run = run(&pop);
        assert_eq!(run.summary.method, "backdated-logistic");
        assert!(run.summary.training_rows > 1000);
        let expected = pop
            .iter()
            .filter(|(_, d)| d.iter().any(|&x| x < AS_OF))
            .count();
        assert_eq!(run.scores.len(), expected);
        check_probes(&run);
        // The fitted model must separate who lapses better than chance on its own population.
        let lapsed: Vec<bool> = pop
            .iter()
            .filter(|(_, d)| d.iter().any(|&x| x < AS_OF))
            .map(|(_, d)| !d.iter().any(|&x| (AS_OF..AS_OF + 91).contains(&x)))
            .collect();
        let ids: Vec<&str> = pop
            .iter()
            .filter(|(_, d)| d.iter().any(|&x| x < AS_OF))
            .map(|(id, _)| id.as_str())
            .collect();
        let mut pos = Vec::new();
        let mut neg = Vec::new();
        for (id, l) in ids.iter().zip(&lapsed) {
            let s = by_id(&run, id).score;
            if *l {
                pos.push(s)
            } else {
                neg.push(s)
            }
        }
        let wins: f64 = pos
            .iter()
            .flat_map(|p| {
                neg.iter().map(move |n| {
                    if p > n {
                        1.0
                    } else if p == n {
                        0.5
                    } else {
                        0.0
                    }
                })
            })
            .sum();
        let auc = wins / (pos.len() * neg.len()) as f64;
        assert!(auc > 0.9, "auc {auc}");
    }

    #[test]
    fn tiny_data_falls_back_to_rhythm_and_still_scores_everyone() {
        let run = run(&probes());
        assert_eq!(run.summary.method, "rhythm-fallback");
        assert_eq!(run.scores.len(), 4);
        check_probes(&run);
    }

    #[test]
    fn deterministic_output() {
        let pop = population();
        let a = run(&pop);
        let b = run(&pop);
        let key = |r: &ScoreRun| {
            r.scores
                .iter()
                .map(|s| format!("{}:{:.9}:{}", s.partner_id, s.score, s.segment))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        let ids: Vec<_> = a.scores.iter().map(|s| s.partner_id.clone()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn csv_quotes_reasons() {
        let run = run(&probes());
        let mut buf = Vec::new();
        write_csv(&run.scores, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("partner_id,score,segment,expected_purchases,reason")
        );
        let line = lines.find(|l| l.starts_with("weekly_stopped,")).unwrap();
        assert!(line.contains(",\"") && line.ends_with('"'), "{line}");
    }
}
