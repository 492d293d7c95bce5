//! Pool options: defaults, validation, and the URL's say in them.
//!
//! Every option is validated here, at construction, so a typo fails when the
//! app boots rather than on the first request. Explicit options win over the
//! URL's Prisma parameters, which win over the defaults.

use std::time::Duration;

use crate::config::redact::redact_credentials;
use crate::config::url::{BackendKind, DatabaseUrl, Target};
use crate::error::{DbError, DbResult};

pub const DEFAULT_URL: &str = "file:./dev.sqlite";
pub const DEFAULT_MAX_PRODUCTION: u32 = 10;
pub const DEFAULT_MAX_DEVELOPMENT: u32 = 5;
pub const DEFAULT_ACQUIRE_TIMEOUT_MS: u64 = 20_000;
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 600_000;
pub const DEFAULT_MAX_LIFETIME_MS: u64 = 1_800_000;
pub const DEFAULT_APPLICATION_NAME: &str = "shopify-db-pool";
/// Prisma's `pool_timeout=0` means "wait forever"; 30 days is forever enough,
/// fits a JS-facing u32 and keeps deadline arithmetic from overflowing.
pub const FOREVER_MS: u64 = 30 * 24 * 3600 * 1000;

/// An option's value as the caller gave it, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Number(f64),
    Text(String),
    Bool(bool),
    TextList(Vec<String>),
    /// Present but of a type no option takes; holds the JS type's name.
    Other(String),
}

/// Options as given (`undefined`/`null` fields are absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawOptions(pub Vec<(String, RawValue)>);

impl RawOptions {
    fn get(&self, key: &str) -> Option<&RawValue> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Validated, resolved options. Durations of zero mean "off".
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub url: DatabaseUrl,
    /// The URL as given, password masked.
    pub url_text: String,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub connect_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
    pub statement_timeout: Option<Duration>,
    pub leak_detection: Option<Duration>,
    pub health_check_interval: Option<Duration>,
    pub session_cleanup_interval: Option<Duration>,
    pub statement_cache: bool,
    pub application_name: String,
    pub pgbouncer: bool,
    /// Read replicas: `query`/`queryOne` outside transactions go to them.
    pub read_replicas: Vec<ReplicaUrl>,
    /// PostgreSQL: reads outside transactions share `PIPELINE_LANES`
    /// connections, several in flight on each (see `pipeline`).
    pub pipelining: bool,
}

/// The connections `pipelining` takes from `maxConnections`: two, so one
/// slow statement does not hold every piped call, and the server's work
/// spreads over two backends. (Single rounds on the loaded 2-core host, 64
/// in flight: two 54,700-55,000/s, four 56,600-66,000/s, ten
/// 53,300-62,200/s; no clear gain for more connections taken from leases.)
pub const PIPELINE_LANES: u32 = 2;

/// A replica's URL, parsed, and as shown in reports (password masked).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaUrl {
    pub url: DatabaseUrl,
    pub shown: String,
}

impl PoolConfig {
    pub fn backend(&self) -> BackendKind {
        self.url.backend
    }

    /// Connections kept for the pipeline (none without `pipelining`).
    pub fn pipeline_lanes(&self) -> u32 {
        if self.pipelining {
            PIPELINE_LANES
        } else {
            0
        }
    }

    /// Connections lent one caller at a time: `maxConnections` less the
    /// pipeline's.
    pub fn lease_connections(&self) -> u32 {
        self.max_connections - self.pipeline_lanes()
    }

    /// The same options aimed at one replica: no replicas of its own and no
    /// background session cleanup (writes belong to the primary).
    pub fn for_replica(&self, replica: &ReplicaUrl) -> PoolConfig {
        PoolConfig {
            url: replica.url.clone(),
            url_text: replica.shown.clone(),
            read_replicas: Vec::new(),
            session_cleanup_interval: None,
            ..self.clone()
        }
    }

    pub fn from_raw(raw: &RawOptions) -> DbResult<Self> {
        Self::from_raw_with_env(raw, std::env::var("NODE_ENV").ok().as_deref())
    }

