//! Opening one connection for the pool, by a caller that holds a permit
//! (the permits bound `maxConnections`): counted in `size` from the start,
//! so that the `minConnections` fill and reaping see it, bounded by
//! `connectTimeoutMs`, registered with the runtime that watches server
//! sockets (when there is one), and prepared by the backend; failures
//! become coded errors.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sqlx::Connection;

use super::{Live, PoolCore};
use crate::backend::Driver;
use crate::error::{DbError, DbResult, ErrorCode};
use crate::metrics::Metrics;
use crate::pool::deadline::Deadline;
use crate::pool::sockets::InRuntime;

impl<DB: Driver> PoolCore<DB> {
    /// Opens one connection, counted in `size` from the start (see the
    /// module's doc).
    pub(super) async fn open(&self) -> DbResult<Live<DB>> {
        self.size.fetch_add(1, Ordering::AcqRel);
        self.opening.fetch_add(1, Ordering::AcqRel);
        // Should this future be dropped mid-connect, the reservation goes too.
        let reservation = SizeReservation(&self.size, &self.opening);
        let started = Instant::now();
        let opened = tokio::time::timeout(self.config.connect_timeout, async {
            let _serial = match DB::KIND {
                crate::config::url::BackendKind::Sqlite => {
                    Some(self.open_one_at_a_time.lock().await)
                }
                _ => None,
            };
            let connecting = DB::Connection::connect_with(&self.connect_options);
            let mut raw = InRuntime::new(self.shared.sockets.as_ref(), connecting)
                .await
                .map_err(connect_error)?;
            let deadline = Arc::new(Deadline::default());
            let local = DB::prepare(&mut raw, &self.config, deadline.clone()).await?;
            Ok::<_, DbError>(Live {
                local,
                raw,
                created_at: Instant::now(),
                deadline,
            })
        })
        .await;
        reservation.keep();
        match opened {
            Ok(Ok(live)) => {
                self.shared.metrics.connect_time.record(started.elapsed());
                Metrics::count(&self.shared.metrics.connections_created);
                Ok(live)
            }
            Ok(Err(e)) => {
                self.size.fetch_sub(1, Ordering::AcqRel);
                Err(e)
            }
            Err(_) => {
                self.size.fetch_sub(1, Ordering::AcqRel);
                Err(DbError::new(
                    ErrorCode::ConnectionFailed,
                    format!(
                        "could not connect within {} ms (connectTimeoutMs)",
                        self.config.connect_timeout.as_millis()
                    ),
                ))
            }
        }
    }
}

/// A failed connect as `CONNECTION_FAILED` (an `INVALID_URL` stays one),
/// with the server's SQLSTATE when it answered and sqlx's text as the cause.
fn connect_error(e: sqlx::Error) -> DbError {
    let cause = e.to_string();
    let err = match e {
        sqlx::Error::Database(db) => {
            let mut err = DbError::new(
                ErrorCode::ConnectionFailed,
                format!("could not connect: {}", db.message()),
            );
            err.sql_state = db.code().map(|c| c.into_owned());
            err
        }
        other => {
            let err = DbError::from_sqlx(other);
            match err.code {
                ErrorCode::InvalidUrl | ErrorCode::ConnectionFailed => err,
                _ => DbError {
                    code: ErrorCode::ConnectionFailed,
                    ..err
                },
            }
        }
    };
    err.with_cause(cause)
}

/// A connection being opened: counted in `size` (so the `minConnections`
/// fill does not open it twice) and in `opening` (so status reports only
/// open ones). Dropped unkept (a cancelled
/// connect), it takes both counts back.
struct SizeReservation<'a>(&'a AtomicU32, &'a AtomicU32);

impl SizeReservation<'_> {
    /// The attempt finished: it is no longer opening; `size` is settled by
    /// the caller (kept on success, given back on failure).
    fn keep(self) {
        self.1.fetch_sub(1, Ordering::AcqRel);
        std::mem::forget(self);
    }
}

impl Drop for SizeReservation<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        self.1.fetch_sub(1, Ordering::AcqRel);
    }
}
