//! The pool: one sqlx pool per backend behind one type, with the counts,
//! timeouts and error figures the contract asks for.
//!
//! sqlx does the connection bookkeeping (min/max, idle timeout, lifetime,
//! fair queueing); this layer adds what callers see: coded errors that
//! carry the pool's figures, exact waiting/in-use counts, lazy startup and
//! a graceful, bounded, idempotent close.

pub mod gauges;
pub mod run;
pub mod status;
pub mod transaction;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::MySql;
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;
use sqlx::{Connection, Pool};

use crate::backend::{self, Driver};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};
use gauges::{Gauges, InUseGuard, WaitingGuard};
pub use run::Statement;
pub use status::PoolStatus;
pub use transaction::DbTransaction;

/// How long `close()` waits for lent connections when the caller says nothing.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum AnyPool {
    Sqlite(Pool<Sqlite>),
    Postgres(Pool<Postgres>),
    MySql(Pool<MySql>),
}

/// Runs `$body` with `$pool` bound to the typed sqlx pool, whatever the
/// backend: the body is written once and compiled per backend.
macro_rules! with_pool {
    ($any:expr, $pool:ident => $body:expr) => {
        match $any {
            AnyPool::Sqlite($pool) => $body,
            AnyPool::Postgres($pool) => $body,
            AnyPool::MySql($pool) => $body,
        }
    };
}

pub(crate) struct PoolInner {
    pub config: PoolConfig,
    pub pool: AnyPool,
    pub gauges: Arc<Gauges>,
    closed: AtomicBool,
    /// The runtime the pool was built in: drops that must spawn (returning
    /// a connection) may happen on the JS thread, outside any runtime.
    pub runtime: tokio::runtime::Handle,
}

/// A cheap handle; clones share the pool.
#[derive(Clone)]
pub struct DbPool {
    pub(crate) inner: Arc<PoolInner>,
}

/// A connection lent to one call, counted in `in_use` until dropped.
pub(crate) struct Lease<DB: Driver> {
    pub conn: PoolConnection<DB>,
    _in_use: InUseGuard,
}

