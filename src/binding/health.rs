//! Health, metrics and maintenance methods: report structs with the seed
//! app's snake_case keys, converted on the JS thread.

use std::collections::HashMap;
use std::ptr;
use std::time::SystemTime;

use napi::bindgen_prelude::{Either, Null, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{check_status, sys, ValueType};
use napi_derive::napi;

use crate::health::{ConcurrencyReport, DatabaseHealth, DetailedHealth};
use crate::metrics::histogram::Summary;
use crate::metrics::MetricsSnapshot;

/// Latency figures in milliseconds.
#[napi(object)]
pub struct LatencySummary {
    pub count: f64,
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Counters and latency histograms since the pool was created.
#[napi(object)]
pub struct PoolMetrics {
    pub connections_created: f64,
    pub connections_closed: f64,
    /// Closed by upkeep: idle past `idleTimeoutMs` or older than `maxLifetimeMs`.
    pub connections_reaped: f64,
    /// Time to open a connection.
    pub connect_time_ms: LatencySummary,
    /// Time callers waited for a connection.
    pub acquire_wait_ms: LatencySummary,
    /// Statement execution time.
    pub query_time_ms: LatencySummary,
    pub queries_total: f64,
    /// SQLite only: statements run through SQLite's C API directly (on the
    /// JS thread, or right after a wait for a connection) rather than on
    /// sqlx's worker thread; within `queriesTotal`.
    pub queries_inline: f64,
    /// SQLite only: statements that ran past the inline time limit there,
    /// were rolled back and ran again on the worker thread.
    pub inline_overruns: f64,
    pub errors_total: f64,
    #[napi(ts_type = "Partial<Record<ErrorCode, number>>")]
    pub errors_by_code: HashMap<String, f64>,
    pub acquire_timeouts: f64,
    pub leaks_detected: f64,
    /// Callers waiting for a connection right now.
    pub waiting: u32,
    /// Each read replica's own metrics, when `readReplicaUrls` is set.
    pub replicas: Option<Vec<super::replicas::ReplicaMetrics>>,
}

#[napi(object, js_name = "HealthPoolInfo")]
pub struct JsPoolInfo {
    #[napi(js_name = "max_connections")]
    pub max_connections: u32,
    pub size: u32,
    pub idle: u32,
    #[napi(js_name = "in_use")]
    pub in_use: u32,
    pub waiting: u32,
}

/// `/health/database`'s body.
#[napi(object, js_name = "DatabaseHealth")]
pub struct JsDatabaseHealth {
    #[napi(ts_type = "HealthStatus")]
    pub status: String,
    /// Round trip of a ping on a pooled connection.
    #[napi(js_name = "connection_time_ms")]
    pub connection_time_ms: f64,
    #[napi(js_name = "database_type", ts_type = "'sqlite' | 'postgres' | 'mysql'")]
    pub database_type: String,
    #[napi(js_name = "pool_info")]
    pub pool_info: JsPoolInfo,
    /// Why the check failed (redacted), or null.
    #[napi(ts_type = "string | null")]
    pub error: Either<String, Null>,
    /// ISO 8601 time of the check.
    #[napi(js_name = "checked_at")]
    pub checked_at: String,
}

/// `testConcurrentQueries()`'s result and `connection_pool` of the detailed report.
#[napi(object, js_name = "ConcurrencyReport")]
pub struct JsConcurrencyReport {
    #[napi(ts_type = "HealthStatus")]
    pub status: String,
    #[napi(js_name = "concurrent_queries")]
    pub concurrent_queries: u32,
    #[napi(js_name = "total_time_ms")]
    pub total_time_ms: f64,
    #[napi(js_name = "average_time_ms")]
    pub average_time_ms: f64,
    #[napi(js_name = "all_queries_successful")]
    pub all_queries_successful: bool,
}

#[napi(object)]
pub struct ProcessInfo {
    #[napi(js_name = "rss_bytes")]
    pub rss_bytes: f64,
    #[napi(js_name = "heap_used_bytes")]
    pub heap_used_bytes: f64,
    #[napi(js_name = "uptime_s")]
    pub uptime_s: f64,
}

/// `/health/detailed`'s body.
#[napi(object, js_name = "DetailedHealth")]
pub struct JsDetailedHealth {
    #[napi(ts_type = "HealthStatus")]
    pub status: String,
    pub database: JsDatabaseHealth,
    #[napi(js_name = "connection_pool")]
    pub connection_pool: JsConcurrencyReport,
    pub metrics: PoolMetrics,
    /// Read on the JS thread when the report is delivered.
    pub process: ProcessInfo,
    #[napi(js_name = "checked_at")]
    pub checked_at: String,
    /// Each read replica's health, when `readReplicaUrls` is set.
    pub replicas: Option<Vec<super::replicas::ReplicaHealth>>,
}

pub fn iso8601(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn summary(s: Summary) -> LatencySummary {
    LatencySummary {
        count: s.count as f64,
        avg: s.avg,
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
        max: s.max,
    }
}

pub fn metrics(m: MetricsSnapshot) -> PoolMetrics {
    PoolMetrics {
        connections_created: m.connections_created as f64,
        connections_closed: m.connections_closed as f64,
        connections_reaped: m.connections_reaped as f64,
        connect_time_ms: summary(m.connect_time_ms),
        acquire_wait_ms: summary(m.acquire_wait_ms),
        query_time_ms: summary(m.query_time_ms),
        queries_total: m.queries_total as f64,
        queries_inline: m.queries_inline as f64,
        inline_overruns: m.inline_overruns as f64,
        errors_total: m.errors_total as f64,
        errors_by_code: m
            .errors_by_code
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v as f64))
            .collect(),
        acquire_timeouts: m.acquire_timeouts as f64,
        leaks_detected: m.leaks_detected as f64,
        waiting: m.waiting,
        replicas: None,
    }
}

pub fn database(h: DatabaseHealth) -> JsDatabaseHealth {
    JsDatabaseHealth {
        status: h.status.as_str().to_owned(),
        connection_time_ms: h.connection_time_ms,
        database_type: h.database_type.to_owned(),
        pool_info: JsPoolInfo {
            max_connections: h.pool_info.max_connections,
            size: h.pool_info.size,
            idle: h.pool_info.idle,
            in_use: h.pool_info.in_use,
            waiting: h.pool_info.waiting,
        },
        error: match h.error {
            Some(e) => Either::A(e),
            None => Either::B(Null),
        },
        checked_at: iso8601(h.checked_at),
    }
}

pub fn concurrency(r: ConcurrencyReport) -> JsConcurrencyReport {
    JsConcurrencyReport {
        status: r.status.as_str().to_owned(),
        concurrent_queries: r.concurrent_queries,
        total_time_ms: r.total_time_ms,
        average_time_ms: r.average_time_ms,
        all_queries_successful: r.all_queries_successful,
    }
}

/// The detailed report, completed with `process` figures on the JS thread.
pub struct DetailedReport(
    pub DetailedHealth,
    pub Vec<(String, bool, crate::health::DatabaseHealth)>,
);

impl TypeName for DetailedReport {
    fn type_name() -> &'static str {
        "DetailedHealth"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for DetailedReport {}

impl ToNapiValue for DetailedReport {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let d = val.0;
        let report = JsDetailedHealth {
            status: d.status.as_str().to_owned(),
            database: database(d.database),
            connection_pool: concurrency(d.connection_pool),
            metrics: metrics(d.metrics),
            process: process_info(env).unwrap_or(ProcessInfo {
                rss_bytes: 0.0,
                heap_used_bytes: 0.0,
                uptime_s: 0.0,
            }),
            checked_at: iso8601(d.checked_at),
            replicas: super::replicas::health_reports(val.1),
        };
        JsDetailedHealth::to_napi_value(env, report)
    }
}

/// `process.memoryUsage()` and `process.uptime()`.
unsafe fn process_info(env: sys::napi_env) -> Option<ProcessInfo> {
    let mut global = ptr::null_mut();
    sys::napi_get_global(env, &mut global);
    let process = named(env, global, c"process")?;
    let usage = call(env, process, c"memoryUsage")?;
    let uptime = call(env, process, c"uptime")?;
    Some(ProcessInfo {
        rss_bytes: number(env, named(env, usage, c"rss")?)?,
        heap_used_bytes: number(env, named(env, usage, c"heapUsed")?)?,
        uptime_s: number(env, uptime)?,
    })
}

unsafe fn named(
    env: sys::napi_env,
    obj: sys::napi_value,
    key: &std::ffi::CStr,
) -> Option<sys::napi_value> {
    let mut out = ptr::null_mut();
    (sys::napi_get_named_property(env, obj, key.as_ptr(), &mut out) == sys::Status::napi_ok)
        .then_some(out)
}

unsafe fn call(
    env: sys::napi_env,
    obj: sys::napi_value,
    method: &std::ffi::CStr,
) -> Option<sys::napi_value> {
    let f = named(env, obj, method)?;
    let mut out = ptr::null_mut();
    let ok = check_status!(sys::napi_call_function(
        env,
        obj,
        f,
        0,
        ptr::null(),
        &mut out
    ))
    .is_ok();
    ok.then_some(out)
}

unsafe fn number(env: sys::napi_env, v: sys::napi_value) -> Option<f64> {
    let mut n = 0f64;
    (sys::napi_get_value_double(env, v, &mut n) == sys::Status::napi_ok).then_some(n)
}
