//! What differs between SQLite, PostgreSQL and MySQL, one file each.
//!
//! Everything else (acquiring, running, transactions, status) is written
//! once, generically over [`Driver`], in `pool/`.

use std::borrow::Cow;
use std::future::Future;

use futures_util::future::BoxFuture;
use std::sync::Arc;

use sqlx::database::HasStatementCache;
use sqlx::Database;

use crate::config::options::PoolConfig;
use crate::config::url::BackendKind;
use crate::error::{DbError, DbResult};
use crate::pool::deadline::Deadline;
use crate::value::cell::ExecuteResult;
use crate::value::{Cell, Param};

pub mod mysql;
pub mod postgres;
pub mod postgres_params;
pub mod sqlite;
pub mod sqlite_inline;

pub type ConnectOptionsOf<DB> = <<DB as Database>::Connection as sqlx::Connection>::Options;

/// What every backend's `Driver::simple` does: runs `sql` once, without
/// preparing it, and drops its result.
/// (A plain function, not `async`: an async body generic over the executor
/// trips the compiler's `Send` check on the callers' futures.)
fn run_unprepared<'c, E: sqlx::Executor<'c>>(
    conn: E,
    sql: &'c str,
) -> impl Future<Output = DbResult<()>> + Send + 'c {
    use futures_util::FutureExt;
    conn.execute(sql)
        .map(|done| done.map(|_| ()).map_err(DbError::from))
}

pub trait Driver: Database + HasStatementCache {
    const KIND: BackendKind;

    /// The statement that opens a transaction which may write. SQLite takes
    /// the write lock up front so two read-then-write transactions cannot
    /// deadlock into SQLITE_BUSY.
    const BEGIN: &'static str = "BEGIN";

    /// Whether a connection idle for a while is pinged before it is lent. A
    /// server connection can die while idle (restart, firewall); an embedded
    /// SQLite file cannot, and pinging it cost more than the ping: after a
    /// pause every connection was due, a burst of calls all took the worker
    /// thread to ping them, and with more calls than connections the queue
    /// that formed kept later calls off the JS thread too (20-29% of a
    /// 64-in-flight run, at twice the CPU per query).
    const VALIDATE_IDLE: bool = true;

    fn connect_options(config: &PoolConfig) -> DbResult<ConnectOptionsOf<Self>>;

    /// What the pool keeps beside each connection for this backend (SQLite:
    /// the inline statement cache), made by `prepare`.
    type Local: Send + 'static;

    /// Session setup after a connection opens (statement timeout and the
    /// like). `deadline` is the per-query deadline the pool arms.
    fn prepare(
        conn: &mut Self::Connection,
        config: &PoolConfig,
        deadline: Arc<Deadline>,
    ) -> impl Future<Output = DbResult<Self::Local>> + Send;

    /// Runs one statement synchronously through `local`, on the calling
    /// thread, bypassing the driver (SQLite's C API with the inline cache).
    /// `Err`: nothing was done that counts; run it through the driver.
    /// Servers have no such path (`RUNS_LOCAL` false).
    const RUNS_LOCAL: bool = false;

    fn run_local(
        _local: &mut Self::Local,
        _sql: &str,
        _params: &[Param],
        _want: sqlite_inline::Want,
    ) -> Result<DbResult<sqlite_inline::Output>, sqlite_inline::Fallback> {
        Err(sqlite_inline::Fallback::Declined)
    }

    /// Runs a fixed statement (`BEGIN`, `COMMIT`, `ROLLBACK`) without
    /// preparing it.
    fn simple<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> impl Future<Output = DbResult<()>> + Send + 'c;

