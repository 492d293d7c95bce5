//! Result sets → JS: an array of plain objects, keyed by column name.
//!
//! Column-name strings are created once per result set and reused for every
//! row; values are created directly with napi calls (no JSON round trip).

use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{ToNapiValue, TypeName, ValidateNapiValue};
use napi::{check_status, sys, ValueType};

use super::js_error::js_string;
use super::row_factory;
use crate::value::cell::{text_span, ExecuteResult};
use crate::value::{Cell, Rows};

const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// `query()`'s result: every row.
pub struct JsRows(pub Rows);
/// `queryOne()`'s result: the first row or `null`.
pub struct JsFirstRow(pub Rows);
pub struct JsExecuteResult(pub ExecuteResult);
pub struct JsExecuteResults(pub Vec<ExecuteResult>);

macro_rules! untyped {
    ($($t:ty),*) => {$(
        impl TypeName for $t {
            fn type_name() -> &'static str { stringify!($t) }
            fn value_type() -> ValueType { ValueType::Object }
        }
        impl ValidateNapiValue for $t {}
    )*};
}
untyped!(JsRows, JsFirstRow, JsExecuteResult, JsExecuteResults);

impl ToNapiValue for JsRows {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let rows = val.0;
        let count = rows.row_count();
        let mut array = ptr::null_mut();
        check_status!(sys::napi_create_array_with_length(env, count, &mut array))?;
        if count == 0 {
            return Ok(array);
        }
        let mut keys = column_keys(env, &rows.columns)?;
        let mut cells = rows.cells.into_iter();
        for r in 0..count {
            let row = build_row(env, &mut keys, &mut cells, &rows.text)?;
            check_status!(sys::napi_set_element(env, array, r as u32, row))?;
        }
        Ok(array)
    }
}

impl ToNapiValue for JsFirstRow {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let rows = val.0;
        if rows.row_count() == 0 {
            let mut null = ptr::null_mut();
            check_status!(sys::napi_get_null(env, &mut null))?;
            return Ok(null);
        }
        let mut keys = column_keys(env, &rows.columns)?;
        build_row(env, &mut keys, &mut rows.cells.into_iter(), &rows.text)
    }
}

impl ToNapiValue for JsExecuteResult {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        execute_result(env, val.0)
    }
}

impl ToNapiValue for JsExecuteResults {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut array = ptr::null_mut();
        check_status!(sys::napi_create_array_with_length(
            env,
            val.0.len(),
            &mut array
        ))?;
        for (i, r) in val.0.into_iter().enumerate() {
            check_status!(sys::napi_set_element(
                env,
                array,
                i as u32,
                execute_result(env, r)?
            ))?;
        }
        Ok(array)
    }
}

unsafe fn execute_result(env: sys::napi_env, r: ExecuteResult) -> napi::Result<sys::napi_value> {
    let mut obj = ptr::null_mut();
    check_status!(sys::napi_create_object(env, &mut obj))?;
    let affected = number(env, r.rows_affected as f64)?;
    check_status!(sys::napi_set_named_property(
        env,
        obj,
        c"rowsAffected".as_ptr(),
        affected
    ))?;
    let id = match r.last_insert_id {
        Some(id) => cell(env, Cell::Int(id), "")?,
        None => null(env)?,
    };
    check_status!(sys::napi_set_named_property(
        env,
        obj,
        c"lastInsertId".as_ptr(),
        id
    ))?;
    Ok(obj)
}

/// How the rows of one result set are made (see `row_factory`).
enum RowMaker {
    Factory {
        f: sys::napi_value,
        width: usize,
        values: Vec<sys::napi_value>,
    },
    Keys(Vec<sys::napi_value>),
}

