//! The column names of a result, shared between results of the same shape.
//!
//! Copying a row's names per statement cost a dozen allocations for a
//! Session row, and a fresh list also defeats the JS side's row-factory
//! cache, which recognises a column set by pointer before it hashes every
//! name (`binding::row_factory`). The few shapes seen last on this thread
//! are kept and handed out again when the names match.

use std::cell::RefCell;
use std::sync::Arc;

use sqlx::{Column, Row};

/// Shapes kept per thread: enough for the statements a loader alternates
/// between, few enough that a miss scans them all cheaply.
const KEPT: usize = 8;

thread_local! {
    static RECENT: RefCell<Vec<Arc<[String]>>> = const { RefCell::new(Vec::new()) };
}

/// `row`'s column names, as the list handed out for the same names before
/// when there is one.
pub fn of<R: Row>(row: &R) -> Arc<[String]> {
    let columns = row.columns();
    let same = |kept: &Arc<[String]>| {
        kept.len() == columns.len() && kept.iter().zip(columns).all(|(k, c)| k == c.name())
    };
    let fresh = || -> Arc<[String]> { columns.iter().map(|c| c.name().to_owned()).collect() };
    // (`try_with`: a thread tearing down its locals gets a list of its own.)
    RECENT
        .try_with(|recent| {
            let mut recent = recent.borrow_mut();
            if let Some(at) = recent.iter().position(same) {
                // Most recently used first, so the usual statement is checked
                // first (and a hit there moves nothing).
                recent[..=at].rotate_right(1);
                return recent[0].clone();
            }
            let names = fresh();
            recent.truncate(KEPT - 1);
            recent.insert(0, names.clone());
            names
        })
        .unwrap_or_else(|_| fresh())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, Executor, SqliteConnection};

    async fn columns_of(conn: &mut SqliteConnection, sql: &str) -> Arc<[String]> {
        let row = conn.fetch_one(sql).await.expect("row");
        of(&row)
    }

    #[test]
    fn results_of_one_shape_share_one_list_and_others_get_their_own() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut conn = SqliteConnection::connect("sqlite::memory:")
                .await
                .expect("open");
            let first = columns_of(&mut conn, "SELECT 1 AS id, 'a' AS shop").await;
            let again = columns_of(&mut conn, "SELECT 2 AS id, 'b' AS shop").await;
            assert!(Arc::ptr_eq(&first, &again), "same names, same list");
            assert_eq!(&first[..], ["id".to_string(), "shop".to_string()]);

            let other = columns_of(&mut conn, "SELECT 1 AS id, 'a' AS state").await;
            assert_eq!(&other[..], ["id".to_string(), "state".to_string()]);
            let shorter = columns_of(&mut conn, "SELECT 1 AS id").await;
            assert_eq!(&shorter[..], ["id".to_string()]);

            // Past KEPT other shapes the first is forgotten, and rebuilt
            // with the same names.
            for i in 0..KEPT {
                columns_of(&mut conn, &format!("SELECT 1 AS c{i}")).await;
            }
            let rebuilt = columns_of(&mut conn, "SELECT 3 AS id, 'c' AS shop").await;
            assert!(!Arc::ptr_eq(&first, &rebuilt));
            assert_eq!(rebuilt, first);
        });
    }
}
