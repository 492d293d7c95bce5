//! One inline execution: bind, step, decode, and what a failure means
//! (an error to report, or "run it on the worker thread").

use std::ffi::c_int;

use libsqlite3_sys as ffi;

use super::statement::{refresh_columns, text_of, Declared, Prepared};
use super::{Output, Want};
use crate::backend::parse_text_timestamp;
use crate::backend::sqlite::{decode_error, shape_execute_result, BUSY_TIMEOUT};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::value::{Cell, Param, Rows};

pub(super) enum Step {
    Done(DbResult<Output>),
    /// The database is locked by another connection: the async path waits
    /// for it (busy timeout) instead of the JS thread.
    Busy,
    /// The time limit passed; the statement was rolled back by SQLite (or
    /// changed nothing).
    Interrupted,
}

/// Binds, steps and decodes, then leaves the statement reset and unbound
/// (holding no lock and no reference to `params`).
pub(super) unsafe fn execute(
    db: *mut ffi::sqlite3,
    p: &mut Prepared,
    params: &[Param],
    want: Want,
    sql: &str,
) -> Step {
    let stmt = p.stmt.as_ptr();
    // Every sqlite3_* call takes the connection's (recursive) mutex in
    // serialized mode, five or more per column; held here once, they find it
    // already theirs, which skips the atomic operations (10% of the CPU time
    // of a point-select, in a profile). It also keeps sqlx's worker thread
    // off the connection for the whole statement.
    let _held = DbMutex::enter(db);
    // Never wait for a lock on the JS thread.
    ffi::sqlite3_busy_timeout(db, 0);
    let outcome = bind_all(stmt, params)
        .map_err(|_| sqlite_error(db))
        .map(|_| step_all(db, p, want, sql));
    ffi::sqlite3_reset(stmt);
    ffi::sqlite3_clear_bindings(stmt);
    ffi::sqlite3_busy_timeout(db, BUSY_TIMEOUT.as_millis() as c_int);
    match outcome {
        Ok(step) => step,
        Err(e) => Step::Done(Err(e)),
    }
}

/// The connection's mutex, held until dropped (also on a panic, which would
/// otherwise leave the connection locked for good).
struct DbMutex(*mut ffi::sqlite3_mutex);

impl DbMutex {
    unsafe fn enter(db: *mut ffi::sqlite3) -> Self {
        // Null when the connection was not opened serialized: then both
        // calls do nothing.
        let mutex = ffi::sqlite3_db_mutex(db);
        ffi::sqlite3_mutex_enter(mutex);
        DbMutex(mutex)
    }
}

impl Drop for DbMutex {
    fn drop(&mut self) {
        unsafe { ffi::sqlite3_mutex_leave(self.0) };
    }
}

unsafe fn bind_all(stmt: *mut ffi::sqlite3_stmt, params: &[Param]) -> Result<(), c_int> {
    for (i, param) in params.iter().enumerate() {
        let at = i as c_int + 1;
        // SQLITE_STATIC: the values outlive the statement's use of them
        // (bindings are cleared before `execute` returns).
        let rc = match param {
            Param::Null => ffi::sqlite3_bind_null(stmt, at),
            Param::Bool(b) => ffi::sqlite3_bind_int64(stmt, at, *b as i64),
            Param::Int(v) | Param::Timestamp(v) => ffi::sqlite3_bind_int64(stmt, at, *v),
            Param::Float(v) => ffi::sqlite3_bind_double(stmt, at, *v),
            Param::Text(s) | Param::Json(s) => ffi::sqlite3_bind_text64(
                stmt,
                at,
                s.as_ptr().cast(),
                s.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            ),
            Param::Bytes(b) => ffi::sqlite3_bind_blob64(
                stmt,
                at,
                b.as_ptr().cast(),
                b.len() as u64,
                ffi::SQLITE_STATIC(),
            ),
        };
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
    }
    Ok(())
}

