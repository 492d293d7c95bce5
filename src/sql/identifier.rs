//! Table and column names that we splice into SQL ourselves (session table,
//! cleanup): only plain identifiers pass, so nothing can be injected.

use crate::error::{DbError, DbResult};

/// Accepts `Name` or `schema.Name` made of letters, digits and `_`, not
/// starting with a digit, at most 63 bytes a part (PostgreSQL's limit).
pub fn validate_identifier(name: &str) -> DbResult<&str> {
    let ok = !name.is_empty()
        && name.split('.').count() <= 2
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.len() <= 63
                && !part.as_bytes()[0].is_ascii_digit()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(name)
    } else {
        Err(DbError::invalid_argument(format!(
            "'{}' is not a valid table name: use letters, digits and _ (optionally schema.table)",
            name.chars().take(64).collect::<String>()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_hostile_ones_do_not() {
        for ok in ["Session", "session_v2", "public.Session", "_x"] {
            assert!(validate_identifier(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Session; DROP TABLE x",
            "a\"b",
            "a.b.c",
            "a b",
            "Séssion",
            "x--",
            "a.",
            "t\0",
        ] {
            assert!(validate_identifier(bad).is_err(), "{bad}");
        }
    }
}
