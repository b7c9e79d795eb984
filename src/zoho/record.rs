//! The one record type every method decodes into: the record id (when the answer carried
//! it) and the fields in the order the server sent them, label → value. The text `null`
//! is the wire's "empty" and never survives decoding: an empty field is `None`.

use std::fmt;
use std::str::FromStr;

/// A record id: the decimal string of a positive 64-bit integer on the wire.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct RecordId(pub u64);

impl RecordId {
    /// Parses an id as the wire writes it; anything but plain digits is rejected.
    pub fn parse(text: &str) -> Option<RecordId> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(RecordId)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for RecordId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordId::parse(s).ok_or_else(|| format!("`{s}` is not a record id (a positive integer)"))
    }
}

/// A label or a value as received. Most are short (labels, statuses, dates, ids): up to
/// 24 bytes are held inline, so decoding a page does not allocate once per field, and
/// freeing it does not free once per field.
pub type Text = compact_str::CompactString;

/// One field as received: its label and its value (`None` for the wire's `null`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: Text,
    pub value: Option<Text>,
}

/// One record: its id and its fields in wire order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Record {
    pub id: Option<RecordId>,
    pub fields: Vec<Field>,
}

/// The wire's spelling of an empty value.
pub const NULL_TEXT: &str = "null";

impl Record {
    /// Builds a record from decoded `(label, raw text)` pairs, mapping `null` to absent
    /// and taking the id from the field labelled `id_field` (case-insensitively).
    /// Fails with a description when the id field is present but not a valid id.
    pub fn from_wire<L: Into<Text>, V: Into<Text>>(
        id_field: &str,
        pairs: impl IntoIterator<Item = (L, V)>,
    ) -> Result<Record, String> {
        let mut record = Record::default();
        for (label, text) in pairs {
            let (label, text) = (label.into(), text.into());
            let value = (text != NULL_TEXT).then_some(text);
            if label.eq_ignore_ascii_case(id_field) {
                if let Some(raw) = value.as_deref() {
                    let id = RecordId::parse(raw).ok_or_else(|| {
                        format!("field `{label}` holds `{raw}`, which is not a record id")
                    })?;
                    record.id = Some(id);
                }
            }
            record.fields.push(Field { label, value });
        }
        Ok(record)
    }

    /// The value of the field with this label (matched case-insensitively, as the server does).
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.label.eq_ignore_ascii_case(label))
            .and_then(|f| f.value.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_text_becomes_absent_and_the_id_field_sets_the_id() {
        let r = Record::from_wire(
            "CASEID",
            [
                ("caseid".to_string(), "42".to_string()),
                ("Email".to_string(), "null".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(r.id, Some(RecordId(42)));
        assert_eq!(r.fields[1].value, None);
        assert_eq!(r.get("CASEID"), Some("42"));
    }

    #[test]
    fn a_non_numeric_id_is_an_error_naming_the_field() {
        let err =
            Record::from_wire("CASEID", [("CASEID".to_string(), "x1".to_string())]).unwrap_err();
        assert!(err.contains("CASEID"), "{err}");
    }
}
