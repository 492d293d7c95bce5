//! Health reports with the seed app's keys (`/health/database`,
//! `/health/detailed`), computed here so one probe costs one ping.
//!
//! Status rules (also in the README):
//! - `unhealthy`: the pool is closed, or a round trip failed or did not
//!   finish within the check's timeout;
//! - `degraded`: the database answered, but slowly (round trip over
//!   [`SLOW_ROUND_TRIP`]), or the pool is saturated (every connection in use
//!   and callers waiting) — then no ping is queued behind the callers;
//! - `healthy` otherwise.
//!
//! A health check never fails: a down database is a report, not an error.

pub mod concurrency;

use std::time::{Duration, Instant, SystemTime};

use crate::metrics::MetricsSnapshot;
use crate::pool::DbPool;
pub use concurrency::{test_concurrent_queries, ConcurrencyReport};

/// A round trip slower than this makes the database `degraded`.
pub const SLOW_ROUND_TRIP: Duration = Duration::from_millis(1000);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolInfo {
    pub max_connections: u32,
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    pub waiting: u32,
}

/// `DatabaseHealth` of the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseHealth {
    pub status: HealthStatus,
    pub connection_time_ms: f64,
    pub database_type: &'static str,
    pub pool_info: PoolInfo,
    pub error: Option<String>,
    pub checked_at: SystemTime,
}

/// `DetailedHealth` of the contract, less `process` (read on the JS thread).
#[derive(Debug, Clone, PartialEq)]
pub struct DetailedHealth {
    pub status: HealthStatus,
    pub database: DatabaseHealth,
    pub connection_pool: ConcurrencyReport,
    pub metrics: MetricsSnapshot,
    pub checked_at: SystemTime,
}

fn pool_info(pool: &DbPool) -> PoolInfo {
    let s = pool.status();
    PoolInfo {
        max_connections: s.max_connections,
        size: s.size,
        idle: s.idle,
        in_use: s.in_use,
        waiting: s.waiting,
    }
}

pub async fn check_health(pool: &DbPool, timeout: Duration) -> DatabaseHealth {
    let report = |status, ms: f64, error: Option<String>| DatabaseHealth {
        status,
        connection_time_ms: round3(ms),
        database_type: pool.backend().as_str(),
        pool_info: pool_info(pool),
        error,
        checked_at: SystemTime::now(),
    };
    if pool.is_closed() {
        return report(
            HealthStatus::Unhealthy,
            0.0,
            Some("the pool is closed".into()),
        );
    }
    if pool.status().saturated() {
        let last = pool
            .shared()
            .last_check
            .lock()
            .ok()
            .and_then(|c| c.as_ref().and_then(|c| c.round_trip));
        return report(HealthStatus::Degraded, last.map_or(0.0, ms), None);
    }
    let started = Instant::now();
    match tokio::time::timeout(timeout, pool.ping()).await {
        Ok(Ok(rtt)) if rtt > SLOW_ROUND_TRIP => report(HealthStatus::Degraded, ms(rtt), None),
        Ok(Ok(rtt)) => report(HealthStatus::Healthy, ms(rtt), None),
        Ok(Err(e)) => report(
            HealthStatus::Unhealthy,
            ms(started.elapsed()),
            Some(format!("{}: {}", e.code, e.message)),
        ),
        // Every connection busy the whole time: the pool, not the database,
        // is the bottleneck.
        Err(_) if pool.status().in_use >= pool.config().max_connections => {
            report(HealthStatus::Degraded, ms(started.elapsed()), None)
        }
        Err(_) => report(
            HealthStatus::Unhealthy,
            ms(started.elapsed()),
            Some(format!(
                "TIMEOUT: no answer within {} ms",
                timeout.as_millis()
            )),
        ),
    }
}

pub async fn detailed_health(
    pool: &DbPool,
    timeout: Duration,
    concurrent_queries: u32,
) -> DetailedHealth {
    let database = check_health(pool, timeout).await;
    let connection_pool = match database.status {
        HealthStatus::Unhealthy => {
            ConcurrencyReport::skipped(concurrent_queries, HealthStatus::Unhealthy)
        }
        // Saturated: the test would only queue behind the callers waiting.
        _ if pool.status().saturated() => {
            ConcurrencyReport::skipped(concurrent_queries, HealthStatus::Degraded)
        }
        // Cancelling the test on timeout is safe: a connection dropped
        // mid-statement is closed, never lent again.
        _ => {
            match tokio::time::timeout(timeout, test_concurrent_queries(pool, concurrent_queries))
                .await
            {
                Ok(Ok(r)) => r,
                // The database answered the ping but the queries did not
                // finish in time: the pool is the bottleneck.
                _ => ConcurrencyReport::skipped(concurrent_queries, HealthStatus::Degraded),
            }
        }
    };
    DetailedHealth {
        status: database.status.max(connection_pool.status),
        database,
        connection_pool,
        metrics: pool.metrics(),
        checked_at: SystemTime::now(),
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Health figures are read by people: microsecond precision is plenty.
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
