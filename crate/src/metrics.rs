//! Sampled metrics a supervisor tracks in the core (`diagnostics.track`): how long mail waits
//! before its actor takes it, mailbox depths, how long Tier 2 writes wait for a box, intervals
//! between heartbeats, references per published box, and read authorisations granted and
//! refused. Each metric samples its events at the supervisor's rate without locks (a
//! fixed-point accumulator per metric) and keeps its most recent samples for percentiles.
//! A supervisor that tracks nothing has no tracker, so the message path pays one branch.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Samples kept per metric for percentiles.
const KEEP: usize = 1024;
/// Fixed-point one for the sampling accumulators.
const ONE: u64 = 1 << 32;

/// A metric measured in the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Time (ms) from a message's enqueue to the moment its actor's thread takes it.
    MessageLatency,
    /// Mailbox depth just after a message was queued.
    InboxDepth,
    /// Time (ms) a Tier 2 write waited for a box (0 when one was free at once).
    WriteQueueWait,
    /// Time (ms) between two heartbeats of one incarnation.
    HeartbeatInterval,
    /// References a box holds when it is published (the writer plus its readers).
    RefCounts,
    /// Tier 2 reads granted or refused (counted, not timed).
    Authorization,
}

impl Metric {
    /// Every core metric, in reporting order.
    pub const ALL: [Metric; 6] = [
        Metric::MessageLatency,
        Metric::InboxDepth,
        Metric::WriteQueueWait,
        Metric::HeartbeatInterval,
        Metric::RefCounts,
        Metric::Authorization,
    ];

    /// The name used in `diagnostics.track` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::MessageLatency => "messageLatency",
            Metric::InboxDepth => "inboxDepth",
            Metric::WriteQueueWait => "writeQueueWait",
            Metric::HeartbeatInterval => "heartbeatInterval",
            Metric::RefCounts => "refCounts",
            Metric::Authorization => "authorization",
        }
    }

    /// The metric called `name`, if the core measures it.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Default)]
struct Series {
    count: u64,
    recent: VecDeque<f64>,
}

/// The metrics one supervisor tracks.
pub struct Tracker {
    tracked: [bool; 6],
    /// Sample rate in 1/2^32 units (`ONE` samples every event).
    step: u64,
    acc: [AtomicU64; 6],
    // Lock order (see `Runtime`): a leaf, possibly taken under an actor's state lock.
    series: Mutex<[Series; 6]>,
    granted: AtomicU64,
    denied: AtomicU64,
    epoch: Instant,
}

impl Tracker {
    /// A tracker of `metrics` sampling at `rate` (0..=1), or `None` when nothing would ever be
    /// recorded (no metric, or rate 0).
    pub fn new(metrics: &[Metric], rate: f64) -> Option<Tracker> {
        if metrics.is_empty() || rate.is_nan() || rate <= 0.0 {
            return None;
        }
        let mut tracked = [false; 6];
        for m in metrics {
            tracked[m.index()] = true;
        }
        Some(Tracker {
            tracked,
            step: (rate.min(1.0) * ONE as f64) as u64,
            acc: Default::default(),
            series: Mutex::new(Default::default()),
            granted: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Nanoseconds on this tracker's clock (never 0, so 0 can mean "not stamped").
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// True if this event of `m` is to be sampled: `m` is tracked and the accumulator
    /// crossed a whole number (so exactly `rate` of the events are taken, evenly spread).
    pub fn wants(&self, m: Metric) -> bool {
        if !self.tracked[m.index()] {
            return false;
        }
        if self.step >= ONE {
            return true;
        }
        let old = self.acc[m.index()].fetch_add(self.step, Ordering::Relaxed);
        (old.wrapping_add(self.step) >> 32) != (old >> 32)
    }

    /// Records one sampled value of `m`.
    pub fn record(&self, m: Metric, value: f64) {
        let mut all = self.series.lock();
        let s = &mut all[m.index()];
        s.count += 1;
        if s.recent.len() == KEEP {
            s.recent.pop_front();
        }
        s.recent.push_back(value);
    }

    /// Records `m` as the time since `since_ns` (a [`Tracker::now_ns`] reading), in ms.
    pub fn record_since(&self, m: Metric, since_ns: u64) {
        let ns = self.now_ns().saturating_sub(since_ns);
        self.record(m, ns as f64 / 1e6);
    }

    /// Counts a Tier 2 read authorisation (sampled like every other metric).
    pub fn authorised(&self, granted: bool) {
        if self.wants(Metric::Authorization) {
            let c = if granted { &self.granted } else { &self.denied };
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `{ name: { count, p50, p99, max } }` for each tracked metric, and
    /// `authorization: { granted, denied }`.
    pub fn summary(&self) -> serde_json::Value {
        let all = self.series.lock();
        let mut out = serde_json::Map::new();
        for m in Metric::ALL {
            if !self.tracked[m.index()] {
                continue;
            }
            let v = if m == Metric::Authorization {
                serde_json::json!({
                    "granted": self.granted.load(Ordering::Relaxed),
                    "denied": self.denied.load(Ordering::Relaxed),
                })
            } else {
                let s = &all[m.index()];
                let mut sorted: Vec<f64> = s.recent.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                let at = |q: f64| {
                    let i = ((q * sorted.len() as f64) as usize).min(sorted.len().max(1) - 1);
                    sorted.get(i).copied()
                };
                serde_json::json!({
                    "count": s.count,
                    "p50": at(0.5),
                    "p99": at(0.99),
                    "max": sorted.last(),
                })
            };
            out.insert(m.name().to_string(), v);
        }
        serde_json::Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_zero_or_nothing_tracked_means_no_tracker() {
        assert!(Tracker::new(&[Metric::InboxDepth], 0.0).is_none());
        assert!(Tracker::new(&[], 1.0).is_none());
    }

    #[test]
    fn sampling_takes_exactly_the_rate() {
        let t = Tracker::new(&[Metric::InboxDepth], 0.25).unwrap();
        let taken = (0..1000).filter(|_| t.wants(Metric::InboxDepth)).count();
        assert_eq!(taken, 250);
        assert!(!t.wants(Metric::MessageLatency), "untracked metric");
        let all = Tracker::new(&[Metric::InboxDepth], 1.0).unwrap();
        assert!((0..100).all(|_| all.wants(Metric::InboxDepth)));
    }

    #[test]
    fn summary_reports_percentiles_and_counts() {
        let t = Tracker::new(&[Metric::InboxDepth, Metric::Authorization], 1.0).unwrap();
        for v in 1..=100 {
            t.record(Metric::InboxDepth, v as f64);
        }
        t.authorised(true);
        t.authorised(false);
        t.authorised(true);
        let s = t.summary();
        assert_eq!(s["inboxDepth"]["count"], 100);
        assert_eq!(s["inboxDepth"]["p50"], 51.0);
        assert_eq!(s["inboxDepth"]["p99"], 100.0);
        assert_eq!(s["inboxDepth"]["max"], 100.0);
        assert_eq!(s["authorization"]["granted"], 2);
        assert_eq!(s["authorization"]["denied"], 1);
        assert!(s.get("messageLatency").is_none());
    }

    #[test]
    fn keeps_only_recent_samples() {
        let t = Tracker::new(&[Metric::RefCounts], 1.0).unwrap();
        for v in 0..(KEEP + 10) {
            t.record(Metric::RefCounts, v as f64);
        }
        let s = t.summary();
        assert_eq!(s["refCounts"]["count"], (KEEP + 10) as u64);
        assert_eq!(s["refCounts"]["max"], (KEEP + 9) as f64);
    }
}
