//! JS values → [`Param`], on the JS thread, with the contract's rules:
//! anything that is not data (symbol, function, class instance) is refused
//! with INVALID_ARGUMENT naming the parameter's index.

use std::ptr;

use napi::sys;

use crate::error::{DbError, DbResult};
use crate::value::Param;

macro_rules! ok {
    ($call:expr, $what:expr) => {
        if $call != sys::Status::napi_ok {
            return Err(DbError::invalid_argument(format!(
                "could not read {}",
                $what
            )));
        }
    };
}

/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback), and `value` is a handle of it in the
/// current scope.
pub unsafe fn read_string(env: sys::napi_env, value: sys::napi_value) -> DbResult<String> {
    // Most statements and values fit a small buffer: one napi call instead
    // of two (length, then copy). napi writes at most len - 1 bytes and a
    // NUL, so a string that filled it may have been cut: read it again.
    let mut small = [0u8; 512];
    let mut written = 0usize;
    ok!(
        sys::napi_get_value_string_utf8(
            env,
            value,
            small.as_mut_ptr().cast(),
            small.len(),
            &mut written
        ),
        "a string"
    );
    if written < small.len() - 1 {
        // napi writes valid UTF-8 (lone surrogates become U+FFFD).
        return Ok(String::from_utf8_unchecked(small[..written].to_vec()));
    }
    let mut len = 0usize;
    ok!(
        sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len),
        "a string"
    );
    let mut buf: Vec<u8> = Vec::with_capacity(len + 1);
    ok!(
        sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), len + 1, &mut written),
        "a string"
    );
    buf.set_len(written);
    Ok(String::from_utf8_unchecked(buf))
}

/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback), and `value` is a handle of it in the
/// current scope.
pub unsafe fn type_of(env: sys::napi_env, value: sys::napi_value) -> sys::napi_valuetype {
    let mut t = 0;
    sys::napi_typeof(env, value, &mut t);
    t
}

/// Converts the `params` argument: `undefined`/`null` → no parameters.
///
/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback), and `params` is a handle of it in the
/// current scope.
pub unsafe fn read_params(env: sys::napi_env, params: sys::napi_value) -> DbResult<Vec<Param>> {
    match type_of(env, params) {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => return Ok(Vec::new()),
        _ => {}
    }
    let mut is_array = false;
    sys::napi_is_array(env, params, &mut is_array);
    if !is_array {
        return Err(DbError::invalid_argument("params must be an array"));
    }
    let mut len = 0u32;
    ok!(sys::napi_get_array_length(env, params, &mut len), "params");
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut item = ptr::null_mut();
        ok!(
            sys::napi_get_element(env, params, i, &mut item),
            format!("parameter {i}")
        );
        out.push(read_param(env, item, i as usize)?);
    }
    Ok(out)
}

/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback), and `value` is a handle of it in the
/// current scope.
pub unsafe fn read_param(
    env: sys::napi_env,
    value: sys::napi_value,
    index: usize,
) -> DbResult<Param> {
    match type_of(env, value) {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(Param::Null),
        sys::ValueType::napi_boolean => {
            let mut b = false;
            sys::napi_get_value_bool(env, value, &mut b);
            Ok(Param::Bool(b))
        }
        sys::ValueType::napi_number => {
            let mut n = 0f64;
            sys::napi_get_value_double(env, value, &mut n);
            Param::from_number(index, n)
        }
        sys::ValueType::napi_string => Ok(Param::Text(read_string(env, value)?)),
        sys::ValueType::napi_bigint => {
            let mut n = 0i64;
            let mut lossless = false;
            sys::napi_get_value_bigint_int64(env, value, &mut n, &mut lossless);
            if lossless {
                Ok(Param::Int(n))
            } else {
                Err(DbError::invalid_argument(format!(
                    "parameter {index} is a bigint outside the 64-bit signed range"
                )))
            }
        }
        sys::ValueType::napi_object => read_object(env, value, index),
        sys::ValueType::napi_symbol => Err(refused(index, "a symbol")),
        sys::ValueType::napi_function => Err(refused(index, "a function")),
        _ => Err(refused(index, "an external value")),
    }
}

fn refused(index: usize, what: &str) -> DbError {
    DbError::invalid_argument(format!(
        "parameter {index} is {what}, which cannot be sent to the database (use null, boolean, number, bigint, string, Date, Buffer, or a plain object/array for JSON)"
    ))
}

