//! Per-partner purchase series and rhythm-aware features at a point in time.
//!
//! All features at time `t` use only events strictly before `t`.

use crate::events::PartnerEvents;

/// A partner's activity compacted to distinct days, sorted ascending.
#[derive(Debug, Default, Clone)]
pub struct PartnerSeries {
    /// Distinct purchase days.
    pub days: Vec<i32>,
    /// Quantity and amount summed per purchase day.
    pub qty: Vec<f32>,
    pub amt: Vec<f32>,
    /// Days of non-purchase activity (login, claim, challenge, message opened), with repeats.
    pub other: Vec<i32>,
}

impl PartnerSeries {
    /// Build from a partner's events (each kind in input order); `scratch` is reused between
    /// partners. Same-day purchases are summed in input order.
    pub fn from_events(ev: &PartnerEvents<'_>, scratch: &mut Vec<(i32, u32)>) -> Self {
        scratch.clear();
        scratch.extend((0..ev.days.len()).map(|i| (ev.days.get(i), i as u32)));
        scratch.sort_unstable();
        let mut s = PartnerSeries::default();
        for &(d, i) in scratch.iter() {
            let i = i as usize;
            if s.days.last() == Some(&d) {
                *s.qty.last_mut().expect("same len") += ev.qty.get(i);
                *s.amt.last_mut().expect("same len") += ev.amt[i];
            } else {
                s.days.push(d);
                s.qty.push(ev.qty.get(i));
                s.amt.push(ev.amt[i]);
            }
        }
        s.other = (0..ev.other.len()).map(|i| ev.other.get(i)).collect();
        s.other.sort_unstable();
        s
    }

    /// From purchase days only (tests, synthetic data).
    pub fn from_purchase_days(mut days: Vec<i32>) -> Self {
        days.sort_unstable();
        days.dedup();
        let n = days.len();
        PartnerSeries {
            days,
            qty: vec![1.0; n],
            amt: vec![0.0; n],
            other: Vec::new(),
        }
    }

    /// Number of purchase days strictly before `t`.
    pub fn n_before(&self, t: i32) -> usize {
        self.days.partition_point(|&d| d < t)
    }

    /// Purchase days in `[a, b)`.
    pub fn count_between(&self, a: i32, b: i32) -> usize {
        self.days.partition_point(|&d| d < b) - self.days.partition_point(|&d| d < a)
    }

    fn other_between(&self, a: i32, b: i32) -> usize {
        self.other.partition_point(|&d| d < b) - self.other.partition_point(|&d| d < a)
    }

    /// Raw statistics as of `t` (None without a purchase before `t`).
    pub fn raw(&self, t: i32, horizon: i32) -> Option<Raw> {
        let n = self.n_before(t);
        if n == 0 {
            return None;
        }
        let days = &self.days[..n];
        let (first, last) = (days[0], days[n - 1]);
        let mut max_gap = 0i32;
        for w in days.windows(2) {
            max_gap = max_gap.max(w[1] - w[0]);
        }
        let amt: f32 = self.amt[..n].iter().sum();
        let qty: f32 = self.qty[..n].iter().sum();
        let c = |w: i32| self.count_between(t - w, t) as f32;
        Some(Raw {
            n: n as f32,
            recency: (t - last) as f32,
            tenure: (t - first) as f32,
            span: (last - first) as f32,
            mean_amt: (amt / n as f32).max(0.0),
            mean_qty: (qty / n as f32).max(0.0),
            c14: c(14),
            c30: c(30),
            c42: c(42),
            c91: c(91),
            c182: c(182),
            c365: c(365),
            season: self.count_between(t - 365, t - 365 + horizon.min(365)) as f32,
            last_gap: if n >= 2 {
                (days[n - 1] - days[n - 2]) as f32
            } else {
                f32::NAN
            },
            max_gap: if n >= 2 { max_gap as f32 } else { f32::NAN },
            other30: self.other_between(t - 30, t) as f32,
            other91: self.other_between(t - 91, t) as f32,
            other_before: self.other_between(i32::MIN, t) as f32,
        })
    }

    /// Median gap between consecutive purchase days before `t` (None with < 2 purchases).
    pub fn median_gap(&self, t: i32) -> Option<f32> {
        let n = self.n_before(t);
        if n < 2 {
            return None;
        }
        let mut gaps: Vec<i32> = self.days[..n].windows(2).map(|w| w[1] - w[0]).collect();
        let mid = gaps.len() / 2;
        let (_, m, _) = gaps.select_nth_unstable(mid);
        let m = *m as f32;
        if gaps.len().is_multiple_of(2) {
            let lo = *gaps[..mid].iter().max().expect("non-empty") as f32;
            Some((lo + m) / 2.0)
        } else {
            Some(m)
        }
    }
}

