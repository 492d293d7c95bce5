//! What a pipeline connection is opened with: the pool's PostgreSQL
//! settings, as sqlx resolved them, in tokio-postgres's terms.

use sqlx::postgres::PgSslMode;

use crate::backend::postgres;
use crate::config::options::PoolConfig;
use crate::config::url::Target;
use crate::error::{DbError, DbResult};

/// The settings of every lane: host, port, user, database and the session
/// options (application name, schema, statement timeout) the leased
/// connections get too. Only plain TCP: refused (`INVALID_ARGUMENT`) when
/// the pool's connections would use TLS or a Unix socket.
pub fn lane_config(config: &PoolConfig) -> DbResult<tokio_postgres::Config> {
    let opts = postgres::connect_options(config)?;
    if !matches!(opts.get_ssl_mode(), PgSslMode::Disable | PgSslMode::Allow) {
        return Err(DbError::invalid_argument(
            "pipelining: runs over plain connections only, and this URL asks for TLS (a server on another host does, unless the URL says sslmode=disable)",
        ));
    }
    if opts.get_socket().is_some() {
        return Err(DbError::invalid_argument(
            "pipelining: runs over TCP only, not a Unix socket",
        ));
    }
    let mut lane = tokio_postgres::Config::new();
    lane.host(opts.get_host())
        .port(opts.get_port())
        .user(opts.get_username())
        .application_name(&config.application_name);
    if let Some(db) = opts.get_database() {
        lane.dbname(db);
    }
    if let Some(password) = password(config) {
        lane.password(password);
    }
    if let Some(options) = opts.get_options() {
        lane.options(options);
    }
    Ok(lane)
}

/// The URL's password (percent-decoded), else `PGPASSWORD`, as sqlx reads
/// them. (sqlx's options keep theirs private.)
fn password(config: &PoolConfig) -> Option<String> {
    let Target::Server(url) = &config.url.target else {
        return None;
    };
    let from_url = url::Url::parse(url).ok().and_then(|u| {
        u.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
    });
    from_url.or_else(|| std::env::var("PGPASSWORD").ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::options::{RawOptions, RawValue};

    fn config(url: &str) -> DbResult<PoolConfig> {
        PoolConfig::from_raw_with_env(
            &RawOptions(vec![
                ("url".into(), RawValue::Text(url.into())),
                ("pipelining".into(), RawValue::Bool(true)),
                ("statementTimeoutMs".into(), RawValue::Number(1500.0)),
            ]),
            None,
        )
    }

    #[test]
    fn lanes_get_the_pools_target_and_session_options() {
        let c = config("postgres://app:p%40ss%2Bw@127.0.0.1:6543/shop?schema=tenant").unwrap();
        let lane = lane_config(&c).unwrap();
        assert_eq!(lane.get_user(), Some("app"));
        assert_eq!(lane.get_ports(), [6543]);
        assert_eq!(lane.get_dbname(), Some("shop"));
        assert_eq!(lane.get_password(), Some(&b"p@ss+w"[..]));
        let options = lane.get_options().unwrap_or_default();
        assert!(options.contains("statement_timeout=1500ms"), "{options}");
        assert!(options.contains("search_path=tenant"), "{options}");
    }

    #[test]
    fn tls_is_refused_with_a_reason() {
        for url in [
            "postgres://u@db.example.com/shop",
            "postgres://u@127.0.0.1/shop?sslmode=require",
        ] {
            let e = lane_config(&config(url).unwrap()).unwrap_err();
            assert_eq!(e.code, crate::error::ErrorCode::InvalidArgument, "{url}");
            assert!(e.message.contains("TLS"), "{}", e.message);
        }
        assert!(
            lane_config(&config("postgres://u@db.example.com/shop?sslmode=disable").unwrap())
                .is_ok()
        );
    }
}