unsafe fn read_object(env: sys::napi_env, value: sys::napi_value, index: usize) -> DbResult<Param> {
    let mut flag = false;
    sys::napi_is_date(env, value, &mut flag);
    if flag {
        let mut ms = 0f64;
        sys::napi_get_date_value(env, value, &mut ms);
        return Param::from_timestamp_ms(index, ms);
    }
    // Buffer is a Uint8Array, so one check covers both; any other view of
    // raw memory (Int32Array, DataView, ...) has no unambiguous SQL meaning.
    sys::napi_is_typedarray(env, value, &mut flag);
    if flag {
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut len,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        );
        if kind == sys::TypedarrayType::uint8_array {
            return Ok(Param::Bytes(bytes(data, len)));
        }
        return Err(refused(index, "a typed array other than Uint8Array/Buffer"));
    }
    sys::napi_is_dataview(env, value, &mut flag);
    if flag {
        return Err(refused(index, "a DataView"));
    }
    sys::napi_is_arraybuffer(env, value, &mut flag);
    if flag {
        return Err(refused(
            index,
            "an ArrayBuffer (wrap it in a Buffer or Uint8Array)",
        ));
    }
    sys::napi_is_array(env, value, &mut flag);
    if flag || is_plain_object(env, value) {
        return stringify(env, value, index).map(Param::Json);
    }
    Err(refused(
        index,
        &format!("an instance of {}", constructor_name(env, value)),
    ))
}

unsafe fn bytes(data: *mut std::ffi::c_void, len: usize) -> Vec<u8> {
    if len == 0 || data.is_null() {
        Vec::new()
    } else {
        std::slice::from_raw_parts(data as *const u8, len).to_vec()
    }
}

unsafe fn global_property(
    env: sys::napi_env,
    object: &str,
    property: &str,
) -> Option<(sys::napi_value, sys::napi_value)> {
    let mut global = ptr::null_mut();
    sys::napi_get_global(env, &mut global);
    let obj = named(env, global, object)?;
    Some((obj, named(env, obj, property)?))
}

unsafe fn named(env: sys::napi_env, obj: sys::napi_value, key: &str) -> Option<sys::napi_value> {
    let key = std::ffi::CString::new(key).ok()?;
    let mut out = ptr::null_mut();
    (sys::napi_get_named_property(env, obj, key.as_ptr(), &mut out) == sys::Status::napi_ok)
        .then_some(out)
}

/// A plain object: its prototype is `null` or a realm's `Object.prototype`
/// (itself prototype-less). Checking the chain rather than identity accepts
/// object literals from other realms (vm contexts, Jest test files).
unsafe fn is_plain_object(env: sys::napi_env, value: sys::napi_value) -> bool {
    let mut proto = ptr::null_mut();
    if sys::napi_get_prototype(env, value, &mut proto) != sys::Status::napi_ok {
        return false;
    }
    if type_of(env, proto) == sys::ValueType::napi_null {
        return true;
    }
    let mut grand = ptr::null_mut();
    sys::napi_get_prototype(env, proto, &mut grand) == sys::Status::napi_ok
        && type_of(env, grand) == sys::ValueType::napi_null
}

unsafe fn constructor_name(env: sys::napi_env, value: sys::napi_value) -> String {
    named(env, value, "constructor")
        .and_then(|c| named(env, c, "name"))
        .filter(|n| type_of(env, *n) == sys::ValueType::napi_string)
        .and_then(|n| read_string(env, n).ok())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "a class".to_owned())
}

/// `JSON.stringify(value)`; a throw (cycle, bigint inside) is caught and
/// reported as INVALID_ARGUMENT instead of escaping as an exception.
unsafe fn stringify(env: sys::napi_env, value: sys::napi_value, index: usize) -> DbResult<String> {
    let Some((json, stringify)) = global_property(env, "JSON", "stringify") else {
        return Err(DbError::invalid_argument("JSON.stringify is unavailable"));
    };
    let mut out = ptr::null_mut();
    let status = sys::napi_call_function(env, json, stringify, 1, &value, &mut out);
    if status != sys::Status::napi_ok {
        let mut pending = false;
        sys::napi_is_exception_pending(env, &mut pending);
        let mut reason = String::from("it cannot be serialised as JSON");
        if pending {
            let mut exception = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut exception);
            if let Some(msg) =
                named(env, exception, "message").and_then(|m| read_string(env, m).ok())
            {
                reason = format!("it cannot be serialised as JSON: {msg}");
            }
        }
        return Err(DbError::invalid_argument(format!(
            "parameter {index}: {reason}"
        )));
    }
    if type_of(env, out) != sys::ValueType::napi_string {
        return Err(DbError::invalid_argument(format!(
            "parameter {index} has no JSON form"
        )));
    }
    read_string(env, out)
}
