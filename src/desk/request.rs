//! One request of the Desk API as a value: what it asks for, checked against the
//! contract's limits before it is sent (D9, D10, D17), and what it costs (D19). The
//! caller prices a request with `cost`, reserves that in the ledger, and only then hands
//! the same value to `DeskClient::send`, so the price and the request cannot disagree.
//! Invariant: a request that passes `validate` is one the contract's server accepts;
//! one that does not never leaves the process (a refused request still costs nothing,
//! but a wasted round trip may cost a concurrency slot).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::desk::module::{
    Access, DeskModule, MAX_LIMIT, MAX_TRASH_IDS, ORGANIZATIONS_SCOPES, RECYCLE_BIN_SCOPES,
};
use crate::desk::record::{format_time, DeskId};

/// The last `from` search accepts, and the most results it walks (D9).
pub const SEARCH_MAX_FROM: u32 = 4999;
pub const SEARCH_MAX_RESULTS: u32 = 5000;

/// Credits of a GET by id, a create or an update (D19).
pub const SINGLE_COST: u32 = 1;
/// Credits of moving one record to the recycle bin (D19).
pub const TRASH_COST_PER_ID: u32 = 6;

/// What kind of call a request is: it decides how errors are classed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    List,
    Search,
    ById,
    Create,
    Update,
    Trash,
    Organizations,
    RecycleBin,
    AgentTimeEntries,
}

impl Operation {
    /// Whether the call changes data (and so must not be repeated blindly).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Update | Operation::Trash
        )
    }
}

/// The time a range filters on (`modifiedTimeRange`, ...) and a search sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeField {
    ModifiedTime,
    CreatedTime,
    /// Tickets only: replies that may not bump `modifiedTime` (D16, Q6).
    CustomerResponseTime,
}

impl TimeField {
    pub fn name(self) -> &'static str {
        match self {
            TimeField::ModifiedTime => "modifiedTime",
            TimeField::CreatedTime => "createdTime",
            TimeField::CustomerResponseTime => "customerResponseTime",
        }
    }

    /// The search parameter of a range of this field (`modifiedTimeRange`).
    pub fn range_param(self) -> &'static str {
        match self {
            TimeField::ModifiedTime => "modifiedTimeRange",
            TimeField::CreatedTime => "createdTimeRange",
            TimeField::CustomerResponseTime => "customerResponseTimeRange",
        }
    }
}

/// An inclusive range of times (D12): `field` between `from` and `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub field: TimeField,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeRange {
    fn param(&self) -> (&'static str, String) {
        let value = format!("{},{}", format_time(self.from), format_time(self.to));
        (self.field.range_param(), value)
    }
}

/// One search: a time range, sorted ascending by `sort_by`, from a 0-based offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    pub range: TimeRange,
    /// A second range narrowing the first (one instant of another field: the rows of a
    /// tie group, walked by `range`'s field).
    pub pinned: Option<TimeRange>,
    pub sort_by: TimeField,
    /// 0-based (D9).
    pub from: u32,
    pub limit: u32,
}

/// One request of the Desk API.
#[derive(Clone, Debug, PartialEq)]
pub enum DeskRequest {
    /// `GET /{module}?from=&limit=`; `from` is 1-based (0 reads as 1, D9).
    List {
        module: DeskModule,
        from: u32,
        limit: u32,
    },
    /// `GET /{module}/search?{field}Range=a,b&sortBy=&from=&limit=`.
    Search {
        module: DeskModule,
        query: SearchQuery,
    },
    /// `GET /{module}/{id}`.
    ById { module: DeskModule, id: DeskId },
    /// `POST /{module}` with the record's fields.
    Create {
        module: DeskModule,
        body: Map<String, Value>,
    },
    /// `PATCH /{module}/{id}` with the fields to change.
    Update {
        module: DeskModule,
        id: DeskId,
        body: Map<String, Value>,
    },
    /// `POST /{module}/moveToTrash` with up to 100 ids.
    Trash {
        module: DeskModule,
        ids: Vec<DeskId>,
    },
    /// `GET /organizations` (no `orgId` header): the token's organisations.
    Organizations,
    /// `GET /recycleBin?sortBy=-deletedTime&from=&limit=`, newest first; `from` 0-based.
    RecycleBin { from: u32, limit: u32 },
    /// `GET /agents/{agent}/timeEntry?module=tickets&modifiedTimeRange=&from=&limit=`.
    AgentTimeEntries {
        agent: DeskId,
        range: Option<TimeRange>,
        from: u32,
        limit: u32,
    },
    /// `GET /tickets/archivedTickets?departmentId=&from=&limit=` (D25): a department's
    /// archived tickets, which neither list nor search shows; `from` 1-based.
    ArchivedTickets {
        department: DeskId,
        from: u32,
        limit: u32,
    },
}

