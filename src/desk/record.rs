//! A Zoho Desk record decoded at the edge: its id, its `createdTime` and `modifiedTime`,
//! and the whole object kept exactly as received for the mirror's `record jsonb`. The
//! page envelopes of section 3 (`{"data":[...]}`, and search's `"count"`) are read here
//! too. Invariant: one record that cannot be decoded (no id, an id that is not an
//! int64, a time that is not a time, a value with bytes that are not UTF-8) becomes a
//! `BadRecord` holding its raw text and its error, and never costs the rest of its page;
//! nothing here panics on any body.
//!
//! Tolerated variants (section 3.1, D12, D13): an id as a JSON number; times with or
//! without milliseconds, with an offset, or as epoch milliseconds (number or digit
//! string); booleans as the strings `"true"` / `"false"` (`DeskRecord::flag`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::zoho::error::DecodeError;

const FORMAT: &str = "json";

/// A record id: an int64 written as a string of digits (D13). Never negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeskId(i64);

impl DeskId {
    /// Parses plain ASCII digits that fit an int64; anything else is `None`.
    pub fn parse(text: &str) -> Option<DeskId> {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(DeskId)
    }

    /// An id as the wire may carry it: a digit string, or (tolerated) a JSON integer.
    pub fn from_json(value: &Value) -> Result<DeskId, String> {
        match value {
            Value::String(s) => DeskId::parse(s)
                .ok_or_else(|| format!("the id `{}` is not an int64 of digits", cut(s, 40))),
            Value::Number(n) => n.as_i64().filter(|i| *i >= 0).map(DeskId).ok_or_else(|| {
                format!(
                    "the id {} is not a non-negative int64",
                    cut(&n.to_string(), 40)
                )
            }),
            Value::Null => Err("the id is null".into()),
            other => Err(format!("the id is a JSON {}, not a string", kind(other))),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for DeskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for DeskId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeskId::parse(s).ok_or_else(|| format!("`{}` is not a Zoho Desk id (digits)", cut(s, 40)))
    }
}

/// One record as received, with its checked id and times.
#[derive(Clone, Debug, PartialEq)]
pub struct DeskRecord {
    pub id: DeskId,
    pub created_time: Option<DateTime<Utc>>,
    /// Absent from list rows of tickets and contacts (D14) and maybe from contracts (Q9).
    pub modified_time: Option<DateTime<Utc>>,
    /// The whole object, key order and values as the server sent them.
    pub object: Map<String, Value>,
}

impl DeskRecord {
    /// Checks an object's id and times; the object itself is kept unchanged.
    pub fn from_object(object: Map<String, Value>) -> Result<DeskRecord, String> {
        let id = DeskId::from_json(object.get("id").unwrap_or(&Value::Null))?;
        let created_time = time_field(&object, "createdTime")?;
        let modified_time = time_field(&object, "modifiedTime")?;
        Ok(DeskRecord {
            id,
            created_time,
            modified_time,
            object,
        })
    }

    /// A time field; `None` when absent, null or not a time.
    pub fn time(&self, key: &str) -> Option<DateTime<Utc>> {
        time_field(&self.object, key).ok().flatten()
    }

    /// A string field; `None` when absent, null or not a string.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.object.get(key).and_then(Value::as_str)
    }

    /// A boolean field, from a JSON boolean or (D13) the strings `true` / `false` in any
    /// case; `None` when absent, null or anything else.
    pub fn flag(&self, key: &str) -> Option<bool> {
        flag(self.object.get(key)?)
    }
}

/// A boolean as the wire may carry it (D13).
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn time_field(object: &Map<String, Value>, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    parse_time(object.get(key).unwrap_or(&Value::Null)).map_err(|e| format!("`{key}`: {e}"))
}

/// A time as the wire may carry it: `yyyy-MM-ddTHH:mm:ss.SSSZ` (D12) or any RFC 3339
/// form, or epoch milliseconds as a JSON integer or a digit string (old examples,
/// section 3.1); null is `None`.
pub fn parse_time(value: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let millis = |ms: Option<i64>| {
        ms.and_then(DateTime::from_timestamp_millis)
            .map(Some)
            .ok_or_else(|| "epoch milliseconds out of range".to_string())
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => millis(n.as_i64()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            millis(s.parse().ok())
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("`{}` is not a time (yyyy-MM-ddTHH:mm:ss.SSSZ)", cut(s, 40))),
        other => Err(format!("a JSON {} is not a time", kind(other))),
    }
}

/// The wire's time format (D12): what the client writes in ranges.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A record that could not be decoded, kept for the dead-letter table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// The record's JSON as it appeared in the body (bytes that were not UTF-8 replaced).
    pub raw: String,
    pub error: String,
    /// The id, when it could still be read.
    pub id: Option<DeskId>,
}

/// One record of a page.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordOutcome {
    Ok(DeskRecord),
    Bad(BadRecord),
}

