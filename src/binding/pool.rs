//! `class Pool`: the napi face of [`DbPool`].

use std::ptr;
use std::time::Duration;

use napi::JsValue;
use napi::bindgen_prelude::{within_runtime_if_available, PromiseRaw, Unknown};
use napi::{sys, Env};
use napi_derive::napi;

use super::call::settle;
use super::statements::{self, Target};
use super::config::{read_options, PoolOptions};
use super::js_error::{throw_coded, Settled};
use super::js_param::{read_param, read_params, read_string, type_of};
use super::js_rows::{JsExecuteResult, JsExecuteResults, JsFirstRow, JsRows};
use super::health::{concurrency, database, metrics, DetailedReport, JsConcurrencyReport, JsDatabaseHealth, PoolMetrics};
use super::transaction::Transaction;
use crate::config::options::PoolConfig;
use crate::error::{DbError, DbResult};
use crate::health::{self, concurrency::DEFAULT_COUNT};
use crate::pool::{DbPool, Statement, DEFAULT_CLOSE_TIMEOUT};
use crate::sessions::cleanup::DEFAULT_TABLE;

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
        let core = within_runtime_if_available(|| DbPool::new(config)).map_err(|e| throw_coded(&env, e))?;
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
    #[napi(ts_generic_types = "T = Row", ts_args_type = "sql: string, params?: Param[]", ts_return_type = "Promise<T[]>")]
    pub fn query<'env>(&self, env: &'env Env, sql: Unknown, params: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<JsRows>>> {
        statements::query(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs a statement and resolves with its first row, or `null`.
    #[napi(ts_generic_types = "T = Row", ts_args_type = "sql: string, params?: Param[]", ts_return_type = "Promise<T | null>")]
    pub fn query_one<'env>(&self, env: &'env Env, sql: Unknown, params: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<JsFirstRow>>> {
        statements::query_one(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs a statement that returns no rows.
    #[napi(ts_args_type = "sql: string, params?: Param[]", ts_return_type = "Promise<ExecuteResult>")]
    pub fn execute<'env>(&self, env: &'env Env, sql: Unknown, params: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResult>>> {
        statements::execute(env, Target::Pool(self.core.clone()), sql, params)
    }

    /// Runs the statements in order in one transaction: all or nothing.
    #[napi(ts_args_type = "statements: BatchStatement[]", ts_return_type = "Promise<ExecuteResult[]>")]
    pub fn batch<'env>(&self, env: &'env Env, statements: Unknown) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResults>>> {
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
    pub fn begin<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<Transaction>>> {
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
        }
    }

    /// One round trip on a pooled connection; resolves with its duration in ms.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn ping<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<f64>>> {
        let core = self.core.clone();
        settle(env, async move { core.ping().await.map(|d| d.as_secs_f64() * 1000.0) })
    }

    #[napi]
    pub fn metrics(&self) -> PoolMetrics {
        metrics(self.core.metrics())
    }

    /// Prometheus text exposition of the metrics, labelled by backend.
    #[napi]
    pub fn prometheus(&self) -> String {
        self.core.prometheus()
    }

    /// `/health/database`: never rejects; a down database is `unhealthy`.
    #[napi(ts_args_type = "options?: { timeoutMs?: number }", ts_return_type = "Promise<DatabaseHealth>")]
    pub fn check_health<'env>(&self, env: &'env Env, options: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<JsDatabaseHealth>>> {
        let core = self.core.clone();
        let timeout = self.counted(health_timeout(env, options));
        settle(env, async move { Ok(database(health::check_health(&core, timeout?).await)) })
    }

    /// `/health/detailed`: the database check, a concurrency test, metrics
    /// and process figures.
    #[napi(
        ts_args_type = "options?: { timeoutMs?: number; concurrentQueries?: number }",
        ts_return_type = "Promise<DetailedHealth>"
    )]
    pub fn detailed_health<'env>(&self, env: &'env Env, options: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<DetailedReport>>> {
        let core = self.core.clone();
        let args = self.counted(health_timeout(env, options).and_then(|t| {
            let count = read_number_option(env, options, c"concurrentQueries")?;
            Ok((t, count_arg(count)?))
        }));
        settle(env, async move {
            let (timeout, count) = args?;
            Ok(DetailedReport(health::detailed_health(&core, timeout, count).await))
        })
    }

    /// Runs `count` (default 3) `SELECT 1` at once through the pool.
    #[napi(ts_args_type = "count?: number", ts_return_type = "Promise<ConcurrencyReport>")]
    pub fn test_concurrent_queries<'env>(&self, env: &'env Env, count: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<JsConcurrencyReport>>> {
        let core = self.core.clone();
        let count = self.counted(read_count(env, count));
        settle(env, async move { health::test_concurrent_queries(&core, count?).await.map(concurrency) })
    }

    /// Deletes Shopify sessions whose `expires` is before `now` (default:
    /// now) from `table` (default `Session`, validated as an identifier).
    #[napi(ts_args_type = "options?: { table?: string; now?: Date }", ts_return_type = "Promise<{ deleted: number }>")]
    pub fn cleanup_expired_sessions<'env>(&self, env: &'env Env, options: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<CleanupResult>>> {
        let core = self.core.clone();
        let args = self.counted(cleanup_args(env, options));
        settle(env, async move {
            let (table, now) = args?;
            let deleted = core.cleanup_expired_sessions(&table, now).await?;
            Ok(CleanupResult { deleted: deleted as f64 })
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
    #[napi(ts_args_type = "options?: { timeoutMs?: number }", ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env, options: Option<Unknown>) -> napi::Result<PromiseRaw<'env, Settled<()>>> {
        let core = self.core.clone();
        let timeout = self.counted(close_timeout(env, options));
        core.mark_closed();
        settle(env, async move {
            core.close(timeout?).await;
            Ok(())
        })
    }
}

fn close_timeout(env: &Env, options: Option<Unknown>) -> DbResult<Duration> {
    let raw = read_options_loose(env, options)?;
    match raw {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(DbError::invalid_argument("timeoutMs must be a non-negative number")),
        None => Ok(DEFAULT_CLOSE_TIMEOUT),
    }
}

/// Reads `{ timeoutMs }` from an optional options object.
pub(crate) fn read_options_loose(env: &Env, options: Option<Unknown>) -> DbResult<Option<f64>> {
    let Some(options) = options else { return Ok(None) };
    unsafe {
        let raw_env = env.raw();
        match type_of(raw_env, options.raw()) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => return Ok(None),
            sys::ValueType::napi_object => {}
            _ => return Err(DbError::invalid_argument("options must be an object")),
        }
        let mut value = ptr::null_mut();
        sys::napi_get_named_property(raw_env, options.raw(), c"timeoutMs".as_ptr(), &mut value);
        match type_of(raw_env, value) {
            sys::ValueType::napi_undefined => Ok(None),
            sys::ValueType::napi_number => {
                let mut n = 0f64;
                sys::napi_get_value_double(raw_env, value, &mut n);
                Ok(Some(n))
            }
            _ => Err(DbError::invalid_argument("timeoutMs must be a number")),
        }
    }
}

