//! The `xml` parameter of addrecords and updaterecords (contract section 4.1), both ways:
//! the client encodes rows into it, the emulator decodes it. Encoding escapes every value
//! so that `decode_rows(encode(..))` gives back exactly the labels and texts that went in
//! (`None` travels as the text `null`). Decoding accepts what real clients sent: any root
//! element or none, names in any case, either quote style, an optional prolog, CDATA or
//! escaped text.

use crate::zoho::codec::xml::cursor::{Cursor, Elem, Fault};
use crate::zoho::codec::xml::escape::{push_attr, push_text};
use crate::zoho::module::Module;
use crate::zoho::record::NULL_TEXT;

/// Why an `xml` parameter could not be read (the emulator answers 4835 for all of them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestXmlError {
    #[error("the xml parameter ends early, after {at} bytes")]
    Truncated { at: usize },
    #[error("the xml parameter is malformed at byte {at}: {detail}")]
    Malformed { at: usize, detail: String },
    #[error("the xml parameter is not rows of fields: {0}")]
    Structure(String),
}

impl From<Fault> for RequestXmlError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Truncated { at } => RequestXmlError::Truncated { at },
            Fault::Malformed { at, detail } => RequestXmlError::Malformed { at, detail },
            Fault::Shape(detail) => RequestXmlError::Structure(detail),
        }
    }
}

/// Encodes rows as `<module><row no="1"><fl val="Label">value</fl>…</row>…</module>`.
pub fn encode(module: Module, rows: &[Vec<(String, Option<String>)>]) -> String {
    let root = module.url_name();
    let mut out = String::with_capacity(64 + rows.len() * 256);
    out.push('<');
    out.push_str(root);
    out.push('>');
    for (index, row) in rows.iter().enumerate() {
        out.push_str("<row no=\"");
        out.push_str(&(index + 1).to_string());
        out.push_str("\">");
        for (label, value) in row {
            out.push_str("<fl val=\"");
            push_attr(&mut out, label);
            out.push_str("\">");
            push_text(&mut out, value.as_deref().unwrap_or(NULL_TEXT));
            out.push_str("</fl>");
        }
        out.push_str("</row>");
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    out
}

/// Decodes the rows of an `xml` parameter into `(label, text)` pairs in document order;
/// the text `null` is left as it is. No rows at all is not an error here: what that means
/// is the caller's decision.
pub fn decode_rows(xml: &str) -> Result<Vec<Vec<(String, String)>>, RequestXmlError> {
    let mut cur = Cursor::new(xml.as_bytes());
    let mut rows = Vec::new();
    let mut root_seen = false;
    while let Some(top) = cur.top_level()? {
        if top.is("row") {
            rows.push(decode_row(&mut cur, &top)?);
        } else if root_seen || !rows.is_empty() {
            return Err(structure(format!(
                "unexpected second root <{}>",
                top.name()
            )));
        } else {
            root_seen = true;
            while let Some(row) = cur.child(&top)? {
                if !row.is("row") {
                    return Err(structure(format!(
                        "unexpected <{}> in <{}>",
                        row.name(),
                        top.name()
                    )));
                }
                rows.push(decode_row(&mut cur, &row)?);
            }
        }
    }
    Ok(rows)
}

fn structure(detail: String) -> RequestXmlError {
    RequestXmlError::Structure(detail)
}

fn decode_row(
    cur: &mut Cursor<'_>,
    row: &Elem<'_>,
) -> Result<Vec<(String, String)>, RequestXmlError> {
    let mut fields = Vec::new();
    while let Some(fl) = cur.child(row)? {
        if !fl.is("fl") {
            return Err(structure(format!("unexpected <{}> in a row", fl.name())));
        }
        let label = fl
            .attr("val")?
            .ok_or_else(|| structure("an <fl> without a `val` attribute".into()))?;
        let mut value = String::new();
        if !cur.read_value(&fl, &mut value)? {
            return Err(structure(format!(
                "field `{label}` holds elements, not text"
            )));
        }
        fields.push((label, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(l, v)| (l.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_contract_example_decodes_into_labelled_fields() {
        let xml = r#"<requests>
  <row no="1">
    <fl val="Subject">Cannot log in</fl>
    <fl val="Contact Name">Ada Example</fl>
    <fl val="Email">ada@example.invalid</fl>
  </row>
</requests>"#;
        let rows = decode_rows(xml).unwrap();
        assert_eq!(
            rows,
            vec![pairs(&[
                ("Subject", "Cannot log in"),
                ("Contact Name", "Ada Example"),
                ("Email", "ada@example.invalid"),
            ])]
        );
    }

    #[test]
    fn the_plugin_variant_with_prolog_upper_case_and_single_quotes_is_accepted() {
        let xml = "<?xml version='1.0' encoding='UTF-8'?><Tickets><ROW no='1'>\
                   <FL VAL='Subject'><![CDATA[a <b>]]></FL><Fl val='x'>&amp;&#x1;</Fl></ROW></Tickets>";
        assert_eq!(
            decode_rows(xml).unwrap(),
            vec![pairs(&[("Subject", "a <b>"), ("x", "&\u{1}")])]
        );
    }

    #[test]
    fn rows_without_a_root_element_are_accepted() {
        let xml = r#"<row no="1"><fl val="A">1</fl></row><row no="2"><fl val="A">2</fl></row>"#;
        assert_eq!(
            decode_rows(xml).unwrap(),
            vec![pairs(&[("A", "1")]), pairs(&[("A", "2")])]
        );
    }

    #[test]
    fn encoded_rows_decode_back_with_null_for_absent_values() {
        let rows = vec![
            vec![
                (
                    "Subject".to_string(),
                    Some("a]]>b <&> \"'\r\u{0}".to_string()),
                ),
                ("Email".to_string(), None),
            ],
            vec![("Tab\tLabel\n".to_string(), Some(String::new()))],
        ];
        let xml = encode(Module::Requests, &rows);
        assert!(
            xml.starts_with("<requests><row no=\"1\"><fl val=\"Subject\">"),
            "{xml}"
        );
        assert_eq!(
            decode_rows(&xml).unwrap(),
            vec![
                pairs(&[("Subject", "a]]>b <&> \"'\r\u{0}"), ("Email", "null")]),
                pairs(&[("Tab\tLabel\n", "")]),
            ]
        );
    }

    #[test]
    fn broken_xml_is_an_error_never_a_panic() {
        assert!(matches!(
            decode_rows("<requests><row no=\"1\"><fl val=\"A\">x</fl>"),
            Err(RequestXmlError::Truncated { .. })
        ));
        assert!(matches!(
            decode_rows("<requests><row><fl val=\"A\">x</FL></row></requests>"),
            Err(RequestXmlError::Malformed { .. })
        ));
        assert!(matches!(
            decode_rows("<requests><row><fl>x</fl></row></requests>"),
            Err(RequestXmlError::Structure(_))
        ));
        assert!(matches!(
            decode_rows("<requests><row><fl val=\"A\">&bogus;</fl></row></requests>"),
            Err(RequestXmlError::Malformed { .. })
        ));
    }

    #[test]
    fn nothing_but_an_empty_root_gives_no_rows() {
        assert_eq!(decode_rows("<requests/>").unwrap(), Vec::<Vec<_>>::new());
        assert_eq!(decode_rows("").unwrap(), Vec::<Vec<_>>::new());
    }
}
