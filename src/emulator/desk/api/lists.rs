//! `GET /{module}` and `GET /{module}/{id}` (section 3, D9-D11, D14, D18): lists page by
//! a 1-based `from` with no cap and answer in id order unless `sortBy` says otherwise;
//! the ticket list's filters (department, status, priority, channel, assignee, received
//! in days) and `include`; `fields=` replacing the projection. A record that is not live
//! (unknown, trashed, purged, another module's) is 403 FORBIDDEN by id.

use chrono::TimeDelta;
use serde_json::Value;

use super::super::credits::list_cost;
use super::super::errors::DeskError;
use super::super::module::DeskModule;
use super::super::records::schema::{self, Field};
use super::super::records::Object;
use super::super::store::{Filter, Hit, Sort, SortKey};
use super::super::time::{self, Range};
use super::{Call, Reply};
use crate::emulator::state::read;

/// The most names `fields=` may carry (D14).
const MAX_FIELDS: usize = 30;
const TICKET_INCLUDES: [&str; 6] = [
    "contacts",
    "products",
    "departments",
    "team",
    "assignee",
    "isRead",
];

pub struct ListOp {
    module: DeskModule,
    from: u64,
    limit: u32,
    sort: Sort,
    filters: Vec<Filter>,
    fields: Option<Vec<&'static Field>>,
    include: Vec<String>,
}

/// The list parameters each module documents (section 3).
fn allowed(module: DeskModule) -> &'static [&'static str] {
    match module {
        DeskModule::Tickets => &[
            "from",
            "limit",
            "sortBy",
            "include",
            "departmentId",
            "departmentIds",
            "priority",
            "channel",
            "assignee",
            "teamIds",
            "receivedInDays",
            "status",
            "viewId",
            "fields",
        ],
        DeskModule::Contacts => &["from", "limit", "sortBy", "include", "viewId", "fields"],
        DeskModule::Accounts => &["from", "limit", "sortBy", "viewId", "fields"],
        DeskModule::Contracts => &["from", "limit", "sortBy", "departmentId", "accountId"],
        _ => &["from", "limit", "sortBy", "departmentId", "fields"],
    }
}

/// The sort key a `sortBy` name means.
pub fn sort_key(name: &'static str) -> SortKey {
    match name {
        "createdTime" => SortKey::Created,
        "modifiedTime" | "recentThread" => SortKey::Modified,
        "ticketNumber" | "contractNumber" => SortKey::Number,
        "relevance" => SortKey::Id,
        other => SortKey::Field(other),
    }
}

impl ListOp {
    pub fn decode(call: &Call<'_>, module: DeskModule) -> Result<ListOp, DeskError> {
        let q = call.query;
        q.only(allowed(module))?;
        let from = q.list_from()?;
        let limit = q.limit(module.max_limit(), module.default_limit())?;
        let sort = q
            .sort(module.list_sorts())?
            .map_or(Sort::BY_ID, |(name, descending)| Sort {
                key: sort_key(name),
                descending,
            });
        let mut filters = Vec::new();
        // Products belong to several departments: their list filters on any of them.
        let department = if module == DeskModule::Products {
            "departmentIds"
        } else {
            "departmentId"
        };
        for (param, field) in [
            ("departmentId", department),
            ("accountId", "accountId"),
            ("channel", "channel"),
        ] {
            if let Some(value) = q.get(param)? {
                filters.push(Filter::Equals {
                    field,
                    values: vec![value.to_string()],
                });
            }
        }
        let include = match module {
            DeskModule::Tickets => {
                ticket_filters(call, &mut filters)?;
                q.choices("include", &TICKET_INCLUDES)?
            }
            DeskModule::Contacts => q.choices("include", &["accounts"])?,
            _ => Vec::new(),
        };
        if let Some(view) = q.get("viewId")? {
            // Views are the portal's saved filters; the emulator has only "all records".
            view.parse::<u64>()
                .map_err(|_| DeskError::InvalidValue("viewId".into()))?;
        }
        let fields = projection(q.get("fields")?, module)?;
        Ok(ListOp {
            module,
            from,
            limit,
            sort,
            filters,
            fields,
            include,
        })
    }

