//! An explicit transaction holding one lease until commit or rollback.
//!
//! If the JS object is forgotten and collected while open, dropping it drops
//! the lease, which rolls back before the connection is lent again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sqlx::mysql::MySql;
use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;
use tokio::sync::Mutex;

use super::lease::Lease;
use super::run::{self, Statement};
use super::{on_lease, AnyCore, DbPool};
use crate::backend::Driver;
use crate::error::{DbError, DbResult};
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

enum AnyLease {
    Sqlite(Lease<Sqlite>),
    Postgres(Lease<Postgres>),
    MySql(Lease<MySql>),
}

macro_rules! with_lease {
    ($any:expr, $lease:ident => $body:expr) => {
        match $any {
            AnyLease::Sqlite($lease) => $body,
            AnyLease::Postgres($lease) => $body,
            AnyLease::MySql($lease) => $body,
        }
    };
}

pub struct DbTransaction {
    lease: Mutex<Option<AnyLease>>,
    pool: DbPool,
    finished: Arc<AtomicBool>,
    leak_counted: Arc<AtomicBool>,
    pub opened_at: Instant,
}

async fn open<DB: Driver>(core: &std::sync::Arc<super::core::PoolCore<DB>>) -> DbResult<Lease<DB>> {
    let mut lease = core.acquire().await?;
    lease.begin().await?;
    Ok(lease)
}

impl DbTransaction {
    pub(crate) async fn begin(pool: &DbPool) -> DbResult<Self> {
        let lease = match pool.core() {
            AnyCore::Sqlite(c) => AnyLease::Sqlite(open(c).await?),
            AnyCore::Postgres(c) => AnyLease::Postgres(open(c).await?),
            AnyCore::MySql(c) => AnyLease::MySql(open(c).await?),
        };
        let tx = DbTransaction {
            lease: Mutex::new(Some(lease)),
            pool: pool.clone(),
            finished: Arc::new(AtomicBool::new(false)),
            leak_counted: Arc::new(AtomicBool::new(false)),
            opened_at: Instant::now(),
        };
        tx.watch_for_leak();
        Ok(tx)
    }

    /// Counts a leak (`leaksDetected`) once the transaction has been open
    /// for `leakDetectionMs`: when a timer finds it still open, or when it
    /// finishes past that age (whichever comes first, once), so the count
    /// agrees with the JS layer's warning, which has its own timer and the
    /// stack of the `begin()` call. A transaction dropped unfinished was
    /// rolled back by the pool: not counted.
    fn watch_for_leak(&self) {
        let Some(limit) = self.pool.config().leak_detection else {
            return;
        };
        let finished = Arc::downgrade(&self.finished);
        let counted = self.leak_counted.clone();
        let shared = self.pool.shared().clone();
        shared.runtime.clone().spawn(async move {
            tokio::time::sleep(limit).await;
            if let Some(finished) = finished.upgrade() {
                if !finished.load(Ordering::Acquire) && !counted.swap(true, Ordering::AcqRel) {
                    crate::metrics::Metrics::count(&shared.metrics.leaks_detected);
                }
            }
        });
    }

    fn count_leak_if_overdue(&self) {
        if let Some(limit) = self.pool.config().leak_detection {
            if self.opened_at.elapsed() >= limit && !self.leak_counted.swap(true, Ordering::AcqRel)
            {
                crate::metrics::Metrics::count(&self.pool.shared().metrics.leaks_detected);
            }
        }
    }

    /// True once commit or rollback was asked for (even if still running).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Counts a failure found before the call reached the database
    /// (argument conversion) like any other.
    pub fn record_error(&self, code: crate::error::ErrorCode) {
        self.pool.record_error(code);
    }

    fn counted<T>(&self, result: DbResult<T>) -> DbResult<T> {
        if let Err(e) = &result {
            self.pool.record_error(e.code);
        }
        result
    }

    pub async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.lease.lock().await;
        let result = match guard.as_mut() {
            None => Err(DbError::transaction_closed()),
            Some(lease) => {
                with_lease!(lease, l => on_lease!(l, |conn| run::fetch(conn, sql, params, persistent, first_only)))
            }
        };
        self.counted(result)
    }

    pub async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.lease.lock().await;
        let result = match guard.as_mut() {
            None => Err(DbError::transaction_closed()),
            Some(lease) => {
                with_lease!(lease, l => on_lease!(l, |conn| run::execute(conn, sql, params, persistent)))
            }
        };
        self.counted(result)
    }

    pub async fn execute_all(&self, statements: &[Statement]) -> DbResult<Vec<ExecuteResult>> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.lease.lock().await;
        let result = match guard.as_mut() {
            None => Err(DbError::transaction_closed()),
            Some(lease) => {
                with_lease!(lease, l => on_lease!(l, |conn| run::execute_all(conn, statements, persistent)))
            }
        };
        self.counted(result)
    }

    /// Ends the transaction with `sql` (COMMIT or ROLLBACK). The lease is
    /// released either way; if the statement failed, the lease still thinks
    /// it is inside a transaction and rolls back before reuse.
    async fn finish(&self, sql: &str) -> DbResult<()> {
        self.count_leak_if_overdue();
        self.finished.store(true, Ordering::Release);
        let taken = self.lease.lock().await.take();
        let result = match taken {
            None => Err(DbError::transaction_closed()),
            Some(mut lease) => with_lease!(&mut lease, l => {
                let r = l.run_simple(sql).await;
                if r.is_ok() {
                    l.in_transaction = false;
                }
                r
            }),
        };
        self.counted(result)
    }

    pub async fn commit(&self) -> DbResult<()> {
        self.finish("COMMIT").await
    }

    pub async fn rollback(&self) -> DbResult<()> {
        self.finish("ROLLBACK").await
    }
}
