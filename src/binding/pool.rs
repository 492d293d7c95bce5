//! `class Pool`: the napi face of [`DbPool`].

use std::time::Duration;

use napi::bindgen_prelude::{within_runtime_if_available, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;

use super::args::*;
use super::call::settle;
use super::config::{read_options, PoolOptions};
use super::health::{
    concurrency, database, metrics, DetailedReport, JsConcurrencyReport, JsDatabaseHealth,
    PoolMetrics,
};
use super::js_error::{throw_coded, Settled};
use super::js_rows::{JsExecuteResult, JsExecuteResults, JsFirstRow, JsRows};
use super::replicas::{self, ReplicaStatus};
use super::statements::{self, Target};
use super::transaction::Transaction;
use crate::config::options::PoolConfig;
use crate::config::url::BackendKind;
use crate::error::DbResult;
use crate::health;
use crate::pool::DbPool;

/// A snapshot of the pool, taken synchronously.
#[napi(object, js_name = "PoolStatus")]
pub struct JsPoolStatus {
    /// Open connections, idle or in use.
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    /// Callers waiting for a connection right now.
    pub waiting: u32,
    pub max_connections: u32,
    pub min_connections: u32,
    pub closed: bool,
    /// Each read replica, when `readReplicaUrls` is set.
    pub replicas: Option<Vec<ReplicaStatus>>,
}

/// The database pool. Construct it once per process (see `getPool`); it
/// connects lazily on first use.
#[napi]
pub struct Pool {
    pub(crate) core: DbPool,
}

#[napi]
impl Pool {
    /// Validates the options and builds the pool without any I/O. Throws
    /// `INVALID_ARGUMENT` / `INVALID_URL` for bad options.
    #[napi(constructor, ts_args_type = "options?: PoolOptions")]
    pub fn new(env: Env, options: Option<Unknown>) -> napi::Result<Self> {
        let _typed: Option<PoolOptions> = None;
        let config = read_options(&env, options)
            .and_then(|raw| PoolConfig::from_raw(&raw))
            .map_err(|e| throw_coded(&env, e))?;
        // Server sockets are watched by this thread's event loop (see
        // `js_reactor`); SQLite has none.
        let sockets = match config.backend() {
            BackendKind::Sqlite => None,
            _ => unsafe { super::js_reactor::handle(env.raw()) },
        };
        let core = within_runtime_if_available(|| DbPool::new(config, sockets))
            .map_err(|e| throw_coded(&env, e))?;
        Ok(Pool { core })
    }

    /// Counts an argument error in `errorsByCode` like any other failure.
    fn counted<T>(&self, r: DbResult<T>) -> DbResult<T> {
        if let Err(e) = &r {
            self.core.record_error(e.code);
        }
        r
    }

    #[napi(getter, ts_return_type = "'sqlite' | 'postgres' | 'mysql'")]
    pub fn backend(&self) -> &'static str {
        self.core.backend().as_str()
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Opens `minConnections` (at least one) and verifies the database answers.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn connect<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<()>>> {
        let core = self.core.clone();
        settle(env, async move { core.connect().await })
    }

    /// Runs a statement and resolves with every row.
    #[napi(
        ts_generic_types = "T = Row",
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<T[]>"
    )]
    pub fn query<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsRows>>> {
        statements::query(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs a statement and resolves with its first row, or `null`.
    #[napi(
        ts_generic_types = "T = Row",
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<T | null>"
    )]
    pub fn query_one<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsFirstRow>>> {
        statements::query_one(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs a statement that returns no rows.
    #[napi(
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<ExecuteResult>"
    )]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResult>>> {
        statements::execute(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs the statements in order in one transaction: all or nothing.
    #[napi(
        ts_args_type = "statements: BatchStatement[]",
        ts_return_type = "Promise<ExecuteResult[]>"
    )]
    pub fn batch<'env>(
        &self,
        env: &'env Env,
        statements: Unknown,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResults>>> {
        let core = self.core.clone();
        let args = self.counted(read_statements(env, statements));
        settle(env, async move {
            let statements = args?;
            core.batch(&statements).await.map(JsExecuteResults)
        })
    }

    /// Opens a transaction on one connection (writes on SQLite take the
    /// lock up front). Finish it with `commit()` or `rollback()`.
    #[napi(ts_return_type = "Promise<Transaction>")]
    pub fn begin<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Settled<Transaction>>> {
        let core = self.core.clone();
        settle(env, async move { core.begin().await.map(Transaction::new) })
    }

    #[napi(ts_return_type = "PoolStatus")]
    pub fn status(&self) -> JsPoolStatus {
        let s = self.core.status();
        JsPoolStatus {
            size: s.size,
            idle: s.idle,
            in_use: s.in_use,
            waiting: s.waiting,
            max_connections: s.max_connections,
            min_connections: s.min_connections,
            closed: s.closed,
            replicas: replicas::statuses(&self.core),
        }
    }

    /// This pool reading from the primary only, to read your own writes
    /// when `readReplicaUrls` is set. Shares connections and state.
    #[napi(getter)]
    pub fn primary(&self) -> Pool {
        Pool {
            core: self.core.primary(),
        }
    }

    /// The resolved options (the URL without its password).
    #[napi(getter)]
    pub fn options(&self) -> PoolOptions {
        let c = self.core.config();
        let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis().min(u32::MAX as u128) as u32);
        PoolOptions {
            url: Some(crate::config::redact::redact_credentials(&c.url_text)),
            max_connections: Some(c.max_connections),
            min_connections: Some(c.min_connections),
            acquire_timeout_ms: Some(ms(Some(c.acquire_timeout))),
            connect_timeout_ms: Some(ms(Some(c.connect_timeout))),
            idle_timeout_ms: Some(ms(c.idle_timeout)),
            max_lifetime_ms: Some(ms(c.max_lifetime)),
            statement_timeout_ms: Some(ms(c.statement_timeout)),
            leak_detection_ms: Some(ms(c.leak_detection)),
            health_check_interval_ms: Some(ms(c.health_check_interval)),
            session_cleanup_interval_ms: Some(ms(c.session_cleanup_interval)),
            statement_cache: Some(c.statement_cache),
            application_name: Some(c.application_name.clone()),
            pgbouncer: Some(c.pgbouncer),
            read_replica_urls: Some(c.read_replicas.iter().map(|r| r.shown.clone()).collect()),
            pipelining: Some(c.pipelining),
        }
    }

    /// One round trip on a pooled connection; resolves with its duration in ms.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn ping<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<f64>>> {
        let core = self.core.clone();
        settle(env, async move {
            core.ping().await.map(|d| d.as_secs_f64() * 1000.0)
        })
    }

    #[napi]
    pub fn metrics(&self) -> PoolMetrics {
        let mut m = metrics(self.core.metrics());
        m.replicas = replicas::metrics_of(&self.core);
        m
    }

    /// Prometheus text exposition of the metrics, labelled by backend.
    #[napi]
    pub fn prometheus(&self) -> String {
        self.core.prometheus()
    }

    /// `/health/database`: never rejects; a down database is `unhealthy`.
    #[napi(
        ts_args_type = "options?: { timeoutMs?: number }",
        ts_return_type = "Promise<DatabaseHealth>"
    )]
    pub fn check_health<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsDatabaseHealth>>> {
        let core = self.core.clone();
        let timeout = self.counted(health_timeout(env, options));
        settle(env, async move {
            Ok(database(health::check_health(&core, timeout?).await))
        })
    }

    /// `/health/detailed`: the database check, a concurrency test, metrics
    /// and process figures.
    #[napi(
        ts_args_type = "options?: { timeoutMs?: number; concurrentQueries?: number }",
        ts_return_type = "Promise<DetailedHealth>"
    )]
    pub fn detailed_health<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<DetailedReport>>> {
        let core = self.core.clone();
        let args = self.counted(health_timeout(env, options).and_then(|t| {
            let count = read_number_option(env, options, c"concurrentQueries")?;
            Ok((t, count_arg(count)?))
        }));
        settle(env, async move {
            let (timeout, count) = args?;
            let report = health::detailed_health(&core, timeout, count).await;
            let replicas = replicas::health_of(&core, timeout).await;
            Ok(DetailedReport(report, replicas))
        })
    }

    /// Runs `count` (default 3) `SELECT 1` at once through the pool.
    #[napi(
        ts_args_type = "count?: number",
        ts_return_type = "Promise<ConcurrencyReport>"
    )]
    pub fn test_concurrent_queries<'env>(
        &self,
        env: &'env Env,
        count: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsConcurrencyReport>>> {
        let core = self.core.clone();
        let count = self.counted(read_count(env, count));
        settle(env, async move {
            health::test_concurrent_queries(&core, count?)
                .await
                .map(concurrency)
        })
    }

    /// Deletes Shopify sessions whose `expires` is before `now` (default:
    /// now) from `table` (default `Session`, validated as an identifier).
    #[napi(
        ts_args_type = "options?: { table?: string; now?: Date }",
        ts_return_type = "Promise<{ deleted: number }>"
    )]
    pub fn cleanup_expired_sessions<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<CleanupResult>>> {
        let core = self.core.clone();
        let args = self.counted(cleanup_args(env, options));
        settle(env, async move {
            let (table, now) = args?;
            let deleted = core.cleanup_expired_sessions(&table, now).await?;
            Ok(CleanupResult {
                deleted: deleted as f64,
            })
        })
    }

    /// Closes idle connections above `minConnections` that are past
    /// `idleTimeoutMs`/`maxLifetimeMs` now; returns how many were closed.
    #[napi]
    pub fn reap_idle_connections(&self) -> u32 {
        self.core.reap_idle() as u32
    }

    /// Stops taking work, lets in-flight queries finish (up to `timeoutMs`,
    /// default 10000), then closes every connection. Safe to call twice.
    #[napi(
        ts_args_type = "options?: { timeoutMs?: number }",
        ts_return_type = "Promise<void>"
    )]
    pub fn close<'env>(
        &self,
        env: &'env Env,
        options: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<()>>> {
        let core = self.core.clone();
        let timeout = self.counted(close_timeout(env, options));
        core.mark_closed();
        settle(env, async move {
            core.close(timeout?).await;
            Ok(())
        })
    }
}
