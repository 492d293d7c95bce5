//! PostgreSQL statements pipelined on shared connections (`pipelining`).
//!
//! A leased connection carries one statement at a time: it waits a round
//! trip idle between statements, and every statement costs the server a
//! wake-up and a read. Here reads outside transactions go to one of
//! `PIPELINE_LANES` connections that many calls use at once
//! (tokio-postgres sends each call's messages as it comes, and statements
//! sent in the same turn of the event loop leave in one write). On this
//! 2-core host 64 in flight went at about twice the leased path's rate, at
//! half the client CPU per statement (bench/README.md).
//!
//! Only reads are piped (see `pipelines`); writes, transactions, `SET` and
//! the like keep to leased connections. What it costs: a statement queues
//! behind the others on its connection, so one slow read delays those sent
//! after it there (each call goes to the lane with the fewest in flight).
//!
//! `lane` is one connection, `values` the parameters and rows, `connect`
//! the settings, `error` the codes.

mod connect;
mod error;
mod lane;
mod values;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Postgres;
use tokio_postgres::types::ToSql;

use self::lane::{Lane, Prepared};
use crate::backend::Driver;
use crate::config::options::{PoolConfig, PIPELINE_LANES};
use crate::error::{DbError, DbResult};
use crate::pool::lease::{backstop, classify_outcome, BACKSTOP_GRACE};
use crate::pool::run::check_param_count;
use crate::pool::shared::Shared;
use crate::sql::placeholders::to_numbered;
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

/// What a piped call returns.
enum Want {
    Rows { first_only: bool },
    Execute,
}

enum Output {
    Rows(Rows),
    Execute(ExecuteResult),
}

/// The outcome of offering a statement to the pipeline.
pub enum Piped<T> {
    Done(DbResult<T>),
    /// Not for the pipeline (a session-state statement, a column type it
    /// does not decode): run it on a leased connection.
    Declined,
}

pub struct Pipeline {
    config: tokio_postgres::Config,
    connect_timeout: Duration,
    statement_timeout: Option<Duration>,
    shared: Arc<Shared>,
    lanes: Mutex<Vec<Arc<Lane>>>,
    /// Lanes open one at a time, so a burst of first calls opens one, then
    /// a second only if the first is busy.
    opening: tokio::sync::Mutex<()>,
    /// Calls in the pipeline now, for `close()` to wait on.
    in_flight: AtomicUsize,
}

impl Pipeline {
    /// `None` without `pipelining`; refuses settings it cannot honour
    /// (TLS, a Unix socket) with `INVALID_ARGUMENT`.
    pub fn new(config: &PoolConfig, shared: Arc<Shared>) -> DbResult<Option<Pipeline>> {
        if !config.pipelining {
            return Ok(None);
        }
        Ok(Some(Pipeline {
            config: connect::lane_config(config)?,
            connect_timeout: config.connect_timeout,
            statement_timeout: config.statement_timeout,
            shared,
            lanes: Mutex::new(Vec::new()),
            opening: tokio::sync::Mutex::new(()),
            in_flight: AtomicUsize::new(0),
        }))
    }

    /// Open lanes, and those with calls on them now.
    pub fn counts(&self) -> (u32, u32) {
        let lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let busy = lanes
            .iter()
            .filter(|l| l.in_flight.load(Ordering::Acquire) > 0)
            .count();
        (lanes.len() as u32, busy as u32)
    }

    /// `query` / `queryOne` on a lane, or declined.
    pub async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> Piped<Rows> {
        match self.run(sql, params, Want::Rows { first_only }).await {
            Piped::Done(Ok(Output::Rows(rows))) => Piped::Done(Ok(rows)),
            Piped::Done(Ok(Output::Execute(_))) => unreachable!("rows were asked for"),
            Piped::Done(Err(e)) => Piped::Done(Err(e)),
            Piped::Declined => Piped::Declined,
        }
    }

    /// `execute` on a lane, or declined.
    pub async fn execute(&self, sql: &str, params: &[Param]) -> Piped<ExecuteResult> {
        match self.run(sql, params, Want::Execute).await {
            Piped::Done(Ok(Output::Execute(result))) => Piped::Done(Ok(result)),
            Piped::Done(Ok(Output::Rows(_))) => unreachable!("no rows were asked for"),
            Piped::Done(Err(e)) => Piped::Done(Err(e)),
            Piped::Declined => Piped::Declined,
        }
    }

