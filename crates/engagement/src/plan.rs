//! Reactivation challenges: who gets one, with which goal, multiplier, message and send time.
//!
//! Pure planning on plain inputs (scores, consent, earlier challenges, message opens, the
//! remaining budget and the current time); the worker and `claimscan engagement plan` feed it.
//!
//! Rules, in order, for each scored partner:
//! 1. **At risk**: score at or above `threshold`, and (alert memory) at or above it on
//!    consecutive scorings for at least `confirm_days` (21: with weekly scorings, four in a
//!    row), so that alerts stay on partners who keep drifting instead of moving between
//!    healthy partners from week to week; applied when the caller knows each partner's run of
//!    scorings at risk (`PlanInput::at_risk_days`, kept by the worker in
//!    `partner_scores.at_risk_since`). On the simulator (pipelines/engagement/README.md) 21
//!    days is the shortest memory at which claimscan beats BG/NBD and recency on both churners
//!    detected and healthy partners ever alerted; 7 alerts about two weeks earlier.
//! 2. **Consent**: only partners in the consent set.
//! 3. **Cooldown**: no challenge for a partner whose last one (scheduled or sent, its `send_at`)
//!    is less than `cooldown_days` before now, or still to come.
//! 4. **Goal**: `goal_fraction(segment)` of the partner's own long-run purchase rate over the
//!    window, rounded, at least 1 (a fraction below 1 keeps it below their usual pace).
//! 5. **Budget**: candidates in descending value at risk (score x purchases per month x value
//!    per purchase); each costs `(multiplier - 1) x goal x value per purchase` extra points if
//!    the goal is met. The base multiplier is lowered (in 0.05 steps, not below
//!    `min_multiplier`) to fit what is left of the budget; a partner it cannot fit is skipped.
//! 6. **Send time**: the hour of day (program time) with the most `message_opened` events of
//!    the partner's segment (smoothed with its neighbours; at least `min_open_sample` opens,
//!    else `default_send_hour`), never in quiet hours: the first moment at or after `now` in
//!    that hour. The window starts at the send time and lasts `window_days`.
//! 7. **Message**: the segment's template (or the default one) filled in.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::score::PartnerScore;

/// A program's challenge settings. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanSettings {
    /// Partners scored at or above this get a challenge (P(no purchase in the horizon)).
    pub threshold: f64,
    /// Alert memory: a partner is at risk only once scored at or above `threshold` on
    /// consecutive scorings spanning at least this many days (0: on the first such scoring).
    pub confirm_days: i32,
    /// Challenge window, in days.
    pub window_days: i32,
    /// Share of the partner's usual purchases over the window asked for, by segment name
    /// prefix (`dormant`, `struggling`, ...; the longest matching prefix wins).
    pub goal_fractions: BTreeMap<String, f64>,
    /// Share for segments no prefix matches.
    pub default_goal_fraction: f64,
    /// Points multiplier offered when the budget allows it.
    pub multiplier: f64,
    /// Lowest multiplier worth offering when the budget is short.
    pub min_multiplier: f64,
    /// Extra points the program may spend on challenges per budget period.
    pub budget_points: f64,
    /// Length of the budget period, in days (rolling).
    pub budget_period_days: i32,
    /// Value of a purchase in points, for partners whose events carry no amount.
    pub points_per_purchase: f64,
    /// At most one reactivation challenge per partner per this many days.
    pub cooldown_days: i32,
    /// Quiet hours `[start, end)` in program time (start > end wraps midnight); equal = none.
    pub quiet_start_hour: u32,
    pub quiet_end_hour: u32,
    /// The program's time zone as a fixed offset from UTC, in minutes (no daylight saving).
    pub utc_offset_minutes: i32,
    /// Send hour (program time) when a segment has too few opens to learn from.
    pub default_send_hour: u32,
    /// Opens a segment needs before its own best hour is used.
    pub min_open_sample: usize,
    /// Message templates by segment name prefix; placeholders `{goal}`, `{window_days}`,
    /// `{multiplier}`, `{window_end}` (YYYY-MM-DD, program time), `{segment}`.
    pub templates: BTreeMap<String, String>,
    pub default_template: String,
}

