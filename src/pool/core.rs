//! The connection pool proper, generic over the backend.
//!
//! A fair (FIFO) semaphore holds one permit per allowed connection: a caller
//! first waits for a permit (bounded by `acquireTimeoutMs`), then takes the
//! most recently used idle connection, or opens a new one. Since idle
//! connections hold no permit and new ones are only opened by a permit
//! holder who found none idle, the pool never exceeds `maxConnections`.
//! A background task closes connections idle too long or past their
//! lifetime and keeps `minConnections` open once the pool has been used.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};
use tokio::sync::Semaphore;

use super::deadline::Deadline;
use super::gauges::{InUseGuard, WaitingGuard};
use super::lease::{Held, Lease, Slot};
use super::shared::Shared;
use crate::backend::{ConnectOptionsOf, Driver};
use crate::config::options::PoolConfig;
use crate::error::{DbError, DbResult, ErrorCode};
use crate::metrics::Metrics;

/// Opening one connection (`PoolCore::open`).
mod connect;

/// An idle connection older than this is pinged before it is lent, so a
/// connection that died while idle (server restart, firewall) is replaced
/// instead of failing the caller's query. Busy connections skip the ping.
const VALIDATE_AFTER_IDLE: Duration = Duration::from_secs(1);

/// An open connection and what the pool knows about it.
pub struct Live<DB: Driver> {
    /// Declared before `raw` so it is dropped first: SQLite's inline
    /// statements must be finalized before their connection closes.
    pub local: DB::Local,
    pub raw: DB::Connection,
    pub created_at: Instant,
    pub deadline: Arc<Deadline>,
}

impl<DB: Driver> Live<DB> {
    /// Closes the connection (bounded), the pool's own state first.
    pub async fn close(self) {
        let Live { local, raw, .. } = self;
        drop(local);
        let _ = tokio::time::timeout(Duration::from_secs(5), raw.close()).await;
    }
}

struct Idle<DB: Driver> {
    live: Live<DB>,
    since: Instant,
}

pub struct PoolCore<DB: Driver> {
    pub config: Arc<PoolConfig>,
    pub shared: Arc<Shared>,
    connect_options: ConnectOptionsOf<DB>,
    semaphore: Arc<Semaphore>,
    /// A stack: the most recently returned connection is lent first, so the
    /// surplus ones stay idle long enough to be reaped.
    idle: Mutex<Vec<Idle<DB>>>,
    /// `BEGIN` for this pool (see `Driver::begin_sql`).
    begin_sql: String,
    /// Slots of lent connections, so `close()` can take them back.
    lent: Mutex<Vec<Weak<Slot<DB>>>>,
    /// SQLite: connections open one at a time, so several first connections
    /// to a fresh file do not race to switch it to WAL ("database is locked").
    open_one_at_a_time: tokio::sync::Mutex<()>,
    /// Open connections plus those being opened.
    size: AtomicU32,
    /// Connections being opened right now.
    opening: AtomicU32,
}

impl<DB: Driver> PoolCore<DB> {
    pub fn new(config: Arc<PoolConfig>, shared: Arc<Shared>) -> DbResult<Arc<Self>> {
        let connect_options = DB::connect_options(&config)?.disable_statement_logging();
        let core = Arc::new(PoolCore {
            semaphore: Arc::new(Semaphore::new(config.lease_connections() as usize)),
            connect_options,
            idle: Mutex::new(Vec::new()),
            lent: Mutex::new(Vec::new()),
            begin_sql: DB::begin_sql(&config),
            open_one_at_a_time: tokio::sync::Mutex::new(()),
            size: AtomicU32::new(0),
            opening: AtomicU32::new(0),
            config,
            shared,
        });
        spawn_upkeep(&core);
        Ok(core)
    }

    /// `BEGIN` as this pool's transactions start it.
    pub fn begin_sql(&self) -> &str {
        &self.begin_sql
    }

    /// Open connections (idle or lent), not counting those being opened.
    pub fn size(&self) -> u32 {
        self.size
            .load(Ordering::Acquire)
            .saturating_sub(self.opening.load(Ordering::Acquire))
    }

    /// Open connections plus those being opened: what `maxConnections` caps.
    fn reserved(&self) -> u32 {
        self.size.load(Ordering::Acquire)
    }

    pub fn idle_count(&self) -> u32 {
        self.idle.lock().map(|i| i.len() as u32).unwrap_or(0)
    }

