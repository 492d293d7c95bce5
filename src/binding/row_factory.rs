//! Row objects built by a small JS function per column set.
//!
//! Adding properties one by one through napi (`napi_set_property`) walks
//! the prototype chain and transitions the object's hidden class for every
//! column: for a point-select that was a sixth of the call. A function like
//! `(a0, a1) => ({"id": a0, "shop": a1})`, compiled once per column set,
//! makes the same object from an object literal, V8's fastest path, with
//! one hidden class shared by every row.
//!
//! Columns a literal cannot carry as data (`__proto__` would set the
//! prototype) keep the napi path.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr;
use std::sync::Arc;

use napi::{check_status, sys};

/// Distinct column sets kept per JS environment; past this the cache is
/// emptied (an app has a bounded number of statements; a client that
/// invents column names per query should not grow memory).
const CAPACITY: usize = 512;

struct Factories {
    env: sys::napi_env,
    by_columns: HashMap<Vec<String>, sys::napi_ref>,
    /// The last column set seen: a cached statement hands out the same
    /// `Arc` every time, so a pointer compare usually skips the hashing.
    last: Option<(Arc<[String]>, sys::napi_ref)>,
}

thread_local! {
    static FACTORIES: RefCell<Option<Factories>> = const { RefCell::new(None) };
}

/// The row-making function for `columns`, or `None` to use the napi path.
///
/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback).
pub unsafe fn for_columns(
    env: sys::napi_env,
    columns: &Arc<[String]>,
) -> napi::Result<Option<sys::napi_value>> {
    if columns.iter().any(|c| c == "__proto__") {
        return Ok(None);
    }
    FACTORIES.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|f| f.env != env) {
            // Another environment on this thread (a new worker): its own cache.
            *slot = Some(Factories {
                env,
                by_columns: HashMap::new(),
                last: None,
            });
        }
        let cache = slot.as_mut().expect("just set");
        let known = match &cache.last {
            Some((last, reference)) if Arc::ptr_eq(last, columns) => Some(*reference),
            _ => cache.by_columns.get(&columns[..]).copied(),
        };
        let reference = match known {
            Some(reference) => reference,
            None => {
                let f = compile(env, columns)?;
                if cache.by_columns.len() >= CAPACITY {
                    cache.last = None;
                    for (_, r) in cache.by_columns.drain() {
                        sys::napi_delete_reference(env, r);
                    }
                }
                let mut reference = ptr::null_mut();
                check_status!(sys::napi_create_reference(env, f, 1, &mut reference))?;
                cache.by_columns.insert(columns.to_vec(), reference);
                reference
            }
        };
        cache.last = Some((columns.clone(), reference));
        let mut f = ptr::null_mut();
        check_status!(sys::napi_get_reference_value(env, reference, &mut f))?;
        Ok((!f.is_null()).then_some(f))
    })
}

/// `new Function("a0,a1", 'return {"id":a0,"shop":a1}')`: keys are JSON
/// string literals, so any column name is quoted safely.
unsafe fn compile(env: sys::napi_env, columns: &[String]) -> napi::Result<sys::napi_value> {
    let params: Vec<String> = (0..columns.len()).map(|i| format!("a{i}")).collect();
    let mut body = String::from("return {");
    for (i, name) in columns.iter().enumerate() {
        let key = serde_json::to_string(name).unwrap_or_else(|_| "\"\"".to_owned());
        body.push_str(&format!("{key}:a{i},"));
    }
    body.push('}');
    let mut global = ptr::null_mut();
    check_status!(sys::napi_get_global(env, &mut global))?;
    let mut function_ctor = ptr::null_mut();
    check_status!(sys::napi_get_named_property(
        env,
        global,
        c"Function".as_ptr(),
        &mut function_ctor
    ))?;
    let args = [
        super::js_error::js_string(env, &params.join(","))?,
        super::js_error::js_string(env, &body)?,
    ];
    let mut f = ptr::null_mut();
    check_status!(sys::napi_new_instance(
        env,
        function_ctor,
        args.len(),
        args.as_ptr(),
        &mut f
    ))?;
    Ok(f)
}

/// One row: `f(values...)`.
///
/// # Safety
/// `env` is the live napi environment of the calling JS thread (inside a
/// napi callback), and `f` and `values` are handles of it in
/// the current scope.
pub unsafe fn make_row(
    env: sys::napi_env,
    f: sys::napi_value,
    values: &[sys::napi_value],
) -> napi::Result<sys::napi_value> {
    let mut undefined = ptr::null_mut();
    check_status!(sys::napi_get_undefined(env, &mut undefined))?;
    let mut row = ptr::null_mut();
    check_status!(sys::napi_call_function(
        env,
        undefined,
        f,
        values.len(),
        values.as_ptr(),
        &mut row
    ))?;
    Ok(row)
}
