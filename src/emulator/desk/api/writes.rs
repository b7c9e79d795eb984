//! The writes of section 8 (D17, D23, D24): `POST /{tickets|contacts|accounts}` creates
//! (required fields checked, a ticket's inline `contact` creating the contact first),
//! `PATCH /{module}/{id}` partial updates, and `POST /{module}/moveToTrash` (at most 100
//! ids, all live, or nothing moves). Bodies are decoded at the edge: only the fields the
//! contract lists, strings or null, `cf` keyed by the module's custom field names; every
//! problem is an `INVALID_DATA` entry with a JSON Pointer. Each write stamps the emulated
//! second and costs 1 credit, a move to the bin 6 per id (D19).

use serde_json::Value;

use super::super::credits::BIN_COST_PER_ID;
use super::super::errors::{DeskError, FieldError, FieldErrorKind};
use super::super::module::DeskModule;
use super::super::records::Written;
use super::super::route::Endpoint;
use super::body::{defaults, fields, invalid, object, required};
use super::{Call, Reply};
use crate::emulator::state::write;

/// The most ids one `moveToTrash` takes (D17).
const MAX_TRASH_IDS: usize = 100;

pub enum WriteOp {
    Create {
        module: DeskModule,
        written: Written,
        contact: Option<Written>,
    },
    Update {
        module: DeskModule,
        id: u64,
        patch: Written,
    },
    Trash {
        module: DeskModule,
        ids: Vec<u64>,
    },
}

impl WriteOp {
    pub fn decode(call: &Call<'_>) -> Result<WriteOp, DeskError> {
        match call.endpoint {
            Endpoint::Create(module) => {
                call.query.only(&[])?;
                create(call, module)
            }
            Endpoint::Update(module, id) => {
                call.query.only(&["disableClosureNotification"])?;
                call.query
                    .choice("disableClosureNotification", &["true", "false"])?;
                let body = object(call.body)?;
                let patch = fields(call, module, body, "")?;
                Ok(WriteOp::Update { module, id, patch })
            }
            Endpoint::Trash(module) => {
                call.query.only(&[])?;
                trash(call, module)
            }
            _ => Err(DeskError::UrlNotFound),
        }
    }

    pub fn cost(&self) -> u32 {
        match self {
            WriteOp::Trash { ids, .. } => BIN_COST_PER_ID.saturating_mul(ids.len() as u32),
            _ => 1,
        }
    }

    pub fn run(self, call: &Call<'_>) -> Result<Reply, DeskError> {
        let org = call.org;
        let author = org.facts.agents.first().map_or(0, |a| a.id).to_string();
        match self {
            WriteOp::Create {
                module,
                mut written,
                contact,
            } => {
                if let Some(contact) = contact {
                    let slot = org.slot(DeskModule::Contacts).ok_or(DeskError::Internal)?;
                    let hit = write(&slot.store).create(contact, call.now);
                    written.insert("contactId".into(), Value::String(hit.entry.id.to_string()));
                }
                written.insert("createdBy".into(), Value::String(author.clone()));
                written.insert("modifiedBy".into(), Value::String(author));
                let slot = org.slot(module).ok_or(DeskError::Internal)?;
                let hit = write(&slot.store).create(written, call.now);
                Ok(Reply::json(&hit.record(&org.facts, module).full()))
            }
            WriteOp::Update {
                module,
                id,
                mut patch,
            } => {
                patch.insert("modifiedBy".into(), Value::String(author));
                let slot = org.slot(module).ok_or(DeskError::Internal)?;
                let hit = write(&slot.store)
                    .update(id, patch, call.now)
                    .map_err(|_| DeskError::Forbidden)?;
                Ok(Reply::json(&hit.record(&org.facts, module).full()))
            }
            WriteOp::Trash { module, ids } => {
                let slot = org.slot(module).ok_or(DeskError::Internal)?;
                let by = org.facts.agents.first().map_or(0, |a| a.id);
                let mut store = write(&slot.store);
                // All or nothing: a record trashed since the body was checked fails the call.
                if ids.iter().any(|id| store.get(*id).is_none()) {
                    return Err(DeskError::Forbidden);
                }
                for id in ids {
                    store
                        .trash(id, by, call.now)
                        .map_err(|_| DeskError::Forbidden)?;
                }
                Ok(Reply::no_content())
            }
        }
    }
}

