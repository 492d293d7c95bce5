//! The one error type every layer returns.
//!
//! Callers branch on `code` (`err.code === 'POOL_TIMEOUT'`), so the code is a
//! closed set decided here, once, from whatever failed underneath (sqlx, the
//! URL parser, argument conversion). Messages are redacted before they are
//! stored so that no later layer can leak a password by accident.

use std::fmt;

use crate::config::redact::redact_credentials;

/// The public error codes of the contract. `as_str` is what JS sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    PoolTimeout,
    PoolClosed,
    ConnectionFailed,
    QueryFailed,
    Timeout,
    TransactionClosed,
    InvalidArgument,
    InvalidUrl,
    /// A bug in this library (a caught panic, an impossible state). Never
    /// expected; reported rather than crashing the Node process.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::PoolTimeout,
        ErrorCode::PoolClosed,
        ErrorCode::ConnectionFailed,
        ErrorCode::QueryFailed,
        ErrorCode::Timeout,
        ErrorCode::TransactionClosed,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidUrl,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::PoolTimeout => "POOL_TIMEOUT",
            ErrorCode::PoolClosed => "POOL_CLOSED",
            ErrorCode::ConnectionFailed => "CONNECTION_FAILED",
            ErrorCode::QueryFailed => "QUERY_FAILED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::TransactionClosed => "TRANSACTION_CLOSED",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidUrl => "INVALID_URL",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub code: ErrorCode,
    pub message: String,
    /// SQLSTATE on PostgreSQL/MySQL, the extended result code on SQLite.
    pub sql_state: Option<String>,
    /// The violated constraint, where the database names it.
    pub constraint: Option<String>,
    /// The underlying error's text, redacted, when it adds to `message`.
    pub cause: Option<String>,
}

pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        DbError {
            code,
            message: redact_credentials(&message.into()),
            sql_state: None,
            constraint: None,
            cause: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub fn invalid_url(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidUrl, message)
    }

    pub fn pool_closed() -> Self {
        Self::new(ErrorCode::PoolClosed, "the pool is closed")
    }

    pub fn transaction_closed() -> Self {
        Self::new(
            ErrorCode::TransactionClosed,
            "the transaction was already committed or rolled back",
        )
    }

    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(redact_credentials(&cause.to_string()));
        self
    }

    /// An error the server sent: its SQLSTATE decides the code.
    pub fn from_server(state: Option<String>, message: &str, constraint: Option<&str>) -> Self {
        // The server ending the session (shutdown, restart, a killed
        // backend) is a broken connection, not a refused statement.
        let code = if state.as_deref().is_some_and(is_disconnect_state) {
            ErrorCode::ConnectionFailed
        } else {
            ErrorCode::QueryFailed
        };
        let mut e = DbError::new(code, message);
        e.sql_state = state;
        e.constraint = constraint.map(str::to_owned);
        e
    }

    /// Maps a driver error to the contract's codes. Pool exhaustion is not
    /// handled here: only the pool knows the figures its message must carry.
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Database(db) => DbError::from_server(
                db.code().map(|c| c.into_owned()),
                db.message(),
                db.constraint(),
            ),
            sqlx::Error::PoolClosed => DbError::pool_closed(),
            sqlx::Error::PoolTimedOut => DbError::new(
                ErrorCode::PoolTimeout,
                "timed out waiting for a connection from the pool",
            ),
            sqlx::Error::Io(io) => DbError::new(
                ErrorCode::ConnectionFailed,
                format!("connection failed: {io}"),
            ),
            sqlx::Error::Tls(t) => {
                DbError::new(ErrorCode::ConnectionFailed, format!("TLS failed: {t}"))
            }
            // sqlx's SQLite binder refuses `:name` / `@name` parameters
            // before anything is sent: the caller's SQL, not the link.
            sqlx::Error::Protocol(p) if p.contains("unsupported SQL parameter format") => {
                DbError::invalid_argument(format!(
                    "{p}; use ? (or ?NNN) placeholders with an array of parameters"
                ))
            }
            sqlx::Error::Protocol(p) => DbError::new(
                ErrorCode::ConnectionFailed,
                format!("protocol error, the connection was dropped: {p}"),
            ),
            sqlx::Error::Configuration(c) => DbError::new(
                ErrorCode::InvalidUrl,
                format!("invalid connection options: {c}"),
            ),
            sqlx::Error::WorkerCrashed => DbError::new(
                ErrorCode::ConnectionFailed,
                "the SQLite worker thread stopped; the connection is gone",
            ),
            sqlx::Error::InvalidArgument(a) => DbError::invalid_argument(a),
            sqlx::Error::ColumnDecode { index, source } => DbError::new(
                ErrorCode::QueryFailed,
                format!("could not decode column {index}: {source}"),
            ),
            other => DbError::new(ErrorCode::QueryFailed, other.to_string()),
        }
    }
}

/// SQLSTATEs that mean the server dropped the session: class 08
/// (connection exception) and PostgreSQL's 57P01-57P03 (admin shutdown,
/// crash shutdown, cannot connect now).
fn is_disconnect_state(state: &str) -> bool {
    state.starts_with("08") || matches!(state, "57P01" | "57P02" | "57P03")
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        DbError::from_sqlx(err)
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_contract_strings() {
        let names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "POOL_TIMEOUT",
                "POOL_CLOSED",
                "CONNECTION_FAILED",
                "QUERY_FAILED",
                "TIMEOUT",
                "TRANSACTION_CLOSED",
                "INVALID_ARGUMENT",
                "INVALID_URL",
                "INTERNAL"
            ]
        );
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }

    #[test]
    fn server_shutdown_states_are_connection_failures() {
        for state in ["08006", "08S01", "57P01", "57P02", "57P03"] {
            assert!(is_disconnect_state(state), "{state}");
        }
        for state in ["23505", "57014", "42601", "25006"] {
            assert!(!is_disconnect_state(state), "{state}");
        }
    }

    #[test]
    fn messages_are_redacted_on_construction() {
        let e = DbError::new(
            ErrorCode::ConnectionFailed,
            "cannot reach postgres://app:s3cret@db:5432/x",
        );
        assert!(!e.message.contains("s3cret"), "{}", e.message);
    }
}
