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
        .statement_cache_capacity(if config.statement_cache { 256 } else { 0 }))
}

impl Driver for Sqlite {
    const KIND: BackendKind = BackendKind::Sqlite;
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    fn connect_options(config: &PoolConfig) -> DbResult<SqliteConnectOptions> {
        connect_options(config)
    }

    /// SQLite has no server to enforce a statement timeout: a progress
    /// handler checks the pool's per-query deadline every few thousand VM
    /// steps and interrupts the statement once it has passed.
    async fn prepare(
        conn: &mut SqliteConnection,
        config: &PoolConfig,
        deadline: Arc<Deadline>,
    ) -> DbResult<()> {
        if config.statement_timeout.is_some() {
            let mut handle = conn.lock_handle().await?;
            handle.set_progress_handler(10_000, move || !deadline.passed());
        }
        Ok(())
    }

    fn simple<'c>(
        conn: &'c mut SqliteConnection,
        sql: &'c str,
    ) -> impl std::future::Future<Output = DbResult<()>> + Send + 'c {
        async move {
            sqlx::Executor::execute(&mut *conn, sql)
                .await
                .map(|_| ())
                .map_err(DbError::from)
        }
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
        let keyword = leading_keyword(sql);
        let writes = matches!(
            keyword.as_str(),
            "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH"
        );
        let inserts = matches!(keyword.as_str(), "INSERT" | "REPLACE" | "WITH");
        let id = result.last_insert_rowid();
        ExecuteResult {
            rows_affected: if writes { result.rows_affected() } else { 0 },
            last_insert_id: (inserts && result.rows_affected() > 0 && id != 0).then_some(id),
        }
    }
}

fn decode_error(e: sqlx::error::BoxDynError) -> DbError {
    DbError::new(
        crate::error::ErrorCode::QueryFailed,
        format!("could not decode a SQLite value: {e}"),
    )
}