impl Default for PlanSettings {
    fn default() -> Self {
        let fractions = [
            ("dormant", 0.25),
            ("struggling", 0.5),
            ("new", 0.5),
            ("occasional", 0.6),
        ];
        let templates = [
            (
                "dormant",
                "We miss you! Make {goal} purchase(s) by {window_end} and every point counts x{multiplier}.",
            ),
            (
                "struggling",
                "Back on track: {goal} purchase(s) in the next {window_days} days and your points are multiplied by {multiplier} (until {window_end}).",
            ),
        ];
        PlanSettings {
            threshold: 0.5,
            confirm_days: 21,
            window_days: 14,
            goal_fractions: fractions
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            default_goal_fraction: 0.6,
            multiplier: 2.0,
            min_multiplier: 1.25,
            budget_points: 100_000.0,
            budget_period_days: 30,
            points_per_purchase: 100.0,
            cooldown_days: 30,
            quiet_start_hour: 21,
            quiet_end_hour: 8,
            utc_offset_minutes: 0,
            default_send_hour: 10,
            min_open_sample: 20,
            templates: templates
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            default_template:
                "Your challenge: {goal} purchase(s) in the next {window_days} days and your points are multiplied by {multiplier} (until {window_end})."
                    .into(),
        }
    }
}

const PLACEHOLDERS: [&str; 5] = ["goal", "window_days", "multiplier", "window_end", "segment"];

/// Placeholders of a template that are not known (and unbalanced braces).
fn bad_placeholders(t: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !PLACEHOLDERS.contains(&name) {
                    bad.push(format!("{{{name}}}"));
                }
                rest = &after[j + 1..];
            }
            None => {
                bad.push("unclosed {".into());
                break;
            }
        }
    }
    bad
}

impl PlanSettings {
    /// Every problem at once (`prefix` names the section, e.g. `engagement.plan`).
    pub fn problems(&self, prefix: &str) -> Vec<String> {
        let mut p = Vec::new();
        if !(0.0..=1.0).contains(&self.threshold) {
            p.push(format!("{prefix}.threshold must be in 0..1"));
        }
        if !(0..=90).contains(&self.confirm_days) {
            p.push(format!("{prefix}.confirm_days must be 0-90"));
        }
        if !(1..=90).contains(&self.window_days) {
            p.push(format!("{prefix}.window_days must be 1-90"));
        }
        for (k, f) in self
            .goal_fractions
            .iter()
            .map(|(k, f)| (k.as_str(), *f))
            .chain([("default", self.default_goal_fraction)])
        {
            if !(f > 0.0 && f <= 1.0) {
                p.push(format!(
                    "{prefix}: goal fraction of {k:?} must be in (0, 1]"
                ));
            }
        }
        if !(self.min_multiplier > 1.0
            && self.min_multiplier <= self.multiplier
            && self.multiplier <= 10.0)
        {
            p.push(format!(
                "{prefix}: need 1 < min_multiplier <= multiplier <= 10"
            ));
        }
        if self.budget_points.is_nan() || self.budget_points < 0.0 || self.budget_period_days < 1 {
            p.push(format!(
                "{prefix}.budget_points must be >= 0 and budget_period_days >= 1"
            ));
        }
        if self.points_per_purchase.is_nan() || self.points_per_purchase <= 0.0 {
            p.push(format!("{prefix}.points_per_purchase must be positive"));
        }
        if self.cooldown_days < 0 {
            p.push(format!("{prefix}.cooldown_days must not be negative"));
        }
        if self.quiet_start_hour > 23 || self.quiet_end_hour > 23 || self.default_send_hour > 23 {
            p.push(format!("{prefix}: hours must be 0-23"));
        } else if self.is_quiet(self.default_send_hour) {
            p.push(format!(
                "{prefix}.default_send_hour {} is in the quiet hours {}-{}",
                self.default_send_hour, self.quiet_start_hour, self.quiet_end_hour
            ));
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            p.push(format!("{prefix}.utc_offset_minutes must be within +-840"));
        }
        for (k, t) in self
            .templates
            .iter()
            .map(|(k, t)| (k.as_str(), t))
            .chain([("default_template", &self.default_template)])
        {
            let bad = bad_placeholders(t);
            if !bad.is_empty() || t.trim().is_empty() {
                p.push(format!(
                    "{prefix}: template {k:?} is empty or has unknown placeholders {bad:?} (known: {PLACEHOLDERS:?})"
                ));
            }
        }
        p
    }

