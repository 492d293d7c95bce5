//! The pool as callers see it: one type over the three backends.
//!
//! `core` is the pool itself (generic over the backend), `lease` the
//! connection guard, `transaction` an explicit transaction, `run` the
//! statement execution shared by all. This file only dispatches to the
//! right backend and counts errors.

pub mod background;
mod column_names;
pub mod core;
pub mod deadline;
pub mod gauges;
pub mod inline;
pub mod lease;
pub mod replicas;
pub mod run;
pub mod shared;
pub(crate) mod sockets;
pub mod status;
pub mod transaction;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::MySql;
use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;

use self::core::PoolCore;
use self::replicas::{is_read, is_unavailable, is_write_refused, Replicas};
use self::shared::Shared;
use crate::backend::sqlite_inline::{Output, Want};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbResult, ErrorCode};
use crate::metrics::MetricsSnapshot;
use crate::pipeline::{Piped, Pipeline};
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};
use inline::Attempt;
pub use run::Statement;
pub use status::PoolStatus;
pub use transaction::DbTransaction;

/// How long `close()` waits for lent connections when the caller says nothing.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum AnyCore {
    Sqlite(Arc<PoolCore<Sqlite>>),
    Postgres(Arc<PoolCore<Postgres>>),
    MySql(Arc<PoolCore<MySql>>),
}

/// Runs `$body` with `$core` bound to the typed pool, whatever the backend:
/// the body is written once and compiled per backend.
macro_rules! with_core {
    ($any:expr, $core:ident => $body:expr) => {
        match $any {
            AnyCore::Sqlite($core) => $body,
            AnyCore::Postgres($core) => $body,
            AnyCore::MySql($core) => $body,
        }
    };
}

/// Runs one statement on a lease: statement timeout, metrics, and error
/// classification around `$work`, which may borrow `$conn`.
macro_rules! on_lease {
    ($lease:expr, |$conn:ident| $work:expr) => {{
        match $lease.statement_started() {
            Err(e) => Err(e),
            Ok(clock) => {
                let limit = $lease.backstop_limit();
                let outcome = {
                    let $conn = $lease.conn();
                    $crate::pool::lease::backstop(limit, $work).await
                };
                if matches!(outcome, Some(Err(_))) {
                    $lease.settle_after_error().await;
                }
                $lease.statement_finished(clock, outcome)
            }
        }
    }};
}
pub(crate) use on_lease;

/// The path of one statement on the pool, shared by `query_here` and
/// `execute`: inline on the JS thread when it can (SQLite), else a lease,
/// then the direct path (SQLite, see `Lease::run_direct`), a statement
/// pinned in a transaction (PgBouncer), or the driver. `$into` turns the
/// direct paths' output into the result; `$run` runs the statement on the
/// driver, given the connection and whether to cache the statement.
macro_rules! pool_statement {
    ($pool:expr, $sql:expr, $params:expr, $want:expr, $into:expr, |$conn:ident, $persistent:ident| $run:expr) => {{
        let (sql, params, want) = ($sql, $params, $want);
        match $pool.run_inline(sql, params, want).await {
            Attempt::Done(done) => done.map($into),
            // A statement that started inline and fell back goes to sqlx,
            // not to the direct path a second time.
            attempt => {
                let direct = matches!(attempt, Attempt::NotRun);
                let $persistent = $pool.inner.config.statement_cache;
                // Boxed: this state machine (sqlx's, for three backends) is
                // most of the call's size, and a call that finished inline
                // above never needs it (3.4 KB allocated and moved per call
                // otherwise).
                $pool
                    .counted(Box::pin(async move {
                        with_core!(&$pool.inner.core, c => {
                            let mut lease = c.acquire().await?;
                            if let Some(done) = lease.run_direct(direct, sql, params, want) {
                                return done.map($into);
                            }
                            if lease.pins_statements() {
                                lease.begin().await?;
                                let outcome = on_lease!(lease, |$conn| $run);
                                return lease.end(outcome).await;
                            }
                            on_lease!(lease, |$conn| $run)
                        })
                    }))
                    .await
            }
        }
    }};
}

struct PoolInner {
    config: Arc<PoolConfig>,
    core: AnyCore,
    /// PostgreSQL with `pipelining`: where statements outside transactions go.
    pipeline: Option<Pipeline>,
    shared: Arc<Shared>,
    replicas: Replicas,
}

/// A cheap handle; clones share the pool.
#[derive(Clone)]
pub struct DbPool {
    inner: Arc<PoolInner>,
    /// False for the `primary` view: reads stay on the primary.
    route_reads: bool,
}

