//! `?` placeholders everywhere, `$1..$n` on the wire for PostgreSQL.
//!
//! The same SQL must run on every backend, so users write `?`. PostgreSQL
//! wants `$n`; we rewrite outside string literals, quoted identifiers,
//! dollar-quoted bodies and comments, where a `?` is text, not a parameter.
//! `??` stands for a literal `?` (PostgreSQL's jsonb `?` operator).

use std::borrow::Cow;

/// Rewrites `?` to `$1, $2, ...`. Returns the input untouched (no copy)
/// when there is nothing to rewrite, which is the common case for SQL that
/// already uses `$n` or takes no parameters.
pub fn to_numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0u32;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => i = skip_quoted(bytes, i, b'\'', is_escape_string(bytes, i)),
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = memchr(bytes, i, b'\n').map_or(bytes.len(), |p| p + 1)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => i = skip_dollar_quoted(bytes, i),
            b'?' => {
                out.push_str(&sql[copied..i]);
                if bytes.get(i + 1) == Some(&b'?') {
                    out.push('?');
                    i += 2;
                } else {
                    n += 1;
                    out.push('$');
                    out.push_str(itoa(n).as_str());
                    i += 1;
                }
                copied = i;
            }
            _ => i += 1,
        }
    }
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
    bytes[from..].iter().position(|&b| b == needle).map(|p| p + from)
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
        assert_eq!(to_numbered("SELECT * FROM t WHERE a = ? AND b = ?"), "SELECT * FROM t WHERE a = $1 AND b = $2");
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
        assert_eq!(to_numbered("SELECT data ?? 'k' FROM t WHERE id = ?"), "SELECT data ? 'k' FROM t WHERE id = $1");
    }

    #[test]
    fn unterminated_literals_do_not_panic() {
        for s in ["'?", "\"?", "/* ?", "$a$ ?", "E'\\", "?'"] {
            let _ = to_numbered(s);
        }
        assert_eq!(to_numbered("?'"), "$1'");
    }
}