fn read_statements(env: &Env, statements: Unknown) -> DbResult<Vec<Statement>> {
    unsafe {
        let raw_env = env.raw();
        let list = statements.raw();
        let mut is_array = false;
        sys::napi_is_array(raw_env, list, &mut is_array);
        if !is_array {
            return Err(DbError::invalid_argument("batch takes an array of { sql, params } objects"));
        }
        let mut len = 0u32;
        sys::napi_get_array_length(raw_env, list, &mut len);
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let mut item = ptr::null_mut();
            sys::napi_get_element(raw_env, list, i, &mut item);
            if type_of(raw_env, item) != sys::ValueType::napi_object {
                return Err(DbError::invalid_argument(format!("batch statement {i} must be an object {{ sql, params }}")));
            }
            let mut sql = ptr::null_mut();
            sys::napi_get_named_property(raw_env, item, c"sql".as_ptr(), &mut sql);
            if type_of(raw_env, sql) != sys::ValueType::napi_string {
                return Err(DbError::invalid_argument(format!("batch statement {i}: sql must be a string")));
            }
            let mut params = ptr::null_mut();
            sys::napi_get_named_property(raw_env, item, c"params".as_ptr(), &mut params);
            out.push(Statement {
                sql: read_string(raw_env, sql)?,
                params: read_params(raw_env, params)
                    .map_err(|e| DbError { message: format!("batch statement {i}: {}", e.message), ..e })?,
            });
        }
        Ok(out)
    }
}