/// The credits of a list or search by its `from` (D19's tiers).
pub fn offset_cost(from: u32) -> u32 {
    match from {
        0..=2_000 => 3,
        2_001..=10_000 => 5,
        10_001..=50_000 => 10,
        50_001..=100_000 => 50,
        _ => 100,
    }
}

impl DeskRequest {
    pub fn operation(&self) -> Operation {
        match self {
            DeskRequest::List { .. } => Operation::List,
            DeskRequest::Search { .. } => Operation::Search,
            DeskRequest::ById { .. } => Operation::ById,
            DeskRequest::Create { .. } => Operation::Create,
            DeskRequest::Update { .. } => Operation::Update,
            DeskRequest::Trash { .. } => Operation::Trash,
            DeskRequest::Organizations => Operation::Organizations,
            DeskRequest::RecycleBin { .. } => Operation::RecycleBin,
            DeskRequest::AgentTimeEntries { .. } => Operation::AgentTimeEntries,
            DeskRequest::ArchivedTickets { .. } => Operation::List,
        }
    }

    /// The credits this request will be charged if it succeeds (D19); errors cost 0,
    /// so a reservation of this amount is never too small. `GET /organizations` is
    /// priced as a first list page (the contract does not say).
    pub fn cost(&self) -> u32 {
        match self {
            DeskRequest::List { from, .. }
            | DeskRequest::RecycleBin { from, .. }
            | DeskRequest::AgentTimeEntries { from, .. }
            | DeskRequest::ArchivedTickets { from, .. } => offset_cost(*from),
            DeskRequest::Search { query, .. } => offset_cost(query.from),
            DeskRequest::Organizations => offset_cost(0),
            DeskRequest::ById { .. } | DeskRequest::Create { .. } | DeskRequest::Update { .. } => {
                SINGLE_COST
            }
            DeskRequest::Trash { ids, .. } => {
                TRASH_COST_PER_ID.saturating_mul(u32::try_from(ids.len()).unwrap_or(u32::MAX))
            }
        }
    }

    /// The module the request is about (none for organisations and the recycle bin).
    pub fn module(&self) -> Option<DeskModule> {
        match self {
            DeskRequest::List { module, .. }
            | DeskRequest::Search { module, .. }
            | DeskRequest::ById { module, .. }
            | DeskRequest::Create { module, .. }
            | DeskRequest::Update { module, .. }
            | DeskRequest::Trash { module, .. } => Some(*module),
            DeskRequest::AgentTimeEntries { .. } => Some(DeskModule::TimeEntries),
            DeskRequest::ArchivedTickets { .. } => Some(DeskModule::Tickets),
            DeskRequest::Organizations | DeskRequest::RecycleBin { .. } => None,
        }
    }

