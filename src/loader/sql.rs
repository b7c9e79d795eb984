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
        assert_eq!(quote_ident("zoho").unwrap(), "\"zoho\"");
        assert_eq!(quote_ident("Zoho Mirror").unwrap(), "\"Zoho Mirror\"");
        assert_eq!(quote_ident("a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP SCHEMA public; --").unwrap(),
            "\"x\"\"; DROP SCHEMA public; --\""
        );
        assert_eq!(quote_ident("back\\slash'").unwrap(), "\"back\\slash'\"");
        assert_eq!(quote_ident("prioridad_día").unwrap(), "\"prioridad_día\"");
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

    #[test]
    fn literals_double_their_quotes_and_escape_backslashes_in_the_escape_form() {
        assert_eq!(quote_literal("requests").unwrap(), "'requests'");
        assert_eq!(quote_literal("").unwrap(), "''");
        assert_eq!(quote_literal("it's").unwrap(), "'it''s'");
        assert_eq!(
            quote_literal("x'); DROP TABLE runs; --").unwrap(),
            "'x''); DROP TABLE runs; --'"
        );
        // Under standard_conforming_strings = off, '\' would start an escape and `\'`
        // end nothing: the escape form means one thing under both settings.
        assert_eq!(quote_literal("a\\b").unwrap(), "E'a\\\\b'");
        assert_eq!(quote_literal("\\'").unwrap(), "E'\\\\'''");
        assert_eq!(quote_literal("\"x\"\n").unwrap(), "'\"x\"\n'");
        assert_eq!(quote_literal("a\0"), Err(Unquotable::Nul));
    }
}