unsafe fn step_all(db: *mut ffi::sqlite3, p: &mut Prepared, want: Want, sql: &str) -> Step {
    let stmt = p.stmt.as_ptr();
    let changes_before = ffi::sqlite3_total_changes64(db);
    let mut rows = Rows::default();
    loop {
        match ffi::sqlite3_step(stmt) {
            ffi::SQLITE_ROW => {
                if want == Want::Execute {
                    continue;
                }
                if rows.columns.is_empty() {
                    refresh_columns(p);
                    rows.columns = p.columns.clone();
                }
                if let Err(e) = decode_row(stmt, &p.declared, &mut rows) {
                    return Step::Done(Err(e));
                }
                if want == Want::FirstRow {
                    break;
                }
            }
            ffi::SQLITE_DONE => break,
            rc => {
                return match rc & 0xff {
                    ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => Step::Busy,
                    // SQLite asks the progress handler once more as a
                    // statement's last step returns, after a write has
                    // committed: a write whose changes were counted
                    // finished, and must not run a second time.
                    ffi::SQLITE_INTERRUPT
                        if ffi::sqlite3_stmt_readonly(stmt) == 0
                            && ffi::sqlite3_total_changes64(db) > changes_before =>
                    {
                        break;
                    }
                    ffi::SQLITE_INTERRUPT => Step::Interrupted,
                    _ => Step::Done(Err(sqlite_error(db))),
                };
            }
        }
    }
    Step::Done(Ok(match want {
        Want::Execute => Output::Execute(shape_execute_result(
            ffi::sqlite3_changes64(db) as u64,
            ffi::sqlite3_last_insert_rowid(db),
            sql,
        )),
        _ => Output::Rows(rows),
    }))
}

/// The same values `Driver::decode_row` makes from sqlx's row.
unsafe fn decode_row(
    stmt: *mut ffi::sqlite3_stmt,
    declared: &[Declared],
    out: &mut Rows,
) -> DbResult<()> {
    for (i, declared) in declared.iter().enumerate() {
        let i = i as c_int;
        let cell = match ffi::sqlite3_column_type(stmt, i) {
            ffi::SQLITE_NULL => Cell::Null,
            ffi::SQLITE_INTEGER => {
                let v = ffi::sqlite3_column_int64(stmt, i);
                match declared {
                    Declared::Bool => Cell::Bool(v != 0),
                    Declared::Timestamp => Cell::Timestamp(v as f64),
                    Declared::Other => Cell::Int(v),
                }
            }
            ffi::SQLITE_FLOAT => Cell::Float(ffi::sqlite3_column_double(stmt, i)),
            ffi::SQLITE_BLOB => {
                let data = ffi::sqlite3_column_blob(stmt, i);
                Cell::Bytes(bytes_at(data, ffi::sqlite3_column_bytes(stmt, i)).to_vec())
            }
            _ => {
                // Pointer first, then length, as SQLite's documentation says.
                let data = ffi::sqlite3_column_text(stmt, i);
                let bytes = bytes_at(data.cast(), ffi::sqlite3_column_bytes(stmt, i));
                let text = std::str::from_utf8(bytes).map_err(|e| decode_error(Box::new(e)))?;
                match declared {
                    Declared::Timestamp if let Some(ms) = parse_text_timestamp(text) => {
                        Cell::Timestamp(ms)
                    }
                    _ => {
                        out.push_text(text);
                        continue;
                    }
                }
            }
        };
        out.cells.push(cell);
    }
    Ok(())
}

/// A column's bytes (valid until the next step or reset).
unsafe fn bytes_at<'a>(data: *const std::ffi::c_void, len: c_int) -> &'a [u8] {
    if data.is_null() || len <= 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data.cast(), len as usize)
    }
}

/// The connection's last error, as sqlx reports it: the message SQLite
/// gives and the extended result code as the SQL state.
pub(super) unsafe fn sqlite_error(db: *mut ffi::sqlite3) -> DbError {
    let code = ffi::sqlite3_extended_errcode(db);
    let message = text_of(ffi::sqlite3_errmsg(db));
    let mut e = DbError::new(ErrorCode::QueryFailed, message);
    e.sql_state = Some(code.to_string());
    e
}
