//! PostgreSQL: `?` rewritten to `$n`, typed binary decoding.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgConnection, PgQueryResult, PgRow, PgSslMode, PgTypeInfo, PgTypeKind,
    Postgres,
};
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::types::{Json, Uuid};
use sqlx::{encode::IsNull, Column, Row, TypeInfo, ValueRef};

use super::{Driver, DriverQuery};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::pool::deadline::Deadline;
use crate::sql::placeholders::to_numbered;
use crate::value::cell::ExecuteResult;
use crate::value::numeric::pg_numeric_to_string;
use crate::value::{Cell, Param};

pub fn connect_options(config: &PoolConfig) -> DbResult<PgConnectOptions> {
    let Target::Server(url) = &config.url.target else {
        return Err(DbError::invalid_url("not a PostgreSQL URL"));
    };
    let mut opts = PgConnectOptions::from_str(url)?
        .application_name(&config.application_name)
        .statement_cache_capacity(if config.statement_cache { 256 } else { 0 });
    if let Some(mode) = &config.url.prisma.sslmode {
        opts = opts.ssl_mode(PgSslMode::from_str(mode).map_err(|_| {
            DbError::invalid_url(format!("sslmode '{mode}' is not one of disable, allow, prefer, require, verify-ca, verify-full"))
        })?);
    }
    if let Some(schema) = &config.url.prisma.schema {
        opts = opts.options([("search_path", schema.as_str())]);
    }
    if let Some(t) = config.statement_timeout {
        // Enforced by the server, which cancels the statement and keeps the
        // connection usable.
        opts = opts.options([("statement_timeout", format!("{}ms", t.as_millis()))]);
    }
    Ok(opts)
}

/// A NULL whose type the server infers from context, as node-postgres
/// sends every parameter: a typed NULL (say `text`) would be refused by an
/// `integer` column.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl<'q> sqlx::Encode<'q, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, sqlx::error::BoxDynError> {
        Ok(IsNull::Yes)
    }
}

impl Driver for Postgres {
    const KIND: BackendKind = BackendKind::Postgres;

    fn connect_options(config: &PoolConfig) -> DbResult<PgConnectOptions> {
        connect_options(config)
    }

    async fn prepare(_: &mut PgConnection, _: &PoolConfig, _: Arc<Deadline>) -> DbResult<()> {
        Ok(())
    }

    fn simple<'c>(conn: &'c mut PgConnection, sql: &'static str) -> impl std::future::Future<Output = DbResult<()>> + Send + 'c {
        async move { sqlx::Executor::execute(&mut *conn, sql).await.map(|_| ()).map_err(DbError::from) }
    }

    fn is_statement_timeout(err: &DbError) -> bool {
        err.sql_state.as_deref() == Some("57014")
    }

    fn sql(sql: &str) -> Cow<'_, str> {
        to_numbered(sql)
    }

    fn bind<'q>(query: DriverQuery<'q, Self>, param: &'q Param) -> DbResult<DriverQuery<'q, Self>> {
        Ok(match param {
            Param::Null => query.bind(UntypedNull),
            Param::Bool(b) => query.bind(*b),
            Param::Int(i) => query.bind(*i),
            Param::Float(f) => query.bind(*f),
            Param::Text(s) => query.bind(s.as_str()),
            Param::Bytes(b) => query.bind(b.as_slice()),
            Param::Json(s) => {
                let raw = serde_json::value::RawValue::from_string(s.clone())
                    .map_err(|e| DbError::invalid_argument(format!("parameter is not valid JSON: {e}")))?;
                query.bind(Json(raw))
            }
            // As a UTC wall-clock `timestamp`, as Prisma writes `timestamp(3)`:
            // exact in timestamp columns whatever the session TimeZone.
            Param::Timestamp(ms) => query.bind(Param::timestamp_utc(*ms)?.naive_utc()),
        })
    }

    fn decode_row(row: &PgRow, out: &mut Vec<Cell>) -> DbResult<()> {
        for (i, column) in row.columns().iter().enumerate() {
            if row.try_get_raw(i)?.is_null() {
                out.push(Cell::Null);
                continue;
            }
            out.push(decode_value(row, i, column.type_info())?);
        }
        Ok(())
    }

    fn execute_result(result: &PgQueryResult, _sql: &str) -> ExecuteResult {
        // PostgreSQL has no implicit insert id: use `RETURNING id`.
        ExecuteResult { rows_affected: result.rows_affected(), last_insert_id: None }
    }
}