    pub fn from_raw_with_env(raw: &RawOptions, node_env: Option<&str>) -> DbResult<Self> {
        const KNOWN: &[&str] = &[
            "url",
            "maxConnections",
            "minConnections",
            "acquireTimeoutMs",
            "connectTimeoutMs",
            "idleTimeoutMs",
            "maxLifetimeMs",
            "statementTimeoutMs",
            "leakDetectionMs",
            "healthCheckIntervalMs",
            "sessionCleanupIntervalMs",
            "statementCache",
            "applicationName",
            "pgbouncer",
            "readReplicaUrls",
            "pipelining",
        ];
        if let Some((key, _)) = raw.0.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
            return Err(DbError::invalid_argument(format!(
                "unknown option '{key}'; known options: {}",
                KNOWN.join(", ")
            )));
        }
        let url_text = match raw.get("url") {
            None => DEFAULT_URL.to_owned(),
            Some(RawValue::Text(s)) => s.clone(),
            Some(other) => return Err(wrong_type("url", "a string", other)),
        };
        let url = DatabaseUrl::parse(&url_text)?;
        // A SQLite URL is shown by what it opens (it needs no credentials,
        // and odd ones would defeat the URL-shaped redaction).
        let url_text = match &url.target {
            Target::SqliteMemory => "sqlite::memory:".to_owned(),
            Target::SqliteFile(path) => {
                // `sqlite://user:secret@host/x` is a path to SQLite, but it
                // reads as credentials to a person: mask them all the same.
                let shown = path.display().to_string();
                match shown.rfind('@') {
                    Some(at) => format!("file:***{}", &shown[at..]),
                    None => format!("file:{shown}"),
                }
            }
            Target::Server(_) => redact_credentials(&url_text),
        };
        let read_replicas = match raw.get("readReplicaUrls") {
            None => Vec::new(),
            Some(RawValue::TextList(list)) => list
                .iter()
                .map(|u| {
                    let parsed = DatabaseUrl::parse(u)?;
                    if parsed.backend != url.backend || parsed.backend == BackendKind::Sqlite {
                        return Err(DbError::invalid_argument(
                            "readReplicaUrls must be PostgreSQL or MySQL URLs of the same kind as url",
                        ));
                    }
                    Ok(ReplicaUrl { url: parsed, shown: redact_credentials(u) })
                })
                .collect::<DbResult<_>>()?,
            Some(other) => return Err(wrong_type("readReplicaUrls", "an array of URL strings", other)),
        };
        let prisma = url.prisma.clone();

        let default_max = if node_env == Some("production") {
            DEFAULT_MAX_PRODUCTION
        } else {
            DEFAULT_MAX_DEVELOPMENT
        };
        let max_connections = match count(raw, "maxConnections")? {
            Some(n) => n,
            None => prisma.connection_limit.unwrap_or(default_max),
        };
        if max_connections == 0 {
            return Err(DbError::invalid_argument(
                "maxConnections must be at least 1",
            ));
        }
        let min_connections = count(raw, "minConnections")?.unwrap_or(0);
        if min_connections > max_connections {
            return Err(DbError::invalid_argument(format!(
                "minConnections ({min_connections}) must not exceed maxConnections ({max_connections})"
            )));
        }
        let acquire_ms = millis(raw, "acquireTimeoutMs")?
            .or(prisma
                .pool_timeout_ms
                .map(|ms| if ms == 0 { FOREVER_MS } else { ms }))
            .unwrap_or(DEFAULT_ACQUIRE_TIMEOUT_MS);
        if acquire_ms == 0 {
            return Err(DbError::invalid_argument(
                "acquireTimeoutMs must be at least 1",
            ));
        }
        let connect_ms = millis(raw, "connectTimeoutMs")?
            .or(prisma
                .connect_timeout_ms
                .map(|ms| if ms == 0 { FOREVER_MS } else { ms }))
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
        if connect_ms == 0 {
            return Err(DbError::invalid_argument(
                "connectTimeoutMs must be at least 1",
            ));
        }
        let pgbouncer = match flag(raw, "pgbouncer")? {
            Some(b) => b,
            None => prisma.pgbouncer,
        };
        let statement_cache = flag(raw, "statementCache")?.unwrap_or(!pgbouncer);
        let pipelining = flag(raw, "pipelining")?.unwrap_or(false);
        if pipelining {
            check_pipelining(&url, max_connections, pgbouncer, statement_cache)?;
        }
        let application_name = match raw.get("applicationName") {
            None => DEFAULT_APPLICATION_NAME.to_owned(),
            Some(RawValue::Text(s)) if !s.contains('\0') => s.clone(),
            Some(other) => return Err(wrong_type("applicationName", "a string", other)),
        };

