//! Reading the optional arguments of the pool's methods (`{ timeoutMs }`,
//! counts, batch statements, cleanup options), each refused with
//! INVALID_ARGUMENT when malformed.

use std::ptr;
use std::time::Duration;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;

use super::js_param::{read_param, read_params, read_string, type_of};
use crate::error::{DbError, DbResult};
use crate::health::{self, concurrency::DEFAULT_COUNT};
use crate::pool::{Statement, DEFAULT_CLOSE_TIMEOUT};
use crate::sessions::cleanup::DEFAULT_TABLE;

pub fn close_timeout(env: &Env, options: Option<Unknown>) -> DbResult<Duration> {
    let raw = read_options_loose(env, options)?;
    match raw {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(DbError::invalid_argument(
            "timeoutMs must be a non-negative number",
        )),
        None => Ok(DEFAULT_CLOSE_TIMEOUT),
    }
}

/// Reads `{ timeoutMs }` from an optional options object.
pub(crate) fn read_options_loose(env: &Env, options: Option<Unknown>) -> DbResult<Option<f64>> {
    let Some(options) = options else {
        return Ok(None);
    };
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

pub fn read_statements(env: &Env, statements: Unknown) -> DbResult<Vec<Statement>> {
    unsafe {
        let raw_env = env.raw();
        let list = statements.raw();
        let mut is_array = false;
        sys::napi_is_array(raw_env, list, &mut is_array);
        if !is_array {
            return Err(DbError::invalid_argument(
                "batch takes an array of { sql, params } objects",
            ));
        }
        let mut len = 0u32;
        sys::napi_get_array_length(raw_env, list, &mut len);
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let mut item = ptr::null_mut();
            sys::napi_get_element(raw_env, list, i, &mut item);
            if type_of(raw_env, item) != sys::ValueType::napi_object {
                return Err(DbError::invalid_argument(format!(
                    "batch statement {i} must be an object {{ sql, params }}"
                )));
            }
            let mut sql = ptr::null_mut();
            sys::napi_get_named_property(raw_env, item, c"sql".as_ptr(), &mut sql);
            if type_of(raw_env, sql) != sys::ValueType::napi_string {
                return Err(DbError::invalid_argument(format!(
                    "batch statement {i}: sql must be a string"
                )));
            }
            if read_string(raw_env, sql)?.contains('\0') {
                return Err(DbError::invalid_argument(format!(
                    "batch statement {i}: sql contains a NUL character"
                )));
            }
            let mut params = ptr::null_mut();
            sys::napi_get_named_property(raw_env, item, c"params".as_ptr(), &mut params);
            out.push(Statement {
                sql: read_string(raw_env, sql)?,
                params: read_params(raw_env, params).map_err(|e| DbError {
                    message: format!("batch statement {i}: {}", e.message),
                    ..e
                })?,
            });
        }
        Ok(out)
    }
}

#[napi(object)]
pub struct CleanupResult {
    pub deleted: f64,
}

pub fn health_timeout(env: &Env, options: Option<Unknown>) -> DbResult<Duration> {
    match read_options_loose(env, options)? {
        Some(ms) if ms.is_finite() && ms > 0.0 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(DbError::invalid_argument(
            "timeoutMs must be a positive number",
        )),
        None => Ok(health::DEFAULT_TIMEOUT),
    }
}

pub fn count_arg(n: Option<f64>) -> DbResult<u32> {
    match n {
        None => Ok(DEFAULT_COUNT),
        Some(n)
            if n.is_finite()
                && n.fract() == 0.0
                && n >= 1.0
                && n <= health::concurrency::MAX_COUNT as f64 =>
        {
            Ok(n as u32)
        }
        Some(n) => Err(DbError::invalid_argument(format!(
            "the number of concurrent queries must be a whole number from 1 to {}, got {n}",
            health::concurrency::MAX_COUNT
        ))),
    }
}

pub fn read_count(env: &Env, count: Option<Unknown>) -> DbResult<u32> {
    let Some(count) = count else {
        return count_arg(None);
    };
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
pub fn read_number_option(
    env: &Env,
    options: Option<Unknown>,
    key: &std::ffi::CStr,
) -> DbResult<Option<f64>> {
    let Some(options) = options else {
        return Ok(None);
    };
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
            _ => Err(DbError::invalid_argument(format!(
                "{} must be a number",
                key.to_string_lossy()
            ))),
        }
    }
}

pub fn cleanup_args(env: &Env, options: Option<Unknown>) -> DbResult<(String, Option<i64>)> {
    let Some(options) = options else {
        return Ok((DEFAULT_TABLE.to_owned(), None));
    };
    unsafe {
        let raw_env = env.raw();
        match type_of(raw_env, options.raw()) {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Ok((DEFAULT_TABLE.to_owned(), None))
            }
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