    /// Whether an hour of day (program time) is in the quiet hours.
    pub fn is_quiet(&self, hour: u32) -> bool {
        let (s, e) = (self.quiet_start_hour, self.quiet_end_hour);
        match s.cmp(&e) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => (s..e).contains(&hour),
            std::cmp::Ordering::Greater => hour >= s || hour < e,
        }
    }

    fn offset(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * 60
    }

    /// Hour of day (program time) of a UTC timestamp (seconds).
    pub fn local_hour(&self, ts: i64) -> u32 {
        ((ts + self.offset()).rem_euclid(86_400) / 3_600) as u32
    }

    /// Value of the longest key of `map` that `segment` starts with.
    fn by_prefix<'a, T>(map: &'a BTreeMap<String, T>, segment: &str) -> Option<&'a T> {
        map.iter()
            .filter(|(k, _)| segment.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, v)| v)
    }

    pub fn goal_fraction(&self, segment: &str) -> f64 {
        Self::by_prefix(&self.goal_fractions, segment)
            .copied()
            .unwrap_or(self.default_goal_fraction)
    }

    pub fn template(&self, segment: &str) -> &str {
        Self::by_prefix(&self.templates, segment)
            .map_or(self.default_template.as_str(), |s| s.as_str())
    }

    /// The first moment at or after `now` (UTC seconds) within `hour` (program time).
    pub fn next_at_hour(&self, now: i64, hour: u32) -> i64 {
        let local = now + self.offset();
        let day_start = local.div_euclid(86_400) * 86_400;
        let start = day_start + i64::from(hour) * 3_600;
        let local_send = if local < start {
            start
        } else if local < start + 3_600 {
            local
        } else {
            start + 86_400
        };
        local_send - self.offset()
    }
}

/// The learned (or default) send hour of a segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendHour {
    pub hour: u32,
    /// Opens the segment had.
    pub opens: usize,
    /// False when the default hour was used (too few opens).
    pub learned: bool,
}

/// Best send hour per segment from `(segment, opened_at UTC seconds)`: the non-quiet hour with
/// the most opens, each hour counting its neighbours at half weight (ties: the earliest hour).
pub fn learn_send_hours<'a>(
    opens: impl IntoIterator<Item = (&'a str, i64)>,
    s: &PlanSettings,
) -> BTreeMap<String, SendHour> {
    let mut hist: BTreeMap<String, [u32; 24]> = BTreeMap::new();
    for (seg, ts) in opens {
        hist.entry(seg.to_string()).or_insert([0; 24])[s.local_hour(ts) as usize] += 1;
    }
    hist.into_iter()
        .map(|(seg, h)| {
            let n: u32 = h.iter().sum();
            let n = n as usize;
            let smooth = |i: usize| {
                f64::from(h[i])
                    + 0.5 * f64::from(h[(i + 23) % 24])
                    + 0.5 * f64::from(h[(i + 1) % 24])
            };
            let best =
                (0..24u32)
                    .filter(|&i| !s.is_quiet(i))
                    .fold(None::<(u32, f64)>, |best, i| {
                        let v = smooth(i as usize);
                        match best {
                            Some((_, bv)) if bv >= v => best,
                            _ => Some((i, v)),
                        }
                    });
            let sh = match best {
                Some((hour, _)) if n >= s.min_open_sample => SendHour {
                    hour,
                    opens: n,
                    learned: true,
                },
                _ => SendHour {
                    hour: s.default_send_hour,
                    opens: n,
                    learned: false,
                },
            };
            (seg, sh)
        })
        .collect()
}

/// A planned reactivation challenge. Times are UTC seconds since 1970.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Challenge {
    /// Deterministic (program, partner, send day): planning twice gives the same id.
    pub challenge_id: String,
    pub program_id: String,
    pub partner_id: String,
    pub segment: String,
    pub score: f64,
    /// Purchases to make within the window.
    pub goal: u32,
    pub window_start: i64,
    pub window_end: i64,
    pub multiplier: f64,
    pub template: String,
    pub message: String,
    pub send_at: i64,
    /// Whether the send hour was learned from the segment's opens (else the program default).
    pub send_hour_learned: bool,
    /// Extra points it costs if the goal is met exactly.
    pub expected_cost: f64,
}