impl DbPool {
    /// Builds the pool without any I/O; must run inside a tokio runtime.
    pub fn new(config: PoolConfig) -> DbResult<Self> {
        let mut config = config;
        if config.url.target == Target::SqliteMemory {
            // Each connection to :memory: would be a different database, and
            // the last one closing would erase it: one connection, kept.
            config.max_connections = 1;
            config.min_connections = 1;
            config.idle_timeout = None;
            config.max_lifetime = None;
        }
        let pool = match config.backend() {
            BackendKind::Sqlite => AnyPool::Sqlite(
                pool_options::<Sqlite>(&config).connect_lazy_with(backend::sqlite::connect_options(&config)?),
            ),
            BackendKind::Postgres => AnyPool::Postgres(
                pool_options::<Postgres>(&config).connect_lazy_with(backend::postgres::connect_options(&config)?),
            ),
            BackendKind::MySql => AnyPool::MySql(
                pool_options::<MySql>(&config).connect_lazy_with(backend::mysql::connect_options(&config)?),
            ),
        };
        Ok(DbPool {
            inner: Arc::new(PoolInner {
                config,
                pool,
                gauges: Arc::new(Gauges::default()),
                closed: AtomicBool::new(false),
                runtime: tokio::runtime::Handle::current(),
            }),
        })
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    pub fn backend(&self) -> BackendKind {
        self.inner.config.backend()
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    pub fn status(&self) -> PoolStatus {
        let size = with_pool!(&self.inner.pool, p => p.size());
        let in_use = self.inner.gauges.in_use() as u32;
        PoolStatus {
            size,
            idle: size.saturating_sub(in_use),
            in_use,
            waiting: self.inner.gauges.waiting() as u32,
            max_connections: self.inner.config.max_connections,
            min_connections: self.inner.config.min_connections,
            closed: self.is_closed(),
        }
    }

    fn check_open(&self) -> DbResult<()> {
        if self.is_closed() {
            Err(DbError::pool_closed())
        } else {
            Ok(())
        }
    }

    pub(crate) async fn lease<DB: Driver>(&self, pool: &Pool<DB>) -> DbResult<Lease<DB>> {
        self.check_open()?;
        let waiting = WaitingGuard::new(&self.inner.gauges);
        let result = pool.acquire().await;
        let lease = result
            .map(|conn| Lease { conn, _in_use: InUseGuard::new(&self.inner.gauges) })
            .map_err(|e| self.acquire_error(e));
        drop(waiting);
        lease
    }

    /// sqlx reports both "every connection is busy" and "could not open
    /// one in time" as a timeout; callers need to tell them apart.
    fn acquire_error(&self, err: sqlx::Error) -> DbError {
        match err {
            sqlx::Error::PoolTimedOut => {
                let status = self.status();
                let ms = self.inner.config.acquire_timeout.as_millis();
                if status.size < status.max_connections && status.in_use < status.max_connections {
                    DbError::new(
                        ErrorCode::ConnectionFailed,
                        format!("could not open a database connection within {ms} ms ({})", status.describe()),
                    )
                } else {
                    DbError::new(
                        ErrorCode::PoolTimeout,
                        format!(
                            "timed out after {ms} ms waiting for a connection: every connection is in use ({})",
                            status.describe()
                        ),
                    )
                }
            }
            sqlx::Error::PoolClosed => DbError::pool_closed(),
            sqlx::Error::Database(db) => {
                // A refusal at connect time (auth, unknown database) is a
                // connection failure for the caller, not a failed query.
                let mut e = DbError::new(ErrorCode::ConnectionFailed, format!("could not connect: {}", db.message()));
                e.sql_state = db.code().map(|c| c.into_owned());
                e
            }
            other => {
                let e = DbError::from_sqlx(other);
                if e.code == ErrorCode::QueryFailed {
                    DbError { code: ErrorCode::ConnectionFailed, ..e }
                } else {
                    e
                }
            }
        }
    }

    /// Opens `minConnections` (at least one) and checks each answers.
    pub async fn connect(&self) -> DbResult<()> {
        self.check_open()?;
        let wanted = self.inner.config.min_connections.max(1) as usize;
        let deadline = self.inner.config.connect_timeout.max(self.inner.config.acquire_timeout);
        with_pool!(&self.inner.pool, p => {
            let opening = async {
                let mut leases = Vec::with_capacity(wanted);
                for _ in 0..wanted {
                    let mut lease = self.lease(p).await?;
                    lease.conn.ping().await.map_err(|e| self.acquire_error(e))?;
                    leases.push(lease);
                }
                Ok::<_, DbError>(())
            };
            match tokio::time::timeout(deadline, opening).await {
                Ok(r) => r,
                Err(_) => Err(DbError::new(
                    ErrorCode::ConnectionFailed,
                    format!("could not connect within {} ms", deadline.as_millis()),
                )),
            }
        })
    }

    pub async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        let persistent = self.inner.config.statement_cache;
        with_pool!(&self.inner.pool, p => {
            let mut lease = self.lease(p).await?;
            run::fetch(&mut *lease.conn, sql, params, persistent, first_only).await
        })
    }

    pub async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        let persistent = self.inner.config.statement_cache;
        with_pool!(&self.inner.pool, p => {
            let mut lease = self.lease(p).await?;
            run::execute(&mut *lease.conn, sql, params, persistent).await
        })
    }

    /// All statements in one transaction: all applied or none.
    pub async fn batch(&self, statements: &[Statement]) -> DbResult<Vec<ExecuteResult>> {
        let tx = self.begin().await?;
        match tx.execute_all(statements).await {
            Ok(results) => {
                tx.commit().await?;
                Ok(results)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    pub async fn begin(&self) -> DbResult<DbTransaction> {
        DbTransaction::begin(self).await
    }

    /// Stops new work at once, then waits (up to `timeout`) for lent
    /// connections to come back and closes them all. Idempotent.
    pub async fn close(&self, timeout: Duration) {
        self.inner.closed.store(true, Ordering::Release);
        with_pool!(&self.inner.pool, p => {
            let _ = tokio::time::timeout(timeout, p.close()).await;
        })
    }
}

fn pool_options<DB: Driver>(config: &PoolConfig) -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
        .max_lifetime(config.max_lifetime)
        // A ping per acquire costs a round trip on every query; broken
        // connections surface as CONNECTION_FAILED and are then discarded.
        .test_before_acquire(false)
}