fn decode_value(row: &PgRow, i: usize, ty: &PgTypeInfo) -> DbResult<Cell> {
    let get = |e: sqlx::Error| DbError::new(ErrorCode::QueryFailed, format!("could not decode column {i} ({}): {e}", ty.name()));
    Ok(match ty.name() {
        "BOOL" => Cell::Bool(row.try_get_unchecked(i).map_err(get)?),
        "INT2" => Cell::Int(row.try_get_unchecked::<i16, _>(i).map_err(get)? as i64),
        "INT4" => Cell::Int(row.try_get_unchecked::<i32, _>(i).map_err(get)? as i64),
        "INT8" => Cell::Int(row.try_get_unchecked(i).map_err(get)?),
        "OID" => Cell::Int(row.try_get_unchecked::<sqlx::postgres::types::Oid, _>(i).map_err(get)?.0 as i64),
        "FLOAT4" => Cell::Float(row.try_get_unchecked::<f32, _>(i).map_err(get)? as f64),
        "FLOAT8" => Cell::Float(row.try_get_unchecked(i).map_err(get)?),
        "NUMERIC" => {
            let bytes: &[u8] = row.try_get_unchecked(i).map_err(get)?;
            Cell::Decimal(pg_numeric_to_string(bytes).ok_or_else(|| get(sqlx::Error::Decode("malformed NUMERIC".into())))?)
        }
        "BYTEA" => Cell::Bytes(row.try_get_unchecked(i).map_err(get)?),
        "UUID" => Cell::Text(row.try_get_unchecked::<Uuid, _>(i).map_err(get)?.to_string()),
        "JSON" | "JSONB" => Cell::Json(row.try_get_unchecked::<Json<serde_json::Value>, _>(i).map_err(get)?.0),
        "TIMESTAMPTZ" => Cell::Timestamp(row.try_get_unchecked::<DateTime<Utc>, _>(i).map_err(get)?.timestamp_millis() as f64),
        "TIMESTAMP" => Cell::Timestamp(
            row.try_get_unchecked::<NaiveDateTime, _>(i).map_err(get)?.and_utc().timestamp_millis() as f64,
        ),
        "DATE" => Cell::Timestamp(
            row.try_get_unchecked::<NaiveDate, _>(i)
                .map_err(get)?
                .and_hms_opt(0, 0, 0)
                .map_or(0.0, |d| d.and_utc().timestamp_millis() as f64),
        ),
        "TIME" => Cell::Text(row.try_get_unchecked::<NaiveTime, _>(i).map_err(get)?.to_string()),
        "INT2[]" => json_array(row.try_get_unchecked::<Vec<Option<i16>>, _>(i).map_err(get)?),
        "INT4[]" => json_array(row.try_get_unchecked::<Vec<Option<i32>>, _>(i).map_err(get)?),
        "INT8[]" => json_array(row.try_get_unchecked::<Vec<Option<i64>>, _>(i).map_err(get)?),
        "FLOAT8[]" => json_array(row.try_get_unchecked::<Vec<Option<f64>>, _>(i).map_err(get)?),
        "BOOL[]" => json_array(row.try_get_unchecked::<Vec<Option<bool>>, _>(i).map_err(get)?),
        "TEXT[]" | "VARCHAR[]" => json_array(row.try_get_unchecked::<Vec<Option<String>>, _>(i).map_err(get)?),
        "UUID[]" => json_array(
            row.try_get_unchecked::<Vec<Option<Uuid>>, _>(i)
                .map_err(get)?
                .into_iter()
                .map(|u| u.map(|u| u.to_string()))
                .collect(),
        ),
        _ if matches!(ty.kind(), PgTypeKind::Enum(_)) || is_textual(ty.name()) => {
            Cell::Text(row.try_get_unchecked(i).map_err(get)?)
        }
        // Anything else arrives in its binary form: hand over the bytes
        // rather than guessing at text.
        _ => match row.try_get_unchecked::<&[u8], _>(i).map_err(get)? {
            bytes => match std::str::from_utf8(bytes) {
                Ok(s) if ty.name().eq_ignore_ascii_case("citext") => Cell::Text(s.to_owned()),
                _ => Cell::Bytes(bytes.to_vec()),
            },
        },
    })
}

fn is_textual(name: &str) -> bool {
    matches!(name, "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "UNKNOWN" | "XML" | "CITEXT" | "citext")
}

fn json_array<T: serde::Serialize>(values: Vec<T>) -> Cell {
    Cell::Json(serde_json::to_value(values).unwrap_or(serde_json::Value::Null))
}