impl RecordOutcome {
    pub fn id(&self) -> Option<DeskId> {
        match self {
            RecordOutcome::Ok(r) => Some(r.id),
            RecordOutcome::Bad(b) => b.id,
        }
    }
}

/// A list page (`{"data":[...]}`) or a search page (`{"data":[...],"count":N}`); an
/// empty answer (204) is an empty page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub records: Vec<RecordOutcome>,
    /// Search's total of matches; `None` on lists, and when the server's value is not a
    /// non-negative integer (or a string of one: its type is a guess, D8).
    pub count: Option<u64>,
}

/// What replaces a byte sequence that is not UTF-8: a lone surrogate escape, which no
/// string decodes, so only the record holding it fails.
const NOT_UTF8: &str = "\\ud800";

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    count: Option<&'a RawValue>,
}

/// Decodes a page envelope (200): `item` decodes each element of `data` from its raw
/// text and whether the body held bytes that were not UTF-8.
pub(crate) fn decode_items<T>(
    body: &[u8],
    item: impl Fn(&str, bool) -> T,
) -> Result<(Vec<T>, Option<u64>), DecodeError> {
    let (text, tainted) = as_text(body);
    let envelope: Envelope = serde_json::from_str(&text).map_err(|e| decode_error(&e, &text))?;
    let data = envelope.data.ok_or_else(|| DecodeError::Shape {
        format: FORMAT,
        detail: "the page has no `data` array".into(),
    })?;
    let count = envelope
        .count
        .and_then(|raw| match serde_json::from_str(raw.get()) {
            Ok(Value::Number(n)) => n.as_u64(),
            Ok(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        });
    let items = data.iter().map(|raw| item(raw.get(), tainted)).collect();
    Ok((items, count))
}

/// Decodes a list or search page (200).
pub fn decode_page(body: &[u8]) -> Result<Page, DecodeError> {
    let (records, count) = decode_items(body, decode_record_text)?;
    Ok(Page { records, count })
}

/// Decodes one bare record (GET by id, create, update).
pub fn decode_record(body: &[u8]) -> Result<RecordOutcome, DecodeError> {
    let (text, tainted) = as_text(body);
    let raw: &RawValue = serde_json::from_str(&text).map_err(|e| decode_error(&e, &text))?;
    Ok(decode_record_text(raw.get(), tainted))
}

/// One record's JSON text: a `DeskRecord`, or a `BadRecord` saying why not.
pub(crate) fn decode_record_text(raw: &str, tainted: bool) -> RecordOutcome {
    let decoded = serde_json::from_str::<Value>(raw)
        .map_err(|e| e.to_string())
        .and_then(|value| match value {
            Value::Object(map) => DeskRecord::from_object(map),
            other => Err(format!(
                "a record is a JSON {}, not an object",
                kind(&other)
            )),
        });
    match decoded {
        Ok(record) => RecordOutcome::Ok(record),
        Err(error) => RecordOutcome::Bad(bad_record(raw, tainted, error)),
    }
}

pub(crate) fn bad_record(raw: &str, tainted: bool, error: String) -> BadRecord {
    let error = if tainted && raw.contains(NOT_UTF8) {
        format!("the record holds bytes that are not UTF-8 ({error})")
    } else {
        error
    };
    BadRecord {
        raw: raw.to_string(),
        error,
        id: salvage_id(raw),
    }
}

/// The body as text, each byte sequence that is not UTF-8 replaced by `NOT_UTF8`, and
/// whether any was.
pub(crate) fn as_text(body: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    if let Ok(text) = std::str::from_utf8(body) {
        return (text.into(), false);
    }
    let mut out = String::with_capacity(body.len() + 16);
    for chunk in body.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push_str(NOT_UTF8);
        }
    }
    (out.into(), true)
}

/// The id of a record that failed, read again with every surrogate escape made harmless
/// (a lone one fails the whole object, though its id may be fine).
fn salvage_id(raw: &str) -> Option<DeskId> {
    let mut cleaned = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("\\u") {
        cleaned.push_str(&rest[..at]);
        let escape = rest.get(at..at + 6).unwrap_or(&rest[at..]);
        let surrogate = escape.len() == 6
            && u16::from_str_radix(&escape[2..], 16).is_ok_and(|u| (0xD800..0xE000).contains(&u));
        cleaned.push_str(if surrogate { "\\ufffd" } else { escape });
        rest = &rest[at + escape.len()..];
    }
    cleaned.push_str(rest);
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&cleaned) else {
        return None;
    };
    DeskId::from_json(map.get("id")?).ok()
}

pub(crate) fn decode_error(error: &serde_json::Error, text: &str) -> DecodeError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Eof => DecodeError::Truncated {
            format: FORMAT,
            at: text.len(),
        },
        Category::Syntax | Category::Io => DecodeError::Malformed {
            format: FORMAT,
            at: 0,
            detail: cut(&error.to_string(), 200),
        },
        Category::Data => DecodeError::Shape {
            format: FORMAT,
            detail: cut(&error.to_string(), 200),
        },
    }
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// At most `max` characters of `text`, for messages: a server chooses its length.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
