//! A connection lent to one caller (or one transaction).
//!
//! Returning happens in `Drop`, so no code path (error, panic, a forgotten
//! transaction collected by the GC) can leak a connection: a healthy one goes
//! back to the idle stack, a broken one is closed and replaced later, and one
//! still inside a transaction is rolled back first.
//!
//! Between statements the connection rests in a [`Slot`] that the pool can
//! see, so `close()` can take back connections a caller holds without using
//! them (an abandoned transaction) once its grace period is over.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::core::{Live, PoolCore};
use super::gauges::InUseGuard;
use super::inline::turn_budget;
use crate::backend::sqlite_inline::{Output, Want};
use crate::backend::Driver;
use crate::error::{DbError, DbResult, ErrorCode};
use crate::metrics::Metrics;
use crate::value::Param;

/// Extra time the client gives the server to enforce `statementTimeoutMs`
/// itself (keeping the connection) before giving up on the connection.
pub const BACKSTOP_GRACE: Duration = Duration::from_secs(2);

/// A lent connection with its place in the `inUse` count.
pub struct Held<DB: Driver> {
    pub live: Live<DB>,
    pub in_use: InUseGuard,
}

pub struct Slot<DB: Driver> {
    pub held: Mutex<Option<Held<DB>>>,
}

impl<DB: Driver> Slot<DB> {
    pub fn take(&self) -> Option<Held<DB>> {
        self.held.lock().ok().and_then(|mut h| h.take())
    }
}

pub struct Lease<DB: Driver> {
    core: Arc<PoolCore<DB>>,
    slot: Arc<Slot<DB>>,
    /// The connection while a statement runs on it (out of the slot).
    active: Option<Held<DB>>,
    permit: Option<OwnedSemaphorePermit>,
    broken: bool,
    pub(crate) in_transaction: bool,
}

/// Returned by [`Lease::statement_started`], consumed by `statement_finished`.
pub struct StatementClock(Instant);

impl<DB: Driver> Lease<DB> {
    pub(super) fn new(
        core: Arc<PoolCore<DB>>,
        slot: Arc<Slot<DB>>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Lease {
            core,
            slot,
            active: None,
            permit: Some(permit),
            broken: false,
            in_transaction: false,
        }
    }

    /// The connection of the running statement (between `statement_started`
    /// and `statement_finished`).
    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut self
            .active
            .as_mut()
            .expect("conn() is only used inside a statement")
            .live
            .raw
    }

    /// Runs a fixed statement (BEGIN, COMMIT, ROLLBACK) like any other.
    pub async fn run_simple(&mut self, sql: &str) -> DbResult<()> {
        super::on_lease!(self, |conn| DB::simple(conn, sql))
    }

    /// Opens a transaction (the pool's own `BEGIN`, see `Driver::begin_sql`).
    /// Until it ends, dropping the lease rolls back first.
    pub async fn begin(&mut self) -> DbResult<()> {
        let core = self.core.clone();
        self.run_simple(core.begin_sql()).await?;
        self.in_transaction = true;
        Ok(())
    }

    /// Ends the transaction: COMMIT after a success, ROLLBACK after a
    /// failure, whose error is the one reported.
    pub async fn end<T>(&mut self, outcome: DbResult<T>) -> DbResult<T> {
        let end = self
            .run_simple(if outcome.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            })
            .await;
        if end.is_ok() {
            self.in_transaction = false;
        }
        let value = outcome?;
        end.map(|_| value)
    }

    /// Whether each autocommit statement must be wrapped in a transaction.
    pub fn pins_statements(&self) -> bool {
        DB::pins_statements(&self.core.config)
    }

    /// One round trip; a failure means the connection is gone.
    pub async fn ping(&mut self) -> DbResult<Duration> {
        let clock = self.statement_started()?;
        let started = Instant::now();
        let outcome = sqlx::Connection::ping(self.conn())
            .await
            .map_err(|e| DbError {
                code: ErrorCode::ConnectionFailed,
                ..DbError::from_sqlx(e)
            });
        let rtt = started.elapsed();
        self.statement_finished(clock, Some(outcome)).map(|_| rtt)
    }

    /// Takes the connection out of its slot for one statement and arms the
    /// statement timeout. Fails if `close()` already took the connection.
    pub fn statement_started(&mut self) -> DbResult<StatementClock> {
        if self.active.is_none() {
            self.active = Some(self.slot.take().ok_or_else(|| {
                DbError::new(
                    ErrorCode::PoolClosed,
                    "the pool was closed and took back this connection",
                )
            })?);
        }
        if let (Some(limit), Some(held)) =
            (self.core.config.statement_timeout, self.active.as_ref())
        {
            held.live.deadline.arm(limit);
        }
        Ok(StatementClock(Instant::now()))
    }

    /// After a failed statement: waits until the driver is done with the
    /// connection (see `Driver::settle_after_error`); one it cannot vouch
    /// for is closed when the lease ends rather than lent again.
    pub async fn settle_after_error(&mut self) {
        if !DB::settle_after_error(self.conn()).await {
            self.broken = true;
        }
    }

    /// How long the client waits before abandoning a statement: the
    /// server's own timeout plus a grace period.
    pub fn backstop_limit(&self) -> Option<Duration> {
        self.core
            .config
            .statement_timeout
            .map(|t| t + BACKSTOP_GRACE)
    }

    /// Records the statement, puts the connection back in its slot, and
    /// turns driver outcomes into the contract's: a server-side statement
    /// timeout is `TIMEOUT` (connection kept); a backstop timeout or a broken
    /// connection discards the connection.
    pub fn statement_finished<T>(
        &mut self,
        clock: StatementClock,
        outcome: Option<DbResult<T>>,
    ) -> DbResult<T> {
        let metrics = &self.core.shared.metrics;
        metrics.query_time.record(clock.0.elapsed());
        Metrics::count(&metrics.queries_total);
        let (result, discard) = classify_outcome(
            self.core.config.statement_timeout,
            outcome,
            DB::is_statement_timeout,
        );
        if discard {
            self.broken = true;
        }
        self.put_back();
        result
    }

    /// The connection back in its slot after a statement (or retired, if
    /// `close()` gave up waiting for this lease while it ran).
    fn put_back(&mut self) {
        if let Some(held) = self.active.take() {
            held.live.deadline.disarm();
            if self.core.shared.is_abandoned() {
                drop(held.in_use);
                self.core.retire(held.live, false);
            } else if let Ok(mut slot) = self.slot.held.lock() {
                *slot = Some(held);
            }
        }
    }

    /// For a call that had to queue for its connection (SQLite): runs the
    /// statement right here through the backend's direct path, under the
    /// inline time limit, instead of a round trip to sqlx's worker thread.
    /// That round trip made the queue slow to drain, and while it lasted
    /// every new call joined it rather than running on the JS thread.
    /// `None`: not run (the connection is back in the lease); use the driver.
    /// Not when `allowed` is false (the statement already fell back from the
    /// JS thread) or inline execution is off.
    pub fn run_direct(
        &mut self,
        allowed: bool,
        sql: &str,
        params: &[Param],
        want: Want,
    ) -> Option<DbResult<Output>> {
        if !(DB::RUNS_LOCAL && allowed) || self.in_transaction || turn_budget().is_zero() {
            return None;
        }
        let clock = self.statement_started().ok()?;
        let held = self.active.as_mut()?;
        let outcome = self
            .core
            .run_limited(&mut held.live, Instant::now(), sql, params, want);
        match outcome {
            Ok(result) => Some(self.statement_finished(clock, Some(result))),
            Err(_) => {
                self.put_back();
                None
            }
        }
    }
}

