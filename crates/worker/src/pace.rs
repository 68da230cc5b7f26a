//! Adaptive prefetch: how many deliveries a worker holds so that its extraction threads are not
//! left idle while uploads wait in the queue.
//!
//! An upload spends part of its time on an extraction thread (read and layout) and the rest
//! outside one (the S3 GET, the database, matching, the decision, the ack). By Little's law, `n`
//! threads kept busy need `n × (inside + outside) / inside` deliveries in flight. A digital PDF is
//! read in a few milliseconds and its storage and database round trips take as long or longer, so
//! a fixed prefetch of 2 or 4 leaves the threads idle a third of the time under load (README,
//! Benchmarks); a photo is read in seconds, and a worker holding many of them only keeps them from
//! its idle neighbours. [`Pace`] follows the measured mean of both parts and proposes
//!
//! `prefetch = round(threads × (1 + weight × outside / inside))`, within
//! `[amqp.prefetch, amqp.prefetch_max]`, `weight` = `amqp.prefetch_outside_weight` (default
//! [`OUTSIDE_WEIGHT`]);
//!
//! rounded, not raised: a photo worker (2 s on a thread, 50 ms around it) would otherwise hold one
//! photo more than it has threads, ~1.5 s of waiting for that upload that an idle neighbour could
//! have saved, to win ~2% of one thread (measured: `photo/load` in the README's Benchmarks).
//!
//! the worker applies a proposal by consuming anew with the new per-consumer limit (quorum queues
//! have no channel-wide limit to change in place) and cancelling the old consumer, whose
//! deliveries already received are still handled and acked.

use std::sync::Mutex;

/// Weight of the newest upload in the running means.
const ALPHA: f64 = 0.2;
/// Default weight of the outside part. Round trips vary (CPU shared with the services, a slow
/// GET) and a mean hides the slow ones that leave a thread waiting, and a thread left without
/// work costs more than one more delivery held. Digital PDFs under load on 2 shared cores (README,
/// Benchmarks): 1.5 settled at 4-6 and left the threads idle 6.5-8.3% of the time while uploads
/// queued; 3.0 settles at 8-10 and leaves them idle 4.3-4.6%, at the same uploads/min. Photos
/// stay at the floor with either.
pub const OUTSIDE_WEIGHT: f64 = 3.0;
/// Uploads observed after a change before the next one may be proposed: the figures must reflect
/// the prefetch in force.
const SETTLE: u64 = 4;

/// The prefetch that keeps `threads` extraction threads busy when an upload spends `inside`
/// seconds on one and `outside` seconds elsewhere, within `[min, max]`.
pub fn target(threads: usize, inside: f64, outside: f64, weight: f64, min: u16, max: u16) -> u16 {
    let ratio = outside.max(0.0) / inside.max(1e-4);
    let need = (threads.max(1) as f64 * (1.0 + weight.max(0.0) * ratio)).round();
    (need.min(f64::from(u16::MAX)) as u16).clamp(min, max.max(min))
}

#[derive(Debug, Default)]
struct Means {
    inside: f64,
    outside: f64,
    /// Uploads observed since the last change.
    since_change: u64,
}

/// Running means of the time uploads spend on and off the extraction threads, and the prefetch
/// they call for.
#[derive(Debug)]
pub struct Pace {
    threads: usize,
    weight: f64,
    min: u16,
    max: u16,
    means: Mutex<Means>,
}

impl Pace {
    pub fn new(threads: usize, weight: f64, min: u16, max: u16) -> Pace {
        Pace {
            threads,
            weight,
            min,
            max: max.max(min),
            means: Mutex::new(Means::default()),
        }
    }

    /// Whether the prefetch can change at all (`prefetch_max` above `prefetch`).
    pub fn adaptive(&self) -> bool {
        self.max > self.min
    }

    /// One upload that reached an extraction thread: seconds on it, and seconds of its handling
    /// spent elsewhere (the wait for a free thread excluded).
    pub fn observe(&self, inside: f64, outside: f64) {
        if !inside.is_finite() || !outside.is_finite() {
            return;
        }
        let mut m = self.means.lock().unwrap_or_else(|p| p.into_inner());
        if m.inside == 0.0 && m.outside == 0.0 {
            m.inside = inside;
            m.outside = outside;
        } else {
            m.inside += ALPHA * (inside - m.inside);
            m.outside += ALPHA * (outside - m.outside);
        }
        m.since_change += 1;
    }

