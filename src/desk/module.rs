//! The modules of the Zoho Desk API this project mirrors (contract sections 3, 5 and
//! 2.4): their URL names, how each is read incrementally (D15), the page size the client
//! asks for (D10), the body key of their moveToTrash (D17), the `type` the recycle bin
//! gives their rows (D17) and the OAuth scopes each use needs. Names arrive from users
//! and servers in any case; `DeskModule::parse` and `DeskModule::from_bin_type` are the
//! only places that accept them, so the rest of the code handles the eleven valid
//! modules only.

use std::fmt;
use std::str::FromStr;

/// One Zoho Desk module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeskModule {
    Tickets,
    Contacts,
    Accounts,
    Tasks,
    Calls,
    Events,
    Products,
    Contracts,
    Agents,
    Departments,
    TimeEntries,
}

/// How a module's changes are found (D15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrementalRead {
    /// `GET /{module}/search?modifiedTimeRange=lo,hi&sortBy=modifiedTime`.
    Search,
    /// No time filter: the whole list is read every run.
    FullList,
    /// `GET /agents/{id}/timeEntry?modifiedTimeRange=lo,hi&module=tickets`, per agent.
    PerAgent,
}

/// What a request does with a module, for the scopes it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A list or a GET by id.
    Read,
    /// `/{module}/search` (needs `Desk.search.READ` besides the module's read scope).
    Search,
    Create,
    Update,
    Trash,
}

/// The largest `limit` of every list and search used here (D10) but contracts'.
pub const MAX_LIMIT: u32 = 100;
/// The largest `limit` of `/contracts` (D10).
pub const CONTRACTS_MAX_LIMIT: u32 = 50;
/// The most ids one moveToTrash takes (D17).
pub const MAX_TRASH_IDS: usize = 100;

/// The consent string `zoho-sync auth desk` recommends: every scope any module needs for
/// reading, searching, the recycle bin and the writes of section 8 (section 2.4).
pub const RECOMMENDED_SCOPES: &str = "Desk.tickets.READ,Desk.tickets.CREATE,Desk.tickets.UPDATE,Desk.tickets.DELETE,Desk.contacts.READ,Desk.contacts.CREATE,Desk.contacts.UPDATE,Desk.contacts.DELETE,Desk.tasks.READ,Desk.calls.READ,Desk.events.READ,Desk.products.READ,Desk.search.READ,Desk.basic.READ,Desk.settings.READ";

/// The scope of the recycle bin's list (section 2.4).
pub const RECYCLE_BIN_SCOPES: &[&str] = &["Desk.settings.READ"];
/// The scope of `GET /organizations` (section 2.4).
pub const ORGANIZATIONS_SCOPES: &[&str] = &["Desk.basic.READ"];

impl DeskModule {
    pub const ALL: [DeskModule; 11] = [
        DeskModule::Tickets,
        DeskModule::Contacts,
        DeskModule::Accounts,
        DeskModule::Tasks,
        DeskModule::Calls,
        DeskModule::Events,
        DeskModule::Products,
        DeskModule::Contracts,
        DeskModule::Agents,
        DeskModule::Departments,
        DeskModule::TimeEntries,
    ];

    /// Accepts the name in any case; time entries also as `timeEntry`, `time-entries`,
    /// `timeentries`.
    pub fn parse(name: &str) -> Option<DeskModule> {
        let lower = name.trim().to_ascii_lowercase().replace(['-', '_'], "");
        DeskModule::ALL
            .into_iter()
            .find(|m| m.name().replace('_', "") == lower)
            .or_else(|| (lower == "timeentry").then_some(DeskModule::TimeEntries))
    }

