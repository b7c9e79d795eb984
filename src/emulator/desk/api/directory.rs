//! The organisation's fixed directory and the per-agent time entries (D15): `GET
//! /organizations` (no orgId needed, the token's organisation), `/agents`, `/departments`
//! (full lists, 1-based `from`), and `GET /agents/{id}/timeEntry` with its `module`, time
//! ranges and 0-based paging, and `GET /tickets/archivedTickets` of a department (D25:
//! tickets the churn archived). Each is priced as a list by its `from` (D19).

use serde_json::{json, Value};

use super::super::credits::list_cost;
use super::super::errors::DeskError;
use super::super::facts::{Agent, Department};
use super::super::module::DeskModule;
use super::super::records::schema::PARENT_MODULES;
use super::super::route::Endpoint;
use super::super::store::{Filter, Sort, SortKey};
use super::super::time;
use super::{Call, Reply};
use crate::emulator::state::read;

pub enum DirectoryOp {
    Organizations,
    Archived {
        department: u64,
        from: u64,
        limit: u32,
    },
    Agents {
        from: u64,
        limit: u32,
        none: bool,
        department: Option<u64>,
    },
    Departments {
        from: u64,
        limit: u32,
        enabled: Option<&'static str>,
    },
    TimeEntries {
        from: u64,
        limit: u32,
        filters: Vec<Filter>,
        sort: Sort,
    },
}

impl DirectoryOp {
    pub fn decode(call: &Call<'_>) -> Result<DirectoryOp, DeskError> {
        let q = call.query;
        match call.endpoint {
            Endpoint::Agents => {
                q.only(&["from", "limit", "status", "departmentId", "searchStr"])?;
                let status = q.choice("status", &["ACTIVE", "DISABLED", "DELETED"])?;
                // Every agent is active; `searchStr` finds none (section 3, MCP-AG).
                let none = status.is_some_and(|s| s != "ACTIVE") || q.get("searchStr")?.is_some();
                Ok(DirectoryOp::Agents {
                    from: q.list_from()?,
                    limit: q.limit(100, 10)?,
                    none,
                    department: q.id("departmentId")?,
                })
            }
            Endpoint::Departments => {
                q.only(&["from", "limit", "isEnabled"])?;
                Ok(DirectoryOp::Departments {
                    from: q.list_from()?,
                    limit: q.limit(100, 10)?,
                    enabled: q.choice("isEnabled", &["true", "false"])?,
                })
            }
            Endpoint::AgentTimeEntries(agent) => time_entries(call, agent),
            Endpoint::ArchivedTickets => {
                q.only(&["departmentId", "from", "limit"])?;
                Ok(DirectoryOp::Archived {
                    // Required: an archive is a department's.
                    department: q
                        .id("departmentId")?
                        .ok_or_else(|| DeskError::InvalidValue("departmentId".to_string()))?,
                    from: q.list_from()?,
                    limit: q.limit(100, 10)?,
                })
            }
            _ => {
                q.only(&[])?;
                Ok(DirectoryOp::Organizations)
            }
        }
    }

    pub fn cost(&self) -> u32 {
        match self {
            DirectoryOp::Organizations => list_cost(0),
            DirectoryOp::Archived { from, .. } => list_cost(*from),
            DirectoryOp::Agents { from, .. }
            | DirectoryOp::Departments { from, .. }
            | DirectoryOp::TimeEntries { from, .. } => list_cost(*from),
        }
    }

