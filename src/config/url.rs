//! Connection strings: which backend, where, and the Prisma parameters.
//!
//! A `DATABASE_URL` written for Prisma must work unchanged, so its own query
//! parameters (`connection_limit`, `pool_timeout`, ...) are read here and
//! removed before the URL reaches sqlx, which would reject or misread them.

use std::path::{Path, PathBuf};

use crate::config::redact::remember_secret;
use crate::error::{DbError, DbResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
    MySql,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::MySql => "mysql",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    SqliteFile(PathBuf),
    SqliteMemory,
    /// A server URL with the Prisma-only parameters removed.
    Server(String),
}

/// Prisma's parameters, as found in the URL (seconds converted to ms).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrismaParams {
    pub connection_limit: Option<u32>,
    pub pool_timeout_ms: Option<u64>,
    pub connect_timeout_ms: Option<u64>,
    pub socket_timeout_ms: Option<u64>,
    pub pgbouncer: bool,
    pub schema: Option<String>,
    pub sslmode: Option<String>,
    pub statement_cache_size: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseUrl {
    pub backend: BackendKind,
    pub target: Target,
    pub prisma: PrismaParams,
}

/// Parameters Prisma understands and sqlx must not see.
const PRISMA_PARAMS: &[&str] = &[
    "connection_limit",
    "pool_timeout",
    "connect_timeout",
    "socket_timeout",
    "pgbouncer",
    "schema",
    "sslmode",
    "statement_cache_size",
    "sslaccept",
    "sslcert",
    "sslidentity",
    "sslpassword",
    "max_idle_connection_lifetime",
    "max_connection_lifetime",
];

impl DatabaseUrl {
    pub fn parse(raw: &str) -> DbResult<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DbError::invalid_url("the database URL is empty"));
        }
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("file:") || lower.starts_with("sqlite:") || lower == ":memory:" {
            return Self::parse_sqlite(raw);
        }
        let backend = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            BackendKind::Postgres
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            BackendKind::MySql
        } else {
            let scheme = raw.split(':').next().unwrap_or("");
            return Err(DbError::invalid_url(format!(
                "unsupported database URL scheme '{}': use file:, sqlite:, postgres://, postgresql://, mysql:// or mariadb://",
                if scheme.len() > 32 || scheme.contains('@') { "?" } else { scheme }
            )));
        };
        Self::parse_server(raw, backend)
    }

    fn parse_sqlite(raw: &str) -> DbResult<Self> {
        let (location, query) = match raw.split_once('?') {
            Some((l, q)) => (l, q),
            None => (raw, ""),
        };
        let mut prisma = PrismaParams::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            read_prisma_param(&mut prisma, &key, &value)?;
        }
        let lower = location.to_ascii_lowercase();
        let path = if lower.starts_with("sqlite://") {
            &location["sqlite://".len()..]
        } else if lower.starts_with("sqlite:") {
            &location["sqlite:".len()..]
        } else if lower.starts_with("file://") {
            &location["file://".len()..]
        } else if lower.starts_with("file:") {
            &location["file:".len()..]
        } else {
            location
        };
        if path == ":memory:" || path.is_empty() && lower.contains(":memory:") {
            return Ok(DatabaseUrl {
                backend: BackendKind::Sqlite,
                target: Target::SqliteMemory,
                prisma,
            });
        }
        if path.is_empty() {
            return Err(DbError::invalid_url(
                "the SQLite URL names no file (expected file:./dev.sqlite)",
            ));
        }
        if path.contains('\0') {
            return Err(DbError::invalid_url("the SQLite path contains a NUL byte"));
        }
        let decoded =
            url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| path.to_owned());
        Ok(DatabaseUrl {
            backend: BackendKind::Sqlite,
            target: Target::SqliteFile(resolve_sqlite_path(Path::new(&decoded))),
            prisma,
        })
    }

    fn parse_server(raw: &str, backend: BackendKind) -> DbResult<Self> {
        let mut parsed = match url::Url::parse(raw) {
            // `postgres://u@/db?host=/var/run/postgresql`: a Unix socket named
            // in the query (libpq, Prisma). The URL parser wants a host; the
            // driver takes the `host` parameter over it.
            Err(url::ParseError::EmptyHost) if raw.contains("host=") => {
                let (scheme, rest) = raw.split_once("://").unwrap_or((raw, ""));
                let with_host = match rest.split_once('/') {
                    Some((authority, path)) => format!("{scheme}://{authority}localhost/{path}"),
                    None => format!("{scheme}://{rest}localhost"),
                };
                url::Url::parse(&with_host)
            }
            other => other,
        }
        .map_err(|e| DbError::invalid_url(format!("the database URL cannot be parsed: {e}")))?;
        // `postgres://u@/db?host=/var/run/postgresql` (a Unix socket) names
        // its host in the query, as libpq and Prisma allow.
        let host_param = parsed
            .query_pairs()
            .any(|(k, v)| k == "host" && !v.is_empty());
        if parsed.host_str().is_none_or(str::is_empty) && !host_param {
            return Err(DbError::invalid_url("the database URL has no host"));
        }
        if let Some(password) = parsed.password() {
            remember_secret(password);
            if let Ok(decoded) = percent_decode(password) {
                remember_secret(&decoded);
            }
        }
        let mut prisma = PrismaParams::default();
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in parsed.query_pairs() {
            if PRISMA_PARAMS.contains(&key.as_ref()) {
                read_prisma_param(&mut prisma, &key, &value)?;
            } else {
                kept.push((key.into_owned(), value.into_owned()));
            }
        }
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
        if backend == BackendKind::MySql && parsed.scheme() == "mariadb" {
            // sqlx knows only mysql://; the wire protocol is the same.
            let rest = parsed.as_str()["mariadb".len()..].to_owned();
            parsed = url::Url::parse(&format!("mysql{rest}")).map_err(|e| {
                DbError::invalid_url(format!("the database URL cannot be parsed: {e}"))
            })?;
        }
        Ok(DatabaseUrl {
            backend,
            target: Target::Server(parsed.into()),
            prisma,
        })
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or(())
}