    /// Waits for a permit, then lends an idle connection or opens one.
    pub async fn acquire(self: &Arc<Self>) -> DbResult<Lease<DB>> {
        if self.shared.is_closed() {
            return Err(DbError::pool_closed());
        }
        self.shared.mark_started();
        let started = Instant::now();
        let waiting = WaitingGuard::new(&self.shared.gauges);
        let permit = match tokio::time::timeout(
            self.config.acquire_timeout,
            self.semaphore.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(DbError::pool_closed()),
            Err(_) => {
                // Built before this caller stops counting as waiting, so the
                // figures describe the queue it was in.
                let error = self.timeout_error();
                drop(waiting);
                return Err(error);
            }
        };
        drop(waiting);
        let live = loop {
            let candidate = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some(Idle { live, since }) = candidate else {
                break self.open().await?;
            };
            if self.past_lifetime(&live) {
                self.retire(live, true);
                continue;
            }
            if DB::VALIDATE_IDLE && since.elapsed() >= VALIDATE_AFTER_IDLE {
                // Should this future be dropped mid-ping, the guard closes it.
                let mut guard = Validating {
                    core: self,
                    live: Some(live),
                };
                let alive = match guard.live.as_mut() {
                    Some(l) => l.raw.ping().await.is_ok(),
                    None => false,
                };
                let live = guard.live.take().expect("the guard holds the connection");
                if !alive {
                    self.retire(live, false);
                    continue;
                }
                break live;
            }
            break live;
        };
        self.shared.metrics.acquire_wait.record(started.elapsed());
        let slot = Arc::new(Slot {
            held: Mutex::new(Some(Held {
                live,
                in_use: InUseGuard::new(&self.shared.gauges),
            })),
        });
        if let Ok(mut lent) = self.lent.lock() {
            lent.retain(|w| w.strong_count() > 0);
            lent.push(Arc::downgrade(&slot));
        }
        Ok(Lease::new(self.clone(), slot, permit))
    }

    /// A permit and an idle connection that needs no validation, right now
    /// or not at all: for a statement run synchronously on the calling
    /// thread (see `pool::inline`). Anything else (a queue, no idle
    /// connection, one due for validation) is left to `acquire`.
    pub fn lend_now(&self) -> Option<(tokio::sync::SemaphorePermit<'_>, Live<DB>)> {
        if self.shared.is_closed() {
            return None;
        }
        self.shared.mark_started();
        let permit = self.semaphore.try_acquire().ok()?;
        let mut idle = self.idle.lock().ok()?;
        let top = idle.last()?;
        let due = DB::VALIDATE_IDLE && top.since.elapsed() >= VALIDATE_AFTER_IDLE;
        if due || self.past_lifetime(&top.live) {
            return None;
        }
        Some((permit, idle.pop()?.live))
    }

    fn timeout_error(&self) -> DbError {
        let size = self.size();
        let in_use = self.shared.gauges.in_use() as u32;
        DbError::new(
            ErrorCode::PoolTimeout,
            format!(
                "timed out after {} ms waiting for a connection (size {size}, idle {}, in use {in_use}, waiting {}, max {})",
                self.config.acquire_timeout.as_millis(),
                self.idle_count(),
                self.shared.gauges.waiting(),
                self.config.max_connections
            ),
        )
    }

    fn past_lifetime(&self, live: &Live<DB>) -> bool {
        self.config
            .max_lifetime
            .is_some_and(|max| live.created_at.elapsed() >= max)
    }

    /// Takes back a healthy connection from a lease.
    pub(super) fn give_back(&self, live: Live<DB>) {
        if self.shared.is_closed() || self.past_lifetime(&live) {
            let reaped = !self.shared.is_closed();
            self.retire(live, reaped);
        } else if let Ok(mut idle) = self.idle.lock() {
            idle.push(Idle {
                live,
                since: Instant::now(),
            });
        }
        self.shared.returned.notify_waiters();
    }

    /// Closes a connection in the background and counts it.
    pub(super) fn retire(&self, live: Live<DB>, reaped: bool) {
        self.size.fetch_sub(1, Ordering::AcqRel);
        Metrics::count(&self.shared.metrics.connections_closed);
        if reaped {
            Metrics::count(&self.shared.metrics.connections_reaped);
        }
        self.shared.runtime.spawn(live.close());
        self.shared.returned.notify_waiters();
    }

