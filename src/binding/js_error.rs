//! Rejections that carry the contract's `code`.
//!
//! A napi `async fn` can only reject with napi's own statuses. Our futures
//! instead resolve to [`Settled`]; its conversion runs on the JS thread and,
//! for an error, builds a real `Error` with `code`, `sqlState`, `constraint`
//! and `cause`, then hands it to napi as the rejection value itself.

use std::ffi::CString;
use std::ptr;

use napi::bindgen_prelude::{ToNapiValue, TypeName, Unknown, ValidateNapiValue};
use napi::{sys, Env, ValueType};

use crate::error::DbError;

/// The outcome of a call: resolved with `T`, or rejected with a coded Error.
pub struct Settled<T>(pub Result<T, DbError>);

impl<T: ToNapiValue> ToNapiValue for Settled<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.0 {
            Ok(v) => T::to_napi_value(env, v),
            Err(e) => {
                let error = create_js_error(env, &e)?;
                Err(napi::Error::from(Unknown::from_raw_unchecked(env, error)))
            }
        }
    }
}

impl<T> TypeName for Settled<T> {
    fn type_name() -> &'static str {
        "Settled"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl<T> ValidateNapiValue for Settled<T> {}

/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback).
pub unsafe fn js_string(env: sys::napi_env, s: &str) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    // ASCII is Latin-1 too, and V8 copies Latin-1 without decoding.
    let create = if s.is_ascii() {
        sys::napi_create_string_latin1
    } else {
        sys::napi_create_string_utf8
    };
    napi::check_status!(create(env, s.as_ptr().cast(), s.len() as isize, &mut out))?;
    Ok(out)
}

unsafe fn set(
    env: sys::napi_env,
    obj: sys::napi_value,
    key: &str,
    value: sys::napi_value,
) -> napi::Result<()> {
    let key = CString::new(key).expect("static keys have no NUL");
    napi::check_status!(sys::napi_set_named_property(env, obj, key.as_ptr(), value))
}

/// `new Error(message)` with `.code` and the optional fields set.
///
/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback).
pub unsafe fn create_js_error(env: sys::napi_env, e: &DbError) -> napi::Result<sys::napi_value> {
    let code = js_string(env, e.code.as_str())?;
    let message = js_string(env, &e.message)?;
    let mut error = ptr::null_mut();
    napi::check_status!(sys::napi_create_error(env, code, message, &mut error))?;
    if let Some(state) = &e.sql_state {
        set(env, error, "sqlState", js_string(env, state)?)?;
    }
    if let Some(constraint) = &e.constraint {
        set(env, error, "constraint", js_string(env, constraint)?)?;
    }
    if let Some(cause) = &e.cause {
        let mut cause_error = ptr::null_mut();
        napi::check_status!(sys::napi_create_error(
            env,
            ptr::null_mut(),
            js_string(env, cause)?,
            &mut cause_error
        ))?;
        set(env, error, "cause", cause_error)?;
    }
    Ok(error)
}

/// For synchronous methods (constructor, resolveConfig): a napi error whose
/// thrown value is the coded JS Error.
pub fn throw_coded(env: &Env, e: DbError) -> napi::Error {
    unsafe {
        match create_js_error(env.raw(), &e) {
            Ok(value) => napi::Error::from(Unknown::from_raw_unchecked(env.raw(), value)),
            Err(fallback) => fallback,
        }
    }
}
