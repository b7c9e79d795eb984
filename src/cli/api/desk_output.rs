//! How `zoho-sync api` prints a Zoho Desk answer: the record returned, as one JSON line
//! (`jsonl`), as `key: value` lines of its top-level fields (`table`) or as the body
//! received (`raw`); a trash as one line naming the ids moved to the recycle bin.
//! Rendering is pure (answer in, text out), and keeps the server's key order.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::args::Output;
use crate::desk::{DeskId, DeskModule};

/// The longest value of a `table` line, in characters (longer values end in `…`).
const MAX_VALUE_CHARS: usize = 200;

/// A record's answer body, printed as `output` asks.
pub(super) fn record(output: Output, body: &[u8]) -> Vec<u8> {
    match output {
        Output::Raw => body.to_vec(),
        Output::Jsonl => jsonl(body),
        Output::Table => match fields(body) {
            Some(fields) => table(&fields).into_bytes(),
            // Not an object: shown as it came rather than not at all.
            None => with_newline(body),
        },
    }
}

/// What a confirmed trash prints.
pub(super) fn trashed(output: Output, module: DeskModule, ids: &[DeskId]) -> Vec<u8> {
    let ids: Vec<String> = ids.iter().map(DeskId::to_string).collect();
    let text = match output {
        Output::Jsonl => format!(
            "{}\n",
            serde_json::json!({ "module": module.url_name(), "moved_to_recycle_bin": ids })
        ),
        Output::Table | Output::Raw => format!(
            "moved to the recycle bin: {} {}\n",
            module.url_name(),
            ids.join(", ")
        ),
    };
    text.into_bytes()
}

/// The body on one line: as received when it already is one (the key order kept),
/// else re-written compactly.
fn jsonl(body: &[u8]) -> Vec<u8> {
    let body = body.trim_ascii();
    let one_line = !body.iter().any(|b| matches!(b, b'\n' | b'\r'));
    match serde_json::from_slice::<Value>(body) {
        Ok(_) if one_line => with_newline(body),
        Ok(value) => format!("{value}\n").into_bytes(),
        Err(_) => with_newline(body),
    }
}

/// `key: value` lines, values aligned; strings bare, null empty, anything else
/// compact JSON; control characters shown as spaces so one field stays one line.
fn table(fields: &[(String, Value)]) -> String {
    let width = fields
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in fields {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let mut cell: String = text
            .chars()
            .take(MAX_VALUE_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if text.chars().count() > MAX_VALUE_CHARS {
            cell.push('…');
        }
        let key: String = key
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let label = format!("{key}:");
        out.push_str(format!("{label:<0$} {cell}", width + 1).trim_end());
        out.push('\n');
    }
    out
}

fn with_newline(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.push(b'\n');
    out
}

/// The top-level fields of a JSON object in the order received; `None` for anything
/// else.
fn fields(body: &[u8]) -> Option<Vec<(String, Value)>> {
    struct InOrder;
    impl<'de> Visitor<'de> for InOrder {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some(entry) = map.next_entry::<String, Value>()? {
                fields.push(entry);
            }
            Ok(fields)
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let fields = reader.deserialize_map(InOrder).ok()?;
    reader.end().ok()?;
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"subject":"Printer down","id":"7","cf":{"cf_a":null},"phone":null}"#;

    #[test]
    fn a_table_lists_top_level_fields_in_the_order_received() {
        let text = String::from_utf8(record(Output::Table, BODY)).unwrap_or_default();
        assert_eq!(
            text,
            "subject: Printer down\nid:      7\ncf:      {\"cf_a\":null}\nphone:\n"
        );
    }

    #[test]
    fn jsonl_is_the_record_on_one_line_and_raw_the_body_untouched() {
        let pretty = b"{\n  \"id\": \"7\"\n}";
        assert_eq!(record(Output::Jsonl, pretty), b"{\"id\":\"7\"}\n".to_vec());
        assert_eq!(record(Output::Jsonl, BODY), with_newline(BODY));
        assert_eq!(record(Output::Raw, pretty), pretty.to_vec());
    }

    #[test]
    fn a_trash_names_the_ids_moved_to_the_recycle_bin() {
        let ids = [DeskId::parse("1"), DeskId::parse("22")];
        let ids: Vec<DeskId> = ids.into_iter().flatten().collect();
        let text = trashed(Output::Table, DeskModule::Tickets, &ids);
        assert_eq!(text, b"moved to the recycle bin: tickets 1, 22\n".to_vec());
    }
}
