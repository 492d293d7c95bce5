//! Options objects from JS, and `resolveConfig`.

use std::collections::HashMap;
use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::JsValue;
use napi::{sys, Env};
use napi_derive::napi;

use super::js_error::throw_coded;
use super::js_param::{read_string, type_of};
use crate::config::env::resolve_config as resolve;
use crate::config::options::{RawOptions, RawValue};
use crate::error::{DbError, DbResult};

/// Pool options. Every field is optional; defaults are safe for a web app.
#[napi(object)]
#[derive(Default)]
pub struct PoolOptions {
    /// Connection string: `file:./dev.sqlite`, `sqlite::memory:`, `postgres://…`, `mysql://…`.
    /// Prisma's parameters (`connection_limit`, `pool_timeout`, …) are honoured.
    pub url: Option<String>,
    /// Hard cap on open connections. Default 10 in production, 5 otherwise.
    pub max_connections: Option<u32>,
    /// Connections kept open and warm. Default 0.
    pub min_connections: Option<u32>,
    /// How long a caller waits for a connection before `POOL_TIMEOUT`. Default 20000.
    pub acquire_timeout_ms: Option<u32>,
    /// How long opening one connection may take. Default 5000.
    pub connect_timeout_ms: Option<u32>,
    /// Idle connections above `minConnections` are closed after this. Default 600000.
    pub idle_timeout_ms: Option<u32>,
    /// Connections are recycled after this. Default 1800000.
    pub max_lifetime_ms: Option<u32>,
    /// A query running longer fails with `TIMEOUT`. Default 0 (off).
    pub statement_timeout_ms: Option<u32>,
    /// Warn when a transaction stays open longer than this. Default 0 (off).
    pub leak_detection_ms: Option<u32>,
    /// Background ping interval; the last result feeds health reports. Default 0 (off).
    pub health_check_interval_ms: Option<u32>,
    /// Background delete of expired Shopify sessions. Default 0 (off).
    pub session_cleanup_interval_ms: Option<u32>,
    /// Prepared statement cache. Default true; false under `pgbouncer=true`.
    pub statement_cache: Option<bool>,
    /// Shown in `pg_stat_activity`. Default `shopify-db-pool`.
    pub application_name: Option<String>,
    /// Running behind PgBouncer in transaction mode (as Prisma's `pgbouncer=true`):
    /// no named prepared statements are left on server connections.
    pub pgbouncer: Option<bool>,
    /// Read replicas (PostgreSQL/MySQL): `query`/`queryOne` outside a
    /// transaction go to a healthy one in turn; use `pool.primary` to read
    /// your own writes. Default from `DATABASE_REPLICA_URLS` (comma-separated).
    pub read_replica_urls: Option<Vec<String>>,
    /// PostgreSQL: reads outside transactions share two connections,
    /// several in flight on each, as postgres.js sends them; about twice the
    /// throughput under concurrency, but a slow read delays those queued
    /// behind it. Needs `maxConnections` ≥ 3 (two are taken for this)
    /// and a plain connection (a server on this host, or `sslmode=disable`).
    /// Default false.
    pub pipelining: Option<bool>,
}

/// Reads the constructor's options object field by field, so that a wrong
/// type is reported as INVALID_ARGUMENT naming the option.
pub fn read_options(env: &Env, options: Option<Unknown>) -> DbResult<RawOptions> {
    let Some(options) = options else {
        return Ok(RawOptions::default());
    };
    unsafe {
        let env = env.raw();
        let obj = options.raw();
        match type_of(env, obj) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Ok(RawOptions::default())
            }
            sys::ValueType::napi_object => {}
            _ => return Err(DbError::invalid_argument("options must be an object")),
        }
        let mut out = Vec::new();
        for key in own_keys(env, obj)? {
            let k = std::ffi::CString::new(key.clone())
                .map_err(|_| DbError::invalid_argument("bad option name"))?;
            let mut value = ptr::null_mut();
            if sys::napi_get_named_property(env, obj, k.as_ptr(), &mut value)
                != sys::Status::napi_ok
            {
                // A getter threw: clear its exception and report the option.
                let mut pending = false;
                sys::napi_is_exception_pending(env, &mut pending);
                if pending {
                    let mut exception = ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut exception);
                }
                return Err(DbError::invalid_argument(format!(
                    "option {key} could not be read (its getter threw)"
                )));
            }
            let raw = match type_of(env, value) {
                sys::ValueType::napi_undefined | sys::ValueType::napi_null => continue,
                sys::ValueType::napi_number => {
                    let mut n = 0f64;
                    sys::napi_get_value_double(env, value, &mut n);
                    RawValue::Number(n)
                }
                sys::ValueType::napi_string => RawValue::Text(read_string(env, value)?),
                sys::ValueType::napi_boolean => {
                    let mut b = false;
                    sys::napi_get_value_bool(env, value, &mut b);
                    RawValue::Bool(b)
                }
                sys::ValueType::napi_object => read_string_list(env, value)
                    .unwrap_or_else(|| RawValue::Other("an object".into())),
                sys::ValueType::napi_bigint => RawValue::Other("a bigint".into()),
                sys::ValueType::napi_function => RawValue::Other("a function".into()),
                sys::ValueType::napi_symbol => RawValue::Other("a symbol".into()),
                _ => RawValue::Other("an unsupported value".into()),
            };
            out.push((key, raw));
        }
        Ok(RawOptions(out))
    }
}

