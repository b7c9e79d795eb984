//! The recycle bin (section 5, D17): `GET /recycleBin` over every module's trashed
//! records (0-based `from`, `limit` 1-100, `sortBy` with `-`, newest deletion first by
//! default, filters by department and module), and `POST /recycleBin/restore` and
//! `/delete` with `{"ids":[...]}` answering one result per id. Retention (60 days) is
//! applied by the stores before any of this reads them. Restores and deletes cost 6
//! credits per id, the list is priced by its `from` (D19).

use std::cmp::Ordering;

use serde_json::{json, Value};

use super::super::credits::{list_cost, BIN_COST_PER_ID};
use super::super::errors::{DeskError, FieldErrorKind};
use super::super::module::DeskModule;
use super::super::route::Endpoint;
use super::super::store::Trashed;
use super::super::time;
use super::body::object;
use super::{Call, Reply};
use crate::emulator::state::{read, write};

const MODULE_NAMES: [&str; 11] = [
    "accounts",
    "contacts",
    "tickets",
    "tasks",
    "timeEntry",
    "calls",
    "events",
    "contracts",
    "products",
    "topics",
    "solutions",
];
/// The most ids one restore or delete takes, as `moveToTrash` (D17).
const MAX_IDS: usize = 100;
const SORTS: [&str; 5] = ["name", "type", "department", "deletedBy", "deletedTime"];

pub enum BinOp {
    List {
        from: u64,
        limit: u32,
        sort: (&'static str, bool),
        department: Option<u64>,
        module: Option<&'static str>,
        include: Vec<String>,
    },
    Restore(Vec<Value>),
    Delete(Vec<Value>),
}

impl BinOp {
    pub fn decode(call: &Call<'_>) -> Result<BinOp, DeskError> {
        let q = call.query;
        if call.endpoint != Endpoint::RecycleBin {
            q.only(&[])?;
            let mut body = object(call.body)?;
            let ids = match body.remove("ids") {
                Some(Value::Array(ids)) if (1..=MAX_IDS).contains(&ids.len()) => Some(ids),
                _ => None,
            };
            let Some(ids) = ids else {
                return Err(super::super::errors::DeskError::InvalidData(vec![
                    super::super::errors::FieldError::new(
                        "/ids",
                        FieldErrorKind::Missing,
                        "give 1 to 100 ids",
                    ),
                ]));
            };
            return Ok(match call.endpoint {
                Endpoint::BinRestore => BinOp::Restore(ids),
                _ => BinOp::Delete(ids),
            });
        }
        q.only(&[
            "from",
            "limit",
            "departmentId",
            "include",
            "sortBy",
            "moduleId",
            "module",
        ])?;
        let module = q.choice("module", &MODULE_NAMES)?;
        let module = match q.id("moduleId")? {
            Some(_) => return Err(DeskError::InvalidValue("moduleId".into())),
            None => module,
        };
        Ok(BinOp::List {
            from: q.zero_based_from(false)?,
            limit: q.limit(100, 10)?,
            sort: q.sort(&SORTS)?.unwrap_or(("deletedTime", true)),
            department: q.id("departmentId")?,
            module,
            include: q.choices("include", &["department", "deletedBy"])?,
        })
    }

    pub fn cost(&self) -> u32 {
        match self {
            BinOp::List { from, .. } => list_cost(*from),
            BinOp::Restore(ids) | BinOp::Delete(ids) => {
                BIN_COST_PER_ID.saturating_mul(ids.len() as u32)
            }
        }
    }

