//! OAuth scopes (section 2.4): what a grant code was consented for, carried by the refresh
//! token it becomes and every access token minted from that; and the scopes each endpoint
//! needs. A scope is `Desk.<resource>.<OP>` with OP one of READ, CREATE, UPDATE, DELETE or
//! ALL (which grants every OP of its resource); names match ignoring case. The self client
//! configured for an organisation holds every scope. A call lacking one is 403
//! `SCOPE_MISMATCH`, which does not name the scope.

use super::module::DeskModule;
use super::route::Endpoint;

const OPS: [&str; 5] = ["READ", "CREATE", "UPDATE", "DELETE", "ALL"];

/// The scopes a token holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scopes {
    /// Every scope (the configured self client's refresh token).
    All,
    /// `(resource, OP)` pairs, lower-case resource, upper-case OP.
    Some(Vec<(String, String)>),
}

impl Scopes {
    /// Decodes a comma list; `None` if any item is not a Desk scope (one invalid scope
    /// fails the whole consent, section 2.4).
    pub fn parse(text: &str) -> Option<Scopes> {
        let items = text
            .split(',')
            .map(|item| {
                let mut parts = item.trim().split('.');
                let (Some(desk), Some(resource), Some(op), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return None;
                };
                let op = op.to_uppercase();
                let valid = desk.eq_ignore_ascii_case("desk")
                    && !resource.is_empty()
                    && OPS.contains(&op.as_str());
                valid.then(|| (resource.to_lowercase(), op))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Scopes::Some(items))
    }

    /// Whether the token may do `op` on `resource`.
    pub fn grants(&self, resource: &str, op: &str) -> bool {
        match self {
            Scopes::All => true,
            Scopes::Some(items) => items
                .iter()
                .any(|(r, o)| r == resource && (o == op || o == "ALL")),
        }
    }

    /// Whether the token may call `endpoint`.
    pub fn allow(&self, endpoint: Endpoint) -> bool {
        needed(endpoint).iter().all(|(r, o)| self.grants(r, o))
    }
}

/// The scopes an endpoint needs (section 2.4's table; search also needs `search.READ`).
fn needed(endpoint: Endpoint) -> Vec<(&'static str, &'static str)> {
    match endpoint {
        Endpoint::List(m) | Endpoint::Get(m, _) => vec![(resource(m), "READ")],
        Endpoint::Search(m) => vec![(resource(m), "READ"), ("search", "READ")],
        Endpoint::Create(m) => vec![(resource(m), "CREATE")],
        Endpoint::Update(m, _) => vec![(resource(m), "UPDATE")],
        Endpoint::Trash(m) => vec![(resource(m), "DELETE")],
        Endpoint::ArchivedTickets => vec![("tickets", "READ")],
        Endpoint::Organizations | Endpoint::Agents | Endpoint::Departments => {
            vec![("basic", "READ")]
        }
        Endpoint::AgentTimeEntries(_) | Endpoint::RecycleBin => vec![("settings", "READ")],
        Endpoint::BinRestore | Endpoint::BinDelete => vec![("settings", "UPDATE")],
    }
}

/// The scope resource of a module: accounts share the contacts scopes; contracts, not in
/// the scope list, are read with the settings scope (section 2.4, GUESS).
fn resource(module: DeskModule) -> &'static str {
    match module {
        DeskModule::Tickets => "tickets",
        DeskModule::Contacts | DeskModule::Accounts => "contacts",
        DeskModule::Tasks => "tasks",
        DeskModule::Calls => "calls",
        DeskModule::Events => "events",
        DeskModule::Products => "products",
        DeskModule::Contracts | DeskModule::TimeEntry => "settings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_string_parses_and_one_bad_item_fails_it_whole() {
        let scopes = Scopes::parse("Desk.tickets.READ, Desk.search.READ,desk.contacts.all");
        let Some(scopes) = scopes else {
            panic!("a valid consent string")
        };
        assert!(scopes.allow(Endpoint::Search(DeskModule::Tickets)));
        assert!(scopes.allow(Endpoint::Trash(DeskModule::Accounts)));
        assert!(!scopes.allow(Endpoint::Create(DeskModule::Tickets)));
        assert!(!scopes.allow(Endpoint::Agents));
        assert_eq!(Scopes::parse("Desk.tickets.READ,Desk.tickets.WRITE"), None);
        assert_eq!(Scopes::parse("tickets.READ"), None);
        assert!(Scopes::All.allow(Endpoint::BinDelete));
    }
}