    /// Closes idle connections above `minConnections` that have been idle
    /// longer than `idleTimeoutMs` or lived past `maxLifetimeMs`. Returns
    /// how many were closed.
    pub fn reap(&self) -> usize {
        let now = Instant::now();
        let min = self.config.min_connections as usize;
        let mut doomed = Vec::new();
        if let Ok(mut idle) = self.idle.lock() {
            // Oldest-returned first (bottom of the stack).
            let mut i = 0;
            while i < idle.len() {
                let size = (self.reserved() as usize).saturating_sub(doomed.len());
                let expired_idle = self
                    .config
                    .idle_timeout
                    .is_some_and(|t| now.duration_since(idle[i].since) >= t)
                    && size > min;
                if expired_idle || self.past_lifetime(&idle[i].live) {
                    doomed.push(idle.remove(i).live);
                } else {
                    i += 1;
                }
            }
        }
        let n = doomed.len();
        for live in doomed {
            self.retire(live, true);
        }
        n
    }

    /// Opens connections until `minConnections` are open (after first use).
    async fn fill_to_min(self: &Arc<Self>) {
        let min = self.config.min_connections;
        while self.shared.is_started() && !self.shared.is_closed() && self.reserved() < min {
            // Holding a permit while opening keeps the total within max even
            // when callers open connections at the same moment.
            let Ok(_permit) = self.semaphore.try_acquire() else {
                break;
            };
            match self.open().await {
                Ok(live) => self.give_back(live),
                Err(_) => break,
            }
        }
    }

    /// Refuses new work, waits for lent connections (bounded), closes all.
    pub async fn close(&self, timeout: Duration) {
        self.shared.mark_closed();
        self.semaphore.close();
        // Drained means every permit is back, not only every lease: a caller
        // holding a permit may still be validating or opening a connection
        // and would otherwise run its statement after close() resolved.
        // Permits come back after the notification of a returned connection
        // (and without one when an acquire fails), so the wait also polls.
        let max = self.config.lease_connections() as usize;
        let drained = tokio::time::timeout(timeout, async {
            loop {
                let notified = self.shared.returned.notified();
                if self.shared.gauges.in_use() == 0 && self.semaphore.available_permits() >= max {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(10), notified).await;
            }
        })
        .await;
        if drained.is_err() {
            // Grace period over: take back connections that callers hold
            // between statements (an abandoned transaction rolls back as
            // its connection closes).
            self.shared.mark_abandoned();
            let lent: Vec<_> = self
                .lent
                .lock()
                .map(|l| l.iter().filter_map(Weak::upgrade).collect())
                .unwrap_or_default();
            for slot in lent {
                if let Some(Held { live, in_use }) = slot.take() {
                    drop(in_use);
                    self.retire(live, false);
                }
            }
        }
        let idle: Vec<_> = self
            .idle
            .lock()
            .map(|mut i| i.drain(..).collect())
            .unwrap_or_default();
        let mut closing = Vec::with_capacity(idle.len());
        for Idle { live, .. } in idle {
            self.size.fetch_sub(1, Ordering::AcqRel);
            Metrics::count(&self.shared.metrics.connections_closed);
            closing.push(live.close());
        }
        for c in closing {
            let _ = c.await;
        }
    }
}

/// Upkeep runs as often as the shortest timeout needs, holding only a weak
/// reference: a dropped or closed pool ends it, and it never keeps Node alive
/// (tokio timers are not libuv handles).
fn spawn_upkeep<DB: Driver>(core: &Arc<PoolCore<DB>>) {
    let period = [core.config.idle_timeout, core.config.max_lifetime]
        .into_iter()
        .flatten()
        .min()
        .map(|t| (t / 4).clamp(Duration::from_millis(25), Duration::from_secs(30)))
        .unwrap_or(Duration::from_secs(30));
    let weak: Weak<PoolCore<DB>> = Arc::downgrade(core);
    core.shared.runtime.spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(core) = weak.upgrade() else { break };
            if core.shared.is_closed() {
                break;
            }
            core.reap();
            core.fill_to_min().await;
        }
    });
}

/// An idle connection being validated; closed if the acquire is dropped.
struct Validating<'a, DB: Driver> {
    core: &'a PoolCore<DB>,
    live: Option<Live<DB>>,
}

impl<DB: Driver> Drop for Validating<'_, DB> {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            self.core.retire(live, false);
        }
    }
}
