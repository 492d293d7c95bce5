//! SQL text handling that is the same for every backend.

pub mod identifier;
pub mod placeholders;

/// The statement's first keyword, upper-cased (`INSERT`, `CREATE`, ...),
/// after leading whitespace, comments and parentheses.
pub fn leading_keyword(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::leading_keyword;

    #[test]
    fn finds_the_first_keyword() {
        assert_eq!(
            leading_keyword("  -- x\n /* y */ insert into t values (1)"),
            "INSERT"
        );
        assert_eq!(leading_keyword("CREATE TABLE t (a)"), "CREATE");
        assert_eq!(leading_keyword("(SELECT 1)"), "SELECT");
        assert_eq!(leading_keyword(""), "");
    }
}