/// Raw per-partner statistics at a time `t` (days; counts are distinct purchase days).
#[derive(Debug, Clone, Copy)]
pub struct Raw {
    pub n: f32,
    pub recency: f32,
    pub tenure: f32,
    /// Days between the first and the last purchase.
    pub span: f32,
    pub mean_amt: f32,
    pub mean_qty: f32,
    pub c14: f32,
    pub c30: f32,
    pub c42: f32,
    pub c91: f32,
    pub c182: f32,
    pub c365: f32,
    /// Purchase days in the same window one year earlier (`[t-365, t-365+horizon)`).
    pub season: f32,
    /// Gap between the last two purchases (NaN with one purchase).
    pub last_gap: f32,
    /// Longest gap between purchases (NaN with one purchase).
    pub max_gap: f32,
    pub other30: f32,
    pub other91: f32,
    pub other_before: f32,
}

impl Raw {
    /// Usual gap shrunk towards the population's `prior_gap` (one pseudo-gap), so one- and
    /// two-purchase partners get a sensible rhythm instead of 0 or infinity.
    pub fn shrunk_gap(&self, prior_gap: f32) -> f32 {
        ((self.span + prior_gap) / self.n).max(1.0)
    }

    /// Long-run purchase days per 30.44 days.
    pub fn monthly_rate(&self) -> f32 {
        self.n / (self.tenure.max(1.0) / 30.44)
    }

    /// Purchase days per 30.44 days over the last 91 days (or the tenure if shorter).
    pub fn recent_monthly_rate(&self) -> f32 {
        self.c91 / (self.tenure.clamp(1.0, 91.0) / 30.44)
    }
}

/// Names of the model features, in order.
pub const FEATURE_NAMES: [&str; NF] = [
    "log_recency",
    "log_n",
    "log_tenure",
    "log_overdue",
    "log_gap",
    "log_amount",
    "log_quantity",
    "log_c14",
    "log_c30",
    "log_c91",
    "log_c182",
    "log_c365",
    "one_purchase",
    "log_last_gap",
    "log_recency_vs_max_gap",
    "trend",
    "log_season",
    "log_other30",
    "log_other91",
    "log_recency_sq",
    "log_overdue_sq",
    "log_recency_x_log_n",
];

/// Number of model features.
pub const NF: usize = 22;

/// Model features from raw statistics; `prior_gap` is the population's typical gap.
pub fn features(r: &Raw, prior_gap: f32) -> [f32; NF] {
    let l = |x: f32| x.max(0.0).ln_1p();
    let sg = r.shrunk_gap(prior_gap);
    let lr = l(r.recency);
    let ln = r.n.ln();
    let overdue = l(r.recency / sg);
    let last_gap = if r.last_gap.is_finite() {
        r.last_gap
    } else {
        r.tenure + prior_gap
    };
    let max_gap = if r.max_gap.is_finite() {
        r.max_gap
    } else {
        prior_gap
    };
    let window = r.tenure.clamp(1.0, 91.0);
    let expected91 = r.n * window / r.tenure.max(1.0);
    let f = [
        lr,
        ln,
        l(r.tenure),
        overdue,
        l(sg),
        l(r.mean_amt),
        l(r.mean_qty),
        l(r.c14),
        l(r.c30),
        l(r.c91),
        l(r.c182),
        l(r.c365),
        if r.n <= 1.0 { 1.0 } else { 0.0 },
        l(last_gap),
        l(r.recency / (max_gap + 1.0)),
        ((r.c91 + 0.5) / (expected91 + 0.5)).ln(),
        l(r.season),
        l(r.other30),
        l(r.other91),
        lr * lr,
        overdue * overdue,
        lr * ln,
    ];
    f.map(|x| if x.is_finite() { x } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_same_day_purchases_and_splits_other_activity() {
        use crate::events::{DaySlice, QtySlice};
        let days = [5u16, 3, 3, 4];
        let qty = [1u16, 2, 3, 1];
        let amt = [10.0, 1.0, 2.0, 4.0];
        let other = [9i32, 2];
        let ev = PartnerEvents {
            days: DaySlice::Narrow(100, &days),
            qty: QtySlice::Narrow(&qty),
            amt: &amt,
            other: DaySlice::Wide(&other),
        };
        let s = PartnerSeries::from_events(&ev, &mut Vec::new());
        assert_eq!(s.days, vec![103, 104, 105]);
        assert_eq!(s.qty, vec![5.0, 1.0, 1.0]);
        assert_eq!(s.amt, vec![3.0, 4.0, 10.0]);
        assert_eq!(s.other, vec![2, 9]);
    }

    #[test]
    fn raw_uses_only_the_past() {
        let s = PartnerSeries::from_purchase_days(vec![0, 7, 14, 21, 28, 100]);
        let r = s.raw(29, 91).unwrap();
        assert_eq!(r.n, 5.0);
        assert_eq!(r.recency, 1.0);
        assert_eq!(r.tenure, 29.0);
        assert_eq!(r.c14, 2.0);
        assert_eq!(r.last_gap, 7.0);
        assert_eq!(s.median_gap(29), Some(7.0));
        assert!(s.raw(0, 91).is_none());
        let one = s.raw(5, 91).unwrap();
        assert!(one.last_gap.is_nan());
        assert!(features(&one, 30.0).iter().all(|x| x.is_finite()));
    }
}