/// Prisma resolves `file:` paths against the folder of `prisma/schema.prisma`;
/// we resolve against the working directory, and fall back to `./prisma/`
/// when only that file exists, so a Prisma app's existing database is found.
fn resolve_sqlite_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    let under_prisma = Path::new("prisma").join(path);
    if under_prisma.exists() {
        return under_prisma;
    }
    path.to_path_buf()
}

fn read_prisma_param(p: &mut PrismaParams, key: &str, value: &str) -> DbResult<()> {
    let seconds = |v: &str| -> DbResult<u64> {
        v.trim().parse::<u64>().map_err(|_| {
            DbError::invalid_url(format!(
                "URL parameter {key} must be a whole number of seconds, got '{v}'"
            ))
        })
    };
    match key {
        "connection_limit" => {
            let n = value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    DbError::invalid_url(format!(
                        "URL parameter connection_limit must be a positive integer, got '{value}'"
                    ))
                })?;
            p.connection_limit = Some(n);
        }
        "pool_timeout" => p.pool_timeout_ms = Some(seconds(value)? * 1000),
        "connect_timeout" => p.connect_timeout_ms = Some(seconds(value)? * 1000),
        "socket_timeout" => p.socket_timeout_ms = Some(seconds(value)? * 1000),
        "pgbouncer" => p.pgbouncer = matches!(value.trim(), "true" | "1"),
        "schema" => p.schema = Some(value.to_owned()).filter(|s| !s.is_empty()),
        "sslmode" => p.sslmode = Some(value.to_ascii_lowercase()),
        "statement_cache_size" => {
            p.statement_cache_size = Some(value.trim().parse::<u32>().map_err(|_| {
                DbError::invalid_url(format!(
                    "URL parameter statement_cache_size must be an integer, got '{value}'"
                ))
            })?)
        }
        // Accepted for compatibility; TLS files are not handled by this pool.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms() {
        for (raw, want) in [
            ("file:./dev.sqlite", "./dev.sqlite"),
            ("file:dev.sqlite", "dev.sqlite"),
            ("sqlite://data/app.db", "data/app.db"),
            ("sqlite:app.db", "app.db"),
            ("file:/tmp/x.db", "/tmp/x.db"),
        ] {
            let u = DatabaseUrl::parse(raw).unwrap();
            assert_eq!(u.backend, BackendKind::Sqlite);
            assert_eq!(u.target, Target::SqliteFile(PathBuf::from(want)), "{raw}");
        }
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().target,
            Target::SqliteMemory
        );
    }

    #[test]
    fn prisma_params_are_read_and_stripped() {
        let u = DatabaseUrl::parse(
            "postgresql://u:pw@localhost:5432/db?connection_limit=7&pool_timeout=3&connect_timeout=2&socket_timeout=9&pgbouncer=true&schema=app&sslmode=disable&application_name=x",
        )
        .unwrap();
        assert_eq!(u.backend, BackendKind::Postgres);
        assert_eq!(u.prisma.connection_limit, Some(7));
        assert_eq!(u.prisma.pool_timeout_ms, Some(3000));
        assert_eq!(u.prisma.connect_timeout_ms, Some(2000));
        assert_eq!(u.prisma.socket_timeout_ms, Some(9000));
        assert!(u.prisma.pgbouncer);
        assert_eq!(u.prisma.schema.as_deref(), Some("app"));
        assert_eq!(u.prisma.sslmode.as_deref(), Some("disable"));
        assert_eq!(
            u.target,
            Target::Server("postgresql://u:pw@localhost:5432/db?application_name=x".into())
        );
    }

    #[test]
    fn sqlite_prisma_params_are_stripped() {
        let u = DatabaseUrl::parse("file:./dev.db?connection_limit=1").unwrap();
        assert_eq!(u.prisma.connection_limit, Some(1));
        assert_eq!(u.target, Target::SqliteFile(PathBuf::from("./dev.db")));
    }

    #[test]
    fn unix_socket_host_in_the_query_is_accepted() {
        let u = DatabaseUrl::parse("postgres://u:pw@/db?host=/var/run/postgresql").unwrap();
        assert_eq!(u.backend, BackendKind::Postgres);
    }

    #[test]
    fn mariadb_is_mysql() {
        let u = DatabaseUrl::parse("mariadb://root@127.0.0.1:3306/test").unwrap();
        assert_eq!(u.backend, BackendKind::MySql);
        assert_eq!(
            u.target,
            Target::Server("mysql://root@127.0.0.1:3306/test".into())
        );
    }

    #[test]
    fn bad_urls_are_invalid_url() {
        for raw in [
            "",
            "redis://x",
            "postgres://",
            "not a url",
            "postgres://u:p@/db",
            "file:",
            "mysql://h/db?connection_limit=0",
            "postgres://h/db?pool_timeout=abc",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert_eq!(err.code, crate::error::ErrorCode::InvalidUrl, "{raw}");
        }
    }

    #[test]
    fn unknown_scheme_error_does_not_echo_credentials() {
        let err = DatabaseUrl::parse("redis://user:topsecret@h").unwrap_err();
        assert!(!err.message.contains("topsecret"));
    }
}
