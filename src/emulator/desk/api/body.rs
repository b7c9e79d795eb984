//! The body of a write decoded at the edge (section 8, D24): a JSON object (empty is
//! `EMPTY_PAYLOAD`, anything else 400), only the fields the contract lists for the
//! module, each a string or null of the field's vocabulary and length, `cf` keyed by the
//! module's custom field names. Every problem is one `INVALID_DATA` entry with a JSON
//! Pointer, all of them reported at once; a create also gets the values a new record
//! shows where the body said nothing.

use serde_json::{Map, Value};

use super::super::errors::{DeskError, FieldError, FieldErrorKind};
use super::super::module::DeskModule;
use super::super::records::schema::{self, TICKET_STATUS};
use super::super::records::Written;
use super::super::time;
use super::Call;
use crate::emulator::store::vocabulary::PRIORITIES;

/// The fields a create or update may carry (section 8).
pub(super) fn writable(module: DeskModule) -> &'static [&'static str] {
    match module {
        DeskModule::Tickets => &[
            "subject",
            "description",
            "status",
            "priority",
            "category",
            "subCategory",
            "classification",
            "channel",
            "language",
            "dueDate",
            "assigneeId",
            "teamId",
            "departmentId",
            "productId",
            "contactId",
            "email",
            "phone",
            "resolution",
            "cf",
        ],
        DeskModule::Contacts => &[
            "firstName",
            "lastName",
            "email",
            "phone",
            "mobile",
            "accountId",
            "title",
            "description",
            "cf",
        ],
        _ => &[
            "accountName",
            "email",
            "website",
            "phone",
            "description",
            "cf",
        ],
    }
}

pub(super) fn required(module: DeskModule) -> &'static [&'static str] {
    match module {
        DeskModule::Tickets => &["subject", "departmentId"],
        DeskModule::Contacts => &["lastName"],
        _ => &["accountName"],
    }
}

/// What a record created through the API shows where the body said nothing.
pub(super) fn defaults(module: DeskModule) -> Written {
    let mut written = Map::new();
    let nulls: &[&str] = match module {
        DeskModule::Tickets => &[
            "description",
            "priority",
            "category",
            "classification",
            "email",
            "phone",
            "assigneeId",
            "productId",
            "accountId",
            "dueDate",
            "responseDueDate",
            "customerResponseTime",
        ],
        DeskModule::Contacts => &[
            "firstName",
            "email",
            "phone",
            "mobile",
            "accountId",
            "title",
            "description",
        ],
        _ => &["email", "website", "phone", "description"],
    };
    for name in nulls {
        written.insert((*name).into(), Value::Null);
    }
    let cf: Map<String, Value> = schema::custom_fields(module)
        .iter()
        .map(|(n, _)| ((*n).into(), Value::Null))
        .collect();
    written.insert("cf".into(), Value::Object(cf));
    if module == DeskModule::Tickets {
        written.insert("status".into(), Value::String("Open".into()));
        for counter in [
            "threadCount",
            "commentCount",
            "taskCount",
            "attachmentCount",
            "timeEntryCount",
        ] {
            written.insert(counter.into(), Value::String("0".into()));
        }
    }
    written
}

/// The body's fields, each checked; `prefix` roots the JSON Pointers.
pub(super) fn fields(
    call: &Call<'_>,
    module: DeskModule,
    body: Map<String, Value>,
    prefix: &str,
) -> Result<Written, DeskError> {
    let mut errors = Vec::new();
    let mut written = Map::new();
    for (key, value) in body {
        let pointer = format!("{prefix}/{key}");
        if !writable(module).contains(&key.as_str()) {
            errors.push(FieldError::new(
                &pointer,
                FieldErrorKind::Invalid,
                "unknown field",
            ));
            continue;
        }
        match check(call, module, &key, &value) {
            Ok(()) => {
                written.insert(key, value);
            }
            Err(message) => {
                errors.push(FieldError::new(&pointer, FieldErrorKind::Invalid, message))
            }
        }
    }
    if errors.is_empty() {
        Ok(written)
    } else {
        Err(DeskError::InvalidData(errors))
    }
}

/// One field's value: text or null, of the field's vocabulary and length.
fn check(
    call: &Call<'_>,
    module: DeskModule,
    key: &str,
    value: &Value,
) -> Result<(), &'static str> {
    let facts = &call.org.facts;
    if key == "cf" {
        return check_cf(module, value);
    }
    let Some(text) = value.as_str() else {
        return if value.is_null() {
            Ok(())
        } else {
            Err("the value must be a string or null")
        };
    };
    let limit = if key == "description" { 65_535 } else { 1_000 };
    let is_id = |mut ids: Box<dyn Iterator<Item = u64> + '_>| ids.any(|id| id.to_string() == text);
    let ok = match key {
        "status" if module == DeskModule::Tickets => TICKET_STATUS.contains(&text),
        "priority" => PRIORITIES.contains(&text),
        "departmentId" => is_id(Box::new(facts.departments.iter().map(|d| d.id))),
        "assigneeId" => is_id(Box::new(facts.agents.iter().map(|a| a.id))),
        "dueDate" => time::parse(text).is_some(),
        "contactId" | "accountId" | "productId" | "teamId" => {
            text.bytes().all(|b| b.is_ascii_digit())
        }
        _ => text.chars().count() <= limit,
    };
    if ok {
        Ok(())
    } else {
        Err("the value is not allowed for this field")
    }
}

/// `cf`: an object of the module's custom field names to strings or null (D24).
fn check_cf(module: DeskModule, value: &Value) -> Result<(), &'static str> {
    let Value::Object(map) = value else {
        return Err("cf must be an object");
    };
    let names = schema::custom_fields(module);
    let known = map.keys().all(|k| names.iter().any(|(n, _)| n == k));
    let texts = map
        .values()
        .all(|v| v.is_null() || v.as_str().is_some_and(|s| s.chars().count() <= 255));
    if known && texts {
        Ok(())
    } else {
        Err("cf holds an unknown field or a value that is not a string")
    }
}

/// The body as a JSON object: empty is `EMPTY_PAYLOAD`, anything else not an object 400.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, DeskError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DeskError::EmptyPayload);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(DeskError::BadRequest),
    }
}

pub(super) fn invalid(pointer: &str, kind: FieldErrorKind, message: &str) -> DeskError {
    DeskError::InvalidData(vec![FieldError::new(pointer, kind, message)])
}
