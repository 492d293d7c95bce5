//! An explicit transaction holding one connection until commit/rollback.
//!
//! The JS object may be forgotten and garbage-collected while open: dropping
//! it rolls back (sqlx queues the ROLLBACK) and returns the connection, inside
//! the pool's runtime because the drop may run on the JS thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use sqlx::mysql::MySql;
use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;
use sqlx::Transaction;
use tokio::sync::Mutex;

use super::gauges::InUseGuard;
use super::run::{self, Statement};
use super::{AnyPool, DbPool};
use crate::backend::Driver;
use crate::error::{DbError, DbResult};
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

enum AnyTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    MySql(Transaction<'static, MySql>),
}

macro_rules! with_tx {
    ($any:expr, $tx:ident => $body:expr) => {
        match $any {
            AnyTx::Sqlite($tx) => $body,
            AnyTx::Postgres($tx) => $body,
            AnyTx::MySql($tx) => $body,
        }
    };
}

struct Open {
    tx: AnyTx,
    _in_use: InUseGuard,
}

pub struct DbTransaction {
    state: Mutex<Option<Open>>,
    pool: DbPool,
    finished: AtomicBool,
    pub opened_at: Instant,
}

async fn begin_on<DB: Driver>(pool: &DbPool, p: &sqlx::Pool<DB>) -> DbResult<(Transaction<'static, DB>, InUseGuard)>
{
    let lease = pool.lease(p).await?;
    let super::Lease { conn, _in_use } = lease;
    let tx = Transaction::begin(conn, Some(DB::BEGIN.into())).await?;
    Ok((tx, _in_use))
}

impl DbTransaction {
    pub(crate) async fn begin(pool: &DbPool) -> DbResult<Self> {
        let open = match &pool.inner.pool {
            AnyPool::Sqlite(p) => begin_on(pool, p).await.map(|(t, g)| Open { tx: AnyTx::Sqlite(t), _in_use: g }),
            AnyPool::Postgres(p) => begin_on(pool, p).await.map(|(t, g)| Open { tx: AnyTx::Postgres(t), _in_use: g }),
            AnyPool::MySql(p) => begin_on(pool, p).await.map(|(t, g)| Open { tx: AnyTx::MySql(t), _in_use: g }),
        }?;
        Ok(DbTransaction {
            state: Mutex::new(Some(open)),
            pool: pool.clone(),
            finished: AtomicBool::new(false),
            opened_at: Instant::now(),
        })
    }

    /// True once commit or rollback was asked for (even if still running).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    async fn finish(&self) -> DbResult<Open> {
        self.finished.store(true, Ordering::Release);
        self.state.lock().await.take().ok_or_else(DbError::transaction_closed)
    }

    pub async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.state.lock().await;
        let open = guard.as_mut().ok_or_else(DbError::transaction_closed)?;
        with_tx!(&mut open.tx, tx => run::fetch(&mut **tx, sql, params, persistent, first_only).await)
    }

    pub async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.state.lock().await;
        let open = guard.as_mut().ok_or_else(DbError::transaction_closed)?;
        with_tx!(&mut open.tx, tx => run::execute(&mut **tx, sql, params, persistent).await)
    }

    pub async fn execute_all(&self, statements: &[Statement]) -> DbResult<Vec<ExecuteResult>> {
        let persistent = self.pool.config().statement_cache;
        let mut guard = self.state.lock().await;
        let open = guard.as_mut().ok_or_else(DbError::transaction_closed)?;
        with_tx!(&mut open.tx, tx => run::execute_all(&mut **tx, statements, persistent).await)
    }

    pub async fn commit(&self) -> DbResult<()> {
        let open = self.finish().await?;
        with_tx!(open.tx, tx => tx.commit().await.map_err(DbError::from))
    }

    pub async fn rollback(&self) -> DbResult<()> {
        let open = self.finish().await?;
        with_tx!(open.tx, tx => tx.rollback().await.map_err(DbError::from))
    }
}

impl Drop for DbTransaction {
    fn drop(&mut self) {
        if let Some(open) = self.state.get_mut().take() {
            let _runtime = self.pool.inner.runtime.enter();
            drop(open);
        }
    }
}
