//! Background work a pool may be asked to do: a periodic health ping (its
//! last result kept for health reports) and expired-session cleanup. Each
//! task holds only a weak reference, waits for the pool's first use (the
//! pool stays lazy), and ends when the pool closes or is dropped. Tokio
//! timers are not libuv handles, so none of this keeps Node alive.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use super::shared::BackgroundCheck;
use super::{DbPool, PoolInner};
use crate::health::DEFAULT_TIMEOUT;
use crate::sessions::cleanup::DEFAULT_TABLE;

pub(super) fn spawn(pool: &DbPool) {
    let config = pool.config();
    if let Some(every) = config.health_check_interval {
        let limit = DEFAULT_TIMEOUT.min(every.max(Duration::from_millis(100)));
        every_while_open(pool, every, move |pool| async move {
            let result = tokio::time::timeout(limit, pool.ping()).await;
            let check = match result {
                Ok(Ok(rtt)) => BackgroundCheck {
                    round_trip: Some(rtt),
                    error: None,
                    at: SystemTime::now(),
                },
                Ok(Err(e)) => BackgroundCheck {
                    round_trip: None,
                    error: Some(format!("{}: {}", e.code, e.message)),
                    at: SystemTime::now(),
                },
                Err(_) => BackgroundCheck {
                    round_trip: None,
                    error: Some("TIMEOUT: health ping did not answer".into()),
                    at: SystemTime::now(),
                },
            };
            if let Ok(mut last) = pool.shared().last_check.lock() {
                *last = Some(check);
            }
        });
    }
    if !pool.replicas().list.is_empty() {
        // Skipped replicas are probed so they take reads again once back.
        let every = config
            .health_check_interval
            .unwrap_or(Duration::from_secs(1));
        every_while_open(pool, every, |pool| async move {
            pool.replicas().probe_skipped().await;
        });
    }
    if config.pipelining {
        // Pipeline lanes idle or old past the limits close as leased
        // connections do (`PoolCore`'s upkeep), checked as often.
        let every = [config.idle_timeout, config.max_lifetime]
            .into_iter()
            .flatten()
            .min()
            .map(|t| (t / 4).clamp(Duration::from_millis(25), Duration::from_secs(30)));
        if let Some(every) = every {
            every_while_open(pool, every, |pool| async move {
                pool.reap_pipeline();
            });
        }
    }
    if let Some(every) = config.session_cleanup_interval {
        every_while_open(pool, every, |pool| async move {
            // A missing table is not an error worth more than a skipped run.
            let _ = pool.cleanup_expired_sessions(DEFAULT_TABLE, None).await;
        });
    }
}

fn every_while_open<F, Fut>(pool: &DbPool, every: Duration, mut work: F)
where
    F: FnMut(DbPool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let weak: Weak<PoolInner> = Arc::downgrade(&pool.inner);
    pool.shared().runtime.spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(inner) = weak.upgrade() else { break };
            let pool = DbPool {
                inner,
                route_reads: true,
            };
            if pool.is_closed() {
                break;
            }
            if pool.shared().is_started() {
                work(pool).await;
            }
        }
    });
}
