//! MySQL and MariaDB (one wire protocol). `?` is native; TINYINT(1) is a
//! boolean; the session time zone is UTC so Dates mean the same instant.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::mysql::{
    MySql, MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlQueryResult, MySqlRow,
    MySqlSslMode, MySqlTypeInfo,
};
use sqlx::types::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::{Executor, Row, TypeInfo};

use super::{bind_error, decode_columns, Driver};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::pool::deadline::Deadline;
use crate::value::cell::ExecuteResult;
use crate::value::{Cell, Param};
use sqlx::Arguments;

pub fn connect_options(config: &PoolConfig) -> DbResult<MySqlConnectOptions> {
    let Target::Server(url) = &config.url.target else {
        return Err(DbError::invalid_url("not a MySQL URL"));
    };
    let mut opts = MySqlConnectOptions::from_str(url)?
        .statement_cache_capacity(if config.statement_cache { 256 } else { 0 })
        // Keep MySQL's own meaning of `||` (OR), as mysql2 users expect.
        .pipes_as_concat(false)
        .timezone(Some("+00:00".to_owned()));
    if let Some(mode) = &config.url.prisma.sslmode {
        let mapped = match mode.as_str() {
            "disable" | "disabled" => "DISABLED",
            "prefer" | "preferred" | "allow" => "PREFERRED",
            "require" | "required" => "REQUIRED",
            "verify-ca" | "verify_ca" => "VERIFY_CA",
            "verify-full" | "verify_identity" => "VERIFY_IDENTITY",
            other => {
                return Err(DbError::invalid_url(format!(
                    "sslmode '{other}' is not understood for MySQL"
                )))
            }
        };
        opts = opts.ssl_mode(
            MySqlSslMode::from_str(mapped).map_err(|e| DbError::invalid_url(e.to_string()))?,
        );
    }
    Ok(opts)
}

impl Driver for MySql {
    const KIND: BackendKind = BackendKind::MySql;

    fn connect_options(config: &PoolConfig) -> DbResult<MySqlConnectOptions> {
        connect_options(config)
    }

    /// MariaDB enforces `max_statement_time` (seconds) for every statement;
    /// MySQL's `max_execution_time` (ms) covers SELECTs only. Set whichever
    /// the server knows.
    type Local = ();

    async fn prepare(
        conn: &mut MySqlConnection,
        config: &PoolConfig,
        _: Arc<Deadline>,
    ) -> DbResult<()> {
        if let Some(t) = config.statement_timeout {
            let mariadb = format!("SET SESSION max_statement_time = {:.3}", t.as_secs_f64());
            if (&mut *conn).execute(mariadb.as_str()).await.is_err() {
                let mysql = format!("SET SESSION max_execution_time = {}", t.as_millis());
                (&mut *conn).execute(mysql.as_str()).await?;
            }
        }
        Ok(())
    }

    async fn simple(conn: &mut MySqlConnection, sql: &str) -> DbResult<()> {
        super::run_unprepared(conn, sql).await
    }

    fn is_statement_timeout(err: &DbError) -> bool {
        // MariaDB ER_STATEMENT_TIMEOUT (70100), MySQL ER_QUERY_TIMEOUT (3024).
        err.sql_state.as_deref() == Some("70100")
            || err.message.contains("max_statement_time")
            || err
                .message
                .contains("maximum statement execution time exceeded")
    }

    fn add(args: &mut MySqlArguments, param: &Param) -> DbResult<()> {
        match param {
            Param::Null => args.add(None::<String>),
            Param::Bool(b) => args.add(*b),
            Param::Int(i) => args.add(*i),
            Param::Float(f) => args.add(*f),
            Param::Text(s) | Param::Json(s) => args.add(s.as_str()),
            Param::Bytes(b) => args.add(b.as_slice()),
            // DATETIME, not TIMESTAMP: the session is UTC and DATETIME holds
            // instants before 1970 and after 2038.
            Param::Timestamp(ms) => args.add(Param::timestamp_utc(*ms)?.naive_utc()),
        }
        .map_err(bind_error)
    }

    fn decode_row(row: &MySqlRow, out: &mut Vec<Cell>) -> DbResult<()> {
        decode_columns(row, out, |i, ty| decode_value(row, i, ty))
    }

    fn execute_result(result: &MySqlQueryResult, _sql: &str) -> ExecuteResult {
        let id = result.last_insert_id();
        ExecuteResult {
            rows_affected: result.rows_affected(),
            last_insert_id: (id != 0).then(|| i64::try_from(id).unwrap_or(i64::MAX)),
        }
    }
}

fn decode_value(row: &MySqlRow, i: usize, ty: &MySqlTypeInfo) -> DbResult<Cell> {
    let get = |e: sqlx::Error| {
        DbError::new(
            ErrorCode::QueryFailed,
            format!("could not decode column {i} ({}): {e}", ty.name()),
        )
    };
    let name = ty.name();
    Ok(match name {
        "BOOLEAN" => Cell::Bool(row.try_get_unchecked::<i8, _>(i).map_err(get)? != 0),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => {
            Cell::Int(row.try_get_unchecked(i).map_err(get)?)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED"
        | "BIGINT UNSIGNED" | "YEAR" => Cell::UInt(row.try_get_unchecked(i).map_err(get)?),
        "FLOAT" => Cell::Float(row.try_get_unchecked::<f32, _>(i).map_err(get)? as f64),
        "DOUBLE" => Cell::Float(row.try_get_unchecked(i).map_err(get)?),
        "DECIMAL" => Cell::Decimal(row.try_get_unchecked(i).map_err(get)?),
        "DATETIME" | "TIMESTAMP" => Cell::Timestamp(
            row.try_get_unchecked::<NaiveDateTime, _>(i)
                .map_err(get)?
                .and_utc()
                .timestamp_millis() as f64,
        ),
        "DATE" => Cell::Timestamp(
            row.try_get_unchecked::<NaiveDate, _>(i)
                .map_err(get)?
                .and_hms_opt(0, 0, 0)
                .map_or(0.0, |d| d.and_utc().timestamp_millis() as f64),
        ),
        "TIME" => Cell::Text(
            row.try_get_unchecked::<NaiveTime, _>(i)
                .map_err(get)?
                .to_string(),
        ),
        "JSON" => {
            let bytes: &[u8] = row.try_get_unchecked(i).map_err(get)?;
            match serde_json::from_slice(bytes) {
                Ok(v) => Cell::Json(v),
                Err(_) => Cell::Text(String::from_utf8_lossy(bytes).into_owned()),
            }
        }
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY"
        | "BIT" => Cell::Bytes(row.try_get_unchecked(i).map_err(get)?),
        "NULL" => Cell::Null,
        _ => Cell::Text(row.try_get_unchecked(i).map_err(get)?),
    })
}