/// Why partners got no challenge (counts).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanStats {
    pub scored: usize,
    pub at_risk: usize,
    /// At or above the threshold, but not yet for `confirm_days` (alert memory).
    pub unconfirmed: usize,
    pub no_consent: usize,
    pub cooldown: usize,
    pub over_budget: usize,
    pub planned: usize,
    pub cost: f64,
}

/// Everything a plan is made from.
pub struct PlanInput<'a> {
    pub program_id: &'a str,
    pub scores: &'a [PartnerScore],
    /// Partners who agreed to receive challenges.
    pub consent: &'a HashSet<String>,
    /// `(partner_id, send_at)` of earlier challenges that were not cancelled.
    pub existing: &'a [(String, i64)],
    /// `(partner_id, opened_at)` of `message_opened` events.
    pub opens: &'a [(String, i64)],
    /// Extra points still available in the current budget period.
    pub budget_remaining: f64,
    /// Current time (UTC seconds).
    pub now: i64,
    /// Alert memory: for each partner at or above the threshold now, the days since the first
    /// of their consecutive scorings at or above it (0 = this scoring is the first). `None`
    /// when there is no scoring history (e.g. a one-off plan from a file): then `confirm_days`
    /// is not applied.
    pub at_risk_days: Option<&'a HashMap<String, i32>>,
}

pub struct Plan {
    pub challenges: Vec<Challenge>,
    pub stats: PlanStats,
    pub send_hours: BTreeMap<String, SendHour>,
}

