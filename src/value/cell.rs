//! A decoded column value and a decoded result set.

use std::sync::Arc;

/// One value of a result row, already in the shape JS will see.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    /// Becomes a number when within ±2^53, else a bigint.
    Int(i64),
    /// Unsigned 64-bit (MySQL BIGINT UNSIGNED): number when safe, else bigint.
    UInt(u64),
    Float(f64),
    Text(String),
    /// DECIMAL / NUMERIC, as text so no digit is lost.
    Decimal(String),
    Bytes(Vec<u8>),
    Json(serde_json::Value),
    /// Unix milliseconds, UTC; becomes a `Date`.
    Timestamp(f64),
}

/// A result set, row-major, with the column names once (shared: a cached
/// statement hands out the same names for every result).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rows {
    pub columns: Arc<[String]>,
    pub cells: Vec<Cell>,
}

impl Rows {
    pub fn row_count(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.cells.len() / self.columns.len()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExecuteResult {
    pub rows_affected: u64,
    pub last_insert_id: Option<i64>,
}