        Ok(PoolConfig {
            max_connections,
            min_connections,
            acquire_timeout: Duration::from_millis(acquire_ms),
            connect_timeout: Duration::from_millis(connect_ms),
            idle_timeout: off_if_zero(
                millis(raw, "idleTimeoutMs")?.unwrap_or(DEFAULT_IDLE_TIMEOUT_MS),
            ),
            max_lifetime: off_if_zero(
                millis(raw, "maxLifetimeMs")?.unwrap_or(DEFAULT_MAX_LIFETIME_MS),
            ),
            statement_timeout: off_if_zero(
                millis(raw, "statementTimeoutMs")?
                    .or(prisma.socket_timeout_ms)
                    .unwrap_or(0),
            ),
            leak_detection: off_if_zero(millis(raw, "leakDetectionMs")?.unwrap_or(0)),
            health_check_interval: off_if_zero(millis(raw, "healthCheckIntervalMs")?.unwrap_or(0)),
            session_cleanup_interval: off_if_zero(
                millis(raw, "sessionCleanupIntervalMs")?.unwrap_or(0),
            ),
            statement_cache,
            application_name,
            pgbouncer,
            url,
            url_text,
            read_replicas,
            pipelining,
        })
    }
}

/// `pipelining` needs PostgreSQL, statements it may keep prepared on its
/// connections (not PgBouncer's transaction mode), and a connection left
/// for transactions besides its own.
fn check_pipelining(
    url: &DatabaseUrl,
    max_connections: u32,
    pgbouncer: bool,
    statement_cache: bool,
) -> DbResult<()> {
    let refuse = |why: String| Err(DbError::invalid_argument(format!("pipelining: {why}")));
    if url.backend != BackendKind::Postgres {
        return refuse(format!(
            "only PostgreSQL pipelines statements, not {}",
            url.backend.as_str()
        ));
    }
    if pgbouncer || !statement_cache {
        return refuse(
            "needs the statement cache (not pgbouncer=true, not statementCache: false)".into(),
        );
    }
    if max_connections <= PIPELINE_LANES {
        return refuse(format!(
            "needs maxConnections of at least {}: {PIPELINE_LANES} shared connections and one for transactions",
            PIPELINE_LANES + 1
        ));
    }
    Ok(())
}