    /// Runs `sql` on a lane, or declines it.
    async fn run(&self, sql: &str, params: &[Param], want: Want) -> Piped<Output> {
        if !pipelines(sql) {
            return Piped::Declined;
        }
        if self.shared.is_closed() {
            return Piped::Done(Err(DbError::pool_closed()));
        }
        if let Err(e) = check_param_count(sql, params) {
            return Piped::Done(Err(e));
        }
        self.shared.mark_started();
        let _call = CallGuard::new(&self.in_flight);
        let lane = match self.pick().await {
            Ok(lane) => lane,
            Err(e) => return Piped::Done(Err(e)),
        };
        let sql = to_numbered(sql);
        let started = Instant::now();
        let limit = self.statement_timeout.map(|t| t + BACKSTOP_GRACE);
        let outcome = backstop(limit, async {
            let Some((prepared, args)) = self.bind(&lane, &sql, params).await? else {
                return Ok(None);
            };
            let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as _).collect();
            let (client, statement) = (&lane.client, &prepared.statement);
            let output = match want {
                Want::Execute => Output::Execute(ExecuteResult {
                    rows_affected: client
                        .execute(statement, &refs)
                        .await
                        .map_err(error::from_driver)?,
                    last_insert_id: None,
                }),
                Want::Rows { first_only } => {
                    let found = client
                        .query(statement, &refs)
                        .await
                        .map_err(error::from_driver)?;
                    let mut rows = Rows {
                        columns: prepared.columns.clone(),
                        ..Rows::default()
                    };
                    let take = if first_only { 1 } else { found.len() };
                    for row in found.iter().take(take) {
                        values::decode_row(row, &mut rows)?;
                    }
                    Output::Rows(rows)
                }
            };
            Ok(Some(output))
        })
        .await;
        let outcome = match outcome {
            Some(Ok(None)) => return Piped::Declined,
            Some(Ok(Some(output))) => Some(Ok(output)),
            Some(Err(e)) => Some(Err(e)),
            None => None,
        };
        lane.touch();
        let metrics = &self.shared.metrics;
        metrics.query_time.record(started.elapsed());
        crate::metrics::Metrics::count(&metrics.queries_total);
        let (result, discard) = classify_outcome(
            self.statement_timeout,
            outcome,
            <Postgres as Driver>::is_statement_timeout,
        );
        if discard {
            // Given up on, or the connection failed: no new call goes there;
            // calls already on it finish or fail with it.
            lane.retire();
        }
        Piped::Done(result)
    }

    /// The prepared statement and its encoded arguments. When the values do
    /// not fit the types the cached statement was prepared with, a variant
    /// of the SQL is prepared for theirs, as on the leased path
    /// (`run::bind`). `None`: a type this path does not decode.
    async fn bind(
        &self,
        lane: &Lane,
        sql: &str,
        params: &[Param],
    ) -> DbResult<Option<(Arc<Prepared>, Vec<values::Encoded>)>> {
        let prepared = lane.prepare(sql, params).await?;
        if !prepared.supported {
            return Ok(None);
        }
        let refused = match values::encode_all(params, prepared.statement.params()) {
            Ok(args) => return Ok(Some((prepared, args))),
            Err(e) => e,
        };
        let Some(variant) =
            <Postgres as Driver>::variant_sql(sql, params).filter(|_| !params.is_empty())
        else {
            return Err(refused);
        };
        let prepared = lane.prepare(&variant, params).await?;
        if !prepared.supported {
            return Ok(None);
        }
        let args = values::encode_all(params, prepared.statement.params())?;
        Ok(Some((prepared, args)))
    }

    /// The lane with the fewest calls on it, this call counted on it; a new
    /// one while there are fewer than `PIPELINE_LANES` and every open one
    /// is busy.
    async fn pick(&self) -> DbResult<OnLane> {
        if let Some(lane) = self.least_busy(false) {
            return Ok(lane);
        }
        let _one = self.opening.lock().await;
        // Another call may have opened one meanwhile.
        if let Some(lane) = self.least_busy(false) {
            return Ok(lane);
        }
        match Lane::open(&self.config, &self.shared, self.connect_timeout).await {
            Ok(lane) => {
                if self.shared.is_closed() {
                    return Err(DbError::pool_closed());
                }
                let lane = Arc::new(lane);
                let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
                lanes.push(lane.clone());
                Ok(OnLane::new(lane))
            }
            // A lane that is open but busy still serves.
            Err(e) => self.least_busy(true).ok_or(e),
        }
    }

    /// The open lane with the fewest calls, this call counted on it (under
    /// the lock, so a burst of calls sees each other); `None` when a new one
    /// should be opened instead (none usable, or room for one and all
    /// busy), unless `any`.
    ///
    /// A retired lane stays in the list (and in `status().size`) while calls
    /// are on it, as its connection is still open; it takes no new call and
    /// leaves room for its replacement, so for that while the pool may hold
    /// one connection more than `maxConnections` rather than wait on a
    /// connection that may never answer.
    fn least_busy(&self, any: bool) -> Option<OnLane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        lanes.retain(|l| l.is_usable() || l.in_flight.load(Ordering::Acquire) > 0);
        let usable = || lanes.iter().filter(|l| l.is_usable());
        let best = usable().min_by_key(|l| l.in_flight.load(Ordering::Acquire))?;
        let room = (usable().count() as u32) < PIPELINE_LANES;
        if !any && room && best.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(OnLane::new(best.clone()))
    }

    /// Refuses new calls (the pool is marked closed), waits up to `timeout`
    /// for those in flight, then closes the lanes.
    pub async fn close(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, async {
            while self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        let lanes = std::mem::take(&mut *self.lanes.lock().unwrap_or_else(|p| p.into_inner()));
        for lane in &lanes {
            lane.retire();
        }
        // Dropping a client ends its connection (a Terminate message).
        drop(lanes);
    }

    /// Lanes with no call on them for `idle` close, and lanes older than
    /// `lifetime` take no new call (closing once their calls are done), as
    /// leased connections are reaped and recycled. A new lane opens on the
    /// next call that finds none free.
    pub fn reap(&self, idle: Option<Duration>, lifetime: Option<Duration>) -> usize {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let before = lanes.len();
        lanes.retain(|l| {
            let busy = l.in_flight.load(Ordering::Acquire) > 0;
            let idle_past = idle.is_some_and(|t| !busy && l.idle_for() >= t);
            let old = lifetime.is_some_and(|t| l.age() >= t);
            if idle_past || old {
                l.retire();
            }
            // (An old lane with calls on it stays listed until they finish.)
            !(idle_past || old) || busy
        });
        let reaped = before - lanes.len();
        for _ in 0..reaped {
            crate::metrics::Metrics::count(&self.shared.metrics.connections_reaped);
        }
        reaped
    }
}

/// A call's place on a lane: counted in the lane's `in_flight` while it
/// lives.
struct OnLane(Arc<Lane>);

impl OnLane {
    fn new(lane: Arc<Lane>) -> Self {
        lane.in_flight.fetch_add(1, Ordering::AcqRel);
        OnLane(lane)
    }
}

impl std::ops::Deref for OnLane {
    type Target = Lane;

    fn deref(&self) -> &Lane {
        &self.0
    }
}

impl Drop for OnLane {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a call while it lives.
struct CallGuard<'a>(&'a AtomicUsize);

impl<'a> CallGuard<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        CallGuard(count)
    }
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads only (as replicas take them): they leave no state on a session
/// every caller shares (`BEGIN`, `SET`, `LISTEN`, `CREATE TEMP TABLE`...
/// would), and a write's commit waits for its WAL flush, which eight leased
/// connections wait for together (PostgreSQL flushes concurrent commits at
/// once) where two lanes would wait one commit at a time: 8 writers ×
/// 1,000 autocommit inserts went at 0.77× the leased rate when writes were
/// piped.
fn pipelines(sql: &str) -> bool {
    crate::pool::replicas::is_read(sql)
}