    pub fn run(self, call: &Call<'_>) -> Result<Reply, DeskError> {
        let facts = &call.org.facts;
        Ok(match self {
            DirectoryOp::Organizations => Reply::json(&json!({ "data": [organization(call)] })),
            DirectoryOp::Archived {
                department,
                from,
                limit,
            } => {
                let slot = call
                    .org
                    .slot(DeskModule::Tickets)
                    .ok_or(DeskError::Forbidden)?;
                let skip = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
                let rows = read(&slot.store).archived_in(department, skip, limit as usize);
                Reply::rows(rows, None)
            }
            DirectoryOp::Agents {
                from,
                limit,
                none,
                department,
            } => {
                let matching = facts.agents.iter().filter(|_| !none).filter(|_| {
                    department.is_none_or(|d| facts.departments.iter().any(|x| x.id == d))
                });
                Reply::rows(page(matching.map(|a| agent(a, call)), from, limit), None)
            }
            DirectoryOp::Departments {
                from,
                limit,
                enabled,
            } => {
                let matching = facts
                    .departments
                    .iter()
                    .zip(0..)
                    .filter(|_| enabled != Some("false"));
                Reply::rows(
                    page(
                        matching.map(|(d, i)| department(d, i == 0, call)),
                        from,
                        limit,
                    ),
                    None,
                )
            }
            DirectoryOp::TimeEntries {
                from,
                limit,
                filters,
                sort,
            } => {
                let slot = call
                    .org
                    .slot(DeskModule::TimeEntry)
                    .ok_or(DeskError::Forbidden)?;
                let skip = usize::try_from(from).unwrap_or(usize::MAX);
                let hits = read(&slot.store).list(&filters, sort, skip, limit as usize);
                let rows = hits
                    .iter()
                    .map(|h| h.record(facts, DeskModule::TimeEntry).full())
                    .collect();
                Reply::rows(rows, None)
            }
        })
    }
}

fn time_entries(call: &Call<'_>, agent: u64) -> Result<DirectoryOp, DeskError> {
    let q = call.query;
    q.only(&[
        "from",
        "limit",
        "module",
        "modifiedTimeRange",
        "createdTimeRange",
        "orderBy",
        "departmentId",
    ])?;
    if !call.org.facts.agents.iter().any(|a| a.id == agent) {
        return Err(DeskError::Forbidden);
    }
    let module = q.choice("module", &PARENT_MODULES)?.unwrap_or("tickets");
    let mut filters = vec![
        Filter::Equals {
            field: "ownerId",
            values: vec![agent.to_string()],
        },
        Filter::Equals {
            field: "module",
            values: vec![module.to_string()],
        },
    ];
    for (param, field) in [
        ("modifiedTimeRange", "modifiedTime"),
        ("createdTimeRange", "createdTime"),
    ] {
        if let Some(range) = q.range(param)? {
            filters.push(Filter::Range { field, range });
        }
    }
    if let Some(department) = q.id("departmentId")? {
        filters.push(Filter::Equals {
            field: "departmentId",
            values: vec![department.to_string()],
        });
    }
    let descending = q.choice("orderBy", &["ASC", "DESC"])? == Some("DESC");
    Ok(DirectoryOp::TimeEntries {
        from: q.zero_based_from(false)?,
        limit: q.limit(100, 10)?,
        filters,
        sort: Sort {
            key: SortKey::Field("executedTime"),
            descending,
        },
    })
}

/// The window of a 1-based list.
fn page(rows: impl Iterator<Item = Value>, from: u64, limit: u32) -> Vec<Value> {
    let skip = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
    rows.skip(skip).take(limit as usize).collect()
}

fn organization(call: &Call<'_>) -> Value {
    let org = call.org;
    json!({
        "id": org.org_id(),
        "companyName": org.company_name,
        "portalName": org.facts.portal,
        "portalURL": format!("https://desk.zoho.com/support/{}", org.facts.portal),
        "edition": org.edition.wire_name(),
        "isDefault": true,
        "isPayloadEncryption": false,
    })
}

fn agent(agent: &Agent, call: &Call<'_>) -> Value {
    let departments: Vec<String> = call
        .org
        .facts
        .departments
        .iter()
        .map(|d| d.id.to_string())
        .collect();
    json!({
        "id": agent.id.to_string(),
        "firstName": agent.first_name,
        "lastName": agent.last_name,
        "name": format!("{} {}", agent.first_name, agent.last_name),
        "emailId": agent.email,
        "zuid": agent.zuid.to_string(),
        "status": "ACTIVE",
        "isConfirmed": true,
        "associatedDepartmentIds": departments,
        "photoURL": Value::Null,
    })
}

fn department(department: &Department, first: bool, call: &Call<'_>) -> Value {
    let creator = call.org.facts.agents.first().map(|a| a.id.to_string());
    json!({
        "id": department.id.to_string(),
        "name": department.name,
        "description": Value::Null,
        "isEnabled": true,
        "isDefault": first,
        "isVisibleInCustomerPortal": true,
        "creatorId": creator,
        "createdTime": time::render_secs(call.org.facts.born - 5 * 365 * 86_400),
    })
}
