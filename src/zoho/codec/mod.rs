//! Decoding of the API's answers (and the `xml` parameter of writes) at the edge. Both
//! decoders turn a body into one `Answer`: records, a write acknowledgement or an API
//! error. They are tolerant exactly where the contract says real servers varied (row or
//! fl as object or array, CDATA or escaped text, code as string or number, names in any
//! case) and strict everywhere else; a body they cannot read is a `DecodeError`, never a
//! panic. A row that cannot become a `Record` (an id that is not an id, a value that is
//! not text, bytes that are not UTF-8) is kept raw as a `BadRow`, so that one bad record
//! never costs the rest of its page, and the page's row count stays the server's. An
//! element or key the contract does not name is skipped and reported as a `Stray`; the
//! shapes the contract does name are still checked.

pub mod json;
pub mod request_xml;
pub mod xml;

use crate::zoho::error::{ApiError, DecodeError};
use crate::zoho::module::{Format, Module};
use crate::zoho::record::{Record, RecordId};

/// A row that could not become a `Record`, kept with its raw text for the dead-letter table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The row as it appeared in the body (its XML element or JSON object; bytes that are
    /// not UTF-8 replaced).
    pub raw: String,
    /// Why it could not be decoded.
    pub error: String,
    /// The record's id, when the row's id field could still be read.
    pub id: Option<RecordId>,
}

impl RowOutcome {
    /// The row's record id, when it could be read (a bad row's too, if its id is fine).
    pub fn id(&self) -> Option<RecordId> {
        match self {
            RowOutcome::Ok(record) => record.id,
            RowOutcome::Bad(bad) => bad.id,
        }
    }
}

/// A bad row's raw text without its position number (`"no":"7",` or ` no="7"`), which
/// changes with the window it was served in: the same row met again on another page
/// must read the same, so that it is set aside once.
pub(crate) fn unnumbered(raw: &str) -> String {
    let trimmed = raw.trim_start();
    let (open, rest) = if let Some(rest) = trimmed.strip_prefix('{') {
        ("{", rest)
    } else if let Some(rest) = trimmed.get(..4).filter(|p| p.eq_ignore_ascii_case("<row")) {
        (rest, &trimmed[4..])
    } else {
        return raw.to_string();
    };
    let body = rest.trim_start();
    let number_end = if open == "{" {
        json_number_end(body)
    } else {
        xml_number_end(body)
    };
    match number_end {
        Some(end) if open == "{" => format!("{{{}", &body[end..]),
        Some(end) => format!("{open}{}", &body[end..]),
        None => raw.to_string(),
    }
}

/// `"no":"7",` at the start of `text`: where it ends.
fn json_number_end(text: &str) -> Option<usize> {
    let key = text.get(..4).filter(|k| k.eq_ignore_ascii_case("\"no\""))?;
    let rest = text[key.len()..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let value = rest.strip_prefix('"').unwrap_or(rest);
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let after = &value[digits..];
    let after = after.strip_prefix('"').unwrap_or(after).trim_start();
    let after = after.strip_prefix(',').unwrap_or(after).trim_start();
    (digits > 0).then(|| text.len() - after.len())
}

/// `no="7"` at the start of `text`: where it ends.
fn xml_number_end(text: &str) -> Option<usize> {
    let key = text.get(..2).filter(|k| k.eq_ignore_ascii_case("no"))?;
    let rest = text[key.len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let after = value[digits..].strip_prefix(quote)?;
    (digits > 0).then(|| text.len() - after.len())
}

/// An element (XML) or key (JSON) the contract does not name, skipped where it was met.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stray {
    /// Where it was met (`response`, `result`, `a row`, ...).
    pub place: &'static str,
    /// Its name, cut to `STRAY_NAME_CHARS` characters: a server chooses its length.
    pub name: String,
}

/// How much of a stray's name is kept for messages.
pub const STRAY_NAME_CHARS: usize = 64;

impl Stray {
    pub(crate) fn new(place: &'static str, name: &str) -> Stray {
        Stray {
            place,
            name: name.chars().take(STRAY_NAME_CHARS).collect(),
        }
    }
}

/// A decoded answer and the strays skipped on the way (each kind once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub answer: Answer,
    pub strays: Vec<Stray>,
}

/// The strays of one body, each kind kept once.
#[derive(Debug, Default)]
pub(crate) struct Strays(std::cell::RefCell<std::collections::BTreeSet<Stray>>);

impl Strays {
    pub(crate) fn note(&self, place: &'static str, name: &str) {
        self.0.borrow_mut().insert(Stray::new(place, name));
    }

    fn into_vec(self) -> Vec<Stray> {
        self.0.into_inner().into_iter().collect()
    }
}

/// One row of a records answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Ok(Record),
    Bad(BadRow),
}

/// The acknowledgement of addrecords, updaterecords or deleterecords.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Written {
    /// `result.responsecode` (2001 for a successful add), when present.
    pub responsecode: Option<u32>,
    /// The `message` field of `responsedata`, when present.
    pub message: Option<String>,
    /// Ids from every `record@id` (or an id-labelled `fl`), in order.
    pub ids: Vec<RecordId>,
}

/// Everything an answer of the record API can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// getrecords, getrecordsbyid, getrecordsbysearch.
    Records(Vec<RowOutcome>),
    /// addrecords, updaterecords, deleterecords.
    Written(Written),
    /// `response.error`.
    Error(ApiError),
}

/// Decodes a whole answer body in the given format; `module` names the result key and
/// id field to expect. Strays are skipped silently: `decode_noting_strays` reports them.
pub fn decode(format: Format, module: Module, body: &[u8]) -> Result<Answer, DecodeError> {
    decode_noting_strays(format, module, body).map(|decoded| decoded.answer)
}

/// Decodes a whole answer body, reporting the elements or keys it skipped.
pub fn decode_noting_strays(
    format: Format,
    module: Module,
    body: &[u8],
) -> Result<Decoded, DecodeError> {
    let strays = Strays::default();
    let answer = match format {
        Format::Xml => xml::decode(module, body, &strays),
        Format::Json => json::decode(module, body, &strays),
    }?;
    Ok(Decoded {
        answer,
        strays: strays.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::unnumbered;

    #[test]
    fn a_bad_rows_position_number_is_dropped_in_both_formats() {
        assert_eq!(
            unnumbered(r#"{"no":"200","fl":[{"val":"A","content":"x"}]}"#),
            r#"{"fl":[{"val":"A","content":"x"}]}"#
        );
        assert_eq!(unnumbered(r#"{ "NO" : 3 , "fl":[]}"#), r#"{"fl":[]}"#);
        assert_eq!(
            unnumbered(r#"<row no="17"><fl val="A">x</fl></row>"#),
            r#"<row><fl val="A">x</fl></row>"#
        );
        assert_eq!(unnumbered("<ROW no='2'/>"), "<ROW/>");
        assert_eq!(unnumbered(r#"{"fl":[]}"#), r#"{"fl":[]}"#);
        assert_eq!(unnumbered("<row>"), "<row>");
    }
}
