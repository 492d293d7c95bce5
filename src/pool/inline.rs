//! SQLite statements run on the JS thread, within a time budget per turn of
//! the event loop.
//!
//! A point-select costs SQLite a few microseconds; sending it to a worker
//! thread and the answer back costs ten times that in wake-ups. So when a
//! call is made on the JS thread (the binding's first poll opens a
//! [`js_thread`] scope), finds a free idle connection, and the loop's
//! budget is not spent, the statement runs right there
//! (`backend::sqlite_inline`) and the promise is settled before the call
//! returns.
//!
//! "Never block the event loop" still holds, in two bounds:
//! - each inline statement is interrupted after [`STATEMENT_LIMIT`] (the
//!   connection's deadline, checked by SQLite's progress handler), rolled
//!   back, and re-run on the worker thread; its SQL never runs inline again
//!   on that connection;
//! - inline statements of one turn share [`turn_budget`] (1 ms of wall
//!   time from the turn's first inline statement, unless
//!   `SHOPIFY_DB_POOL_INLINE_BUDGET_US` says otherwise; 0 turns inline
//!   execution off). Awaiting already-settled promises never yields to the
//!   loop, so without this a chain of queries would starve timers and I/O
//!   like a synchronous driver does. Once it is spent, calls wait for the
//!   next turn ([`next_turn`]: the binding keeps them on the JS thread and
//!   polls them again after the loop has run timers and I/O).
//!
//! Anything else (a queue for connections, a locked database, several
//! statements in one string, a transaction) takes the async path as before.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::sqlite::Sqlite;

use super::core::{Live, PoolCore};
use super::gauges::InUseGuard;
use crate::backend::sqlite_inline::{Fallback, Output, Want};
use crate::backend::Driver;
use crate::error::DbResult;
use crate::metrics::Metrics;
use crate::value::Param;

/// The longest one statement may hold the JS thread before it is moved to
/// the worker thread.
pub const STATEMENT_LIMIT: Duration = Duration::from_micros(500);

/// Inline time allowed per event-loop turn.
pub fn turn_budget() -> Duration {
    static BUDGET: OnceLock<Duration> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        let micros = std::env::var("SHOPIFY_DB_POOL_INLINE_BUDGET_US")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1_000);
        Duration::from_micros(micros.min(1_000_000))
    })
}

#[derive(Clone, Copy, Default)]
struct Turn {
    /// Inside a call made on the JS thread.
    open: bool,
    /// When this turn's first inline statement started. The budget is wall
    /// time from there, so the JS work between statements (promises, row
    /// objects, the caller's own code) counts too.
    started: Option<Instant>,
    /// Something ran inline inside the current scope.
    charged: bool,
    /// A future in the current scope waits for the next turn.
    waits: bool,
}

thread_local! {
    static TURN: Cell<Turn> = const {
        Cell::new(Turn { open: false, started: None, charged: false, waits: false })
    };
}

/// What happened inside a [`js_thread`] scope.
pub struct Scope {
    /// Something ran inline: the binding must notice the next turn.
    pub ran_inline: bool,
    /// The future is pending on [`next_turn`]: keep it on the JS thread
    /// and poll it again then, rather than handing it to tokio.
    pub waits_for_turn: bool,
}

/// Runs `f` (a poll) with inline execution allowed: the binding, on the JS
/// thread.
pub fn js_thread<R>(f: impl FnOnce() -> R) -> (R, Scope) {
    let before = TURN.get();
    TURN.set(Turn {
        open: true,
        charged: false,
        waits: false,
        ..before
    });
    let r = f();
    let after = TURN.get();
    TURN.set(Turn {
        started: after.started,
        ..before
    });
    let scope = Scope {
        ran_inline: after.charged,
        waits_for_turn: after.waits,
    };
    (r, scope)
}

/// True when a statement on the JS thread should wait for the next turn
/// rather than leave the thread: inline execution is on and this turn's
/// budget is spent.
pub fn should_wait_for_turn() -> bool {
    let t = TURN.get();
    t.open && !turn_budget().is_zero() && !within_budget(t)
}

fn within_budget(t: Turn) -> bool {
    t.started.is_none_or(|s| s.elapsed() < turn_budget())
}

