//! SQLite: the embedded default, tuned for a web app (WAL, busy timeout,
//! foreign keys, synchronous=NORMAL).
//!
//! SQLite has no real column types, so values are read by what they hold
//! and shaped by what the column declares: `BOOLEAN` → boolean, and
//! `DATETIME`/`DATE` → Date, read as Prisma stores them (integer Unix ms,
//! or ISO text as Prisma's driver adapters write).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode,
    SqliteQueryResult, SqliteRow, SqliteSynchronous,
};
use sqlx::{Column, Decode, Row, TypeInfo, ValueRef};

use super::sqlite_inline::{Fallback, InlineConn, Output, Want};
use super::{bind_error, parse_text_timestamp, Driver};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbError, DbResult};
use crate::pool::deadline::Deadline;
use crate::sql::leading_keyword;
use crate::value::cell::ExecuteResult;
use crate::value::{Cell, Param};
use sqlx::Arguments;

/// How long a writer waits for SQLite's lock before SQLITE_BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub fn connect_options(config: &PoolConfig) -> DbResult<SqliteConnectOptions> {
    let base = match &config.url.target {
        Target::SqliteMemory => SqliteConnectOptions::from_str("sqlite::memory:")?,
        Target::SqliteFile(path) => SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal),
        Target::Server(_) => return Err(DbError::invalid_url("not a SQLite URL")),
    };
    Ok(base
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal)
        // 16 MB of page cache, as better-sqlite3 has: with SQLite's 2 MB a
        // 2.8 MB table kept re-reading pages from the OS. Pages are only
        // allocated as they are read.
        .pragma("cache_size", "-16000")
        // No sqlx statement cache: sqlx 0.8 keeps a cached statement's
        // columns across a schema change (after ALTER TABLE its `SELECT *`
        // returned no rows, then its worker thread panicked). Statements
        // that run often run inline, with their own cache that re-reads
        // columns (`sqlite_inline`); the rest are prepared per call.
        // Serialized mode: the pool also runs statements on the JS thread
        // through the raw handle (see `sqlite_inline`), and SQLite's own
        // mutex then orders them with whatever sqlx's worker thread may
        // still be finishing for the previous statement.
        .serialized(true)
        .statement_cache_capacity(0))
}

impl Driver for Sqlite {
    const KIND: BackendKind = BackendKind::Sqlite;
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const VALIDATE_IDLE: bool = false;
    const RUNS_LOCAL: bool = true;

    fn run_local(
        local: &mut Self::Local,
        sql: &str,
        params: &[Param],
        want: Want,
    ) -> Result<DbResult<Output>, Fallback> {
        match local {
            Some(conn) => conn.run(sql, params, want),
            None => Err(Fallback::Declined),
        }
    }

    fn connect_options(config: &PoolConfig) -> DbResult<SqliteConnectOptions> {
        connect_options(config)
    }

    /// The inline state: the raw handle and its statement cache (`None`
    /// when the statement cache is off: the inline path needs one).
    type Local = Option<InlineConn>;

    /// SQLite has no server to enforce a statement timeout: a progress
    /// handler checks the pool's per-query deadline every thousand VM steps
    /// and interrupts the statement once it has passed. The same deadline
    /// bounds statements run inline on the JS thread.
    async fn prepare(
        conn: &mut SqliteConnection,
        config: &PoolConfig,
        deadline: Arc<Deadline>,
    ) -> DbResult<Option<InlineConn>> {
        let mut handle = conn.lock_handle().await?;
        handle.set_progress_handler(1_000, move || !deadline.passed());
        Ok(config
            .statement_cache
            .then(|| InlineConn::new(handle.as_raw_handle())))
    }

    async fn simple(conn: &mut SqliteConnection, sql: &str) -> DbResult<()> {
        super::run_unprepared(conn, sql).await
    }