fn off_if_zero(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

fn type_name(v: &RawValue) -> String {
    match v {
        RawValue::Number(n) => format!("the number {n}"),
        RawValue::Text(_) => "a string".into(),
        RawValue::Bool(b) => format!("{b}"),
        RawValue::TextList(_) => "an array".into(),
        RawValue::Other(t) => t.clone(),
    }
}

fn wrong_type(key: &str, want: &str, got: &RawValue) -> DbError {
    DbError::invalid_argument(format!(
        "option {key} must be {want}, got {}",
        type_name(got)
    ))
}

fn whole_number(key: &str, raw: &RawOptions, max: f64) -> DbResult<Option<u64>> {
    match raw.get(key) {
        None => Ok(None),
        Some(RawValue::Number(n))
            if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n <= max =>
        {
            Ok(Some(*n as u64))
        }
        Some(RawValue::Number(n)) => Err(DbError::invalid_argument(format!(
            "option {key} must be a whole number from 0 to {max}, got {n}"
        ))),
        Some(other) => Err(wrong_type(key, "a number", other)),
    }
}

fn count(raw: &RawOptions, key: &str) -> DbResult<Option<u32>> {
    Ok(whole_number(key, raw, 10_000.0)?.map(|n| n as u32))
}

fn millis(raw: &RawOptions, key: &str) -> DbResult<Option<u64>> {
    whole_number(key, raw, FOREVER_MS as f64)
}

fn flag(raw: &RawOptions, key: &str) -> DbResult<Option<bool>> {
    match raw.get(key) {
        None => Ok(None),
        Some(RawValue::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(key, "a boolean", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn opts(pairs: &[(&str, RawValue)]) -> RawOptions {
        RawOptions(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn defaults() {
        let c = PoolConfig::from_raw_with_env(&RawOptions::default(), None).unwrap();
        assert_eq!(c.backend(), BackendKind::Sqlite);
        assert_eq!(c.max_connections, 5);
        assert_eq!(c.min_connections, 0);
        assert_eq!(c.acquire_timeout, Duration::from_secs(20));
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(600)));
        assert_eq!(c.max_lifetime, Some(Duration::from_secs(1800)));
        assert_eq!(c.statement_timeout, None);
        assert!(c.statement_cache);
        assert_eq!(c.application_name, "shopify-db-pool");
        let prod =
            PoolConfig::from_raw_with_env(&RawOptions::default(), Some("production")).unwrap();
        assert_eq!(prod.max_connections, 10);
    }

    #[test]
    fn url_params_fill_in_and_options_win() {
        let url = RawValue::Text(
            "postgres://h/db?connection_limit=3&pool_timeout=2&pgbouncer=true&socket_timeout=4"
                .into(),
        );
        let c = PoolConfig::from_raw_with_env(&opts(&[("url", url.clone())]), None).unwrap();
        assert_eq!(c.max_connections, 3);
        assert_eq!(c.acquire_timeout, Duration::from_secs(2));
        assert!(c.pgbouncer);
        assert!(!c.statement_cache);
        assert_eq!(c.statement_timeout, Some(Duration::from_secs(4)));
        let c = PoolConfig::from_raw_with_env(
            &opts(&[("url", url), ("maxConnections", RawValue::Number(8.0))]),
            None,
        )
        .unwrap();
        assert_eq!(c.max_connections, 8);
    }

    #[test]
    fn invalid_options_are_refused() {
        let cases: Vec<(&str, RawValue)> = vec![
            ("maxConnections", RawValue::Number(0.0)),
            ("maxConnections", RawValue::Number(-1.0)),
            ("maxConnections", RawValue::Number(1.5)),
            ("maxConnections", RawValue::Number(f64::NAN)),
            ("maxConnections", RawValue::Text("10".into())),
            ("acquireTimeoutMs", RawValue::Number(-5.0)),
            ("idleTimeoutMs", RawValue::Bool(true)),
            ("statementCache", RawValue::Number(1.0)),
            ("url", RawValue::Number(3.0)),
            ("maxConections", RawValue::Number(3.0)),
            ("readReplicaUrls", RawValue::Text("postgres://h/db".into())),
        ];
        for (k, v) in cases {
            let err = PoolConfig::from_raw_with_env(&opts(&[(k, v.clone())]), None).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{k}={v:?}");
        }
        let err = PoolConfig::from_raw_with_env(
            &opts(&[
                ("minConnections", RawValue::Number(6.0)),
                ("maxConnections", RawValue::Number(5.0)),
            ]),
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        let err = PoolConfig::from_raw_with_env(
            &opts(&[(
                "readReplicaUrls",
                RawValue::TextList(vec!["postgres://h/db".into()]),
            )]),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::InvalidArgument,
            "a SQLite primary takes no replicas"
        );
        let err = PoolConfig::from_raw_with_env(
            &opts(&[("url", RawValue::Text("ftp://x".into()))]),
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidUrl);
    }
}
