//! One pipelined connection: a tokio-postgres client that many calls use
//! at once, its prepared statements, and how many calls it carries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::types::{Kind, Type};
use tokio_postgres::{Client, NoTls, Statement};

use super::error::{connect_error, from_driver};
use super::values::column_supported;
use crate::error::{DbError, DbResult, ErrorCode};
use crate::pool::shared::Shared;
use crate::pool::sockets::{InRuntime, Tracked};
use crate::value::Param;

/// Statements kept prepared per lane, as sqlx keeps per connection.
const STATEMENT_CACHE: usize = 256;

/// A statement as this lane prepared it.
pub struct Prepared {
    pub statement: Statement,
    pub columns: Arc<[String]>,
    /// False when a column type is one the pipeline does not decode exactly
    /// as the leased path does: such statements run there instead.
    pub supported: bool,
}

pub struct Lane {
    pub client: Client,
    statements: Mutex<Statements<Arc<Prepared>>>,
    /// Calls on this lane now.
    pub in_flight: AtomicUsize,
    /// No new call is sent here (its connection failed or a statement on
    /// it was given up on); it closes when its last call is done.
    retired: AtomicBool,
    opened_at: Instant,
    /// When a call last finished here, in ms since `opened_at`.
    last_used_ms: AtomicU64,
}

impl Lane {
    /// Connects, and runs the connection's task on the runtime that owns
    /// the pool's sockets (the JS thread's, when there is one).
    /// (tokio-postgres's own connect timeout is not used: its timer would
    /// be armed inside the sockets' runtime, which has none.)
    pub async fn open(
        config: &tokio_postgres::Config,
        shared: &Shared,
        limit: Duration,
    ) -> DbResult<Lane> {
        let sockets = shared.sockets.as_ref();
        let connecting = Box::pin(config.connect(NoTls));
        let (client, connection) =
            match tokio::time::timeout(limit, InRuntime::new(sockets, connecting)).await {
                Ok(Ok(pair)) => pair,
                Ok(Err(e)) => return Err(connect_error(e)),
                Err(_) => {
                    return Err(DbError::new(
                        ErrorCode::ConnectionFailed,
                        format!(
                            "could not connect within connectTimeoutMs ({} ms)",
                            limit.as_millis()
                        ),
                    ))
                }
            };
        let task = Tracked(Box::pin(connection));
        match sockets {
            Some(handle) => drop(handle.spawn(task)),
            None => drop(shared.runtime.spawn(task)),
        }
        Ok(Lane {
            client,
            statements: Mutex::new(Statements::default()),
            in_flight: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
            opened_at: Instant::now(),
            last_used_ms: AtomicU64::new(0),
        })
    }

    pub fn is_usable(&self) -> bool {
        !self.retired.load(Ordering::Acquire) && !self.client.is_closed()
    }

    pub fn touch(&self) {
        let ms = self.opened_at.elapsed().as_millis() as u64;
        self.last_used_ms.store(ms, Ordering::Release);
    }

    pub fn age(&self) -> Duration {
        self.opened_at.elapsed()
    }

    /// How long since a call last finished here.
    pub fn idle_for(&self) -> Duration {
        let used = Duration::from_millis(self.last_used_ms.load(Ordering::Acquire));
        self.opened_at.elapsed().saturating_sub(used)
    }

    pub fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    /// The statement for `sql`, prepared on this lane (once) with the
    /// parameter types `params` declare (see `declared_type`); a cached
    /// statement costs one lookup.
    pub async fn prepare(&self, sql: &str, params: &[Param]) -> DbResult<Arc<Prepared>> {
        if let Some(hit) = self.cached(sql) {
            return Ok(hit);
        }
        let declared: Vec<Type> = params.iter().map(declared_type).collect();
        let statement = self
            .client
            .prepare_typed(sql, &declared)
            .await
            .map_err(from_driver)?;
        // (Parameters need no such check: `postgres_params` encodes them on
        // both paths, and refuses the same ones.)
        let supported = statement
            .columns()
            .iter()
            .all(|c| column_supported(c.type_()));
        let columns: Arc<[String]> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect::<Vec<_>>()
            .into();
        let prepared = Arc::new(Prepared {
            statement,
            columns,
            supported,
        });
        self.statements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sql, prepared.clone());
        Ok(prepared)
    }

    fn cached(&self, sql: &str) -> Option<Arc<Prepared>> {
        self.statements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sql)
    }
}

/// The lane's prepared statements by SQL text, least recently used first
/// out once `STATEMENT_CACHE` are kept (dropping one closes it on the
/// server), as sqlx's cache does on a leased connection.
struct Statements<T> {
    by_sql: HashMap<String, (T, u64)>,
    /// Counts lookups: each entry keeps the count of its last use.
    clock: u64,
}

impl<T> Default for Statements<T> {
    fn default() -> Self {
        Statements {
            by_sql: HashMap::new(),
            clock: 0,
        }
    }
}

impl<T: Clone> Statements<T> {
    fn get(&mut self, sql: &str) -> Option<T> {
        self.clock += 1;
        let (prepared, used) = self.by_sql.get_mut(sql)?;
        *used = self.clock;
        Some(prepared.clone())
    }

    fn insert(&mut self, sql: &str, prepared: T) {
        if self.by_sql.len() >= STATEMENT_CACHE && !self.by_sql.contains_key(sql) {
            let oldest = self
                .by_sql
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sql, _)| sql.clone());
            if let Some(oldest) = oldest {
                self.by_sql.remove(&oldest);
            }
        }
        self.clock += 1;
        self.by_sql.insert(sql.to_owned(), (prepared, self.clock));
    }
}

/// The type a parameter is first prepared with, as `postgres_params`
/// declares it for the leased path (numbers, booleans and bytes keep their
/// JS type; the rest is left to the server: OID 0).
fn declared_type(param: &Param) -> Type {
    match param {
        Param::Int(_) => Type::INT8,
        Param::Float(_) => Type::FLOAT8,
        Param::Bool(_) => Type::BOOL,
        Param::Bytes(_) => Type::BYTEA,
        _ => Type::new("unknown".into(), 0, Kind::Pseudo, "pg_catalog".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_statement_goes_first() {
        let mut cache = Statements::default();
        for i in 0..STATEMENT_CACHE {
            cache.insert(&format!("SELECT {i}"), i);
        }
        // "SELECT 0" is used again: "SELECT 1" is now the oldest.
        assert_eq!(cache.get("SELECT 0"), Some(0));
        cache.insert("SELECT new", 999);
        assert_eq!(cache.by_sql.len(), STATEMENT_CACHE);
        assert_eq!(cache.get("SELECT 1"), None);
        assert_eq!(cache.get("SELECT 0"), Some(0));
        assert_eq!(cache.get("SELECT new"), Some(999));
    }
}