impl DbPool {
    /// Builds the pool without any I/O; must run inside a tokio runtime.
    pub fn new(config: PoolConfig, sockets: Option<tokio::runtime::Handle>) -> DbResult<Self> {
        let mut config = config;
        if config.url.target == Target::SqliteMemory {
            // Each connection to :memory: would be a different database, and
            // the last one closing would erase it: one connection, kept.
            config.max_connections = 1;
            config.min_connections = 1;
            config.idle_timeout = None;
            config.max_lifetime = None;
        }
        let config = Arc::new(config);
        let shared = Arc::new(Shared::new(
            tokio::runtime::Handle::current(),
            sockets.clone(),
        ));
        let core = match config.backend() {
            BackendKind::Sqlite => AnyCore::Sqlite(PoolCore::new(config.clone(), shared.clone())?),
            BackendKind::Postgres => {
                AnyCore::Postgres(PoolCore::new(config.clone(), shared.clone())?)
            }
            BackendKind::MySql => AnyCore::MySql(PoolCore::new(config.clone(), shared.clone())?),
        };
        let replicas = Replicas::new(&config, sockets)?;
        let pipeline = Pipeline::new(&config, shared.clone())?;
        let pool = DbPool {
            inner: Arc::new(PoolInner {
                config,
                core,
                pipeline,
                shared,
                replicas,
            }),
            route_reads: true,
        };
        background::spawn(&pool);
        Ok(pool)
    }

    /// The same pool, reading from the primary only (read-your-writes).
    pub fn primary(&self) -> DbPool {
        DbPool {
            inner: self.inner.clone(),
            route_reads: false,
        }
    }

