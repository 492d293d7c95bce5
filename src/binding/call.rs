//! The shape of every async method: convert arguments now, on the JS
//! thread; run the work on tokio; settle with a value or a coded error.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use napi::JsValue;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue, Unknown};
use napi::Env;

use super::js_error::Settled;
use super::js_param::{read_params, read_string, type_of};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::value::Param;

/// Spawns `work` and returns its promise. A panic inside becomes an
/// `INTERNAL` rejection instead of tearing down the Node process.
pub fn settle<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, Settled<T>>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = DbResult<T>> + Send + 'static,
{
    env.spawn_future(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|panic| {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(DbError::new(ErrorCode::Internal, format!("internal error in shopify-db-pool: {detail}")))
        });
        Ok(Settled(outcome))
    })
}

/// Reads `(sql, params)` as every query method takes them.
pub fn statement_args(env: &Env, sql: Unknown, params: Option<Unknown>) -> DbResult<(String, Vec<Param>)> {
    unsafe {
        let raw_env = env.raw();
        if type_of(raw_env, sql.raw()) != napi::sys::ValueType::napi_string {
            return Err(DbError::invalid_argument("sql must be a string"));
        }
        let sql = read_string(raw_env, sql.raw())?;
        if sql.trim().is_empty() {
            return Err(DbError::invalid_argument("sql is empty"));
        }
        let params = match params {
            Some(p) => read_params(raw_env, p.raw())?,
            None => Vec::new(),
        };
        Ok((sql, params))
    }
}