    /// The name used in configuration, tables and messages (`time_entries`).
    pub fn name(self) -> &'static str {
        match self {
            DeskModule::TimeEntries => "time_entries",
            other => other.url_name(),
        }
    }

    /// The path segment of the module's list (`/api/v1/{url_name}`); time entries are
    /// listed per agent under `/agents/{id}/timeEntry`.
    pub fn url_name(self) -> &'static str {
        match self {
            DeskModule::Tickets => "tickets",
            DeskModule::Contacts => "contacts",
            DeskModule::Accounts => "accounts",
            DeskModule::Tasks => "tasks",
            DeskModule::Calls => "calls",
            DeskModule::Events => "events",
            DeskModule::Products => "products",
            DeskModule::Contracts => "contracts",
            DeskModule::Agents => "agents",
            DeskModule::Departments => "departments",
            DeskModule::TimeEntries => "timeEntry",
        }
    }

    /// How the module's changes are read (D15).
    pub fn incremental(self) -> IncrementalRead {
        match self {
            DeskModule::Contracts | DeskModule::Agents | DeskModule::Departments => {
                IncrementalRead::FullList
            }
            DeskModule::TimeEntries => IncrementalRead::PerAgent,
            _ => IncrementalRead::Search,
        }
    }

    /// Whether `/{module}/search` takes `modifiedTimeRange` (D15).
    pub fn has_search(self) -> bool {
        self.incremental() == IncrementalRead::Search
    }

    /// The `limit` the client asks for: the largest the server allows (D10).
    pub fn limit(self) -> u32 {
        match self {
            DeskModule::Contracts => CONTRACTS_MAX_LIMIT,
            _ => MAX_LIMIT,
        }
    }

    /// The body key of `POST /{module}/moveToTrash` (D17); `None` where the client
    /// offers no trash.
    pub fn trash_key(self) -> Option<&'static str> {
        match self {
            DeskModule::Tickets => Some("ticketIds"),
            DeskModule::Contacts => Some("contactIds"),
            DeskModule::Accounts => Some("accountIds"),
            _ => None,
        }
    }

    /// Whether the client creates and updates records of this module (section 8).
    pub fn is_writable(self) -> bool {
        self.trash_key().is_some()
    }

    /// The recycle bin's `type` for this module's rows (D17); agents and departments
    /// are never in the bin.
    pub fn bin_type(self) -> Option<&'static str> {
        match self {
            DeskModule::Tickets => Some("Tickets"),
            DeskModule::Contacts => Some("Contacts"),
            DeskModule::Accounts => Some("Accounts"),
            DeskModule::Tasks => Some("Tasks"),
            DeskModule::Calls => Some("Calls"),
            DeskModule::Events => Some("Events"),
            DeskModule::Products => Some("Products"),
            DeskModule::Contracts => Some("Contracts"),
            DeskModule::TimeEntries => Some("TimeEntry"),
            DeskModule::Agents | DeskModule::Departments => None,
        }
    }

    /// The module of a recycle-bin row's `type`, in any case (`Attachments` and types
    /// the contract does not name are `None`: the caller logs and skips them, Q13).
    pub fn from_bin_type(text: &str) -> Option<DeskModule> {
        let text = text.trim();
        DeskModule::ALL
            .into_iter()
            .find(|m| m.bin_type().is_some_and(|t| t.eq_ignore_ascii_case(text)))
            .or_else(|| {
                text.eq_ignore_ascii_case("TimeEntries")
                    .then_some(DeskModule::TimeEntries)
            })
    }

    /// The scopes a request of this kind needs (section 2.4). Accounts use the contacts
    /// scopes; contracts' scope is a guess of the contract (Q9).
    pub fn scopes(self, access: Access) -> &'static [&'static str] {
        match (self, access) {
            (DeskModule::Tickets, Access::Read) => &["Desk.tickets.READ"],
            (DeskModule::Tickets, Access::Search) => &["Desk.tickets.READ", "Desk.search.READ"],
            (DeskModule::Tickets, Access::Create) => &["Desk.tickets.CREATE"],
            (DeskModule::Tickets, Access::Update) => &["Desk.tickets.UPDATE"],
            (DeskModule::Tickets, Access::Trash) => &["Desk.tickets.DELETE"],
            (DeskModule::Contacts | DeskModule::Accounts, Access::Read) => &["Desk.contacts.READ"],
            (DeskModule::Contacts | DeskModule::Accounts, Access::Search) => {
                &["Desk.contacts.READ", "Desk.search.READ"]
            }
            (DeskModule::Contacts | DeskModule::Accounts, Access::Create) => {
                &["Desk.contacts.CREATE"]
            }
            (DeskModule::Contacts | DeskModule::Accounts, Access::Update) => {
                &["Desk.contacts.UPDATE"]
            }
            (DeskModule::Contacts | DeskModule::Accounts, Access::Trash) => {
                &["Desk.contacts.DELETE"]
            }
            (DeskModule::Tasks, Access::Search) => &["Desk.tasks.READ", "Desk.search.READ"],
            (DeskModule::Tasks, _) => &["Desk.tasks.READ"],
            (DeskModule::Calls, Access::Search) => &["Desk.calls.READ", "Desk.search.READ"],
            (DeskModule::Calls, _) => &["Desk.calls.READ"],
            (DeskModule::Events, Access::Search) => &["Desk.events.READ", "Desk.search.READ"],
            (DeskModule::Events, _) => &["Desk.events.READ"],
            (DeskModule::Products, Access::Search) => &[
                "Desk.products.READ",
                "Desk.settings.READ",
                "Desk.search.READ",
            ],
            (DeskModule::Products, _) => &["Desk.products.READ", "Desk.settings.READ"],
            (DeskModule::Contracts | DeskModule::Agents | DeskModule::Departments, _) => {
                &["Desk.basic.READ", "Desk.settings.READ"]
            }
            (DeskModule::TimeEntries, _) => &["Desk.settings.READ", "Desk.tickets.READ"],
        }
    }
}

