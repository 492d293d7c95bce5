//! tokio-postgres's errors in the contract's codes, as `DbError::from_sqlx`
//! reports the same failures on the leased path.

use crate::error::{DbError, ErrorCode};

pub fn from_driver(e: tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        return DbError::from_server(
            Some(db.code().code().to_owned()),
            db.message(),
            db.constraint(),
        );
    }
    let text = e.to_string();
    if text.starts_with("error deserializing") {
        return DbError::new(ErrorCode::QueryFailed, text);
    }
    // Closed, I/O, or a message the protocol did not expect: the
    // connection is not to be trusted again.
    DbError::new(
        ErrorCode::ConnectionFailed,
        format!("connection failed: {text}"),
    )
}

/// A failed connect, with the driver's words as the cause.
pub fn connect_error(e: tokio_postgres::Error) -> DbError {
    let cause = e.to_string();
    let err = match e.as_db_error() {
        Some(db) => {
            let mut err = DbError::new(
                ErrorCode::ConnectionFailed,
                format!("could not connect: {}", db.message()),
            );
            err.sql_state = Some(db.code().code().to_owned());
            err
        }
        None => DbError::new(
            ErrorCode::ConnectionFailed,
            format!("could not connect: {cause}"),
        ),
    };
    err.with_cause(cause)
}
