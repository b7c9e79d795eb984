//! The Desk API's paths decoded into a typed `Endpoint` at the edge: the module named by
//! the path, a record id that is digits (D13), and the HTTP method the path allows.
//! A path Desk does not have, or a record id that is not digits, is `URL_NOT_FOUND`
//! (D18); a path it has under another method is `METHOD_NOT_ALLOWED`.

use axum::http::Method;

use super::errors::DeskError;
use super::module::DeskModule;

/// What a Desk call asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Organizations,
    List(DeskModule),
    Search(DeskModule),
    Get(DeskModule, u64),
    Create(DeskModule),
    Update(DeskModule, u64),
    Trash(DeskModule),
    Agents,
    Departments,
    AgentTimeEntries(u64),
    /// `GET /tickets/archivedTickets` (D25).
    ArchivedTickets,
    RecycleBin,
    BinRestore,
    BinDelete,
}

impl Endpoint {
    /// The name counters and the log use (`tickets.search`).
    pub fn name(self) -> String {
        match self {
            Endpoint::Organizations => "organizations".into(),
            Endpoint::List(m) => format!("{m}.list"),
            Endpoint::Search(m) => format!("{m}.search"),
            Endpoint::Get(m, _) => format!("{m}.get"),
            Endpoint::Create(m) => format!("{m}.create"),
            Endpoint::Update(m, _) => format!("{m}.update"),
            Endpoint::Trash(m) => format!("{m}.moveToTrash"),
            Endpoint::Agents => "agents.list".into(),
            Endpoint::Departments => "departments.list".into(),
            Endpoint::AgentTimeEntries(_) => "agents.timeEntry".into(),
            Endpoint::ArchivedTickets => "tickets.archivedTickets".into(),
            Endpoint::RecycleBin => "recycleBin.list".into(),
            Endpoint::BinRestore => "recycleBin.restore".into(),
            Endpoint::BinDelete => "recycleBin.delete".into(),
        }
    }

    /// Decodes `path` (what follows `/api/v1/`) under `method`.
    pub fn parse(method: &Method, path: &str) -> Result<Endpoint, DeskError> {
        let segments: Vec<&str> = path.split('/').collect();
        let (get, post) = (Method::GET, Method::POST);
        let only = |allowed: &Method, endpoint: Endpoint| {
            if method == allowed {
                Ok(endpoint)
            } else {
                Err(DeskError::MethodNotAllowed)
            }
        };
        match segments.as_slice() {
            ["organizations"] => only(&get, Endpoint::Organizations),
            ["agents"] => only(&get, Endpoint::Agents),
            ["departments"] => only(&get, Endpoint::Departments),
            ["agents", id, "timeEntry"] => only(&get, Endpoint::AgentTimeEntries(record_id(id)?)),
            ["recycleBin"] => only(&get, Endpoint::RecycleBin),
            ["recycleBin", "restore"] => only(&post, Endpoint::BinRestore),
            ["recycleBin", "delete"] => only(&post, Endpoint::BinDelete),
            [name] => {
                let module = listed(name)?;
                match *method {
                    Method::GET => Ok(Endpoint::List(module)),
                    Method::POST if module.writable() => Ok(Endpoint::Create(module)),
                    _ => Err(DeskError::MethodNotAllowed),
                }
            }
            ["tickets", "archivedTickets"] => only(&get, Endpoint::ArchivedTickets),
            [name, "search"] => only(&get, Endpoint::Search(searchable(name)?)),
            [name, "moveToTrash"] => {
                let module = listed(name)?;
                if module.trash_key().is_none() {
                    return Err(DeskError::UrlNotFound);
                }
                only(&post, Endpoint::Trash(module))
            }
            [name, id] => {
                let module = listed(name)?;
                let id = record_id(id)?;
                match *method {
                    Method::GET => Ok(Endpoint::Get(module, id)),
                    Method::PATCH if module.writable() => Ok(Endpoint::Update(module, id)),
                    _ => Err(DeskError::MethodNotAllowed),
                }
            }
            _ => Err(DeskError::UrlNotFound),
        }
    }
}

/// A module with a list endpoint (every store but time entries, read per agent).
fn listed(name: &str) -> Result<DeskModule, DeskError> {
    DeskModule::parse(name)
        .filter(|m| *m != DeskModule::TimeEntry)
        .ok_or(DeskError::UrlNotFound)
}

fn searchable(name: &str) -> Result<DeskModule, DeskError> {
    DeskModule::parse(name)
        .filter(|m| DeskModule::SEARCHABLE.contains(m))
        .ok_or(DeskError::UrlNotFound)
}

/// A record id: digits (D13). Digits too many for an int64 name no record: `u64::MAX`
/// stands for them, so they are "not visible" (403) like any unknown numeric id.
fn record_id(text: &str) -> Result<u64, DeskError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DeskError::UrlNotFound);
    }
    Ok(text.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_into_endpoints_with_their_methods() {
        let get = |p: &str| Endpoint::parse(&Method::GET, p);
        assert_eq!(
            get("tickets/search"),
            Ok(Endpoint::Search(DeskModule::Tickets))
        );
        assert_eq!(get("contracts"), Ok(Endpoint::List(DeskModule::Contracts)));
        assert_eq!(
            get("tickets/123"),
            Ok(Endpoint::Get(DeskModule::Tickets, 123))
        );
        assert_eq!(get("agents/7/timeEntry"), Ok(Endpoint::AgentTimeEntries(7)));
        assert_eq!(get("tickets/abc"), Err(DeskError::UrlNotFound));
        assert_eq!(
            get("tickets/99999999999999999999999"),
            Ok(Endpoint::Get(DeskModule::Tickets, u64::MAX))
        );
        assert_eq!(get("contracts/search"), Err(DeskError::UrlNotFound));
        assert_eq!(get("timeEntry"), Err(DeskError::UrlNotFound));
        assert_eq!(get("tickets/"), Err(DeskError::UrlNotFound));
        assert_eq!(get(""), Err(DeskError::UrlNotFound));
    }

    #[test]
    fn writes_exist_only_where_section_eight_has_them() {
        let post = |p: &str| Endpoint::parse(&Method::POST, p);
        assert_eq!(post("tickets"), Ok(Endpoint::Create(DeskModule::Tickets)));
        assert_eq!(post("tasks"), Err(DeskError::MethodNotAllowed));
        assert_eq!(
            post("accounts/moveToTrash"),
            Ok(Endpoint::Trash(DeskModule::Accounts))
        );
        assert_eq!(post("tasks/moveToTrash"), Err(DeskError::UrlNotFound));
        assert_eq!(
            Endpoint::parse(&Method::PATCH, "contacts/5"),
            Ok(Endpoint::Update(DeskModule::Contacts, 5))
        );
        assert_eq!(
            Endpoint::parse(&Method::DELETE, "tickets/5"),
            Err(DeskError::MethodNotAllowed)
        );
        assert_eq!(
            Endpoint::parse(&Method::GET, "recycleBin/restore"),
            Err(DeskError::MethodNotAllowed)
        );
    }
}
