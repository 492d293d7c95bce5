//! PostgreSQL: `?` rewritten to `$n`, typed binary decoding.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow, PgSslMode,
    PgTypeInfo, PgTypeKind, Postgres,
};
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::types::{Json, Uuid};
use sqlx::{encode::IsNull, Row, TypeInfo};

use super::{bind_error, decode_columns, postgres_params, Driver};
use crate::config::options::PoolConfig;
use crate::config::url::{BackendKind, Target};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::pool::deadline::Deadline;
use crate::sql::placeholders::to_numbered;
use crate::value::cell::ExecuteResult;
use crate::value::numeric::pg_numeric_to_string;
use crate::value::{Cell, Param};
use futures_util::future::BoxFuture;
use sqlx::Arguments;

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
    } else if !names_tls(url)
        && std::env::var_os("PGSSLMODE").is_none()
        && is_loopback(opts.get_host())
    {
        // Nothing was said about TLS and the server is on this host: plain
        // first, TLS only if the server insists. Encrypting bytes that never
        // leave the kernel protects nothing (`prefer` does not check the
        // certificate either) and cost 15% of 64-in-flight throughput here.
        opts = opts.ssl_mode(PgSslMode::Allow);
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

/// Whether the URL's query says anything about TLS (`sslrootcert`,
/// `sslmode`...): then sqlx's own reading of it stands.
pub(crate) fn names_tls(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, _)| k.starts_with("ssl")))
}

/// `localhost`, 127.0.0.0/8 or ::1. (A Unix socket never uses TLS.)
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

    type Local = ();

    async fn prepare(_: &mut PgConnection, _: &PoolConfig, _: Arc<Deadline>) -> DbResult<()> {
        Ok(())
    }

    async fn simple(conn: &mut PgConnection, sql: &str) -> DbResult<()> {
        super::run_unprepared(conn, sql).await
    }

    fn is_statement_timeout(err: &DbError) -> bool {
        err.sql_state.as_deref() == Some("57014")
    }

    /// Behind PgBouncer in transaction mode, startup `options` (statement
    /// timeout, schema) are dropped and a session belongs to no one: they
    /// are set again, locally, in every transaction, in the same round trip
    /// as `BEGIN`.
    fn begin_sql(config: &PoolConfig) -> String {
        let mut sql = String::from("BEGIN");
        if config.pgbouncer {
            if let Some(t) = config.statement_timeout {
                sql.push_str(&format!(
                    "; SET LOCAL statement_timeout = {}",
                    t.as_millis()
                ));
            }
            if let Some(schema) = &config.url.prisma.schema {
                sql.push_str(&format!(
                    "; SET LOCAL search_path TO \"{}\"",
                    schema.replace('"', "\"\"")
                ));
            }
        }
        sql
    }

    /// PgBouncer's transaction mode may hand the two exchanges of an
    /// extended-protocol statement (prepare, then execute) to different
    /// server connections: each statement runs in its own transaction, which
    /// pins it to one. This costs two extra round trips per statement.
    fn pins_statements(config: &PoolConfig) -> bool {
        config.pgbouncer
    }

    fn sql(sql: &str) -> Cow<'_, str> {
        to_numbered(sql)
    }

    fn add(args: &mut PgArguments, param: &Param) -> DbResult<()> {
        match param {
            Param::Null => args.add(UntypedNull),
            Param::Bool(b) => args.add(*b),
            Param::Int(i) => args.add(*i),
            Param::Float(f) => args.add(*f),
            Param::Text(s) => args.add(s.as_str()),
            Param::Bytes(b) => args.add(b.as_slice()),
            Param::Json(s) => {
                let raw = serde_json::value::RawValue::from_string(s.clone()).map_err(|e| {
                    DbError::invalid_argument(format!("parameter is not valid JSON: {e}"))
                })?;
                args.add(Json(raw))
            }
            // As a UTC wall-clock `timestamp`, as Prisma writes `timestamp(3)`.
            Param::Timestamp(ms) => args.add(Param::timestamp_utc(*ms)?.naive_utc()),
        }
        .map_err(bind_error)
    }

    /// With the statement cache on, parameters follow the types the server
    /// infers (see `postgres_params`); the prepared statement is cached, so
    /// this costs one cache lookup. Without the cache (PgBouncer) nothing is
    /// kept between calls, so values are typed from JS as sqlx does.
    fn inferred_types<'c>(
        conn: &'c mut PgConnection,
        sql: &'c str,
        params: &'c [Param],
        persistent: bool,
    ) -> BoxFuture<'c, DbResult<Option<Vec<PgTypeInfo>>>> {
        Box::pin(async move {
            if !persistent || params.is_empty() {
                return Ok(None);
            }
            let declared: Vec<PgTypeInfo> =
                params.iter().map(postgres_params::declared_type).collect();
            let statement = sqlx::Executor::prepare_with(&mut *conn, sql, &declared).await?;
            match sqlx::Statement::parameters(&statement) {
                Some(sqlx::Either::Left(types)) => Ok(Some(types.to_vec())),
                _ => Err(DbError::new(
                    ErrorCode::Internal,
                    "PostgreSQL described no parameter types",
                )),
            }
        })
    }

    /// One variant per signature of declared types, so each is prepared
    /// (and cached) with the types its values take.
    fn variant_sql(sql: &str, params: &[Param]) -> Option<String> {
        let declared: Vec<PgTypeInfo> = params.iter().map(postgres_params::declared_type).collect();
        Some(format!(
            "{sql}\n/* shopify-db-pool: {} */",
            postgres_params::signature(&declared)
        ))
    }

    fn arguments(params: &[Param], types: Option<&[PgTypeInfo]>) -> DbResult<PgArguments> {
        let mut args = PgArguments::default();
        let Some(types) = types else {
            for param in params {
                Self::add(&mut args, param)?;
            }
            return Ok(args);
        };
        if types.len() != params.len() {
            return Err(DbError::invalid_argument(format!(
                "the statement takes {} parameters but {} were given",
                types.len(),
                params.len()
            )));
        }
        for (index, (param, ty)) in params.iter().zip(types).enumerate() {
            args.add(postgres_params::encode(param, ty, index)?)
                .map_err(bind_error)?;
        }
        Ok(args)
    }

    fn decode_row(row: &PgRow, out: &mut Vec<Cell>) -> DbResult<()> {
        decode_columns(row, out, |i, ty| decode_value(row, i, ty))
    }

    fn execute_result(result: &PgQueryResult, _sql: &str) -> ExecuteResult {
        // PostgreSQL has no implicit insert id: use `RETURNING id`.
        ExecuteResult {
            rows_affected: result.rows_affected(),
            last_insert_id: None,
        }
    }
}