unsafe fn column_keys(env: sys::napi_env, columns: &Arc<[String]>) -> napi::Result<RowMaker> {
    if let Some(f) = row_factory::for_columns(env, columns)? {
        return Ok(RowMaker::Factory {
            f,
            width: columns.len(),
            values: Vec::with_capacity(columns.len()),
        });
    }
    Ok(RowMaker::Keys(
        columns
            .iter()
            .map(|c| js_string(env, c))
            .collect::<napi::Result<_>>()?,
    ))
}

/// `text`: the result set's shared text buffer (see `Cell::TextAt`).
unsafe fn build_row(
    env: sys::napi_env,
    maker: &mut RowMaker,
    cells: &mut impl Iterator<Item = Cell>,
    text: &str,
) -> napi::Result<sys::napi_value> {
    match maker {
        RowMaker::Factory { f, width, values } => {
            values.clear();
            for _ in 0..*width {
                values.push(cell(env, cells.next().unwrap_or(Cell::Null), text)?);
            }
            row_factory::make_row(env, *f, values)
        }
        RowMaker::Keys(keys) => {
            let mut obj = ptr::null_mut();
            check_status!(sys::napi_create_object(env, &mut obj))?;
            for key in keys.iter() {
                let value = cell(env, cells.next().unwrap_or(Cell::Null), text)?;
                check_status!(sys::napi_set_property(env, obj, *key, value))?;
            }
            Ok(obj)
        }
    }
}

unsafe fn null(env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(sys::napi_get_null(env, &mut out))?;
    Ok(out)
}

unsafe fn number(env: sys::napi_env, n: f64) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(sys::napi_create_double(env, n, &mut out))?;
    Ok(out)
}

/// `text`: what a `Cell::TextAt` points into.
///
/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback).
pub unsafe fn cell(env: sys::napi_env, cell: Cell, text: &str) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    match cell {
        Cell::Null => return null(env),
        Cell::Bool(b) => check_status!(sys::napi_get_boolean(env, b, &mut out))?,
        Cell::Int(i) if (-MAX_SAFE..=MAX_SAFE).contains(&i) => return number(env, i as f64),
        Cell::Int(i) => check_status!(sys::napi_create_bigint_int64(env, i, &mut out))?,
        Cell::UInt(u) if u <= MAX_SAFE as u64 => return number(env, u as f64),
        Cell::UInt(u) => check_status!(sys::napi_create_bigint_uint64(env, u, &mut out))?,
        Cell::Float(f) => return number(env, f),
        Cell::Text(s) | Cell::Decimal(s) => return js_string(env, &s),
        Cell::TextAt { start, len } => return js_string(env, text_span(text, start, len)),
        Cell::Bytes(b) => {
            let mut data = ptr::null_mut();
            check_status!(sys::napi_create_buffer_copy(
                env,
                b.len(),
                b.as_ptr().cast(),
                &mut data,
                &mut out
            ))?
        }
        Cell::Json(v) => return json(env, v),
        Cell::Timestamp(ms) => check_status!(sys::napi_create_date(env, ms, &mut out))?,
    }
    Ok(out)
}

unsafe fn json(env: sys::napi_env, value: serde_json::Value) -> napi::Result<sys::napi_value> {
    use serde_json::Value;
    let mut out = ptr::null_mut();
    match value {
        Value::Null => return null(env),
        Value::Bool(b) => check_status!(sys::napi_get_boolean(env, b, &mut out))?,
        Value::Number(n) => return number(env, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => return js_string(env, &s),
        Value::Array(items) => {
            check_status!(sys::napi_create_array_with_length(
                env,
                items.len(),
                &mut out
            ))?;
            for (i, item) in items.into_iter().enumerate() {
                check_status!(sys::napi_set_element(env, out, i as u32, json(env, item)?))?;
            }
        }
        Value::Object(map) => {
            check_status!(sys::napi_create_object(env, &mut out))?;
            for (k, v) in map {
                let key = js_string(env, &k)?;
                check_status!(sys::napi_set_property(env, out, key, json(env, v)?))?;
            }
        }
    }
    Ok(out)
}
