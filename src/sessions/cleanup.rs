//! Deleting expired sessions, reading `expires` as Prisma stores it:
//! SQLite holds Unix milliseconds (native engine) or ISO text (driver
//! adapters); PostgreSQL `timestamp(3)` and MySQL `datetime(3)` hold UTC.

use crate::config::url::BackendKind;
use crate::error::DbResult;
use crate::sql::identifier::validate_identifier;
use crate::value::Param;

pub const DEFAULT_TABLE: &str = "Session";

/// `"schema"."Table"` / `` `schema`.`Table` `` from a validated name.
pub fn quote_table(backend: BackendKind, table: &str) -> DbResult<String> {
    let table = validate_identifier(table)?;
    let q = if backend == BackendKind::MySql {
        '`'
    } else {
        '"'
    };
    Ok(table
        .split('.')
        .map(|part| format!("{q}{part}{q}"))
        .collect::<Vec<_>>()
        .join("."))
}

/// The DELETE and its parameters for `now` (Unix ms). The table name is
/// validated first: anything but a plain identifier runs nothing.
pub fn cleanup_statement(
    backend: BackendKind,
    table: &str,
    now_ms: i64,
) -> DbResult<(String, Vec<Param>)> {
    let table = quote_table(backend, table)?;
    Ok(match backend {
        BackendKind::Sqlite => (
            format!(
                "DELETE FROM {table} WHERE \"expires\" IS NOT NULL AND ( \
                 (typeof(\"expires\") IN ('integer', 'real') AND \"expires\" < ?) OR \
                 (typeof(\"expires\") = 'text' AND julianday(\"expires\") < julianday(?)) )"
            ),
            vec![Param::Int(now_ms), Param::Text(iso(now_ms))],
        ),
        BackendKind::Postgres | BackendKind::MySql => {
            let col = if backend == BackendKind::MySql {
                "`expires`"
            } else {
                "\"expires\""
            };
            (
                format!("DELETE FROM {table} WHERE {col} < ?"),
                vec![Param::Timestamp(now_ms)],
            )
        }
    })
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn quotes_per_backend() {
        assert_eq!(
            quote_table(BackendKind::Postgres, "Session").unwrap(),
            "\"Session\""
        );
        assert_eq!(
            quote_table(BackendKind::MySql, "app.Session").unwrap(),
            "`app`.`Session`"
        );
    }

    #[test]
    fn hostile_names_run_nothing() {
        let e =
            cleanup_statement(BackendKind::Sqlite, "Session; DROP TABLE Session", 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn sqlite_compares_both_date_formats() {
        let (sql, params) =
            cleanup_statement(BackendKind::Sqlite, "Session", 1_700_000_000_000).unwrap();
        assert!(sql.contains("julianday"));
        assert_eq!(
            params,
            vec![
                Param::Int(1_700_000_000_000),
                Param::Text("2023-11-14T22:13:20.000Z".into())
            ]
        );
    }
}
