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
    /// Text kept in its result set's shared buffer ([`Rows::text`]), at
    /// these byte offsets: one growing buffer instead of an allocation per
    /// text value (the inline SQLite path, where that allocation showed).
    TextAt {
        start: u32,
        len: u32,
    },
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
    /// What the `Cell::TextAt` cells point into.
    pub text: String,
}

impl Rows {
    /// Adds a text value: into the shared buffer while offsets fit in
    /// 32 bits, else on its own.
    pub fn push_text(&mut self, value: &str) {
        let start = self.text.len();
        match (u32::try_from(start), u32::try_from(start + value.len())) {
            (Ok(start), Ok(_)) => {
                if self.text.capacity() == 0 {
                    // A row's worth at once (a Session row in the bench
                    // holds about 200 bytes of text, 270 at most), rather
                    // than doubling up from 8.
                    self.text.reserve(value.len().max(512));
                }
                self.text.push_str(value);
                self.cells.push(Cell::TextAt {
                    start,
                    len: value.len() as u32,
                });
            }
            _ => self.cells.push(Cell::Text(value.to_owned())),
        }
    }

    pub fn row_count(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.cells.len() / self.columns.len()
        }
    }
}

/// The text of a `Cell::TextAt { start, len }` in its result set's `text`.
pub fn text_span(text: &str, start: u32, len: u32) -> &str {
    let (start, len) = (start as usize, len as usize);
    text.get(start..start + len).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExecuteResult {
    pub rows_affected: u64,
    pub last_insert_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_share_one_buffer_and_keep_their_bounds() {
        let mut rows = Rows::default();
        rows.push_text("ab");
        rows.cells.push(Cell::Int(1));
        rows.push_text("");
        rows.push_text("héllo");
        let spans: Vec<&str> = rows
            .cells
            .iter()
            .filter_map(|c| match c {
                Cell::TextAt { start, len } => Some(text_span(&rows.text, *start, *len)),
                _ => None,
            })
            .collect();
        assert_eq!(spans, ["ab", "", "héllo"]);
        assert_eq!(rows.cells[1], Cell::Int(1));
    }
}
