//! The write acknowledgement's `responsedata`, read without relying on its inner layout
//! (contract 3.4): it is small, so it is taken as a `Value` and walked in document order.

use serde_json::Value;

use crate::zoho::codec::Written;
use crate::zoho::module::Module;
use crate::zoho::record::RecordId;

/// Walks `responsedata` without relying on its inner layout (contract 3.4): ids come from
/// every `record.id` and from `fl`s labelled with the id field or `Id`.
pub(super) fn walk_ack(data: &Value, module: Module, written: &mut Written) -> Result<(), String> {
    enum Item<'v> {
        Any(&'v Value),
        Record(&'v Value),
        Fl(&'v Value),
    }
    // An explicit stack, children pushed in reverse so that ids come out in order.
    let mut stack = vec![Item::Any(data)];
    while let Some(item) = stack.pop() {
        match item {
            Item::Any(Value::Object(map)) => {
                for (key, value) in map.iter().rev() {
                    stack.push(if key.eq_ignore_ascii_case("record") {
                        Item::Record(value)
                    } else if key.eq_ignore_ascii_case("fl") {
                        Item::Fl(value)
                    } else {
                        Item::Any(value)
                    });
                }
            }
            Item::Any(Value::Array(items)) => stack.extend(items.iter().rev().map(Item::Any)),
            Item::Record(Value::Array(items)) => stack.extend(items.iter().rev().map(Item::Record)),
            Item::Fl(Value::Array(items)) => stack.extend(items.iter().rev().map(Item::Fl)),
            Item::Record(record @ Value::Object(map)) => {
                if let Some((_, id)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")) {
                    written.ids.push(parse_id(id)?);
                }
                stack.push(Item::Any(record));
            }
            Item::Fl(Value::Object(map)) => {
                let get = |name: &str| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v)
                };
                let label = get("val").and_then(Value::as_str).unwrap_or_default();
                let content = get("content");
                if label.eq_ignore_ascii_case("message") {
                    written.message = content.and_then(Value::as_str).map(str::to_owned);
                } else if label.eq_ignore_ascii_case(module.id_field())
                    || label.eq_ignore_ascii_case("id")
                {
                    written.ids.push(parse_id(content.unwrap_or(&Value::Null))?);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_id(value: &Value) -> Result<RecordId, String> {
    value
        .as_str()
        .and_then(RecordId::parse)
        .ok_or_else(|| format!("{value} in the acknowledgement is not a record id"))
}
