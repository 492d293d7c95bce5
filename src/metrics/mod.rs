//! What the pool measures, kept with relaxed atomics so that measuring
//! costs nothing a query would notice.

pub mod histogram;
pub mod prometheus;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ErrorCode;
use histogram::{Histogram, Summary};

#[derive(Default)]
pub struct Metrics {
    pub connections_created: AtomicU64,
    pub connections_closed: AtomicU64,
    /// Closed by the pool's own upkeep: idle too long or past max lifetime.
    pub connections_reaped: AtomicU64,
    pub connect_time: Histogram,
    pub acquire_wait: Histogram,
    pub query_time: Histogram,
    pub queries_total: AtomicU64,
    /// SQLite statements run through the pool's own C API path rather than
    /// sqlx's worker thread: on the JS thread, or, for a call that queued
    /// for its connection, on the tokio thread that got it one (also
    /// counted in `queries_total`).
    pub queries_inline: AtomicU64,
    /// SQLite statements interrupted on that path for running past the
    /// inline time limit, then run again on sqlx's worker thread.
    pub inline_overruns: AtomicU64,
    pub errors_by_code: [AtomicU64; ErrorCode::ALL.len()],
    pub acquire_timeouts: AtomicU64,
    pub leaks_detected: AtomicU64,
}

impl Metrics {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, code: ErrorCode) {
        self.errors_by_code[code.index()].fetch_add(1, Ordering::Relaxed);
        if code == ErrorCode::PoolTimeout {
            Self::count(&self.acquire_timeouts);
        }
    }

    pub fn snapshot(&self, waiting: u32) -> MetricsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let errors_by_code: BTreeMap<&'static str, u64> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), load(&self.errors_by_code[c.index()])))
            .filter(|(_, n)| *n > 0)
            .collect();
        MetricsSnapshot {
            connections_created: load(&self.connections_created),
            connections_closed: load(&self.connections_closed),
            connections_reaped: load(&self.connections_reaped),
            connect_time_ms: self.connect_time.summary(),
            acquire_wait_ms: self.acquire_wait.summary(),
            query_time_ms: self.query_time.summary(),
            queries_total: load(&self.queries_total),
            queries_inline: load(&self.queries_inline),
            inline_overruns: load(&self.inline_overruns),
            errors_total: errors_by_code.values().sum(),
            errors_by_code,
            acquire_timeouts: load(&self.acquire_timeouts),
            leaks_detected: load(&self.leaks_detected),
            waiting,
        }
    }
}

/// `PoolMetrics` of the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSnapshot {
    pub connections_created: u64,
    pub connections_closed: u64,
    pub connections_reaped: u64,
    pub connect_time_ms: Summary,
    pub acquire_wait_ms: Summary,
    pub query_time_ms: Summary,
    pub queries_total: u64,
    pub queries_inline: u64,
    pub inline_overruns: u64,
    pub errors_total: u64,
    pub errors_by_code: BTreeMap<&'static str, u64>,
    pub acquire_timeouts: u64,
    pub leaks_detected: u64,
    pub waiting: u32,
}