    pub fn replicas(&self) -> &Replicas {
        &self.inner.replicas
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    pub fn backend(&self) -> BackendKind {
        self.inner.config.backend()
    }

    pub fn is_closed(&self) -> bool {
        self.inner.shared.is_closed()
    }

    /// Refuses new work from now on; `close()` does the rest. Lets the JS
    /// `closed` flag flip the moment `close()` is called.
    pub fn mark_closed(&self) {
        self.inner.shared.mark_closed();
        for replica in &self.inner.replicas.list {
            replica.pool.mark_closed();
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    pub(crate) fn core(&self) -> &AnyCore {
        &self.inner.core
    }

    pub fn status(&self) -> PoolStatus {
        let (size, idle) = with_core!(&self.inner.core, c => (c.size(), c.idle_count()));
        let gauges = &self.inner.shared.gauges;
        // The three counts live in different places and move on tokio's
        // threads while this reads them: a connection handed back between
        // the idle read and the in-use read would be counted twice. Clamp,
        // so a snapshot never shows more connections than are open.
        let idle = idle.min(size);
        let in_use = (gauges.in_use() as u32).min(size - idle);
        // Pipeline lanes are open connections too, in use while they carry
        // a call.
        let (lanes, busy) = self
            .inner
            .pipeline
            .as_ref()
            .map_or((0, 0), Pipeline::counts);
        let (size, idle, in_use) = (size + lanes, idle + (lanes - busy), in_use + busy);
        PoolStatus {
            size,
            idle,
            in_use,
            waiting: gauges.waiting() as u32,
            max_connections: self.inner.config.max_connections,
            min_connections: self.inner.config.min_connections,
            closed: self.is_closed(),
        }
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner
            .shared
            .metrics
            .snapshot(self.inner.shared.gauges.waiting() as u32)
    }

    pub fn prometheus(&self) -> String {
        crate::metrics::prometheus::render(
            self.backend().as_str(),
            &self.inner.shared.metrics,
            &self.status(),
        )
    }

    /// Counts a failure by its code (errorsByCode, acquireTimeouts).
    pub fn record_error(&self, code: ErrorCode) {
        self.inner.shared.metrics.error(code);
    }

    async fn counted<T>(&self, work: impl Future<Output = DbResult<T>>) -> DbResult<T> {
        let result = work.await;
        if let Err(e) = &result {
            self.record_error(e.code);
        }
        result
    }

    /// Opens `minConnections` (at least one) and checks each answers.
    pub async fn connect(&self) -> DbResult<()> {
        let wanted = self.inner.config.min_connections.max(1) as usize;
        self.counted(async move {
            with_core!(&self.inner.core, c => {
                let mut leases = Vec::with_capacity(wanted);
                for _ in 0..wanted {
                    let mut lease = c.acquire().await?;
                    lease.ping().await?;
                    leases.push(lease);
                }
                Ok(())
            })
        })
        .await
    }

    /// SQLite only, on the JS thread, with a free connection: the statement
    /// run synchronously (see `inline`), errors counted.
    fn try_inline(&self, sql: &str, params: &[Param], want: Want) -> Attempt {
        let AnyCore::Sqlite(core) = &self.inner.core else {
            return Attempt::NotRun;
        };
        let attempt = core.run_inline(sql, params, want);
        if let Attempt::Done(Err(e)) = &attempt {
            self.record_error(e.code);
        }
        attempt
    }

    /// `try_inline`, but when this turn's inline budget is spent, waits for
    /// the next turn of the event loop (staying on the JS thread) and tries
    /// again: a point-select there costs a fraction of the worker-thread
    /// path. Unless `Done`, take the async path.
    async fn run_inline(&self, sql: &str, params: &[Param], want: Want) -> Attempt {
        if !matches!(self.inner.core, AnyCore::Sqlite(_)) {
            return Attempt::NotRun;
        }
        loop {
            match self.try_inline(sql, params, want) {
                Attempt::NotRun
                    if self.inner.config.statement_cache && inline::should_wait_for_turn() =>
                {
                    inline::next_turn().await
                }
                attempt => return attempt,
            }
        }
    }

    /// One round trip on a pooled connection; resolves with its duration.
    /// (SQLite, inline: the time to run `SELECT 1`.)
    pub async fn ping(&self) -> DbResult<Duration> {
        let started = std::time::Instant::now();
        if let Attempt::Done(done) = self.try_inline("SELECT 1", &[], Want::FirstRow) {
            return done.map(|_| started.elapsed());
        }
        self.counted(async move {
            with_core!(&self.inner.core, c => {
                let mut lease = c.acquire().await?;
                lease.ping().await
            })
        })
        .await
    }

    /// Reads go to a healthy replica in turn when there are any (and this is
    /// not the `primary` view); a replica that is not serving is skipped
    /// from then on and the read runs on the primary.
    pub async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        if self.route_reads && !self.inner.replicas.list.is_empty() && is_read(sql) {
            if let Some(replica) = self.inner.replicas.pick() {
                match replica.pool.query_here(sql, params, first_only).await {
                    Err(e) if is_unavailable(&e) => replica.mark(false),
                    Err(e) if is_write_refused(&e) => {}
                    other => return other,
                }
            }
        }
        self.query_here(sql, params, first_only).await
    }

    async fn query_here(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        if let Some(pipeline) = &self.inner.pipeline {
            if let Piped::Done(done) = pipeline.query(sql, params, first_only).await {
                return self.counted(std::future::ready(done)).await;
            }
        }
        let want = if first_only {
            Want::FirstRow
        } else {
            Want::Rows
        };
        pool_statement!(
            self,
            sql,
            params,
            want,
            Output::into_rows,
            |conn, persistent| run::fetch(conn, sql, params, persistent, first_only)
        )
    }

    pub async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        if let Some(pipeline) = &self.inner.pipeline {
            if let Piped::Done(done) = pipeline.execute(sql, params).await {
                return self.counted(std::future::ready(done)).await;
            }
        }
        pool_statement!(
            self,
            sql,
            params,
            Want::Execute,
            Output::into_execute_result,
            |conn, persistent| run::execute(conn, sql, params, persistent)
        )
    }

    /// All statements in one transaction: all applied or none.
    pub async fn batch(&self, statements: &[Statement]) -> DbResult<Vec<ExecuteResult>> {
        let tx = self.begin().await?;
        let outcome = async {
            let results = tx.execute_all(statements).await?;
            tx.commit().await?;
            Ok(results)
        }
        .await;
        if outcome.is_err() && !tx.is_finished() {
            let _ = tx.rollback().await;
        }
        outcome
    }

    pub async fn begin(&self) -> DbResult<DbTransaction> {
        self.counted(DbTransaction::begin(self)).await
    }

    /// Deletes sessions whose `expires` is before `now_ms` (default: now).
    pub async fn cleanup_expired_sessions(
        &self,
        table: &str,
        now_ms: Option<i64>,
    ) -> DbResult<u64> {
        let now = now_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let statement = crate::sessions::cleanup::cleanup_statement(self.backend(), table, now);
        let (sql, params) = match statement {
            Ok(s) => s,
            Err(e) => {
                self.record_error(e.code);
                return Err(e);
            }
        };
        Ok(self.execute(&sql, &params).await?.rows_affected)
    }

    /// Closes idle connections above `minConnections` that are past
    /// `idleTimeoutMs` or `maxLifetimeMs` now, without waiting for upkeep.
    pub fn reap_idle(&self) -> usize {
        self.reap_pipeline() + with_core!(&self.inner.core, c => c.reap())
    }

    /// Closes pipeline lanes idle past `idleTimeoutMs` and retires those
    /// past `maxLifetimeMs` (see `Pipeline::reap`).
    fn reap_pipeline(&self) -> usize {
        let config = &self.inner.config;
        self.inner
            .pipeline
            .as_ref()
            .map_or(0, |p| p.reap(config.idle_timeout, config.max_lifetime))
    }

    /// Stops new work at once, then waits (up to `timeout`) for lent
    /// connections to come back and closes them all. Idempotent.
    pub async fn close(&self, timeout: Duration) {
        for replica in &self.inner.replicas.list {
            replica.pool.mark_closed();
        }
        let replicas = futures_util::future::join_all(
            self.inner
                .replicas
                .list
                .iter()
                .map(|r| r.pool.close_here(timeout)),
        );
        futures_util::future::join(self.close_here(timeout), replicas).await;
    }

    async fn close_here(&self, timeout: Duration) {
        let pipeline = async {
            if let Some(pipeline) = &self.inner.pipeline {
                pipeline.close(timeout).await;
            }
        };
        let leases = async { with_core!(&self.inner.core, c => c.close(timeout).await) };
        futures_util::future::join(pipeline, leases).await;
    }
}
