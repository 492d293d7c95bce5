//! `?` placeholders everywhere, `$1..$n` on the wire for PostgreSQL.
//!
//! The same SQL must run on every backend, so users write `?`. PostgreSQL
//! wants `$n`; we rewrite outside string literals, quoted identifiers,
//! dollar-quoted bodies and comments, where a `?` is text, not a parameter.
//! `??` stands for a literal `?` (PostgreSQL's jsonb `?` operator).

use std::borrow::Cow;

/// What the scanner found outside literals and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// `?`: a parameter.
    Param,
    /// `??`: a literal `?`.
    Escaped,
    /// `$1`, `?1`, `:name`, `@name`: a parameter style we do not count.
    Other,
}

/// Calls `found(byte_index, mark)` for each placeholder-like mark outside
/// string literals, quoted identifiers, dollar-quoted bodies and comments.
fn scan(sql: &str, mut found: impl FnMut(usize, Mark)) {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => i = skip_quoted(bytes, i, b'\'', is_escape_string(bytes, i)),
            b'"' | b'`' => i = skip_quoted(bytes, i, bytes[i], false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = memchr(bytes, i, b'\n').map_or(bytes.len(), |p| p + 1)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                found(i, Mark::Other);
                i += 1;
            }
            b'$' => i = skip_dollar_quoted(bytes, i),
            b'?' if bytes.get(i + 1) == Some(&b'?') => {
                found(i, Mark::Escaped);
                i += 2;
            }
            b'?' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                found(i, Mark::Other);
                i += 1;
            }
            b'?' => {
                found(i, Mark::Param);
                i += 1;
            }
            b':' | b'@'
                if bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                    && (i == 0 || !matches!(bytes[i - 1], b':' | b'@')) =>
            {
                found(i, Mark::Other);
                i += 1;
            }
            b':' => {
                i += if bytes.get(i + 1) == Some(&b':') {
                    2
                } else {
                    1
                }
            }
            _ => i += 1,
        }
    }
}

/// The number of `?` parameters, or `None` when the statement also uses a
/// style we cannot count (`$1`, `?1`, `:name`, `@name`).
pub fn count_params(sql: &str) -> Option<usize> {
    let (mut params, mut other) = (0, false);
    scan(sql, |_, mark| match mark {
        Mark::Param => params += 1,
        Mark::Other => other = true,
        Mark::Escaped => {}
    });
    (!other).then_some(params)
}

/// Rewrites `?` to `$1, $2, ...`. Returns the input untouched (no copy)
/// when there is nothing to rewrite, which is the common case for SQL that
/// already uses `$n` or takes no parameters.
pub fn to_numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0u32;
    let mut copied = 0;
    scan(sql, |i, mark| match mark {
        Mark::Param => {
            out.push_str(&sql[copied..i]);
            n += 1;
            out.push('$');
            out.push_str(&itoa(n));
            copied = i + 1;
        }
        Mark::Escaped => {
            out.push_str(&sql[copied..i]);
            out.push('?');
            copied = i + 2;
        }
        Mark::Other => {}
    });
    if copied == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

fn itoa(n: u32) -> String {
    n.to_string()
}

fn memchr(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|p| p + from)
}

/// `E'...'` strings take backslash escapes; plain ones only doubled quotes.
fn is_escape_string(bytes: &[u8], quote: usize) -> bool {
    quote > 0
        && matches!(bytes[quote - 1], b'E' | b'e')
        && (quote < 2 || !(bytes[quote - 2].is_ascii_alphanumeric() || bytes[quote - 2] == b'_'))
}

/// Returns the index just past the closing quote (or the end).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash_escapes && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// PostgreSQL block comments nest.
fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// `$tag$ ... $tag$` (tag possibly empty). A `$` that does not open one
/// (`$1`, an identifier's `$`) is stepped over.
fn skip_dollar_quoted(bytes: &[u8], start: usize) -> usize {
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return start + 1;
    }
    let mut j = start + 1;
    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
        if j == start + 1 && bytes[j].is_ascii_digit() {
            return start + 1;
        }
        j += 1;
    }
    if bytes.get(j) != Some(&b'$') {
        return start + 1;
    }
    let tag = &bytes[start..=j];
    let body = j + 1;
    let mut k = body;
    while k + tag.len() <= bytes.len() {
        if &bytes[k..k + tag.len()] == tag {
            return k + tag.len();
        }
        k += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        assert_eq!(
            to_numbered("SELECT * FROM t WHERE a = ? AND b = ?"),
            "SELECT * FROM t WHERE a = $1 AND b = $2"
        );
    }

    #[test]
    fn leaves_sql_without_placeholders_borrowed() {
        assert!(matches!(to_numbered("SELECT $1"), Cow::Borrowed(_)));
        assert!(matches!(to_numbered("SELECT '?'"), Cow::Borrowed(_)));
    }

    #[test]
    fn ignores_question_marks_in_literals_identifiers_and_comments() {
        assert_eq!(
            to_numbered("SELECT '?', \"a?\", 'it''s ?', ? -- what?\n, ? /* ? /* ? */ ? */ , ?"),
            "SELECT '?', \"a?\", 'it''s ?', $1 -- what?\n, $2 /* ? /* ? */ ? */ , $3"
        );
    }

    #[test]
    fn ignores_dollar_quoted_bodies() {
        assert_eq!(
            to_numbered("SELECT $$ ? $$, $fn$ a ? b $fn$, ?"),
            "SELECT $$ ? $$, $fn$ a ? b $fn$, $1"
        );
    }

    #[test]
    fn escape_strings_take_backslashes() {
        assert_eq!(to_numbered(r"SELECT E'\' ?', ?"), r"SELECT E'\' ?', $1");
        assert_eq!(to_numbered(r"SELECT '\', ?"), r"SELECT '\', $1");
    }

    #[test]
    fn double_question_mark_is_a_literal() {
        assert_eq!(
            to_numbered("SELECT data ?? 'k' FROM t WHERE id = ?"),
            "SELECT data ? 'k' FROM t WHERE id = $1"
        );
    }

    #[test]
    fn counts_question_mark_params_only() {
        assert_eq!(count_params("SELECT ?, '?', \"?\", ?? -- ?\n, ?"), Some(2));
        assert_eq!(count_params("SELECT 1"), Some(0));
        assert_eq!(count_params("SELECT x::int, ?"), Some(1));
        assert_eq!(count_params("SELECT $1"), None);
        assert_eq!(count_params("SELECT ?1"), None);
        assert_eq!(count_params("SELECT :name"), None);
        assert_eq!(count_params("SELECT `a?` FROM t WHERE b = ?"), Some(1));
    }

    #[test]
    fn unterminated_literals_do_not_panic() {
        for s in ["'?", "\"?", "/* ?", "$a$ ?", "E'\\", "?'"] {
            let _ = to_numbered(s);
        }
        assert_eq!(to_numbered("?'"), "$1'");
    }
}
