//! The Desk record modules the emulator keeps a store for, and what the contract says about
//! each one's wire vocabulary: its URL segment, its recycle-bin `type`, the id key of its
//! `moveToTrash` body, its list `limit` bounds and defaults (D10) and its list `sortBy`
//! enum (D11). Agents, departments and organisations are fixed per organisation and have
//! no store. Every name a request can carry is decoded into a `DeskModule` here, once.

use std::fmt;

/// A Desk module with records that change.
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
    TimeEntry,
}

impl DeskModule {
    pub const ALL: [DeskModule; 9] = [
        DeskModule::Tickets,
        DeskModule::Contacts,
        DeskModule::Accounts,
        DeskModule::Tasks,
        DeskModule::Calls,
        DeskModule::Events,
        DeskModule::Products,
        DeskModule::Contracts,
        DeskModule::TimeEntry,
    ];

    /// The modules with `GET /{module}` and `GET /{module}/search` (D15).
    pub const SEARCHABLE: [DeskModule; 7] = [
        DeskModule::Tickets,
        DeskModule::Contacts,
        DeskModule::Accounts,
        DeskModule::Tasks,
        DeskModule::Calls,
        DeskModule::Events,
        DeskModule::Products,
    ];

    /// The position in `ALL`; also the module's block of ids.
    pub fn number(self) -> usize {
        DeskModule::ALL
            .iter()
            .position(|m| *m == self)
            .unwrap_or_default()
    }

    /// The URL segment and the name used in configs and the admin API.
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
            DeskModule::TimeEntry => "timeEntry",
        }
    }

    /// The module named by a URL segment or config key (exact, as Desk is case-sensitive).
    pub fn parse(name: &str) -> Option<DeskModule> {
        DeskModule::ALL
            .into_iter()
            .find(|m| m.url_name() == name || (name == "timeentry" && *m == DeskModule::TimeEntry))
    }

    /// The `type` of the module's rows in `GET /recycleBin` (D17).
    pub fn bin_type(self) -> &'static str {
        match self {
            DeskModule::Tickets => "Tickets",
            DeskModule::Contacts => "Contacts",
            DeskModule::Accounts => "Accounts",
            DeskModule::Tasks => "Tasks",
            DeskModule::Calls => "Calls",
            DeskModule::Events => "Events",
            DeskModule::Products => "Products",
            DeskModule::Contracts => "Contracts",
            DeskModule::TimeEntry => "TimeEntry",
        }
    }

    /// The key of the id list in `POST /{module}/moveToTrash`, for the modules that have
    /// it (D17, section 5: tickets, contacts, accounts, and calls).
    pub fn trash_key(self) -> Option<&'static str> {
        match self {
            DeskModule::Tickets => Some("ticketIds"),
            DeskModule::Contacts => Some("contactIds"),
            DeskModule::Accounts => Some("accountIds"),
            DeskModule::Calls => Some("callIds"),
            _ => None,
        }
    }

    /// Whether `POST /{module}` and `PATCH /{module}/{id}` exist (section 8).
    pub fn writable(self) -> bool {
        matches!(
            self,
            DeskModule::Tickets | DeskModule::Contacts | DeskModule::Accounts
        )
    }

    /// The largest `limit` of the module's list (D10).
    pub fn max_limit(self) -> u32 {
        match self {
            DeskModule::Contracts => 50,
            _ => 100,
        }
    }

    /// The `limit` of a list that names none (D10).
    pub fn default_limit(self) -> u32 {
        match self {
            DeskModule::Tickets => 25,
            _ => 10,
        }
    }

    /// The list's `sortBy` values, without the `-` prefix (D11; section 3's table).
    pub fn list_sorts(self) -> &'static [&'static str] {
        match self {
            DeskModule::Tickets => &[
                "dueDate",
                "createdTime",
                "recentThread",
                "responseDueDate",
                "customerResponseTime",
                "ticketNumber",
            ],
            DeskModule::Contacts => &["firstName", "lastName", "createdTime"],
            DeskModule::Accounts => &["accountName", "createdTime"],
            DeskModule::Tasks => &[
                "dueDate",
                "createdTime",
                "modifiedTime",
                "subject",
                "status",
                "priority",
                "category",
            ],
            DeskModule::Calls => &["startTime", "createdTime"],
            DeskModule::Events => &["startTime", "createdTime"],
            DeskModule::Products => &["productName", "createdTime", "modifiedTime"],
            DeskModule::Contracts => &["contractName", "createdTime", "modifiedTime"],
            DeskModule::TimeEntry => &["executedTime"],
        }
    }

    /// The search's `sortBy` values, without the `-` prefix (section 4.1).
    pub fn search_sorts(self) -> &'static [&'static str] {
        match self {
            DeskModule::Tickets => &[
                "relevance",
                "modifiedTime",
                "createdTime",
                "customerResponseTime",
            ],
            DeskModule::Contacts => &[
                "relevance",
                "modifiedTime",
                "createdTime",
                "lastName",
                "firstName",
            ],
            DeskModule::Accounts => &["relevance", "modifiedTime", "createdTime", "accountName"],
            _ => &["relevance", "modifiedTime", "createdTime"],
        }
    }

    /// The time-range parameters of the module's search (section 4.1; D15 assumes
    /// `modifiedTimeRange` everywhere).
    pub fn search_ranges(self) -> &'static [&'static str] {
        match self {
            DeskModule::Tickets => &[
                "modifiedTimeRange",
                "createdTimeRange",
                "customerResponseTimeRange",
                "dueDateRange",
            ],
            DeskModule::Tasks => &["modifiedTimeRange", "createdTimeRange", "dueDateRange"],
            _ => &["modifiedTimeRange", "createdTimeRange"],
        }
    }
}

impl fmt::Display for DeskModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_parses_back_from_its_url_name_and_has_its_own_number() {
        for (at, module) in DeskModule::ALL.into_iter().enumerate() {
            assert_eq!(DeskModule::parse(module.url_name()), Some(module));
            assert_eq!(module.number(), at);
        }
        assert_eq!(DeskModule::parse("Tickets"), None);
        assert_eq!(DeskModule::parse("requests"), None);
    }

    #[test]
    fn contracts_alone_page_by_fifty_and_tickets_default_to_twenty_five() {
        assert_eq!(DeskModule::Contracts.max_limit(), 50);
        assert_eq!(DeskModule::Tickets.default_limit(), 25);
        assert_eq!(DeskModule::Contacts.default_limit(), 10);
        assert!(!DeskModule::Tickets.list_sorts().contains(&"modifiedTime"));
    }
}
