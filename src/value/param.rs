//! A statement parameter, already checked. Conversion from JS lives in the
//! binding layer; binding to each driver lives with that backend.

use crate::error::{DbError, DbResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A JS plain object or array, serialised as JSON text.
    Json(String),
    /// A JS `Date`, as Unix milliseconds (UTC).
    Timestamp(i64),
}

impl Param {
    /// JS numbers: integers stay integers (so they bind as INTEGER/int8),
    /// everything else is a double. NaN and ±Infinity have no SQL meaning.
    pub fn from_number(index: usize, n: f64) -> DbResult<Param> {
        if !n.is_finite() {
            return Err(DbError::invalid_argument(format!(
                "parameter {index} is {n}, which no database can store"
            )));
        }
        if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
            if n == 0.0 && n.is_sign_negative() {
                return Ok(Param::Int(0));
            }
            Ok(Param::Int(n as i64))
        } else {
            Ok(Param::Float(n))
        }
    }

    pub fn from_timestamp_ms(index: usize, ms: f64) -> DbResult<Param> {
        if !ms.is_finite() {
            return Err(DbError::invalid_argument(format!(
                "parameter {index} is an invalid Date"
            )));
        }
        Ok(Param::Timestamp(ms as i64))
    }

    pub fn timestamp_utc(ms: i64) -> DbResult<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| DbError::invalid_argument(format!("Date {ms} ms is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_split_into_ints_and_floats() {
        assert_eq!(Param::from_number(0, 42.0).unwrap(), Param::Int(42));
        assert_eq!(Param::from_number(0, -0.0).unwrap(), Param::Int(0));
        assert_eq!(Param::from_number(0, 1.5).unwrap(), Param::Float(1.5));
        assert_eq!(Param::from_number(0, 1e300).unwrap(), Param::Float(1e300));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = Param::from_number(3, bad).unwrap_err();
            assert_eq!(e.code, crate::error::ErrorCode::InvalidArgument);
            assert!(e.message.contains("parameter 3"));
        }
    }
}
