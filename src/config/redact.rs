//! Keeps passwords out of every message, log line and report.
//!
//! Two nets: the shape of a URL (`scheme://user:secret@host`, `password=`)
//! is recognised anywhere in a text, and the exact passwords of every pool
//! this process built are remembered and masked wherever they appear, since
//! a driver may echo one in a form we cannot predict.

use std::sync::RwLock;

static KNOWN_SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

const MASK: &str = "***";

/// Remembers a password so that `redact_credentials` masks it everywhere.
/// Very short secrets are matched only inside URLs: masking every "ab" in
/// every message would destroy the messages and protect nothing.
pub fn remember_secret(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|s| s == secret) {
        known.push(secret.to_owned());
    }
}

pub fn redact_credentials(text: &str) -> String {
    let mut out = redact_url_userinfo(text);
    out = redact_password_params(&out);
    let known = KNOWN_SECRETS.read().unwrap_or_else(|p| p.into_inner());
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
        let encoded = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
        if encoded != *secret && out.contains(encoded.as_str()) {
            out = out.replace(encoded.as_str(), MASK);
        }
    }
    out
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, for every URL in `text`.
fn redact_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon + 1]);
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// `password=secret` (query strings, key/value DSNs) → `password=***`.
fn redact_password_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("password=") && !lower.contains("sslpassword=") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password=") {
        let value_start = i + found + "password=".len();
        out.push_str(&text[i..value_start]);
        let value_len = text[value_start..]
            .find(['&', ' ', ';', '"', '\'', '\n'])
            .unwrap_or(text.len() - value_start);
        if value_len > 0 {
            out.push_str(MASK);
        }
        i = value_start + value_len;
    }
    out.push_str(&text[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_password_of_any_url_in_a_text() {
        let s =
            redact_credentials("failed: postgres://app:hunter2@db:5432/x and mysql://root:pw@h/y");
        assert_eq!(
            s,
            "failed: postgres://app:***@db:5432/x and mysql://root:***@h/y"
        );
    }

    #[test]
    fn leaves_urls_without_password_alone() {
        let s = "postgres://app@db/x file:./dev.sqlite sqlite::memory:";
        assert_eq!(redact_credentials(s), s);
    }

    #[test]
    fn masks_password_parameters() {
        assert_eq!(
            redact_credentials("host=db password=abc123 user=x"),
            "host=db password=*** user=x"
        );
        assert_eq!(
            redact_credentials("postgres://db/x?user=a&password=zz9&sslmode=disable"),
            "postgres://db/x?user=a&password=***&sslmode=disable"
        );
    }

    #[test]
    fn masks_remembered_secrets_anywhere() {
        remember_secret("Tr0ub4dor&3");
        let s = redact_credentials("auth failed for secret Tr0ub4dor&3 (Tr0ub4dor%263)");
        assert!(!s.contains("Tr0ub4dor"), "{s}");
    }

    #[test]
    fn passwords_with_at_signs_are_fully_masked() {
        let s = redact_credentials("postgres://u:p@ss@host/db");
        assert_eq!(s, "postgres://u:***@host/db");
    }
}
