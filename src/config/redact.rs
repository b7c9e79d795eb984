//! What a configuration error may say. The parsers' own messages quote what they choke
//! on: the TOML parser prints the offending source line (which may be the database URL
//! with its password), serde prints the string it could not use (which may be a token set
//! in the wrong variable). Every message of a file or environment that does not parse
//! goes through here: source lines are dropped, quoted strings are replaced by what they
//! are, and whatever is left of a URL's password or a secret query parameter is masked.
//! Positions, key paths and the problem itself are kept.

use crate::zoho::secret::redact_url;

/// A parse error of the file: its position and problem, without the quoted source lines.
pub(super) fn parse_error(message: &str) -> String {
    let kept: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_source_line(line))
        .collect();
    value_error(&kept.join(": "))
}

/// A value of the wrong type or shape: serde's `invalid type: string "…"` loses the
/// string. Enum variants (`unknown variant `gold``) and field names stay: they are
/// words of the configuration, not values that may be secret.
pub(super) fn value_error(message: &str) -> String {
    let mut out = message.to_string();
    if let (Some(start), Some(end)) = (out.find("string \""), out.rfind('"')) {
        let start = start + "string ".len();
        if end > start {
            out.replace_range(start..=end, "(not shown)");
        }
    }
    scrub(&out)
}

/// The snippet lines of the TOML parser: `  |`, `8 | url = …`, `  |       ^^^`.
fn is_source_line(line: &str) -> bool {
    line.trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start()
        .starts_with('|')
}

/// Masks the password of every `scheme://user:password@host` and every secret query
/// parameter left in the text.
pub(super) fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| "/?#\"'` \t\n".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@').and_then(|at| {
            let colon = authority[..at].find(':')?;
            Some((colon, at))
        }) {
            Some((colon, at)) => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    redact_url(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_error_keeps_its_position_and_problem_but_not_the_source_line() {
        let message = "TOML parse error at line 8, column 7\n  |\n8 | url = postgres://u:s3cr3t@h/db\n  |       ^^^^^^\nstring values must be quoted, expected literal string\n";
        assert_eq!(
            parse_error(message),
            "TOML parse error at line 8, column 7: string values must be quoted, expected literal string"
        );
    }

    #[test]
    fn quoted_strings_of_serde_messages_are_not_shown() {
        let message = "invalid type: string \"postgres://u:s3cr3t@h/db\", expected u64";
        assert_eq!(
            value_error(message),
            "invalid type: string (not shown), expected u64"
        );
        let message = "unknown variant `gold`, expected one of `free`, `express`";
        assert_eq!(value_error(message), message);
    }

    #[test]
    fn url_passwords_and_secret_parameters_are_masked() {
        assert_eq!(
            scrub("at postgres://u:s3cr3t@h:5432/db and https://h/x?authtoken=abc&x=1"),
            "at postgres://u:***@h:5432/db and https://h/x?authtoken=***&x=1"
        );
        assert_eq!(scrub("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(scrub("no url here: a:b@c"), "no url here: a:b@c");
    }
}