fn decode_value(row: &PgRow, i: usize, ty: &PgTypeInfo) -> DbResult<Cell> {
    let get = |e: sqlx::Error| {
        DbError::new(
            ErrorCode::QueryFailed,
            format!("could not decode column {i} ({}): {e}", ty.name()),
        )
    };
    Ok(match ty.name() {
        "BOOL" => Cell::Bool(row.try_get_unchecked(i).map_err(get)?),
        "INT2" => Cell::Int(row.try_get_unchecked::<i16, _>(i).map_err(get)? as i64),
        "INT4" => Cell::Int(row.try_get_unchecked::<i32, _>(i).map_err(get)? as i64),
        "INT8" => Cell::Int(row.try_get_unchecked(i).map_err(get)?),
        "OID" => Cell::Int(
            row.try_get_unchecked::<sqlx::postgres::types::Oid, _>(i)
                .map_err(get)?
                .0 as i64,
        ),
        "FLOAT4" => Cell::Float(row.try_get_unchecked::<f32, _>(i).map_err(get)? as f64),
        "FLOAT8" => Cell::Float(row.try_get_unchecked(i).map_err(get)?),
        "NUMERIC" => {
            let bytes: &[u8] = row.try_get_unchecked(i).map_err(get)?;
            Cell::Decimal(
                pg_numeric_to_string(bytes)
                    .ok_or_else(|| get(sqlx::Error::Decode("malformed NUMERIC".into())))?,
            )
        }
        "BYTEA" => Cell::Bytes(row.try_get_unchecked(i).map_err(get)?),
        "UUID" => Cell::Text(
            row.try_get_unchecked::<Uuid, _>(i)
                .map_err(get)?
                .to_string(),
        ),
        "JSON" | "JSONB" => Cell::Json(
            row.try_get_unchecked::<Json<serde_json::Value>, _>(i)
                .map_err(get)?
                .0,
        ),
        "TIMESTAMPTZ" => Cell::Timestamp(
            row.try_get_unchecked::<DateTime<Utc>, _>(i)
                .map_err(get)?
                .timestamp_millis() as f64,
        ),
        "TIMESTAMP" => Cell::Timestamp(
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
        "INT2[]" => json_array(
            row.try_get_unchecked::<Vec<Option<i16>>, _>(i)
                .map_err(get)?,
        ),
        "INT4[]" => json_array(
            row.try_get_unchecked::<Vec<Option<i32>>, _>(i)
                .map_err(get)?,
        ),
        "INT8[]" => json_array(
            row.try_get_unchecked::<Vec<Option<i64>>, _>(i)
                .map_err(get)?,
        ),
        "FLOAT8[]" => json_array(
            row.try_get_unchecked::<Vec<Option<f64>>, _>(i)
                .map_err(get)?,
        ),
        "BOOL[]" => json_array(
            row.try_get_unchecked::<Vec<Option<bool>>, _>(i)
                .map_err(get)?,
        ),
        "TEXT[]" | "VARCHAR[]" => json_array(
            row.try_get_unchecked::<Vec<Option<String>>, _>(i)
                .map_err(get)?,
        ),
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
        _ => {
            let bytes = row.try_get_unchecked::<&[u8], _>(i).map_err(get)?;
            match std::str::from_utf8(bytes) {
                Ok(s) if ty.name().eq_ignore_ascii_case("citext") => Cell::Text(s.to_owned()),
                _ => Cell::Bytes(bytes.to_vec()),
            }
        }
    })
}

fn is_textual(name: &str) -> bool {
    matches!(
        name,
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "UNKNOWN" | "XML" | "CITEXT" | "citext"
    )
}

pub(crate) fn json_array<T: serde::Serialize>(values: Vec<T>) -> Cell {
    Cell::Json(serde_json::to_value(values).unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::{is_loopback, names_tls};

    #[test]
    fn tls_is_named_by_query_parameters_only() {
        assert!(names_tls("postgres://u@localhost/db?sslrootcert=/ca.pem"));
        assert!(names_tls(
            "postgres://u@localhost/db?application_name=x&sslmode=require"
        ));
        // "ssl" in the password, the database name or a value is not a setting.
        assert!(!names_tls(
            "postgres://u:sslpw@localhost/ssl_db?application_name=ssl"
        ));
        assert!(!names_tls("postgres://u@localhost/db"));
    }

    #[test]
    fn loopback_hosts_are_this_host_only() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "db.example.com",
            "10.0.0.5",
            "192.168.1.2",
            "::2",
            "localhost.example.com",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