/// A stable id in UUID form from a SHA-256 of the key.
fn challenge_id(program: &str, partner: &str, day: i64) -> String {
    let d = Sha256::digest(format!("challenge\x1f{program}\x1f{partner}\x1f{day}").as_bytes());
    let h: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn fmt_multiplier(m: f64) -> String {
    let s = format!("{m:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Fill a template's placeholders.
pub fn fill(
    template: &str,
    goal: u32,
    window_days: i32,
    multiplier: f64,
    window_end: &str,
    segment: &str,
) -> String {
    template
        .replace("{goal}", &goal.to_string())
        .replace("{window_days}", &window_days.to_string())
        .replace("{multiplier}", &fmt_multiplier(multiplier))
        .replace("{window_end}", window_end)
        .replace("{segment}", segment)
}

/// The partner's personal goal over `window_days`: a fraction of their own long-run rate.
pub fn goal(score: &PartnerScore, s: &PlanSettings) -> u32 {
    let r = &score.raw;
    let per_day = f64::from(r.n) / f64::from(r.tenure.max(1.0));
    let usual = per_day * f64::from(s.window_days);
    (s.goal_fraction(&score.segment) * usual).round().max(1.0) as u32
}

/// Plan the challenges (see the module docs for the rules).
pub fn plan(input: &PlanInput<'_>, s: &PlanSettings) -> Plan {
    let mut stats = PlanStats {
        scored: input.scores.len(),
        ..Default::default()
    };
    let seg_of: HashMap<&str, &str> = input
        .scores
        .iter()
        .map(|p| (p.partner_id.as_str(), p.segment.as_str()))
        .collect();
    let send_hours = learn_send_hours(
        input
            .opens
            .iter()
            .filter_map(|(p, ts)| seg_of.get(p.as_str()).map(|seg| (*seg, *ts))),
        s,
    );
    let cooldown = i64::from(s.cooldown_days) * 86_400;
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (p, at) in input.existing {
        let e = last.entry(p.as_str()).or_insert(i64::MIN);
        *e = (*e).max(*at);
    }

    // Candidates: at risk, consented, out of cooldown; with their goal and value.
    let mut cands = Vec::new();
    for p in input.scores {
        if p.score.is_nan() || p.score < s.threshold {
            continue;
        }
        stats.at_risk += 1;
        if let Some(days) = input.at_risk_days {
            if s.confirm_days > 0 && days.get(&p.partner_id).is_none_or(|&d| d < s.confirm_days) {
                stats.unconfirmed += 1;
                continue;
            }
        }
        if !input.consent.contains(&p.partner_id) {
            stats.no_consent += 1;
            continue;
        }
        if let Some(&at) = last.get(p.partner_id.as_str()) {
            if input.now - at < cooldown {
                stats.cooldown += 1;
                continue;
            }
        }
        let value = if p.raw.mean_amt > 0.0 {
            f64::from(p.raw.mean_amt)
        } else {
            s.points_per_purchase
        };
        let g = goal(p, s);
        let at_risk_value = p.score * f64::from(p.raw.monthly_rate()) * value;
        cands.push((p, g, value, at_risk_value));
    }
    cands.sort_by(|a, b| {
        b.3.total_cmp(&a.3)
            .then_with(|| a.0.partner_id.cmp(&b.0.partner_id))
    });

    let mut left = input.budget_remaining.max(0.0);
    let mut challenges = Vec::new();
    for (p, g, value, _) in cands {
        let unit = f64::from(g) * value;
        let fit = 1.0 + (left / unit * 20.0).floor() / 20.0;
        let m = s.multiplier.min(fit);
        if m + 1e-9 < s.min_multiplier {
            stats.over_budget += 1;
            continue;
        }
        let cost = (m - 1.0) * unit;
        left -= cost;
        let sh = send_hours.get(&p.segment);
        let (hour, learned) = sh.map_or((s.default_send_hour, false), |h| (h.hour, h.learned));
        let send_at = s.next_at_hour(input.now, hour);
        let window_end = send_at + i64::from(s.window_days) * 86_400;
        let local_end_day = (window_end + s.offset()).div_euclid(86_400) as i32;
        let template = s.template(&p.segment).to_string();
        let message = fill(
            &template,
            g,
            s.window_days,
            m,
            &crate::date::format_date(local_end_day),
            &p.segment,
        );
        stats.cost += cost;
        challenges.push(Challenge {
            challenge_id: challenge_id(
                input.program_id,
                &p.partner_id,
                (send_at + s.offset()).div_euclid(86_400),
            ),
            program_id: input.program_id.to_string(),
            partner_id: p.partner_id.clone(),
            segment: p.segment.clone(),
            score: p.score,
            goal: g,
            window_start: send_at,
            window_end,
            multiplier: m,
            template,
            message,
            send_at,
            send_hour_learned: learned,
            expected_cost: cost,
        });
    }
    stats.planned = challenges.len();
    challenges.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
    Plan {
        challenges,
        stats,
        send_hours,
    }
}

/// RFC 3339 (UTC, seconds) of a UTC timestamp.
pub fn rfc3339(ts: i64) -> String {
    let day = ts.div_euclid(86_400) as i32;
    let sec = ts.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::date::format_date(day),
        sec / 3_600,
        sec % 3_600 / 60,
        sec % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::PartnerSeries;

    const DAY: i64 = 86_400;
    /// 2024-03-18 00:00 UTC (a Monday).
    const NOW_DAY: i32 = 19_800;
    const NOW: i64 = NOW_DAY as i64 * DAY + 12 * 3_600; // noon

    /// A scored partner buying every `gap` days for a year, last purchase `recency` days ago.
    fn partner(
        id: &str,
        score: f64,
        segment: &str,
        gap: i32,
        recency: i32,
        amt: f32,
    ) -> PartnerScore {
        let last = NOW_DAY - recency;
        let days: Vec<i32> = (0..)
            .map(|i| last - gap * i)
            .take_while(|&d| d > NOW_DAY - 365)
            .collect();
        let mut s = PartnerSeries::from_purchase_days(days);
        s.amt = vec![amt; s.days.len()];
        PartnerScore {
            partner_id: id.into(),
            score,
            segment: segment.into(),
            expected_purchases: 1.0,
            reason: "r".into(),
            raw: s.raw(NOW_DAY, 91).unwrap(),
        }
    }

    fn consent(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn run(
        scores: &[PartnerScore],
        consent: &HashSet<String>,
        existing: &[(String, i64)],
        opens: &[(String, i64)],
        budget: f64,
        s: &PlanSettings,
    ) -> Plan {
        plan(
            &PlanInput {
                program_id: "prog",
                scores,
                consent,
                existing,
                opens,
                budget_remaining: budget,
                now: NOW,
                at_risk_days: None,
            },
            s,
        )
    }

    #[test]
    fn only_at_risk_consented_partners_out_of_cooldown() {
        let s = PlanSettings::default();
        let scores = vec![
            partner("risky", 0.8, "struggling", 5, 30, 0.0),
            partner("safe", 0.2, "established", 5, 2, 0.0),
            partner("refused", 0.9, "struggling", 5, 30, 0.0),
            partner("recent", 0.9, "struggling", 5, 30, 0.0),
            partner("old", 0.9, "struggling", 5, 30, 0.0),
            partner("future", 0.9, "struggling", 5, 30, 0.0),
        ];
        let c = consent(&["risky", "safe", "recent", "old", "future"]);
        let existing = vec![
            ("recent".to_string(), NOW - 29 * DAY),
            ("old".to_string(), NOW - 31 * DAY),
            ("old".to_string(), NOW - 60 * DAY),
            ("future".to_string(), NOW + DAY),
        ];
        let p = run(&scores, &c, &existing, &[], 1e9, &s);
        let ids: Vec<&str> = p.challenges.iter().map(|c| c.partner_id.as_str()).collect();
        assert_eq!(ids, ["old", "risky"]);
        assert_eq!(p.stats.at_risk, 5);
        assert_eq!(p.stats.no_consent, 1);
        assert_eq!(p.stats.cooldown, 2);
        assert_eq!(p.stats.planned, 2);
        // The threshold is inclusive.
        let at = vec![partner("edge", 0.5, "struggling", 5, 30, 0.0)];
        assert_eq!(
            run(&at, &consent(&["edge"]), &[], &[], 1e9, &s)
                .challenges
                .len(),
            1
        );
    }

    #[test]
    fn alert_memory_needs_consecutive_scorings_at_risk() {
        let s = PlanSettings::default();
        assert_eq!(s.confirm_days, 21);
        let scores = vec![
            partner("new", 0.9, "struggling", 5, 30, 0.0),
            partner("week", 0.9, "struggling", 5, 30, 0.0),
            partner("six", 0.9, "struggling", 5, 30, 0.0),
            partner("unknown", 0.9, "struggling", 5, 30, 0.0),
            partner("safe", 0.1, "established", 5, 2, 0.0),
        ];
        let c = consent(&["new", "week", "six", "unknown", "safe"]);
        let days: HashMap<String, i32> = [("new", 0), ("week", 21), ("six", 20)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let with = |s: &PlanSettings| {
            plan(
                &PlanInput {
                    program_id: "prog",
                    scores: &scores,
                    consent: &c,
                    existing: &[],
                    opens: &[],
                    budget_remaining: 1e9,
                    now: NOW,
                    at_risk_days: Some(&days),
                },
                s,
            )
        };
        let p = with(&s);
        let ids: Vec<&str> = p.challenges.iter().map(|c| c.partner_id.as_str()).collect();
        assert_eq!(ids, ["week"]);
        assert_eq!((p.stats.at_risk, p.stats.unconfirmed), (4, 3));
        // Off: every partner at risk now.
        let off = PlanSettings {
            confirm_days: 0,
            ..PlanSettings::default()
        };
        assert_eq!(with(&off).challenges.len(), 4);
        // No history (a one-off plan): not applied.
        assert_eq!(run(&scores, &c, &[], &[], 1e9, &s).challenges.len(), 4);
        let bad = PlanSettings {
            confirm_days: -1,
            ..PlanSettings::default()
        };
        assert!(bad.problems("p").iter().any(|m| m.contains("confirm_days")));
    }

    #[test]
    fn goal_is_a_fraction_of_the_partners_own_rate_at_least_one() {
        let s = PlanSettings::default();
        // Every 5 days = 2.8 per 14 days; struggling asks half: 1.4 -> 1.
        let g5 = goal(&partner("a", 0.9, "struggling-x", 5, 30, 0.0), &s);
        // Every 2 days = 7 per 14 days; default fraction 0.6 -> 4.2 -> 4.
        let g2 = goal(&partner("b", 0.9, "established", 2, 10, 0.0), &s);
        // Daily, struggling: 14 * 0.5 = 7.
        let g1 = goal(&partner("c", 0.9, "struggling", 1, 10, 0.0), &s);
        // Every 60 days, dormant: far below one: still 1.
        let g60 = goal(&partner("d", 0.9, "dormant", 60, 100, 0.0), &s);
        assert_eq!((g5, g2, g1, g60), (1, 4, 7, 1));
        let usual = |gap: f64| 14.0 / gap;
        assert!(f64::from(g2) <= usual(2.0) && f64::from(g1) <= usual(1.0));
    }

    #[test]
    fn budget_goes_to_the_most_valuable_first_and_lowers_multipliers_to_fit() {
        let s = PlanSettings {
            multiplier: 2.0,
            min_multiplier: 1.25,
            ..Default::default()
        };
        // Same rhythm (goal 4 over 14 days at 0.6), values 1000, 100, 10 points per purchase.
        let scores = vec![
            partner("big", 0.9, "established", 2, 10, 1000.0),
            partner("mid", 0.9, "established", 2, 10, 100.0),
            partner("small", 0.9, "established", 2, 10, 10.0),
        ];
        let c = consent(&["big", "mid", "small"]);
        let g = goal(&scores[0], &s);
        assert_eq!(g, 4);
        // Enough for big at x2 (4000) and half of mid's x2 (200 of 400): mid at x1.5;
        // nothing is left for small (needs at least 0.25 * 40 = 10).
        let p = run(&scores, &c, &[], &[], 4200.0, &s);
        let m: HashMap<&str, f64> = p
            .challenges
            .iter()
            .map(|c| (c.partner_id.as_str(), c.multiplier))
            .collect();
        assert_eq!(m.get("big"), Some(&2.0));
        assert_eq!(m.get("mid"), Some(&1.5));
        assert_eq!(m.get("small"), None);
        assert_eq!(p.stats.over_budget, 1);
        assert!(p.stats.cost <= 4200.0 + 1e-9, "{}", p.stats.cost);
        assert!((p.stats.cost - 4200.0).abs() < 1e-6);
        // No budget: nobody.
        assert!(run(&scores, &c, &[], &[], 0.0, &s).challenges.is_empty());
        // Partners without amounts are valued at points_per_purchase.
        let plain = vec![partner("plain", 0.9, "established", 2, 10, 0.0)];
        let p = run(&plain, &consent(&["plain"]), &[], &[], 1e9, &s);
        assert!((p.challenges[0].expected_cost - 4.0 * 100.0).abs() < 1e-9);
    }

    #[test]
    fn send_hour_is_learned_from_the_segments_opens_never_quiet() {
        let s = PlanSettings {
            min_open_sample: 10,
            ..Default::default()
        };
        let scores = vec![
            partner("a", 0.9, "struggling", 5, 30, 0.0),
            partner("b", 0.2, "struggling", 5, 2, 0.0),
            partner("c", 0.9, "dormant", 30, 200, 0.0),
            partner("d", 0.9, "established", 3, 20, 0.0),
        ];
        let mut opens = Vec::new();
        // Struggling partners open at 17:xx (and a few at 09:xx); also many at 23:xx (quiet).
        for i in 0..12 {
            opens.push((
                "b".to_string(),
                (NOW_DAY - i) as i64 * DAY + 17 * 3_600 + 60 * i as i64,
            ));
            opens.push(("b".to_string(), (NOW_DAY - i) as i64 * DAY + 23 * 3_600));
            opens.push(("b".to_string(), (NOW_DAY - i) as i64 * DAY + 23 * 3_600 + 5));
        }
        for i in 0..3 {
            opens.push(("a".to_string(), (NOW_DAY - i) as i64 * DAY + 9 * 3_600));
        }
        // Dormant: too few opens to learn from.
        for i in 0..5 {
            opens.push(("c".to_string(), (NOW_DAY - i) as i64 * DAY + 14 * 3_600));
        }
        // Opens of unknown partners are ignored.
        opens.push(("zz".to_string(), NOW));
        let p = run(&scores, &consent(&["a", "c", "d"]), &[], &opens, 1e9, &s);
        assert_eq!(
            p.send_hours.get("struggling"),
            Some(&SendHour {
                hour: 17,
                opens: 39,
                learned: true
            })
        );
        assert_eq!(
            p.send_hours.get("dormant"),
            Some(&SendHour {
                hour: 10,
                opens: 5,
                learned: false
            })
        );
        let by: HashMap<&str, &Challenge> = p
            .challenges
            .iter()
            .map(|c| (c.partner_id.as_str(), c))
            .collect();
        // Now is noon: 17:00 today for struggling; 10:00 tomorrow for the default hour.
        assert_eq!(by["a"].send_at, NOW_DAY as i64 * DAY + 17 * 3_600);
        assert!(by["a"].send_hour_learned);
        assert_eq!(by["c"].send_at, (NOW_DAY + 1) as i64 * DAY + 10 * 3_600);
        assert_eq!(by["d"].send_at, by["c"].send_at, "no opens at all: default");
        for c in &p.challenges {
            assert!(!s.is_quiet(s.local_hour(c.send_at)), "{c:?}");
            assert!(c.send_at >= NOW);
            assert_eq!(c.window_start, c.send_at);
            assert_eq!(c.window_end - c.window_start, 14 * DAY);
        }
    }

    #[test]
    fn times_follow_the_programs_offset_and_quiet_hours() {
        let s = PlanSettings {
            utc_offset_minutes: 120,
            quiet_start_hour: 21,
            quiet_end_hour: 8,
            ..Default::default()
        };
        assert!(s.is_quiet(21) && s.is_quiet(23) && s.is_quiet(0) && s.is_quiet(7));
        assert!(!s.is_quiet(8) && !s.is_quiet(20));
        let day = |s: &PlanSettings| s.is_quiet(12);
        assert!(!day(&PlanSettings {
            quiet_start_hour: 0,
            quiet_end_hour: 0,
            ..s.clone()
        }));
        assert!(day(&PlanSettings {
            quiet_start_hour: 9,
            quiet_end_hour: 17,
            ..s.clone()
        }));
        // NOW is 12:00 UTC = 14:00 program time.
        assert_eq!(s.local_hour(NOW), 14);
        // Within the hour: now; later hour today; earlier hour tomorrow (all UTC results).
        assert_eq!(s.next_at_hour(NOW, 14), NOW);
        assert_eq!(s.next_at_hour(NOW, 16), NOW + 2 * 3_600);
        assert_eq!(s.next_at_hour(NOW, 10), NOW + 20 * 3_600);
        // Opens at 06:00 UTC are 08:00 program time.
        let opens: Vec<(&str, i64)> = (0..30)
            .map(|i| ("seg", NOW_DAY as i64 * DAY - i * DAY + 6 * 3_600))
            .collect();
        assert_eq!(learn_send_hours(opens, &s)["seg"].hour, 8);
    }

    #[test]
    fn messages_are_filled_and_templates_checked() {
        let s = PlanSettings::default();
        assert!(s.problems("plan").is_empty(), "{:?}", s.problems("plan"));
        let scores = vec![partner("a", 0.9, "dormant-high-value", 30, 200, 0.0)];
        let p = run(&scores, &consent(&["a"]), &[], &[], 1e9, &s);
        let c = &p.challenges[0];
        assert_eq!(c.template, s.templates["dormant"]);
        // Tomorrow 10:00 + 14 days, program time.
        assert_eq!(
            c.message,
            "We miss you! Make 1 purchase(s) by 2024-04-02 and every point counts x2."
        );
        assert!(!c.message.contains('{'));
        assert_eq!(rfc3339(c.send_at), "2024-03-19T10:00:00Z");
        assert_eq!(fill("x{multiplier}", 1, 1, 1.25, "", ""), "x1.25");
        // Same inputs, same ids; another day, another id.
        let again = run(&scores, &consent(&["a"]), &[], &[], 1e9, &s);
        assert_eq!(again.challenges[0].challenge_id, c.challenge_id);
        assert_eq!(c.challenge_id.len(), 36);
        assert_ne!(challenge_id("prog", "a", 1), challenge_id("prog", "a", 2));
        let bad = PlanSettings {
            default_template: "hi {name}".into(),
            default_send_hour: 22,
            multiplier: 1.0,
            threshold: 1.5,
            ..Default::default()
        };
        let problems = bad.problems("plan");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("{name}")));
    }
}
