//! SQLite statements run on the calling thread, straight through SQLite's C
//! API, with their own statement cache.
//!
//! Through sqlx a SQLite statement is a message to the connection's worker
//! thread and a reply back: two thread wake-ups that cost a point-select
//! ten times what SQLite spends on it. An in-process database needs no
//! such hop: the pool runs short statements here, on the JS thread, under
//! a time limit (see `pool::inline`), and hands anything unusual back to
//! the sqlx path, which stays the reference behaviour: each decision below
//! either matches what sqlx does or returns `None` ("take the async path").
//!
//! Safety: the handle belongs to a connection opened in serialized mode
//! (`SQLITE_OPEN_FULLMUTEX`), so SQLite itself serializes these calls with
//! anything sqlx's worker thread may still be finishing; and the pool lends
//! a connection to one caller at a time. The cached statements are
//! finalized (on drop) before the connection is closed: `Live` declares its
//! inline state before the sqlx connection, and `Live::close` drops it first.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use libsqlite3_sys as ffi;

use super::parse_text_timestamp;
use super::sqlite::{decode_error, shape_execute_result, BUSY_TIMEOUT};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::sql::placeholders::count_params;
use crate::value::cell::ExecuteResult;
use crate::value::{Cell, Param, Rows};

/// As many statements as sqlx caches per connection.
const CAPACITY: usize = 256;

/// Times a statement may run past the inline time limit before its SQL is
/// left to the worker thread for good.
const STRIKES: u8 = 3;

/// What a statement's result is wanted for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Rows,
    FirstRow,
    Execute,
}

pub enum Output {
    Rows(Rows),
    Execute(ExecuteResult),
}

impl Output {
    pub fn into_rows(self) -> Rows {
        match self {
            Output::Rows(rows) => rows,
            Output::Execute(_) => Rows::default(),
        }
    }

    pub fn into_execute_result(self) -> ExecuteResult {
        match self {
            Output::Execute(result) => result,
            Output::Rows(_) => ExecuteResult {
                rows_affected: 0,
                last_insert_id: None,
            },
        }
    }
}

/// One connection's inline state: its handle and cached statements.
pub struct InlineConn {
    db: NonNull<ffi::sqlite3>,
    statements: HashMap<Box<str>, Cached>,
    /// A use counter, to evict the least recently used statement.
    clock: u64,
}

// The handle is used by one lease holder at a time, from whichever thread
// holds it; SQLite's serialized mode makes that safe.
unsafe impl Send for InlineConn {}

struct Cached {
    plan: Plan,
    last_used: u64,
}

enum Plan {
    Run(Prepared),
    /// This SQL always takes the async path: several statements, named
    /// parameters, or it once ran past the inline time limit.
    Async,
}

struct Prepared {
    stmt: NonNull<ffi::sqlite3_stmt>,
    columns: Arc<[String]>,
    declared: Vec<Declared>,
    /// SQLite re-prepares a statement after a schema change (a `SELECT *`
    /// may gain columns): when this counter moves, the column data is read
    /// again.
    reprepares: c_int,
    /// `?` placeholders as the pool counts them, `None` if it cannot tell.
    placeholders: Option<usize>,
    /// Parameters as SQLite counts them.
    parameters: usize,
    /// Times it ran past the inline time limit.
    strikes: u8,
}

/// The declared column types that change how a value is shaped; the same
/// names sqlx's type parser gives (`DataType::from_str`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Declared {
    Bool,
    Timestamp,
    Other,
}

impl InlineConn {
    pub fn new(db: NonNull<ffi::sqlite3>) -> Self {
        InlineConn {
            db,
            statements: HashMap::new(),
            clock: 0,
        }
    }

    /// Runs one statement. `None`: nothing was done that counts (no change
    /// is left behind), run it through sqlx instead.
    pub fn run(&mut self, sql: &str, params: &[Param], want: Want) -> Option<DbResult<Output>> {
        let db = self.db.as_ptr();
        let prepared = match self.prepared(sql) {
            Err(e) => return Some(Err(e)),
            Ok(None) => return None,
            Ok(Some(p)) => p,
        };
        // A count that does not match is an error the async path reports.
        if prepared.placeholders.is_some_and(|n| n != params.len())
            || prepared.parameters != params.len()
        {
            return None;
        }
        let outcome = unsafe { execute(db, prepared, params, want, sql) };
        match outcome {
            Step::Done(result) => Some(result),
            Step::Busy => None,
            Step::Interrupted => {
                // Too slow for the JS thread, three times (one could be the
                // OS taking the CPU away): from now on this SQL goes to the
                // worker thread directly.
                if let Some(cached) = self.statements.get_mut(sql) {
                    if let Plan::Run(p) = &mut cached.plan {
                        p.strikes += 1;
                        if p.strikes >= STRIKES {
                            cached.plan = Plan::Async;
                        }
                    }
                }
                None
            }
        }
    }

    /// The cached statement for `sql`, prepared on first use. `Ok(None)`
    /// for SQL that always takes the async path.
    fn prepared(&mut self, sql: &str) -> DbResult<Option<&mut Prepared>> {
        self.clock += 1;
        let clock = self.clock;
        if !self.statements.contains_key(sql) {
            let plan = unsafe { prepare(self.db.as_ptr(), sql)? };
            if self.statements.len() >= CAPACITY {
                self.evict_least_recent();
            }
            self.statements.insert(
                sql.into(),
                Cached {
                    plan,
                    last_used: clock,
                },
            );
        }
        let cached = self.statements.get_mut(sql).expect("inserted above");
        cached.last_used = clock;
        Ok(match &mut cached.plan {
            Plan::Run(p) => Some(p),
            Plan::Async => None,
        })
    }

    fn evict_least_recent(&mut self) {
        let oldest = self
            .statements
            .iter()
            .min_by_key(|(_, c)| c.last_used)
            .map(|(sql, _)| sql.clone());
        if let Some(sql) = oldest {
            self.statements.remove(&sql);
        }
    }
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
unsafe fn prepare(db: *mut ffi::sqlite3, sql: &str) -> DbResult<Plan> {
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

unsafe fn refresh_columns(p: &mut Prepared) {
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

unsafe fn text_of(p: *const c_char) -> String {
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

enum Step {
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
unsafe fn execute(
    db: *mut ffi::sqlite3,
    p: &mut Prepared,
    params: &[Param],
    want: Want,
    sql: &str,
) -> Step {
    let stmt = p.stmt.as_ptr();
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
                if let Err(e) = decode_row(stmt, &p.declared, &mut rows.cells) {
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
    out: &mut Vec<Cell>,
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
                    Declared::Timestamp => match parse_text_timestamp(text) {
                        Some(ms) => Cell::Timestamp(ms),
                        None => Cell::Text(text.to_owned()),
                    },
                    _ => Cell::Text(text.to_owned()),
                }
            }
        };
        out.push(cell);
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
unsafe fn sqlite_error(db: *mut ffi::sqlite3) -> DbError {
    let code = ffi::sqlite3_extended_errcode(db);
    let message = text_of(ffi::sqlite3_errmsg(db));
    let mut e = DbError::new(ErrorCode::QueryFailed, message);
    e.sql_state = Some(code.to_string());
    e
}
