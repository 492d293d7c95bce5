//! What `status()`, `metrics()` and `detailedHealth()` say about each read
//! replica.

use napi_derive::napi;

use super::health::{database, metrics, JsDatabaseHealth, PoolMetrics};
use crate::health;
use crate::pool::DbPool;

/// One read replica in `status().replicas`.
#[napi(object)]
pub struct ReplicaStatus {
    /// The replica's URL, password masked.
    pub url: String,
    /// False while reads skip it (it failed; a probe brings it back).
    pub healthy: bool,
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    pub waiting: u32,
}

/// One read replica in `metrics().replicas`.
#[napi(object)]
pub struct ReplicaMetrics {
    pub url: String,
    pub healthy: bool,
    pub metrics: PoolMetrics,
}

/// One read replica in `detailedHealth().replicas`.
#[napi(object)]
pub struct ReplicaHealth {
    pub url: String,
    /// Whether reads are routed to it right now.
    pub routed: bool,
    pub health: JsDatabaseHealth,
}

pub fn statuses(pool: &DbPool) -> Option<Vec<ReplicaStatus>> {
    let list = &pool.replicas().list;
    (!list.is_empty()).then(|| {
        list.iter()
            .map(|r| {
                let s = r.pool.status();
                ReplicaStatus {
                    url: r.shown.clone(),
                    healthy: r.is_healthy(),
                    size: s.size,
                    idle: s.idle,
                    in_use: s.in_use,
                    waiting: s.waiting,
                }
            })
            .collect()
    })
}

pub fn metrics_of(pool: &DbPool) -> Option<Vec<ReplicaMetrics>> {
    let list = &pool.replicas().list;
    (!list.is_empty()).then(|| {
        list.iter()
            .map(|r| ReplicaMetrics {
                url: r.shown.clone(),
                healthy: r.is_healthy(),
                metrics: metrics(r.pool.metrics()),
            })
            .collect()
    })
}

pub async fn health_of(
    pool: &DbPool,
    timeout: std::time::Duration,
) -> Vec<(String, bool, health::DatabaseHealth)> {
    let checks = pool.replicas().list.iter().map(|r| async move {
        (
            r.shown.clone(),
            r.is_healthy(),
            health::check_health(&r.pool, timeout).await,
        )
    });
    futures_util::future::join_all(checks).await
}

pub fn health_reports(
    list: Vec<(String, bool, health::DatabaseHealth)>,
) -> Option<Vec<ReplicaHealth>> {
    (!list.is_empty()).then(|| {
        list.into_iter()
            .map(|(url, routed, h)| ReplicaHealth {
                url,
                routed,
                health: database(h),
            })
            .collect()
    })
}