/// Pending once, on the JS thread, so the binding polls it again on the
/// next turn of the event loop; ready at once anywhere else.
pub fn next_turn() -> impl std::future::Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |_| {
        if yielded || !TURN.get().open {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        let t = TURN.get();
        TURN.set(Turn { waits: true, ..t });
        std::task::Poll::Pending
    })
}

/// The event loop turned: a new budget.
pub fn new_turn() {
    let t = TURN.get();
    TURN.set(Turn { started: None, ..t });
}

fn allowed(now: Instant) -> bool {
    let t = TURN.get();
    t.open
        && !turn_budget().is_zero()
        && t.started
            .is_none_or(|s| now.duration_since(s) < turn_budget())
}

/// Starts the turn's clock at its first inline statement.
fn charge(first_started: Instant) {
    let t = TURN.get();
    TURN.set(Turn {
        started: t.started.or(Some(first_started)),
        charged: true,
        ..t
    });
}

/// What became of an attempt to run a statement inline.
pub enum Attempt {
    Done(DbResult<Output>),
    /// It started and was left to sqlx (it ran too long, found the database
    /// locked, or is SQL for the worker thread): nothing was changed.
    FellBack,
    /// It did not start: not on the JS thread, the turn's budget is spent,
    /// or no connection was free.
    NotRun,
}

impl PoolCore<Sqlite> {
    /// Runs the statement inline if it may. Unless `Done`, nothing was
    /// changed and no statement was counted.
    pub fn run_inline(&self, sql: &str, params: &[Param], want: Want) -> Attempt {
        // One clock read before and one after: each costs tens of
        // nanoseconds in a VM, a few percent of a point-select.
        let started = Instant::now();
        if !allowed(started) {
            return Attempt::NotRun;
        }
        let Some((permit, live)) = self.lend_now() else {
            return Attempt::NotRun;
        };
        let mut borrowed = Borrowed {
            core: self,
            live: Some(live),
            in_use: Some(InUseGuard::new(&self.shared.gauges)),
        };
        let live = borrowed.live.as_mut().expect("just lent");
        let outcome = match self.run_limited(live, started, sql, params, want) {
            Ok(result) => {
                let metrics = &self.shared.metrics;
                // Lending an idle connection never waits.
                metrics.acquire_wait.record(Duration::ZERO);
                metrics.query_time.record(started.elapsed());
                Metrics::count(&metrics.queries_total);
                Attempt::Done(result)
            }
            Err(_) => Attempt::FellBack,
        };
        drop(borrowed);
        drop(permit);
        charge(started);
        outcome
    }
}

impl<DB: Driver> PoolCore<DB> {
    /// Runs one statement on `live` through the backend's direct path (the
    /// C API, on the calling thread) under the inline time limit, counted in
    /// `queries_inline`, or in `inline_overruns` when it ran too long. Both
    /// the JS thread and a call that queued for its connection use it.
    pub(super) fn run_limited(
        &self,
        live: &mut Live<DB>,
        started: Instant,
        sql: &str,
        params: &[Param],
        want: Want,
    ) -> Result<DbResult<Output>, Fallback> {
        let limit = self
            .config
            .statement_timeout
            .map_or(STATEMENT_LIMIT, |t| t.min(STATEMENT_LIMIT));
        live.deadline.arm_at(started + limit);
        let outcome = DB::run_local(&mut live.local, sql, params, want);
        live.deadline.disarm();
        let metrics = &self.shared.metrics;
        match &outcome {
            Ok(_) => Metrics::count(&metrics.queries_inline),
            Err(Fallback::Overran) => Metrics::count(&metrics.inline_overruns),
            Err(Fallback::Declined) => {}
        }
        outcome
    }
}

/// A connection lent for one inline statement: back to the idle stack when
/// done, even if the statement panicked.
struct Borrowed<'a> {
    core: &'a PoolCore<Sqlite>,
    live: Option<Live<Sqlite>>,
    in_use: Option<InUseGuard>,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        drop(self.in_use.take());
        if let Some(live) = self.live.take() {
            if std::thread::panicking() {
                self.core.retire(live, false);
            } else {
                self.core.give_back(live);
            }
        }
    }
}
