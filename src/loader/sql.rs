//! The one place SQL text is quoted on the client: identifiers (`quote_ident`) and string
//! literals (`quote_literal`), as PostgreSQL's functions of the same names quote them.
//! Invariant: what comes out is read back by PostgreSQL as exactly the string that went
//! in, whatever the session's `standard_conforming_strings`; a string that cannot be
//! (a NUL byte, which no PostgreSQL text holds; an empty identifier; an identifier longer
//! than PostgreSQL keeps, which it would cut silently) is refused, never altered.
//!
//! Values are bound as parameters wherever a statement allows it; these are for the rest
//! (DDL, `SET`, a statement assembled once from a fixed set of names). Where a round trip
//! to the server is made anyway, `format('%I', $1)` / `%L` quote on the server instead
//! (the views do so for labels).

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`); it cuts longer ones.
pub const MAX_IDENT_BYTES: usize = 63;

/// Why a string cannot be quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unquotable {
    #[error("it holds a NUL byte")]
    Nul,
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {MAX_IDENT_BYTES} bytes")]
    TooLong,
}

/// `name` as a quoted identifier: case kept, `"` doubled.
pub fn quote_ident(name: &str) -> Result<String, Unquotable> {
    if name.is_empty() {
        return Err(Unquotable::Empty);
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(Unquotable::TooLong);
    }
    refuse_nul(name)?;
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `value` as a string literal: `'` doubled; with a backslash, the escape-string form
/// `E'…'` with backslashes doubled, which means the same under either setting of
/// `standard_conforming_strings` (PostgreSQL's own `quote_literal` does the same).
pub fn quote_literal(value: &str) -> Result<String, Unquotable> {
    refuse_nul(value)?;
    let quoted = value.replace('\'', "''");
    Ok(if quoted.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    })
}

fn refuse_nul(text: &str) -> Result<(), Unquotable> {
    if text.contains('\0') {
        Err(Unquotable::Nul)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_keep_their_case_and_double_their_quotes() {
        for (name, quoted) in [
            ("zoho", r#""zoho""#),
            ("Zoho Mirror", r#""Zoho Mirror""#),
            (r#"a"b"#, r#""a""b""#),
            (
                r#"x"; DROP SCHEMA public; --"#,
                r#""x""; DROP SCHEMA public; --""#,
            ),
            (r"back\slash'", r#""back\slash'""#),
            ("prioridad_día", r#""prioridad_día""#),
        ] {
            assert_eq!(quote_ident(name).as_deref(), Ok(quoted));
        }
    }

    #[test]
    fn identifiers_postgresql_would_refuse_or_cut_are_refused() {
        assert_eq!(quote_ident(""), Err(Unquotable::Empty));
        assert_eq!(quote_ident("a\0b"), Err(Unquotable::Nul));
        assert!(quote_ident(&"x".repeat(MAX_IDENT_BYTES)).is_ok());
        assert_eq!(
            quote_ident(&"x".repeat(MAX_IDENT_BYTES + 1)),
            Err(Unquotable::TooLong)
        );
        // Bytes, not characters: 32 two-byte characters are 64 bytes.
        assert_eq!(quote_ident(&"é".repeat(32)), Err(Unquotable::TooLong));
    }

    /// Under `standard_conforming_strings = off`, `'\'` would start an escape and `\'`
    /// end nothing: the escape form means one thing under both settings.
    #[test]
    fn literals_double_their_quotes_and_escape_backslashes_in_the_escape_form() {
        for (value, quoted) in [
            ("requests", "'requests'"),
            ("", "''"),
            ("it's", "'it''s'"),
            ("x'); DROP TABLE runs; --", "'x''); DROP TABLE runs; --'"),
            (r"a\b", r"E'a\\b'"),
            (r"\'", r"E'\\'''"),
            ("\"x\"\n", "'\"x\"\n'"),
        ] {
            assert_eq!(quote_literal(value).as_deref(), Ok(quoted));
        }
        assert_eq!(quote_literal("a\0"), Err(Unquotable::Nul));
    }
}