    pub fn cost(&self) -> u32 {
        list_cost(self.from)
    }

    pub fn run(self, call: &Call<'_>) -> Reply {
        let Some(slot) = call.org.slot(self.module) else {
            return Reply::no_content();
        };
        let skip = usize::try_from(self.from - 1).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(0);
        let hits = read(&slot.store).list(&self.filters, self.sort, skip, limit);
        let facts = &call.org.facts;
        let rows = hits
            .iter()
            .map(|hit| {
                let record = hit.record(facts, self.module);
                let mut row = match &self.fields {
                    Some(fields) => record.projected(fields),
                    None => record.list_row(),
                };
                include(&mut row, hit, call, &self.include, self.module);
                row
            })
            .collect();
        Reply::rows(rows, None)
    }
}

/// The ticket list's own filters (section 3: "Other list parameters").
fn ticket_filters(call: &Call<'_>, filters: &mut Vec<Filter>) -> Result<(), DeskError> {
    let q = call.query;
    let departments = q.ids("departmentIds", 20)?;
    if !departments.is_empty() {
        filters.push(Filter::Equals {
            field: "departmentId",
            values: departments,
        });
    }
    for (param, field) in [
        ("priority", "priority"),
        ("status", "status"),
        ("teamIds", "teamId"),
    ] {
        if let Some(value) = q.get(param)? {
            let values: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
            if values.len() > 20 {
                return Err(DeskError::InvalidValue(param.into()));
            }
            filters.push(Filter::Equals { field, values });
        }
    }
    match q.get("assignee")? {
        None => {}
        Some("Unassigned") => filters.push(Filter::Null("assigneeId")),
        Some(_) => filters.push(Filter::Equals {
            field: "assigneeId",
            values: q.ids("assignee", 100)?,
        }),
    }
    let days = q.choice("receivedInDays", &["15", "30", "90", "-1"])?;
    if let Some(days) = days.and_then(|d| d.parse::<i64>().ok()).filter(|d| *d > 0) {
        let now = time::millis(call.now);
        let from = now - TimeDelta::days(days).num_milliseconds();
        filters.push(Filter::Range {
            field: "createdTime",
            range: Range { from, to: now },
        });
    }
    Ok(())
}

/// `fields=a,b`: at most 30 names of the module; an unknown name is a 500 (D14).
pub fn projection(
    value: Option<&str>,
    module: DeskModule,
) -> Result<Option<Vec<&'static Field>>, DeskError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let names: Vec<&str> = value.split(',').map(str::trim).collect();
    if names.len() > MAX_FIELDS {
        return Err(DeskError::InvalidValue("fields".into()));
    }
    names
        .into_iter()
        .map(|name| schema::field(module, name).ok_or(DeskError::Internal))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Side-loads what `include` asked for into a list row.
fn include(row: &mut Object, hit: &Hit, call: &Call<'_>, wanted: &[String], module: DeskModule) {
    let record = hit.record(&call.org.facts, module);
    for name in wanted {
        let (key, value) = match name.as_str() {
            "contacts" => ("contact", record.embedded("contact")),
            "departments" => ("department", record.embedded("department")),
            "assignee" => ("assignee", record.embedded("assignee")),
            "accounts" => ("account", record.embedded("account")),
            "products" => ("product", Value::Null),
            "team" => ("team", Value::Null),
            _ => ("isRead", Value::Bool(false)),
        };
        row.0.push((key, value));
    }
}

pub struct GetOp {
    module: DeskModule,
    id: u64,
}

impl GetOp {
    pub fn decode(call: &Call<'_>, module: DeskModule, id: u64) -> Result<GetOp, DeskError> {
        call.query.only(&[])?;
        Ok(GetOp { module, id })
    }

    pub fn run(self, call: &Call<'_>) -> Result<Reply, DeskError> {
        let slot = call.org.slot(self.module).ok_or(DeskError::Forbidden)?;
        let hit = read(&slot.store).get(self.id).ok_or(DeskError::Forbidden)?;
        Ok(Reply::json(
            &hit.record(&call.org.facts, self.module).full(),
        ))
    }
}
