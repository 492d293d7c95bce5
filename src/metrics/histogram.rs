//! A lock-free latency histogram: log-linear buckets (8 per power of two,
//! so any reported percentile is within 9% of the truth), recorded with a
//! couple of relaxed atomic adds, cheap enough for every query.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Values below SUB get a bucket each; then SUB buckets per power of two up to 2^63.
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

/// Figures of a histogram, in milliseconds, as `PoolMetrics` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    pub count: u64,
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < SUB as u64 {
        return ns as usize;
    }
    let msb = 63 - ns.leading_zeros();
    let sub = (ns >> (msb - SUB_BITS)) as usize & (SUB - 1);
    (msb as usize - SUB_BITS as usize + 1) * SUB + sub
}

/// The largest value (ns) that falls in bucket `i`.
fn upper_bound(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let group = (i / SUB) as u32 + SUB_BITS - 1;
    let sub = (i % SUB) as u64;
    let base = 1u64 << group;
    let step = base >> SUB_BITS;
    base.saturating_add(step.saturating_mul(sub + 1))
        .saturating_sub(1)
}

impl Histogram {
    pub fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    fn snapshot(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    pub fn summary(&self) -> Summary {
        let counts = self.snapshot();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return Summary::default();
        }
        let max_ns = self.max_ns.load(Ordering::Relaxed);
        let quantile = |q: f64| -> f64 {
            let rank = ((q * count as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return upper_bound(i).min(max_ns) as f64 / 1e6;
                }
            }
            max_ns as f64 / 1e6
        };
        Summary {
            count,
            avg: self.sum_ns.load(Ordering::Relaxed) as f64 / count as f64 / 1e6,
            p50: quantile(0.50),
            p95: quantile(0.95),
            p99: quantile(0.99),
            max: max_ns as f64 / 1e6,
        }
    }

    /// Cumulative counts at each `le` (seconds), as Prometheus buckets. A
    /// sample counts under `le` when its whole fine bucket lies below it.
    pub fn cumulative(&self, les: &[f64]) -> Vec<u64> {
        let counts = self.snapshot();
        les.iter()
            .map(|le| {
                let le_ns = (le * 1e9) as u64;
                counts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| upper_bound(*i) <= le_ns)
                    .map(|(_, c)| c)
                    .sum()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_cover_their_values() {
        let mut last = 0;
        for i in 1..BUCKETS - 1 {
            let ub = upper_bound(i);
            assert!(ub > last || ub == u64::MAX, "bucket {i}");
            last = ub;
        }
        for ns in [
            0u64,
            1,
            7,
            8,
            9,
            15,
            16,
            100,
            1_000,
            123_456,
            1_000_000_007,
            u64::MAX / 3,
        ] {
            let b = bucket_of(ns);
            assert!(
                upper_bound(b) >= ns,
                "{ns} in bucket {b} ub {}",
                upper_bound(b)
            );
            if b > 0 {
                assert!(upper_bound(b - 1) < ns, "{ns}");
            }
        }
    }

    #[test]
    fn percentiles_are_within_the_bucket_error() {
        let h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert!((s.avg - 50.5).abs() < 1e-9);
        assert!((s.p50 - 50.0).abs() / 50.0 < 0.1, "{}", s.p50);
        assert!((s.p99 - 99.0).abs() / 99.0 < 0.1, "{}", s.p99);
        assert_eq!(s.max, 100.0);
        let cum = h.cumulative(&[0.010, 0.1, 1.0]);
        assert!(cum[0] <= 10 && cum[0] >= 8, "{cum:?}");
        assert_eq!(cum[2], 100);
    }

    /// Not a check: prints what recording costs, for the closing note and
    /// the README (`cargo test --release --lib record_cost -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn record_cost() {
        let h = Histogram::default();
        let n = 10_000_000u64;
        let started = std::time::Instant::now();
        for i in 0..n {
            h.record(Duration::from_nanos(i % 1_000_000));
        }
        let per = started.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "Histogram::record: {per:.1} ns per sample ({} samples)",
            h.count()
        );
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(Histogram::default().summary(), Summary::default());
    }
}