impl<DB: Driver> Drop for Lease<DB> {
    fn drop(&mut self) {
        // Dropped mid-statement (a cancelled call): the connection may be
        // halfway through a reply, so it is closed rather than lent again.
        let mid_statement = self.active.is_some();
        let Some(Held { mut live, in_use }) = self.active.take().or_else(|| self.slot.take())
        else {
            // close() took the connection back already.
            self.core.shared.returned.notify_waiters();
            return;
        };
        let core = self.core.clone();
        if self.broken || mid_statement {
            drop(in_use);
            core.retire(live, false);
        } else if self.in_transaction {
            // Keep the permit and the in-use count until the rollback is done,
            // so nobody is lent this connection mid-transaction.
            let permit = self.permit.take();
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
            drop(in_use);
            core.give_back(live);
        }
    }
}

/// Runs `work`, giving up (`None`) after `limit`.
/// Turns a statement's outcome into the contract's: a server-side
/// statement timeout is `TIMEOUT` (the connection kept); a backstop timeout
/// (`None`) is `TIMEOUT` too, and with a broken connection it says the
/// connection is to be discarded (`true`).
pub fn classify_outcome<T>(
    statement_timeout: Option<Duration>,
    outcome: Option<DbResult<T>>,
    is_statement_timeout: fn(&DbError) -> bool,
) -> (DbResult<T>, bool) {
    let limit_ms = statement_timeout.map_or(0, |t| t.as_millis());
    match outcome {
        None => (
            Err(DbError::new(
                ErrorCode::Timeout,
                // Given up on, not cancelled: a write may still have
                // been applied, and the caller must not assume either way.
                format!("the statement ran longer than statementTimeoutMs ({limit_ms} ms) and was given up on; its connection was closed, and whether a write in it took effect is unknown"),
            )),
            true,
        ),
        Some(Ok(v)) => (Ok(v), false),
        Some(Err(mut e)) => {
            if is_statement_timeout(&e) {
                e.message = format!(
                    "the statement ran longer than statementTimeoutMs ({limit_ms} ms): {}",
                    e.message
                );
                e.code = ErrorCode::Timeout;
                (Err(e), false)
            } else {
                let broken = e.code == ErrorCode::ConnectionFailed;
                (Err(e), broken)
            }
        }
    }
}

pub async fn backstop<T>(
    limit: Option<Duration>,
    work: impl Future<Output = DbResult<T>>,
) -> Option<DbResult<T>> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        None => Some(work.await),
    }
}