/// An array of strings (`readReplicaUrls`), or `None` for anything else.
unsafe fn read_string_list(env: sys::napi_env, value: sys::napi_value) -> Option<RawValue> {
    let mut is_array = false;
    sys::napi_is_array(env, value, &mut is_array);
    if !is_array {
        return None;
    }
    let mut len = 0u32;
    sys::napi_get_array_length(env, value, &mut len);
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut item = ptr::null_mut();
        sys::napi_get_element(env, value, i, &mut item);
        if type_of(env, item) != sys::ValueType::napi_string {
            return Some(RawValue::Other("an array with a non-string item".into()));
        }
        out.push(read_string(env, item).ok()?);
    }
    Some(RawValue::TextList(out))
}

unsafe fn own_keys(env: sys::napi_env, obj: sys::napi_value) -> DbResult<Vec<String>> {
    let mut names = ptr::null_mut();
    let status = sys::napi_get_all_property_names(
        env,
        obj,
        sys::KeyCollectionMode::own_only,
        sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
        sys::KeyConversion::numbers_to_strings,
        &mut names,
    );
    if status != sys::Status::napi_ok {
        return Err(DbError::invalid_argument(
            "could not read the options object",
        ));
    }
    let mut len = 0u32;
    sys::napi_get_array_length(env, names, &mut len);
    let mut keys = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut key = ptr::null_mut();
        sys::napi_get_element(env, names, i, &mut key);
        keys.push(read_string(env, key)?);
    }
    Ok(keys)
}

/// Builds pool options from the environment (`process.env` by default):
/// `DATABASE_URL` (else `file:./dev.sqlite`), `DB_POOL_MAX`, `DB_POOL_TIMEOUT_MS`,
/// `NODE_ENV`, and the URL's Prisma parameters.
#[napi(ts_args_type = "env?: Record<string, string | undefined>")]
pub fn resolve_config(
    env: Env,
    vars: Option<HashMap<String, Option<String>>>,
) -> napi::Result<PoolOptions> {
    let vars: HashMap<String, String> = match vars {
        Some(map) => map
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        None => std::env::vars().collect(),
    };
    let r = resolve(&vars).map_err(|e| throw_coded(&env, e))?;
    Ok(PoolOptions {
        url: Some(r.url),
        max_connections: Some(r.max_connections),
        min_connections: Some(r.min_connections),
        acquire_timeout_ms: Some(clamp(r.acquire_timeout_ms)),
        connect_timeout_ms: Some(clamp(r.connect_timeout_ms)),
        idle_timeout_ms: Some(clamp(r.idle_timeout_ms)),
        max_lifetime_ms: Some(clamp(r.max_lifetime_ms)),
        statement_timeout_ms: Some(clamp(r.statement_timeout_ms)),
        leak_detection_ms: Some(clamp(r.leak_detection_ms)),
        health_check_interval_ms: Some(clamp(r.health_check_interval_ms)),
        session_cleanup_interval_ms: Some(clamp(r.session_cleanup_interval_ms)),
        statement_cache: Some(r.statement_cache),
        application_name: Some(r.application_name),
        pgbouncer: None,
        read_replica_urls: (!r.read_replica_urls.is_empty()).then_some(r.read_replica_urls),
        pipelining: None,
    })
}

fn clamp(ms: u64) -> u32 {
    u32::try_from(ms).unwrap_or(u32::MAX)
}
