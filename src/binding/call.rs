//! The shape of every async method: convert arguments now, on the JS
//! thread; run the work on tokio; settle with a value or a coded error
//! (`settle`, see `completion`).

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue};

use super::js_param::{read_params, read_string, type_of};
use crate::error::{DbError, DbResult};
use crate::value::Param;

pub use super::completion::settle;

/// Reads `(sql, params)` as every query method takes them.
pub fn statement_args(
    env: &Env,
    sql: Unknown,
    params: Option<Unknown>,
) -> DbResult<(String, Vec<Param>)> {
    unsafe {
        let raw_env = env.raw();
        if type_of(raw_env, sql.raw()) != napi::sys::ValueType::napi_string {
            return Err(DbError::invalid_argument("sql must be a string"));
        }
        let sql = read_string(raw_env, sql.raw())?;
        if sql.trim().is_empty() {
            return Err(DbError::invalid_argument("sql is empty"));
        }
        // No database takes a NUL inside statement text (and SQLite's
        // statement splitter would loop on one): refuse it here.
        if sql.contains('\0') {
            return Err(DbError::invalid_argument("sql contains a NUL character"));
        }
        let params = match params {
            Some(p) => read_params(raw_env, p.raw())?,
            None => Vec::new(),
        };
        Ok((sql, params))
    }
}