    /// After a statement failed: waits until the driver is done with the
    /// connection, and says whether it can be used again. A driver that
    /// may still be finishing a failed statement when it reports the
    /// failure (SQLite's worker thread) must not have the connection lent
    /// before then; servers have nothing to wait for.
    fn settle_after_error(conn: &mut Self::Connection) -> impl Future<Output = bool> + Send + '_ {
        let _ = conn;
        std::future::ready(true)
    }

    /// True when the server's error means "your statement ran too long".
    fn is_statement_timeout(err: &DbError) -> bool;

    /// The statement(s) that open a transaction for this pool (`BEGIN`, plus
    /// session settings that must be re-applied per transaction where the
    /// backend is reached through a transaction-mode pooler).
    fn begin_sql(config: &PoolConfig) -> String {
        let _ = config;
        Self::BEGIN.to_owned()
    }

    /// True when every statement must run inside a transaction so that a
    /// transaction-mode pooler (PgBouncer) keeps it on one server connection.
    fn pins_statements(config: &PoolConfig) -> bool {
        let _ = config;
        false
    }

    /// Rewrites the caller's `?` placeholders into the backend's own.
    fn sql(sql: &str) -> Cow<'_, str> {
        Cow::Borrowed(sql)
    }

    /// Adds one parameter, typed from the JS value.
    fn add<'q>(args: &mut <Self as Database>::Arguments<'q>, param: &'q Param) -> DbResult<()>;

    /// The parameter types the server wants, when the backend lets the
    /// server decide (PostgreSQL); `None` types each value from JS.
    fn inferred_types<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
        params: &'c [Param],
        persistent: bool,
    ) -> BoxFuture<'c, DbResult<Option<Vec<<Self as Database>::TypeInfo>>>> {
        let _ = (conn, sql, params, persistent);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// The statement's arguments, typed from JS or as `types` says.
    fn arguments<'q>(
        params: &'q [Param],
        types: Option<&[<Self as Database>::TypeInfo]>,
    ) -> DbResult<<Self as Database>::Arguments<'q>> {
        let _ = types;
        let mut args = <Self as Database>::Arguments::<'q>::default();
        for param in params {
            Self::add(&mut args, param)?;
        }
        Ok(args)
    }

    /// Another SQL text for the same statement, prepared on its own, for
    /// when the inferred types of the cached one do not fit these values
    /// (PostgreSQL: `SELECT ?` first with a number, then with a string).
    fn variant_sql(sql: &str, params: &[Param]) -> Option<String> {
        let _ = (sql, params);
        None
    }

    /// Appends the row's values, in column order, to `out`.
    fn decode_row(row: &Self::Row, out: &mut Vec<Cell>) -> DbResult<()>;

    fn execute_result(result: &Self::QueryResult, sql: &str) -> ExecuteResult;
}

pub(crate) fn bind_error(e: sqlx::error::BoxDynError) -> DbError {
    DbError::invalid_argument(format!("a parameter could not be encoded: {e}"))
}

/// Decodes each column of a row with `decode`, NULLs first: the loop every
/// typed backend shares.
pub(crate) fn decode_columns<R: sqlx::Row>(
    row: &R,
    out: &mut Vec<Cell>,
    mut decode: impl FnMut(usize, &<R::Database as Database>::TypeInfo) -> DbResult<Cell>,
) -> DbResult<()>
where
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::{Column, ValueRef};
    for (i, column) in row.columns().iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            out.push(Cell::Null);
        } else {
            out.push(decode(i, column.type_info())?);
        }
    }
    Ok(())
}

/// Text timestamps as SQLite and MySQL users write them, to Unix ms.
pub fn parse_text_timestamp(text: &str) -> Option<f64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis() as f64);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc().timestamp_millis() as f64);
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_millis() as f64);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc().timestamp_millis() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_timestamps() {
        assert_eq!(
            parse_text_timestamp("1970-01-01T00:00:01.500Z"),
            Some(1500.0)
        );
        assert_eq!(parse_text_timestamp("1970-01-01 00:00:02"), Some(2000.0));
        assert_eq!(
            parse_text_timestamp("1970-01-01 00:00:02.25+00:00"),
            Some(2250.0)
        );
        assert_eq!(parse_text_timestamp("1970-01-02"), Some(86_400_000.0));
        assert_eq!(parse_text_timestamp("yesterday"), None);
    }
}