    /// The OAuth scopes the request needs (section 2.4), for a `SCOPE_MISMATCH`'s message.
    pub fn scopes(&self) -> &'static [&'static str] {
        let access = match self.operation() {
            Operation::Search => Access::Search,
            Operation::Create => Access::Create,
            Operation::Update => Access::Update,
            Operation::Trash => Access::Trash,
            Operation::Organizations => return ORGANIZATIONS_SCOPES,
            Operation::RecycleBin => return RECYCLE_BIN_SCOPES,
            _ => Access::Read,
        };
        self.module().map_or(&[], |m| m.scopes(access))
    }

    /// The HTTP method.
    pub fn method(&self) -> reqwest::Method {
        match self.operation() {
            Operation::Create | Operation::Trash => reqwest::Method::POST,
            Operation::Update => reqwest::Method::PATCH,
            _ => reqwest::Method::GET,
        }
    }

    /// Whether the `orgId` header goes with the request (all but `/organizations`, D7).
    pub fn sends_org_id(&self) -> bool {
        self.operation() != Operation::Organizations
    }

    /// The path below `/api/v1`, as segments.
    pub fn path(&self) -> Vec<String> {
        let segments: Vec<String> = match self {
            DeskRequest::List { module, .. } | DeskRequest::Create { module, .. } => {
                vec![module.url_name().into()]
            }
            DeskRequest::Search { module, .. } => vec![module.url_name().into(), "search".into()],
            DeskRequest::ById { module, id } | DeskRequest::Update { module, id, .. } => {
                vec![module.url_name().into(), id.to_string()]
            }
            DeskRequest::Trash { module, .. } => {
                vec![module.url_name().into(), "moveToTrash".into()]
            }
            DeskRequest::Organizations => vec!["organizations".into()],
            DeskRequest::RecycleBin { .. } => vec!["recycleBin".into()],
            DeskRequest::AgentTimeEntries { agent, .. } => {
                vec!["agents".into(), agent.to_string(), "timeEntry".into()]
            }
            DeskRequest::ArchivedTickets { .. } => vec!["tickets".into(), "archivedTickets".into()],
        };
        segments
    }

    /// `GET /tickets/search`: for logs and messages (no query, so no values).
    pub fn describe(&self) -> String {
        format!("{} /{}", self.method(), self.path().join("/"))
    }

    /// The query parameters, in a fixed order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let page =
            |from: u32, limit: u32| vec![("from", from.to_string()), ("limit", limit.to_string())];
        match self {
            DeskRequest::List { from, limit, .. } => page(*from, *limit),
            DeskRequest::Search { query, .. } => {
                let mut params = vec![query.range.param()];
                params.extend(query.pinned.map(|p| p.param()));
                params.push(("sortBy", query.sort_by.name().into()));
                params.extend(page(query.from, query.limit));
                params
            }
            DeskRequest::RecycleBin { from, limit } => {
                let mut params = vec![("sortBy", "-deletedTime".to_string())];
                params.extend(page(*from, *limit));
                params
            }
            DeskRequest::ArchivedTickets {
                department,
                from,
                limit,
            } => {
                let mut params = vec![("departmentId", department.to_string())];
                params.extend(page(*from, *limit));
                params
            }
            DeskRequest::AgentTimeEntries {
                range, from, limit, ..
            } => {
                let mut params = vec![("module", "tickets".to_string())];
                params.extend(range.map(|r| r.param()));
                params.extend(page(*from, *limit));
                params
            }
            _ => Vec::new(),
        }
    }

    /// The JSON body of a write.
    pub fn body(&self) -> Option<Value> {
        match self {
            DeskRequest::Create { body, .. } | DeskRequest::Update { body, .. } => {
                Some(Value::Object(body.clone()))
            }
            DeskRequest::Trash { module, ids } => {
                let key = module.trash_key()?;
                let ids = ids.iter().map(|id| Value::String(id.to_string())).collect();
                Some(Value::Object(Map::from_iter([(
                    key.to_string(),
                    Value::Array(ids),
                )])))
            }
            _ => None,
        }
    }

    /// Checks the request against the contract's limits.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            DeskRequest::List { module, limit, .. } => {
                if *module == DeskModule::TimeEntries {
                    return Err("time entries are listed per agent (AgentTimeEntries)".into());
                }
                check_limit(*limit, module.limit())
            }
            DeskRequest::Search { module, query } => check_search(*module, query),
            DeskRequest::ById { module, .. } if *module == DeskModule::TimeEntries => {
                Err("a time entry is read through its ticket, not by id alone".into())
            }
            DeskRequest::ById { .. } | DeskRequest::Organizations => Ok(()),
            DeskRequest::Create { module, body } | DeskRequest::Update { module, body, .. } => {
                if !module.is_writable() {
                    return Err(format!("{module} records are not written by this client"));
                }
                if body.is_empty() {
                    return Err("the body has no fields".into());
                }
                Ok(())
            }
            DeskRequest::Trash { module, ids } => check_trash(*module, ids),
            DeskRequest::RecycleBin { limit, .. }
            | DeskRequest::AgentTimeEntries { limit, .. }
            | DeskRequest::ArchivedTickets { limit, .. } => check_limit(*limit, MAX_LIMIT),
        }
    }
}

fn check_limit(limit: u32, max: u32) -> Result<(), String> {
    if (1..=max).contains(&limit) {
        Ok(())
    } else {
        Err(format!("limit {limit} is outside 1..={max}"))
    }
}

fn check_search(module: DeskModule, query: &SearchQuery) -> Result<(), String> {
    if !module.has_search() {
        return Err(format!("{module} has no search with a time range (D15)"));
    }
    check_limit(query.limit, module.limit())?;
    if query.from > SEARCH_MAX_FROM || query.from + query.limit > SEARCH_MAX_RESULTS {
        return Err(format!(
            "search walks at most {SEARCH_MAX_RESULTS} results: from {} + limit {} is past it",
            query.from, query.limit
        ));
    }
    if query.range.from > query.range.to {
        return Err("the time range ends before it starts".into());
    }
    Ok(())
}

fn check_trash(module: DeskModule, ids: &[DeskId]) -> Result<(), String> {
    if module.trash_key().is_none() {
        return Err(format!("{module} records are not trashed by this client"));
    }
    if ids.is_empty() || ids.len() > MAX_TRASH_IDS {
        return Err(format!(
            "moveToTrash takes 1 to {MAX_TRASH_IDS} ids, not {}",
            ids.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
