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

mod statement;
mod step;

use std::collections::HashMap;
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

use self::statement::{prepare, Plan, Prepared};
use self::step::{execute, Step};
use crate::error::DbResult;
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

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

/// Why a statement was left to the sqlx path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fallback {
    /// Not a statement for the JS thread (or the database was locked).
    Declined,
    /// It ran past the inline time limit and was rolled back.
    Overran,
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

impl InlineConn {
    pub fn new(db: NonNull<ffi::sqlite3>) -> Self {
        InlineConn {
            db,
            statements: HashMap::new(),
            clock: 0,
        }
    }

    /// Runs one statement. `Err`: nothing was done that counts (no change
    /// is left behind), run it through sqlx instead.
    pub fn run(
        &mut self,
        sql: &str,
        params: &[Param],
        want: Want,
    ) -> Result<DbResult<Output>, Fallback> {
        let db = self.db.as_ptr();
        let prepared = match self.prepared(sql) {
            Err(e) => return Ok(Err(e)),
            Ok(None) => return Err(Fallback::Declined),
            Ok(Some(p)) => p,
        };
        // A count that does not match is an error the async path reports.
        if prepared.placeholders.is_some_and(|n| n != params.len())
            || prepared.parameters != params.len()
        {
            return Err(Fallback::Declined);
        }
        let outcome = unsafe { execute(db, prepared, params, want, sql) };
        match outcome {
            Step::Done(result) => Ok(result),
            Step::Busy => Err(Fallback::Declined),
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
                Err(Fallback::Overran)
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
