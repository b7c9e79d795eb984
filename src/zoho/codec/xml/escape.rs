//! XML character data, both directions: escaping for everything this crate writes (answer
//! text, CDATA, attributes, the `xml` request parameter) and unescaping of entity and
//! character references for everything it reads. The invariant: whatever string goes in
//! through an escaper comes back unchanged through `unescape_into`, including characters
//! XML 1.0 forbids (written as `&#xN;` references, the XML 1.1 way) and carriage returns
//! (written as `&#xD;` because XML parsers fold a literal CR into LF).

/// Whether `c` may appear literally in XML 1.0 content without being altered by a parser.
/// CR is excluded on purpose: parsers normalise it, so it must travel as a reference.
fn is_literal_safe(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Whether `text` can be carried inside CDATA sections unchanged.
pub(crate) fn cdata_safe(text: &str) -> bool {
    text.chars().all(is_literal_safe)
}

/// Appends `text` as one or more CDATA sections; a `]]>` inside is split across two
/// sections. The caller checks `cdata_safe` first.
pub(crate) fn push_cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let mut rest = text;
    while let Some(at) = rest.find("]]>") {
        // Close after `]]`, reopen before `>`: the reader concatenates adjacent sections.
        out.push_str(&rest[..at + 2]);
        out.push_str("]]><![CDATA[");
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out.push_str("]]>");
}

/// Appends `text` as escaped character data (element content).
pub(crate) fn push_text(out: &mut String, text: &str) {
    push_escaped(out, text, false);
}

/// Appends `text` escaped for a double-quoted attribute value. Tab and LF become references
/// too, since attribute-value normalisation would turn them into spaces.
pub(crate) fn push_attr(out: &mut String, text: &str) {
    push_escaped(out, text, true);
}

fn push_escaped(out: &mut String, text: &str, attr: bool) {
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let entity = match c {
            '&' => Some("&amp;"),
            '<' => Some("&lt;"),
            '>' => Some("&gt;"),
            '"' if attr => Some("&quot;"),
            '\t' | '\n' if attr => None,
            c if is_literal_safe(c) => continue,
            _ => None,
        };
        out.push_str(&text[start..at]);
        match entity {
            Some(entity) => out.push_str(entity),
            None => push_char_ref(out, c),
        }
        start = at + c.len_utf8();
    }
    out.push_str(&text[start..]);
}

fn push_char_ref(out: &mut String, c: char) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "&#x{:X};", u32::from(c));
}

/// Why a piece of escaped text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail} (at offset {offset} of the text)")]
pub(crate) struct UnescapeError {
    /// Byte offset of the offending `&` inside the raw text.
    pub offset: usize,
    pub detail: String,
}

/// The longest reference we accept between `&` and `;` (`#x10FFFF` is 8 bytes).
const MAX_REFERENCE: usize = 10;

/// Appends `raw` to `out` with the five predefined entities and all character references
/// resolved. Any other `&` is an error: the answer has no DTD that could define entities.
pub(crate) fn unescape_into(out: &mut String, raw: &str) -> Result<(), UnescapeError> {
    let mut rest = raw;
    let mut consumed = 0;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let fail = |detail: String| UnescapeError {
            offset: consumed + amp,
            detail,
        };
        let semi = after
            .bytes()
            .take(MAX_REFERENCE + 1)
            .position(|b| b == b';')
            .ok_or_else(|| fail("`&` does not start an entity or character reference".into()))?;
        let name = &after[..semi];
        out.push(resolve(name).ok_or_else(|| fail(format!("unknown reference `&{name};`")))?);
        let used = amp + 1 + semi + 1;
        consumed += used;
        rest = &rest[used..];
    }
    out.push_str(rest);
    Ok(())
}

fn resolve(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            // from_str_radix accepts a leading `+`, a reference does not.
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(raw: &str) -> Result<String, UnescapeError> {
        let mut out = String::new();
        unescape_into(&mut out, raw).map(|()| out)
    }

    #[test]
    fn a_value_containing_the_cdata_terminator_is_split_across_two_sections() {
        let mut out = String::new();
        push_cdata(&mut out, "a]]>b");
        assert_eq!(out, "<![CDATA[a]]]]><![CDATA[>b]]>");
    }

    #[test]
    fn control_characters_and_carriage_returns_are_not_cdata_safe() {
        assert!(cdata_safe("tab\tand\nnewline, é, 😀"));
        assert!(!cdata_safe("bell\u{7}"));
        assert!(!cdata_safe("cr\r"));
        assert!(!cdata_safe("\u{FFFE}"));
    }

    #[test]
    fn forbidden_characters_become_character_references_that_read_back() {
        let original = "a\u{0}b\u{1}c\rd<&>\"'\u{FFFF}";
        let mut out = String::new();
        push_text(&mut out, original);
        assert_eq!(out, "a&#x0;b&#x1;c&#xD;d&lt;&amp;&gt;\"'&#xFFFF;");
        assert_eq!(unescape(&out).unwrap(), original);
    }

    #[test]
    fn attribute_escaping_also_protects_quotes_tabs_and_newlines() {
        let mut out = String::new();
        push_attr(&mut out, "a\"b\tc\nd");
        assert_eq!(out, "a&quot;b&#x9;c&#xA;d");
        assert_eq!(unescape(&out).unwrap(), "a\"b\tc\nd");
    }

    #[test]
    fn predefined_entities_and_decimal_references_are_resolved() {
        assert_eq!(
            unescape("&lt;&gt;&amp;&quot;&apos;&#65;&#x42;").unwrap(),
            "<>&\"'AB"
        );
    }

    #[test]
    fn unknown_entities_bare_ampersands_and_bad_code_points_are_errors() {
        assert!(unescape("&nbsp;").is_err());
        assert_eq!(unescape("a & b").unwrap_err().offset, 2);
        assert!(unescape("&#xD800;").is_err());
        assert!(unescape("&#x110000;").is_err());
        assert!(unescape("&#+1;").is_err());
        assert!(unescape("&#;").is_err());
    }
}