fn create(call: &Call<'_>, module: DeskModule) -> Result<WriteOp, DeskError> {
    let mut body = object(call.body)?;
    let contact = match body.remove("contact") {
        Some(inline) if module == DeskModule::Tickets => Some(inline_contact(call, inline)?),
        Some(_) => {
            return Err(invalid(
                "/contact",
                FieldErrorKind::Invalid,
                "unknown field",
            ))
        }
        None => None,
    };
    let mut written = defaults(module);
    written.extend(fields(call, module, body, "")?);
    let mut missing: Vec<FieldError> = required(module)
        .iter()
        .filter(|name| written.get(**name).is_none_or(Value::is_null))
        .map(|name| {
            FieldError::new(
                &format!("/{name}"),
                FieldErrorKind::Missing,
                "the field is required",
            )
        })
        .collect();
    let no_contact = written.get("contactId").is_none_or(Value::is_null) && contact.is_none();
    if module == DeskModule::Tickets && no_contact {
        missing.push(FieldError::new(
            "/contactId",
            FieldErrorKind::Missing,
            "contactId or contact is required",
        ));
    }
    if !missing.is_empty() {
        return Err(DeskError::InvalidData(missing));
    }
    Ok(WriteOp::Create {
        module,
        written,
        contact,
    })
}

/// A ticket's inline `contact{lastName, email, firstName?}`: a contact to create.
fn inline_contact(call: &Call<'_>, inline: Value) -> Result<Written, DeskError> {
    let Value::Object(map) = inline else {
        return Err(invalid(
            "/contact",
            FieldErrorKind::Invalid,
            "contact must be an object",
        ));
    };
    let mut contact = defaults(DeskModule::Contacts);
    contact.extend(fields(call, DeskModule::Contacts, map, "/contact")?);
    if contact.get("lastName").is_none_or(Value::is_null) {
        return Err(invalid(
            "/contact/lastName",
            FieldErrorKind::Missing,
            "the field is required",
        ));
    }
    Ok(contact)
}

fn trash(call: &Call<'_>, module: DeskModule) -> Result<WriteOp, DeskError> {
    let key = module.trash_key().ok_or(DeskError::UrlNotFound)?;
    let mut body = object(call.body)?;
    let Some(Value::Array(items)) = body.remove(key) else {
        return Err(invalid(
            &format!("/{key}"),
            FieldErrorKind::Missing,
            "a list of ids is required",
        ));
    };
    if items.is_empty() || items.len() > MAX_TRASH_IDS {
        return Err(invalid(
            &format!("/{key}"),
            FieldErrorKind::Invalid,
            "give 1 to 100 ids",
        ));
    }
    let store =
        crate::emulator::state::read(&call.org.slot(module).ok_or(DeskError::Internal)?.store);
    let mut ids = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (at, item) in items.iter().enumerate() {
        let id = match item {
            Value::String(s) => s.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let pointer = format!("/{key}/{at}");
        match id {
            Some(id) if ids.contains(&id) => errors.push(FieldError::new(
                &pointer,
                FieldErrorKind::Duplicate,
                "the id is given twice",
            )),
            Some(id) if store.get(id).is_some() => ids.push(id),
            _ => errors.push(FieldError::new(
                &pointer,
                FieldErrorKind::Invalid,
                "no such record",
            )),
        }
    }
    if errors.is_empty() {
        Ok(WriteOp::Trash { module, ids })
    } else {
        Err(DeskError::InvalidData(errors))
    }
}