#[napi(object)]
pub struct CleanupResult {
    pub deleted: f64,
}

fn health_timeout(env: &Env, options: Option<Unknown>) -> DbResult<Duration> {
    match read_options_loose(env, options)? {
        Some(ms) if ms.is_finite() && ms > 0.0 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(DbError::invalid_argument("timeoutMs must be a positive number")),
        None => Ok(health::DEFAULT_TIMEOUT),
    }
}

fn count_arg(n: Option<f64>) -> DbResult<u32> {
    match n {
        None => Ok(DEFAULT_COUNT),
        Some(n) if n.is_finite() && n.fract() == 0.0 && n >= 1.0 && n <= health::concurrency::MAX_COUNT as f64 => Ok(n as u32),
        Some(n) => Err(DbError::invalid_argument(format!(
            "the number of concurrent queries must be a whole number from 1 to {}, got {n}",
            health::concurrency::MAX_COUNT
        ))),
    }
}

fn read_count(env: &Env, count: Option<Unknown>) -> DbResult<u32> {
    let Some(count) = count else { return count_arg(None) };
    unsafe {
        match type_of(env.raw(), count.raw()) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => count_arg(None),
            sys::ValueType::napi_number => {
                let mut n = 0f64;
                sys::napi_get_value_double(env.raw(), count.raw(), &mut n);
                count_arg(Some(n))
            }
            _ => Err(DbError::invalid_argument("count must be a number")),
        }
    }
}

/// Reads an optional numeric property of an optional options object.
fn read_number_option(env: &Env, options: Option<Unknown>, key: &std::ffi::CStr) -> DbResult<Option<f64>> {
    let Some(options) = options else { return Ok(None) };
    unsafe {
        let raw_env = env.raw();
        if type_of(raw_env, options.raw()) != sys::ValueType::napi_object {
            return Ok(None);
        }
        let mut value = ptr::null_mut();
        sys::napi_get_named_property(raw_env, options.raw(), key.as_ptr(), &mut value);
        match type_of(raw_env, value) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(None),
            sys::ValueType::napi_number => {
                let mut n = 0f64;
                sys::napi_get_value_double(raw_env, value, &mut n);
                Ok(Some(n))
            }
            _ => Err(DbError::invalid_argument(format!("{} must be a number", key.to_string_lossy()))),
        }
    }
}

fn cleanup_args(env: &Env, options: Option<Unknown>) -> DbResult<(String, Option<i64>)> {
    let Some(options) = options else { return Ok((DEFAULT_TABLE.to_owned(), None)) };
    unsafe {
        let raw_env = env.raw();
        match type_of(raw_env, options.raw()) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => return Ok((DEFAULT_TABLE.to_owned(), None)),
            sys::ValueType::napi_object => {}
            _ => return Err(DbError::invalid_argument("options must be an object")),
        }
        let mut table = ptr::null_mut();
        sys::napi_get_named_property(raw_env, options.raw(), c"table".as_ptr(), &mut table);
        let table = match type_of(raw_env, table) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => DEFAULT_TABLE.to_owned(),
            sys::ValueType::napi_string => read_string(raw_env, table)?,
            _ => return Err(DbError::invalid_argument("table must be a string")),
        };
        let mut now = ptr::null_mut();
        sys::napi_get_named_property(raw_env, options.raw(), c"now".as_ptr(), &mut now);
        let now = match type_of(raw_env, now) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => None,
            _ => match read_param(raw_env, now, 0) {
                Ok(crate::value::Param::Timestamp(ms)) => Some(ms),
                _ => return Err(DbError::invalid_argument("now must be a valid Date")),
            },
        };
        Ok((table, now))
    }
}
