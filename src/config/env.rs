//! `resolveConfig(env)`: pool options from the environment a Prisma app
//! already has (`DATABASE_URL`), plus `DB_POOL_MAX`, `DB_POOL_TIMEOUT_MS`.

use std::collections::HashMap;

use crate::config::options::*;
use crate::config::url::DatabaseUrl;
use crate::error::{DbError, DbResult};

/// The resolved options, every field filled, as `resolveConfig` returns them.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOptions {
    pub url: String,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_lifetime_ms: u64,
    pub statement_timeout_ms: u64,
    pub leak_detection_ms: u64,
    pub health_check_interval_ms: u64,
    pub session_cleanup_interval_ms: u64,
    pub statement_cache: bool,
    pub application_name: String,
    pub read_replica_urls: Vec<String>,
}

pub fn resolve_config(env: &HashMap<String, String>) -> DbResult<ResolvedOptions> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let url = get("DATABASE_URL").unwrap_or(DEFAULT_URL).to_owned();
    let parsed = DatabaseUrl::parse(&url)?;
    let env_number = |k: &str| -> DbResult<Option<u64>> {
        get(k)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    DbError::invalid_argument(format!("{k} must be a whole number, got '{v}'"))
                })
            })
            .transpose()
    };
    let production = get("NODE_ENV") == Some("production");
    let max_connections = match parsed.prisma.connection_limit {
        Some(n) => n,
        None => match env_number("DB_POOL_MAX")? {
            Some(0) => return Err(DbError::invalid_argument("DB_POOL_MAX must be at least 1")),
            Some(n) => u32::try_from(n)
                .map_err(|_| DbError::invalid_argument("DB_POOL_MAX is too large"))?,
            None if production => DEFAULT_MAX_PRODUCTION,
            None => DEFAULT_MAX_DEVELOPMENT,
        },
    };
    let acquire_timeout_ms = match parsed.prisma.pool_timeout_ms {
        Some(0) => FOREVER_MS,
        Some(ms) => ms,
        None => env_number("DB_POOL_TIMEOUT_MS")?.unwrap_or(DEFAULT_ACQUIRE_TIMEOUT_MS),
    };
    Ok(ResolvedOptions {
        url,
        max_connections,
        min_connections: 0,
        acquire_timeout_ms,
        connect_timeout_ms: match parsed.prisma.connect_timeout_ms {
            Some(0) => FOREVER_MS,
            Some(ms) => ms,
            None => DEFAULT_CONNECT_TIMEOUT_MS,
        },
        idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
        max_lifetime_ms: DEFAULT_MAX_LIFETIME_MS,
        statement_timeout_ms: parsed.prisma.socket_timeout_ms.unwrap_or(0),
        leak_detection_ms: 0,
        health_check_interval_ms: 0,
        session_cleanup_interval_ms: 0,
        statement_cache: !parsed.prisma.pgbouncer,
        application_name: DEFAULT_APPLICATION_NAME.to_owned(),
        read_replica_urls: get("DATABASE_REPLICA_URLS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_env_gives_the_sqlite_default() {
        let r = resolve_config(&env(&[])).unwrap();
        assert_eq!(r.url, "file:./dev.sqlite");
        assert_eq!(r.max_connections, 5);
        assert_eq!(r.acquire_timeout_ms, 20_000);
    }

    #[test]
    fn production_and_env_overrides() {
        assert_eq!(
            resolve_config(&env(&[("NODE_ENV", "production")]))
                .unwrap()
                .max_connections,
            10
        );
        let r = resolve_config(&env(&[
            ("DB_POOL_MAX", "7"),
            ("DB_POOL_TIMEOUT_MS", "1500"),
        ]))
        .unwrap();
        assert_eq!((r.max_connections, r.acquire_timeout_ms), (7, 1500));
    }

    #[test]
    fn url_parameters_win_over_env() {
        let r = resolve_config(&env(&[
            (
                "DATABASE_URL",
                "postgres://u@h/db?connection_limit=3&pool_timeout=4",
            ),
            ("DB_POOL_MAX", "7"),
            ("DB_POOL_TIMEOUT_MS", "1500"),
        ]))
        .unwrap();
        assert_eq!((r.max_connections, r.acquire_timeout_ms), (3, 4000));
    }

    #[test]
    fn replica_urls_are_comma_separated() {
        let r = resolve_config(&env(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            (
                "DATABASE_REPLICA_URLS",
                " postgres://u@r1/db , postgres://u@r2/db ,",
            ),
        ]))
        .unwrap();
        assert_eq!(
            r.read_replica_urls,
            vec!["postgres://u@r1/db", "postgres://u@r2/db"]
        );
    }

    #[test]
    fn bad_env_values_are_refused() {
        assert!(resolve_config(&env(&[("DB_POOL_MAX", "many")])).is_err());
        assert!(resolve_config(&env(&[("DB_POOL_MAX", "0")])).is_err());
        assert!(resolve_config(&env(&[("DATABASE_URL", "oracle://x")])).is_err());
    }
}