    pub fn run(self, call: &Call<'_>) -> Result<Reply, DeskError> {
        match self {
            BinOp::List {
                from,
                limit,
                sort,
                department,
                module,
                include,
            } => {
                let mut rows = bin_rows(call, module);
                if let Some(department) = department {
                    rows.retain(|(_, row)| {
                        row["departmentId"].as_str() == Some(department.to_string().as_str())
                    });
                }
                rows.sort_by(|(a, ra), (b, rb)| compare(sort, a, ra, b, rb));
                let skip = usize::try_from(from).unwrap_or(usize::MAX);
                let page = rows
                    .into_iter()
                    .skip(skip)
                    .take(limit as usize)
                    .map(|(_, row)| with_includes(row, &include, call))
                    .collect();
                Ok(Reply::rows::<Value>(page, None))
            }
            BinOp::Restore(ids) => Ok(mass(call, &ids, true)),
            BinOp::Delete(ids) => Ok(mass(call, &ids, false)),
        }
    }
}

/// Every trashed record (of one module, if named) as a bin row, with its module.
fn bin_rows(call: &Call<'_>, module: Option<&str>) -> Vec<(Trashed, Value)> {
    let facts = &call.org.facts;
    let mut rows = Vec::new();
    for (m, slot) in call.org.slots() {
        if module.is_some_and(|name| name != m.url_name()) {
            continue;
        }
        let store = read(&slot.store);
        for trashed in store.trashed() {
            let record = trashed.hit.record(facts, m);
            let row = json!({
                "id": trashed.hit.entry.id.to_string(),
                "displayName": display_name(m, &record),
                "type": m.bin_type(),
                "departmentId": record.get("departmentId"),
                "deletedById": trashed.deleted_by.to_string(),
                "deletedTime": time::render_secs(trashed.deleted_at),
            });
            rows.push((trashed.clone(), row));
        }
    }
    rows
}

fn display_name(module: DeskModule, record: &super::super::records::Record<'_>) -> Value {
    let key = match module {
        DeskModule::Contacts => "lastName",
        DeskModule::Accounts => "accountName",
        DeskModule::Products => "productName",
        DeskModule::Contracts => "contractName",
        DeskModule::TimeEntry => "id",
        _ => "subject",
    };
    record.get(key)
}

fn compare(sort: (&str, bool), a: &Trashed, ra: &Value, b: &Trashed, rb: &Value) -> Ordering {
    let (key, descending) = sort;
    let text = |r: &Value, k: &str| r[k].as_str().map(str::to_string).unwrap_or_default();
    let order = match key {
        "deletedTime" => a.deleted_at.cmp(&b.deleted_at),
        "name" => text(ra, "displayName").cmp(&text(rb, "displayName")),
        "type" => text(ra, "type").cmp(&text(rb, "type")),
        "department" => text(ra, "departmentId").cmp(&text(rb, "departmentId")),
        _ => a.deleted_by.cmp(&b.deleted_by),
    };
    let order = if descending { order.reverse() } else { order };
    order.then(a.hit.entry.id.cmp(&b.hit.entry.id))
}

fn with_includes(mut row: Value, include: &[String], call: &Call<'_>) -> Value {
    let facts = &call.org.facts;
    if include.iter().any(|i| i == "department") {
        let id = row["departmentId"].as_str().map(str::to_string);
        let department = facts
            .departments
            .iter()
            .find(|d| Some(d.id.to_string()) == id);
        row["department"] = department.map_or(
            Value::Null,
            |d| json!({ "id": d.id.to_string(), "name": d.name }),
        );
    }
    if include.iter().any(|i| i == "deletedBy") {
        let id = row["deletedById"].as_str().map(str::to_string);
        let agent = facts.agents.iter().find(|a| Some(a.id.to_string()) == id);
        row["deletedBy"] = agent.map_or(Value::Null, |a| json!({ "id": a.id.to_string(), "firstName": a.first_name, "lastName": a.last_name }));
    }
    row
}

/// Restores or deletes each id; one result per id, in the order given.
fn mass(call: &Call<'_>, ids: &[Value], restore: bool) -> Reply {
    let results: Vec<Value> = ids
        .iter()
        .map(|item| {
            let text = match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let done = text.parse::<u64>().ok().and_then(|id| {
                let (_, slot) = call.org.slot_of(id)?;
                let mut store = write(&slot.store);
                let result = if restore { store.restore(id, call.now).map(|_| ()) } else { store.purge(id) };
                result.ok()
            });
            match done {
                Some(()) => json!({ "id": text, "success": true, "errors": Value::Null }),
                None => json!({
                    "id": text, "success": false,
                    "errors": { "errorCode": "INVALID_DATA", "message": "The record is not in the recycle bin." },
                }),
            }
        })
        .collect();
    Reply::json(&json!({ "results": results }))
}