    /// sqlx's worker thread reports a failed statement first and resets it
    /// afterwards. Lent again at once, the connection ran the next caller's
    /// statement on the JS thread before that reset; the reset then read
    /// the connection's error code after the new statement had cleared it,
    /// and sqlx panicked ("There should be an error"): its thread died with
    /// the next caller's statement queued, and that promise never settled.
    /// A ping goes through the worker's queue behind the failed statement,
    /// so its answer means the reset is done. (The reset takes
    /// microseconds; a worker that does not answer within the busy timeout
    /// is not trusted with another statement.)
    async fn settle_after_error(conn: &mut SqliteConnection) -> bool {
        matches!(
            tokio::time::timeout(BUSY_TIMEOUT, sqlx::Connection::ping(conn)).await,
            Ok(Ok(()))
        )
    }

    fn is_statement_timeout(err: &DbError) -> bool {
        // SQLITE_INTERRUPT
        err.sql_state.as_deref() == Some("9") || err.message.contains("interrupted")
    }

    fn add<'q>(args: &mut SqliteArguments<'q>, param: &'q Param) -> DbResult<()> {
        match param {
            Param::Null => args.add(None::<i64>),
            Param::Bool(b) => args.add(*b as i64),
            Param::Int(i) => args.add(*i),
            Param::Float(f) => args.add(*f),
            Param::Text(s) | Param::Json(s) => args.add(s.as_str()),
            Param::Bytes(b) => args.add(b.as_slice()),
            // Prisma's native engine stores DateTime as integer Unix ms.
            Param::Timestamp(ms) => args.add(*ms),
        }
        .map_err(bind_error)
    }

    fn decode_row(row: &SqliteRow, out: &mut Vec<Cell>) -> DbResult<()> {
        for (i, column) in row.columns().iter().enumerate() {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                out.push(Cell::Null);
                continue;
            }
            let declared = column.type_info().name();
            let held = raw.type_info().name().to_owned();
            let cell = match held.as_str() {
                "INTEGER" | "BOOLEAN" | "NUMERIC" => {
                    let v = <i64 as Decode<Sqlite>>::decode(raw).map_err(decode_error)?;
                    match declared {
                        "BOOLEAN" => Cell::Bool(v != 0),
                        "DATETIME" | "DATE" => Cell::Timestamp(v as f64),
                        _ => Cell::Int(v),
                    }
                }
                "REAL" => Cell::Float(<f64 as Decode<Sqlite>>::decode(raw).map_err(decode_error)?),
                "BLOB" => Cell::Bytes(
                    <&[u8] as Decode<Sqlite>>::decode(raw)
                        .map_err(decode_error)?
                        .to_vec(),
                ),
                _ => {
                    let text = <&str as Decode<Sqlite>>::decode(raw).map_err(decode_error)?;
                    match declared {
                        "DATETIME" | "DATE" => match parse_text_timestamp(text) {
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

    /// SQLite's change counter and last rowid belong to the connection and
    /// are left as they were by statements that are not INSERT/UPDATE/
    /// DELETE: report what this statement did, not what an earlier one did.
    fn execute_result(result: &SqliteQueryResult, sql: &str) -> ExecuteResult {
        shape_execute_result(result.rows_affected(), result.last_insert_rowid(), sql)
    }
}

/// See `execute_result`; shared with the inline path.
pub(crate) fn shape_execute_result(changes: u64, last_rowid: i64, sql: &str) -> ExecuteResult {
    let keyword = leading_keyword(sql);
    let writes = matches!(
        keyword.as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH"
    );
    let inserts = matches!(keyword.as_str(), "INSERT" | "REPLACE" | "WITH");
    ExecuteResult {
        rows_affected: if writes { changes } else { 0 },
        last_insert_id: (inserts && changes > 0 && last_rowid != 0).then_some(last_rowid),
    }
}

pub(crate) fn decode_error(e: sqlx::error::BoxDynError) -> DbError {
    DbError::new(
        crate::error::ErrorCode::QueryFailed,
        format!("could not decode a SQLite value: {e}"),
    )
}