impl fmt::Display for DeskModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeskModule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeskModule::parse(s).ok_or_else(|| {
            let names: Vec<&str> = DeskModule::ALL.iter().map(|m| m.name()).collect();
            format!(
                "unknown Zoho Desk module `{}` (one of {})",
                s.chars().take(64).collect::<String>(),
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_parses_back_from_its_name_in_any_case() {
        for m in DeskModule::ALL {
            assert_eq!(DeskModule::parse(m.name()), Some(m));
            assert_eq!(DeskModule::parse(&m.name().to_ascii_uppercase()), Some(m));
        }
        for alias in ["timeEntry", "time-entries", "TimeEntries", "timeentry"] {
            assert_eq!(DeskModule::parse(alias), Some(DeskModule::TimeEntries));
        }
        assert_eq!(DeskModule::parse("requests"), None);
        assert!("x".repeat(10_000).parse::<DeskModule>().unwrap_err().len() < 400);
    }

    #[test]
    fn contracts_agents_and_departments_are_read_whole_and_the_rest_by_search() {
        let whole: Vec<DeskModule> = DeskModule::ALL
            .into_iter()
            .filter(|m| m.incremental() == IncrementalRead::FullList)
            .collect();
        assert_eq!(
            whole,
            [
                DeskModule::Contracts,
                DeskModule::Agents,
                DeskModule::Departments
            ]
        );
        assert_eq!(
            DeskModule::TimeEntries.incremental(),
            IncrementalRead::PerAgent
        );
        assert!(DeskModule::Products.has_search());
    }

    #[test]
    fn contracts_are_paged_by_fifty_and_every_other_module_by_a_hundred() {
        for m in DeskModule::ALL {
            let expected = if m == DeskModule::Contracts { 50 } else { 100 };
            assert_eq!(m.limit(), expected, "{m}");
        }
    }

    #[test]
    fn only_tickets_contacts_and_accounts_are_written_and_trashed() {
        let writable: Vec<_> = DeskModule::ALL
            .into_iter()
            .filter(|m| m.is_writable())
            .map(|m| m.trash_key().unwrap())
            .collect();
        assert_eq!(writable, ["ticketIds", "contactIds", "accountIds"]);
    }

    #[test]
    fn recycle_bin_types_map_back_to_their_modules_and_attachments_to_none() {
        for m in DeskModule::ALL {
            if let Some(t) = m.bin_type() {
                assert_eq!(DeskModule::from_bin_type(t), Some(m));
                assert_eq!(DeskModule::from_bin_type(&t.to_ascii_lowercase()), Some(m));
            }
        }
        assert_eq!(DeskModule::from_bin_type("Attachments"), None);
        assert_eq!(DeskModule::from_bin_type(""), None);
    }

    #[test]
    fn search_needs_the_search_scope_and_every_scope_is_in_the_recommended_consent() {
        let consent: Vec<&str> = RECOMMENDED_SCOPES.split(',').collect();
        for m in DeskModule::ALL {
            for access in [Access::Read, Access::Search] {
                for scope in m.scopes(access) {
                    assert!(consent.contains(scope), "{m} {access:?}: {scope}");
                }
            }
            if m.has_search() {
                assert!(m.scopes(Access::Search).contains(&"Desk.search.READ"));
            }
        }
        assert_eq!(
            DeskModule::Accounts.scopes(Access::Trash),
            ["Desk.contacts.DELETE"]
        );
    }
}
