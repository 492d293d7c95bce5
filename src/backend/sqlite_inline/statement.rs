//! A prepared statement of the inline path: its handle, the column data
//! rows are built with, and the checks that keep SQL sqlx would run its own
//! way (several statements, named parameters) on the sqlx path.

use std::ffi::{c_char, c_int, CStr};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use libsqlite3_sys as ffi;

use super::step::sqlite_error;
use crate::error::DbResult;
use crate::sql::placeholders::count_params;

/// What the cache holds for one SQL text.
pub(super) enum Plan {
    Run(Prepared),
    /// This SQL always takes the async path: several statements, named
    /// parameters, or it ran past the inline time limit `STRIKES` times.
    Async,
}

pub(super) struct Prepared {
    pub(super) stmt: NonNull<ffi::sqlite3_stmt>,
    pub(super) columns: Arc<[String]>,
    pub(super) declared: Vec<Declared>,
    /// SQLite re-prepares a statement after a schema change (a `SELECT *`
    /// may gain columns): when this counter moves, the column data is read
    /// again.
    pub(super) reprepares: c_int,
    /// `?` placeholders as the pool counts them, `None` if it cannot tell.
    pub(super) placeholders: Option<usize>,
    /// Parameters as SQLite counts them.
    pub(super) parameters: usize,
    /// Times it ran past the inline time limit.
    pub(super) strikes: u8,
}

/// The declared column types that change how a value is shaped; the same
/// names sqlx's type parser gives (`DataType::from_str`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Declared {
    Bool,
    Timestamp,
    Other,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// Prepares the first statement of `sql`; SQL with more than one, or with
/// named/numbered parameters (which sqlx maps its own way), is `Async`.
pub(super) unsafe fn prepare(db: *mut ffi::sqlite3, sql: &str) -> DbResult<Plan> {
    let Ok(len) = c_int::try_from(sql.len()) else {
        return Ok(Plan::Async);
    };
    let mut stmt = ptr::null_mut();
    let mut tail: *const c_char = ptr::null();
    let rc = ffi::sqlite3_prepare_v3(
        db,
        sql.as_ptr().cast(),
        len,
        ffi::SQLITE_PREPARE_PERSISTENT,
        &mut stmt,
        &mut tail,
    );
    if rc != ffi::SQLITE_OK {
        return Err(sqlite_error(db));
    }
    let Some(stmt) = NonNull::new(stmt) else {
        return Ok(Plan::Async); // only comments or whitespace
    };
    let mut prepared = Prepared {
        stmt,
        columns: Arc::from([]),
        declared: Vec::new(),
        reprepares: -1,
        placeholders: count_params(sql),
        parameters: ffi::sqlite3_bind_parameter_count(stmt.as_ptr()).max(0) as usize,
        strikes: 0,
    };
    let consumed = (tail as usize).saturating_sub(sql.as_ptr() as usize);
    let rest = sql.get(consumed..).unwrap_or("");
    let named = (1..=prepared.parameters as c_int)
        .any(|i| !ffi::sqlite3_bind_parameter_name(stmt.as_ptr(), i).is_null());
    if !rest.trim().is_empty() || named {
        return Ok(Plan::Async); // `prepared` finalizes the statement
    }
    refresh_columns(&mut prepared);
    Ok(Plan::Run(prepared))
}

pub(super) unsafe fn refresh_columns(p: &mut Prepared) {
    let stmt = p.stmt.as_ptr();
    let reprepares = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
    let count = ffi::sqlite3_column_count(stmt).max(0) as usize;
    if reprepares == p.reprepares && count == p.columns.len() {
        return;
    }
    p.reprepares = reprepares;
    p.columns = (0..count as c_int)
        .map(|i| text_of(ffi::sqlite3_column_name(stmt, i)))
        .collect();
    p.declared = (0..count as c_int)
        .map(|i| declared(ffi::sqlite3_column_decltype(stmt, i)))
        .collect();
}

pub(super) unsafe fn text_of(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe fn declared(p: *const c_char) -> Declared {
    if p.is_null() {
        return Declared::Other;
    }
    match CStr::from_ptr(p).to_bytes().to_ascii_lowercase().as_slice() {
        b"boolean" | b"bool" => Declared::Bool,
        b"date" | b"datetime" | b"timestamp" => Declared::Timestamp,
        _ => Declared::Other,
    }
}