    /// A new prefetch when the means call for one far enough from `current` (at least one, and
    /// a quarter of `current`) and enough uploads were seen since the last change.
    pub fn propose(&self, current: u16) -> Option<u16> {
        if !self.adaptive() {
            return None;
        }
        let m = self.means.lock().unwrap_or_else(|p| p.into_inner());
        if m.since_change < SETTLE || m.inside <= 0.0 {
            return None;
        }
        let t = target(
            self.threads,
            m.inside,
            m.outside,
            self.weight,
            self.min,
            self.max,
        );
        let gap = t.abs_diff(current);
        (gap >= 1 && gap >= current / 4).then_some(t)
    }

    /// A proposal is now in force: the next one waits for figures taken under it.
    pub fn changed(&self) {
        self.means
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .since_change = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: f64 = OUTSIDE_WEIGHT;

    #[test]
    fn the_target_follows_the_share_of_time_spent_off_the_threads() {
        // digital PDFs in release: read in 2 ms, 10 ms of round trips around it
        assert_eq!(target(2, 0.002, 0.010, W, 2, 32), 32);
        // in the dev profile: read in 12 ms, 10 ms around it
        assert_eq!(target(2, 0.012, 0.010, W, 2, 32), 7);
        // the weight scales the outside part: 1.5 was the first default
        assert_eq!(target(2, 0.012, 0.010, 1.5, 2, 32), 5);
        assert_eq!(target(2, 0.002, 0.010, 1.5, 2, 32), 17);
        // photos: 2 s on a thread, 50 ms around it: the threads, no photo held in reserve
        assert_eq!(target(2, 2.0, 0.050, W, 1, 32), 2);
        // ... for any weight under 10
        assert_eq!(target(2, 2.0, 0.050, 9.9, 1, 32), 2);
        // 400 ms around a 2-s photo is worth one more
        assert_eq!(target(2, 2.0, 0.400, W, 1, 32), 3);
        // nothing outside: exactly the threads
        assert_eq!(target(2, 1.0, 0.0, W, 1, 32), 2);
        // the bounds hold
        assert_eq!(target(2, 0.001, 1.0, W, 2, 16), 16);
        assert_eq!(target(1, 1.0, 0.0, W, 4, 16), 4);
        // a zero inside time does not divide by zero
        assert_eq!(target(2, 0.0, 0.010, W, 2, 16), 16);
    }

    #[test]
    fn a_proposal_waits_for_settled_figures_and_a_real_difference() {
        let p = Pace::new(2, W, 2, 16);
        assert!(p.adaptive());
        assert_eq!(p.propose(2), None, "no figures yet");
        for _ in 0..3 {
            p.observe(0.012, 0.010);
        }
        assert_eq!(p.propose(2), None, "three uploads are not enough");
        p.observe(0.012, 0.010);
        assert_eq!(p.propose(2), Some(7));
        p.changed();
        for _ in 0..10 {
            p.observe(0.012, 0.010);
        }
        assert_eq!(p.propose(7), None, "already there");
        assert_eq!(p.propose(12), Some(7), "too many held");
        // photos arrive: the means move towards them and the proposal follows
        for _ in 0..30 {
            p.observe(2.0, 0.05);
        }
        assert_eq!(p.propose(7), Some(2));
    }

    #[test]
    fn a_small_difference_from_a_large_prefetch_is_left_alone() {
        let p = Pace::new(2, W, 2, 16);
        for _ in 0..8 {
            p.observe(0.010, 0.022);
        }
        assert_eq!(target(2, 0.010, 0.022, W, 2, 16), 15);
        assert_eq!(p.propose(13), None, "two off 13 is under a quarter of it");
        assert_eq!(p.propose(10), Some(15));
    }

    #[test]
    fn a_fixed_prefetch_never_changes() {
        let p = Pace::new(2, W, 4, 4);
        assert!(!p.adaptive());
        for _ in 0..10 {
            p.observe(0.002, 0.010);
        }
        assert_eq!(p.propose(4), None);
        let q = Pace::new(2, W, 8, 2);
        assert!(!q.adaptive(), "a maximum under the minimum is the minimum");
    }
}
