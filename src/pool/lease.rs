//! A connection lent to one caller (or one transaction).
//!
//! Returning happens in `Drop`, so no code path (error, panic, a forgotten
//! transaction collected by the GC) can leak a connection: a healthy one goes
//! back to the idle stack, a broken one is closed and replaced later, and one
//! still inside a transaction is rolled back first.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::core::{Live, PoolCore};
use super::gauges::InUseGuard;
use crate::backend::Driver;
use crate::error::{DbError, DbResult, ErrorCode};
use crate::metrics::Metrics;

/// Extra time the client gives the server to enforce `statementTimeoutMs`
/// itself (keeping the connection) before giving up on the connection.
const BACKSTOP_GRACE: Duration = Duration::from_secs(2);

pub struct Lease<DB: Driver> {
    core: Arc<PoolCore<DB>>,
    live: Option<Live<DB>>,
    permit: Option<OwnedSemaphorePermit>,
    in_use: Option<InUseGuard>,
    broken: bool,
    pub(crate) in_transaction: bool,
}

/// Returned by [`Lease::statement_started`], consumed by `statement_finished`.
pub struct StatementClock(Instant);

impl<DB: Driver> Lease<DB> {
    pub(super) fn new(core: Arc<PoolCore<DB>>, live: Live<DB>, permit: OwnedSemaphorePermit, in_use: InUseGuard) -> Self {
        Lease { core, live: Some(live), permit: Some(permit), in_use: Some(in_use), broken: false, in_transaction: false }
    }

    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut self.live.as_mut().expect("a lease holds its connection until dropped").raw
    }

    /// Runs a fixed statement (BEGIN, COMMIT, ROLLBACK) like any other.
    pub async fn run_simple(&mut self, sql: &'static str) -> DbResult<()> {
        super::on_lease!(self, |conn| DB::simple(conn, sql))
    }

    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    pub fn statement_started(&mut self) -> StatementClock {
        if let (Some(limit), Some(live)) = (self.core.config.statement_timeout, self.live.as_ref()) {
            live.deadline.arm(limit);
        }
        StatementClock(Instant::now())
    }

    /// How long the client waits before abandoning a statement: the
    /// server's own timeout plus a grace period.
    pub fn backstop_limit(&self) -> Option<Duration> {
        self.core.config.statement_timeout.map(|t| t + BACKSTOP_GRACE)
    }

    /// Records the statement and turns driver outcomes into the contract's:
    /// a server-side statement timeout is `TIMEOUT` (connection kept); a
    /// backstop timeout or a broken connection discards the connection.
    pub fn statement_finished<T>(&mut self, clock: StatementClock, outcome: Option<DbResult<T>>) -> DbResult<T> {
        if let Some(live) = self.live.as_ref() {
            live.deadline.disarm();
        }
        let metrics = &self.core.shared.metrics;
        metrics.query_time.record(clock.0.elapsed());
        Metrics::count(&metrics.queries_total);
        let limit_ms = self.core.config.statement_timeout.map_or(0, |t| t.as_millis());
        match outcome {
            None => {
                self.broken = true;
                Err(DbError::new(
                    ErrorCode::Timeout,
                    format!("the statement ran longer than statementTimeoutMs ({limit_ms} ms); its connection was closed"),
                ))
            }
            Some(Ok(v)) => Ok(v),
            Some(Err(mut e)) => {
                if DB::is_statement_timeout(&e) {
                    e.message = format!("the statement ran longer than statementTimeoutMs ({limit_ms} ms): {}", e.message);
                    e.code = ErrorCode::Timeout;
                } else if e.code == ErrorCode::ConnectionFailed {
                    self.broken = true;
                }
                Err(e)
            }
        }
    }
}

impl<DB: Driver> Drop for Lease<DB> {
    fn drop(&mut self) {
        let Some(mut live) = self.live.take() else { return };
        let core = self.core.clone();
        if self.broken {
            drop(self.in_use.take());
            core.retire(live, false);
        } else if self.in_transaction {
            // Keep the permit and the in-use count until the rollback is done,
            // so nobody is lent this connection mid-transaction.
            let permit = self.permit.take();
            let in_use = self.in_use.take();
            core.shared.runtime.clone().spawn(async move {
                let rolled_back = DB::simple(&mut live.raw, "ROLLBACK").await.is_ok();
                drop(in_use);
                if rolled_back {
                    core.give_back(live);
                } else {
                    core.retire(live, false);
                }
                drop(permit);
            });
        } else {
            drop(self.in_use.take());
            core.give_back(live);
        }
    }
}

/// Runs `work`, giving up (`None`) after `limit`.
pub async fn backstop<T>(limit: Option<Duration>, work: impl Future<Output = DbResult<T>>) -> Option<DbResult<T>> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        None => Some(work.await),
    }
}
