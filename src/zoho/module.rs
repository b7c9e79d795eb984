//! The modules of the Zoho Support API (contract section 7.1): their URL segment, the key
//! their rows are wrapped in, and the label of their record-id field. Module names arrive
//! from users and servers in any case; `Module::parse` is the one place that accepts them,
//! so the rest of the code only handles the eight valid modules.

use std::fmt;
use std::str::FromStr;

/// One Zoho Support module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    Requests,
    Solutions,
    Accounts,
    Contacts,
    Contracts,
    Products,
    Tasks,
    TimeEntry,
}

impl Module {
    pub const ALL: [Module; 8] = [
        Module::Requests,
        Module::Solutions,
        Module::Accounts,
        Module::Contacts,
        Module::Contracts,
        Module::Products,
        Module::Tasks,
        Module::TimeEntry,
    ];

    /// Accepts the URL segment in any case, plus `cases` as an alias of `requests`.
    pub fn parse(name: &str) -> Option<Module> {
        let lower = name.trim().to_ascii_lowercase();
        let module = match lower.as_str() {
            "requests" | "cases" => Module::Requests,
            "solutions" => Module::Solutions,
            "accounts" => Module::Accounts,
            "contacts" => Module::Contacts,
            "contracts" => Module::Contracts,
            "products" => Module::Products,
            "tasks" => Module::Tasks,
            "timeentry" => Module::TimeEntry,
            _ => return None,
        };
        Some(module)
    }

    /// The lower-case URL segment the client sends.
    pub fn url_name(self) -> &'static str {
        match self {
            Module::Requests => "requests",
            Module::Solutions => "solutions",
            Module::Accounts => "accounts",
            Module::Contacts => "contacts",
            Module::Contracts => "contracts",
            Module::Products => "products",
            Module::Tasks => "tasks",
            Module::TimeEntry => "timeentry",
        }
    }

    /// The element (XML) or key (JSON) that wraps this module's rows in a result.
    pub fn result_key(self) -> &'static str {
        match self {
            Module::Requests => "Cases",
            Module::Solutions => "Solutions",
            Module::Accounts => "Accounts",
            Module::Contacts => "Contacts",
            Module::Contracts => "Contracts",
            Module::Products => "Products",
            Module::Tasks => "Tasks",
            Module::TimeEntry => "TimeEntry",
        }
    }

    /// The label of the field that carries the record id.
    pub fn id_field(self) -> &'static str {
        match self {
            Module::Requests => "CASEID",
            Module::Solutions => "SOLUTIONID",
            Module::Accounts => "ACCOUNTID",
            Module::Contacts => "CONTACTID",
            Module::Contracts => "CONTRACTID",
            Module::Products => "PRODUCTID",
            Module::Tasks => "ACTIVITYID",
            Module::TimeEntry => "TIME_ENTRY_ID",
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url_name())
    }
}

/// The error for a module name that is not one of the eight.
#[derive(Debug, thiserror::Error)]
#[error("unknown module `{0}` (expected one of requests, cases, solutions, accounts, contacts, contracts, products, tasks, timeentry)")]
pub struct UnknownModule(pub String);

impl FromStr for Module {
    type Err = UnknownModule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Module::parse(s).ok_or_else(|| UnknownModule(s.to_string()))
    }
}

/// The wire format of a request and its answer.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xml,
    #[default]
    Json,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "xml" => Some(Format::Xml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn url_name(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Json => "json",
        }
    }

    /// The content type the contract prescribes for answers in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml;charset=UTF-8",
            Format::Json => "application/json;charset=UTF-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url_name())
    }
}

/// The six record methods (contract section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    GetRecords,
    GetRecordsById,
    Search,
    AddRecords,
    UpdateRecords,
    DeleteRecords,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::GetRecords,
        Method::GetRecordsById,
        Method::Search,
        Method::AddRecords,
        Method::UpdateRecords,
        Method::DeleteRecords,
    ];

    /// Accepts the wire names in any case, plus the documented alias `searchrecords`.
    pub fn parse(name: &str) -> Option<Method> {
        let method = match name.to_ascii_lowercase().as_str() {
            "getrecords" => Method::GetRecords,
            "getrecordsbyid" => Method::GetRecordsById,
            "getrecordsbysearch" | "searchrecords" => Method::Search,
            "addrecords" => Method::AddRecords,
            "updaterecords" => Method::UpdateRecords,
            "deleterecords" => Method::DeleteRecords,
            _ => return None,
        };
        Some(method)
    }

    /// The name the client sends (contract section 0: search is `getrecordsbysearch`).
    pub fn wire_name(self) -> &'static str {
        match self {
            Method::GetRecords => "getrecords",
            Method::GetRecordsById => "getrecordsbyid",
            Method::Search => "getrecordsbysearch",
            Method::AddRecords => "addrecords",
            Method::UpdateRecords => "updaterecords",
            Method::DeleteRecords => "deleterecords",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_parse_in_any_case_and_cases_is_requests() {
        assert_eq!(Module::parse("Cases"), Some(Module::Requests));
        assert_eq!(Module::parse("TIMEENTRY"), Some(Module::TimeEntry));
        assert_eq!(Module::parse("tickets"), None);
        for m in Module::ALL {
            assert_eq!(Module::parse(m.url_name()), Some(m));
        }
    }

    #[test]
    fn search_alias_maps_to_the_wire_name_the_client_sends() {
        assert_eq!(Method::parse("searchrecords"), Some(Method::Search));
        assert_eq!(Method::Search.wire_name(), "getrecordsbysearch");
    }
}
