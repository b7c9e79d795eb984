//! The recycle bin's rows (section 5), decoded at the edge: the id of the deleted
//! record, its module (from the row's `type`, D17) and when it was deleted. A row of a
//! `type` the contract does not name (`Attachments`, anything new) is kept with no
//! module, for the caller to log and skip (Q13); a row that cannot be read (no id, no
//! time) is a `BadRecord` and never costs its page.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::desk::module::DeskModule;
use crate::desk::record::{bad_record, cut, decode_items, parse_time, BadRecord, DeskId};
use crate::zoho::error::DecodeError;

/// One record in the recycle bin.
#[derive(Clone, Debug, PartialEq)]
pub struct BinEntry {
    /// The deleted record's id.
    pub id: DeskId,
    /// The row's `type` as sent (cut to 64 characters).
    pub bin_type: String,
    /// The module of `bin_type`; `None` for a type the contract does not name.
    pub module: Option<DeskModule>,
    pub deleted_time: DateTime<Utc>,
    /// The whole row as received.
    pub object: Map<String, Value>,
}

/// One row of a recycle-bin page.
#[derive(Clone, Debug, PartialEq)]
pub enum BinOutcome {
    Ok(BinEntry),
    Bad(BadRecord),
}

/// A page of `GET /recycleBin`, newest deletion first; 204 is an empty page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BinPage {
    pub entries: Vec<BinOutcome>,
}

/// Decodes a recycle-bin page (200).
pub fn decode_bin_page(body: &[u8]) -> Result<BinPage, DecodeError> {
    let (entries, _) = decode_items(body, |raw, tainted| match entry(raw) {
        Ok(entry) => BinOutcome::Ok(entry),
        Err(error) => BinOutcome::Bad(bad_record(raw, tainted, error)),
    })?;
    Ok(BinPage { entries })
}

fn entry(raw: &str) -> Result<BinEntry, String> {
    let object = match serde_json::from_str::<Value>(raw).map_err(|e| e.to_string())? {
        Value::Object(object) => object,
        _ => return Err("a recycle-bin row is not an object".into()),
    };
    let id = DeskId::from_json(object.get("id").unwrap_or(&Value::Null))?;
    let bin_type = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a recycle-bin row without a `type` string")?;
    let deleted_time = parse_time(object.get("deletedTime").unwrap_or(&Value::Null))
        .map_err(|e| format!("`deletedTime`: {e}"))?
        .ok_or("a recycle-bin row without a `deletedTime`")?;
    Ok(BinEntry {
        id,
        bin_type: cut(bin_type, 64),
        module: DeskModule::from_bin_type(bin_type),
        deleted_time,
        object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_rows_name_their_module_and_unknown_types_are_kept_without_one() {
        let body = br#"{"data":[
            {"displayName":"x","departmentId":"4000000013244","deletedById":"4000000000059","id":"4000000017184","type":"Tickets","deletedTime":"2020-06-21T16:16:16.000Z"},
            {"id":"5","type":"Attachments","deletedTime":"2020-06-21T16:16:15.000Z"},
            {"id":"6","type":"Tickets"},
            {"id":"7","type":7,"deletedTime":"2020-06-21T16:16:15.000Z"}
        ]}"#;
        let page = decode_bin_page(body).unwrap();
        let BinOutcome::Ok(first) = &page.entries[0] else {
            panic!("{:?}", page.entries[0])
        };
        assert_eq!(first.module, Some(DeskModule::Tickets));
        assert_eq!(first.id.get(), 4000000017184);
        let BinOutcome::Ok(attachment) = &page.entries[1] else {
            panic!()
        };
        assert_eq!(
            (attachment.module, attachment.bin_type.as_str()),
            (None, "Attachments")
        );
        for bad in &page.entries[2..] {
            assert!(
                matches!(bad, BinOutcome::Bad(b) if b.id.is_some()),
                "{bad:?}"
            );
        }
    }
}
