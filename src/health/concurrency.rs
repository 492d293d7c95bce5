//! `testConcurrentQueries(n)`: the seed app's check that the pool serves
//! several callers at once, run through the real pool.

use std::time::Instant;

use futures_util::future::join_all;

use super::{ms, round3, HealthStatus};
use crate::error::{DbError, DbResult};
use crate::pool::DbPool;

pub const DEFAULT_COUNT: u32 = 3;
pub const MAX_COUNT: u32 = 1000;

/// `connection_pool` of the detailed report.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcurrencyReport {
    pub status: HealthStatus,
    pub concurrent_queries: u32,
    pub total_time_ms: f64,
    pub average_time_ms: f64,
    pub all_queries_successful: bool,
}

impl ConcurrencyReport {
    /// Not run or not finished (the database is down, the pool saturated,
    /// or the run timed out).
    pub fn skipped(count: u32, status: HealthStatus) -> Self {
        ConcurrencyReport {
            status,
            concurrent_queries: count,
            total_time_ms: 0.0,
            average_time_ms: 0.0,
            all_queries_successful: false,
        }
    }
}

pub async fn test_concurrent_queries(pool: &DbPool, count: u32) -> DbResult<ConcurrencyReport> {
    if count == 0 || count > MAX_COUNT {
        return Err(DbError::invalid_argument(format!(
            "count must be between 1 and {MAX_COUNT}, got {count}"
        )));
    }
    let started = Instant::now();
    let runs = join_all((0..count).map(|_| async {
        let t = Instant::now();
        let ok = pool.query("SELECT 1", &[], true).await.is_ok();
        (ok, t.elapsed())
    }))
    .await;
    let total = started.elapsed();
    let succeeded = runs.iter().filter(|(ok, _)| *ok).count() as u32;
    let average = runs.iter().map(|(_, d)| ms(*d)).sum::<f64>() / count as f64;
    Ok(ConcurrencyReport {
        status: match succeeded {
            s if s == count => HealthStatus::Healthy,
            0 => HealthStatus::Unhealthy,
            _ => HealthStatus::Degraded,
        },
        concurrent_queries: count,
        total_time_ms: round3(ms(total)),
        average_time_ms: round3(average),
        all_queries_successful: succeeded == count,
    })
}
