//! Read replicas: reads outside transactions spread over healthy replicas
//! in turn; a replica that fails is skipped until a background probe finds
//! it answering again, and the read is retried on the primary meanwhile.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::DbPool;
use crate::config::options::PoolConfig;
use crate::error::{DbError, DbResult, ErrorCode};

/// How long a probe of a skipped replica may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub struct Replica {
    pub pool: DbPool,
    /// The URL as reports show it (password masked).
    pub shown: String,
    healthy: AtomicBool,
}

impl Replica {
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    pub fn mark(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Release);
    }
}

#[derive(Default)]
pub struct Replicas {
    pub list: Vec<Replica>,
    next: AtomicUsize,
}

impl Replicas {
    pub fn new(config: &PoolConfig, sockets: Option<tokio::runtime::Handle>) -> DbResult<Self> {
        let list = config
            .read_replicas
            .iter()
            .map(|r| {
                Ok(Replica {
                    pool: DbPool::new(config.for_replica(r), sockets.clone())?,
                    shown: r.shown.clone(),
                    healthy: AtomicBool::new(true),
                })
            })
            .collect::<DbResult<_>>()?;
        Ok(Replicas {
            list,
            next: AtomicUsize::new(0),
        })
    }

    /// The next healthy replica in turn, if any.
    pub fn pick(&self) -> Option<&Replica> {
        let n = self.list.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.list[(start + i) % n])
            .find(|r| r.is_healthy())
    }

    /// Pings skipped replicas; those that answer take reads again.
    pub async fn probe_skipped(&self) {
        for replica in self.list.iter().filter(|r| !r.is_healthy()) {
            if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, replica.pool.ping()).await {
                replica.mark(true);
            }
        }
    }
}

/// Failures that say "this server is not serving", as opposed to "your
/// statement is wrong": these skip the replica and move the read to the
/// primary.
pub fn is_unavailable(e: &DbError) -> bool {
    matches!(
        e.code,
        ErrorCode::ConnectionFailed | ErrorCode::PoolTimeout | ErrorCode::PoolClosed
    )
}

/// The statement wrote after all (a function with side effects, a CTE
/// hiding an INSERT): PostgreSQL's 25006, MySQL's read-only error 1290/1792.
/// The primary runs it; the replica stays in rotation.
pub fn is_write_refused(e: &DbError) -> bool {
    matches!(e.sql_state.as_deref(), Some("25006") | Some("HY000") if e.message.contains("read-only") || e.message.contains("read only"))
}

/// Whether a statement may go to a replica: it starts as a read, and a
/// leading `WITH` hides no data-modifying statement. Everything else (an
/// `INSERT … RETURNING` run through `query`) stays on the primary.
pub fn is_read(sql: &str) -> bool {
    match crate::sql::leading_keyword(sql).as_str() {
        "SELECT" | "SHOW" | "VALUES" | "TABLE" | "EXPLAIN" => true,
        "WITH" => {
            let upper = sql.to_ascii_uppercase();
            !["INSERT", "UPDATE", "DELETE", "MERGE"]
                .iter()
                .any(|w| upper.contains(w))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_go_to_replicas() {
        assert!(is_read("SELECT 1"));
        assert!(is_read("  (select * from t)"));
        assert!(is_read("WITH a AS (SELECT 1) SELECT * FROM a"));
        assert!(!is_read(
            "WITH a AS (DELETE FROM t RETURNING id) SELECT * FROM a"
        ));
        assert!(!is_read("INSERT INTO t VALUES (1) RETURNING id"));
        assert!(!is_read("UPDATE t SET a = 1 RETURNING a"));
    }
}
