//! The fields of each module (contract sections 7.2-7.4, plus an owner and the system
//! times everywhere) and of a portal's custom fields: label, value kind and where the value
//! comes from. The order of a module's list is the order of its rows on the wire, the id
//! field first. A field's hash salt derives from its label, not its position, so adding a
//! custom field never changes the values of the others.

use super::vocabulary as words;
use super::{CustomField, FieldKind};
use crate::zoho::module::Module;

/// What a value is, which decides search matching and input normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueKind {
    Id,
    Integer,
    Decimal,
    Boolean,
    Text,
    Date,
    DateTime,
}

impl ValueKind {
    /// Ids and numbers match a search exactly; everything else by substring.
    pub fn matches_exactly(self) -> bool {
        matches!(
            self,
            ValueKind::Id | ValueKind::Integer | ValueKind::Decimal | ValueKind::Boolean
        )
    }
}

/// How a generated value is made (see `generate::value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Gen {
    Pick(&'static [&'static str]),
    Options(Vec<String>),
    Agent,
    ContactName,
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Website,
    Product,
    ProductCode,
    ContractName,
    RequestSubject,
    TaskSubject,
    SolutionTitle,
    Paragraphs,
    ShortText,
    Category,
    SubCategory,
    Department,
    /// A date-time shortly after creation.
    DueTime,
    /// A date-time shortly before creation.
    ExecutedTime,
    /// Contract term: start before creation, end one to three years later.
    TermStart,
    TermEnd,
    /// The CASEID of the request a time entry belongs to.
    ParentCase,
    Integer(u32, u32),
    Decimal,
    Boolean,
    AnyDate,
    AnyDateTime,
}

/// Where a field's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// The record id.
    Id,
    /// The link to the web UI, built from portal and id.
    Uri,
    /// The human ticket number (`Request Id`).
    RequestNo,
    CreatedTime,
    ModifiedTime,
    /// Hashed from (seed, module, id, salt, version) unless the record holds an explicit value.
    Generated(Gen),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FieldSpec {
    pub label: String,
    pub kind: ValueKind,
    pub source: Source,
    /// Percentage of records whose generated value is empty.
    pub empty_pct: u8,
    /// Whether the generated value changes when the record's version does.
    pub volatile: bool,
    pub salt: u64,
}

impl FieldSpec {
    fn system(label: &str, kind: ValueKind, source: Source) -> FieldSpec {
        FieldSpec {
            label: label.to_string(),
            kind,
            source,
            empty_pct: 0,
            volatile: false,
            salt: label_salt(label),
        }
    }

    fn made(label: &str, kind: ValueKind, gen: Gen, empty_pct: u8, volatile: bool) -> FieldSpec {
        FieldSpec {
            label: label.to_string(),
            kind,
            source: Source::Generated(gen),
            empty_pct,
            volatile,
            salt: label_salt(label),
        }
    }

    fn text(label: &str, gen: Gen, empty_pct: u8, volatile: bool) -> FieldSpec {
        FieldSpec::made(label, ValueKind::Text, gen, empty_pct, volatile)
    }

    /// Shares another field's hash stream, so that the two values agree with each other.
    fn salted_as(mut self, other_label: &str) -> FieldSpec {
        self.salt = label_salt(other_label);
        self
    }

    /// Whether the store may hold an explicit value for this field (system fields it may not).
    pub fn is_writable(&self) -> bool {
        matches!(self.source, Source::Generated(_))
    }

    /// The spec of a portal's custom field; every custom value may change with a version.
    pub fn custom(field: &CustomField) -> FieldSpec {
        let (kind, gen, empty_pct) = match &field.kind {
            FieldKind::Text => (ValueKind::Text, Gen::ShortText, 30),
            FieldKind::Number => (ValueKind::Integer, Gen::Integer(0, 10_000), 20),
            FieldKind::Decimal => (ValueKind::Decimal, Gen::Decimal, 20),
            FieldKind::Date => (ValueKind::Date, Gen::AnyDate, 30),
            FieldKind::DateTime => (ValueKind::DateTime, Gen::AnyDateTime, 30),
            FieldKind::Boolean => (ValueKind::Boolean, Gen::Boolean, 0),
            FieldKind::Picklist { options } => (ValueKind::Text, Gen::Options(options.clone()), 15),
        };
        FieldSpec::made(&field.label, kind, gen, empty_pct, true)
    }
}

/// FNV-1a of the lower-cased label: stable across runs and builds.
fn label_salt(label: &str) -> u64 {
    label
        .to_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// The label of the module's owner field (what `myrecords` filters on).
pub(super) fn owner_label(module: Module) -> &'static str {
    match module {
        Module::Requests => "Request Owner",
        Module::Solutions => "Solution Owner",
        Module::Accounts => "Account Owner",
        Module::Contacts => "Contact Owner",
        Module::Contracts => "Contract Owner",
        Module::Products => "Product Owner",
        Module::Tasks => "Task Owner",
        Module::TimeEntry => "TimeEntry Owner",
    }
}

/// The field an add must carry (contract: missing → 4401).
pub(super) fn mandatory_label(module: Module) -> &'static str {
    match module {
        Module::Requests | Module::Tasks => "Subject",
        Module::Solutions => "Title",
        Module::Accounts => "Account Name",
        Module::Contacts => "Last Name",
        Module::Contracts => "Contract Name",
        Module::Products => "Product Name",
        Module::TimeEntry => "Hours Spent",
    }
}

/// The built-in fields of a module in wire order.
pub(super) fn module_fields(module: Module) -> Vec<FieldSpec> {
    let id = FieldSpec::system(module.id_field(), ValueKind::Id, Source::Id);
    let owner_empty = if module == Module::Requests { 8 } else { 0 };
    let owner = FieldSpec::text(owner_label(module), Gen::Agent, owner_empty, true);
    if module == Module::Requests {
        return request_fields(id, owner);
    }
    let mut fields = vec![id];
    fields.extend(match module {
        Module::Requests => Vec::new(),
        Module::TimeEntry => time_entry_fields(owner),
        Module::Accounts => vec![
            FieldSpec::text("Account Name", Gen::Company, 0, false),
            FieldSpec::text("Phone", Gen::Phone, 25, true),
            FieldSpec::text("Website", Gen::Website, 30, false),
            owner,
        ],
        Module::Contacts => vec![
            FieldSpec::text("First Name", Gen::FirstName, 10, false),
            FieldSpec::text("Last Name", Gen::LastName, 0, false),
            FieldSpec::text("Email", Gen::Email, 10, false),
            FieldSpec::text("Phone", Gen::Phone, 30, true),
            FieldSpec::text("Account Name", Gen::Company, 30, false),
            owner,
        ],
        Module::Products => vec![
            FieldSpec::text("Product Name", Gen::Product, 0, false),
            FieldSpec::text("Product Code", Gen::ProductCode, 10, false),
            owner,
        ],
        Module::Contracts => vec![
            FieldSpec::text("Contract Name", Gen::ContractName, 0, false),
            FieldSpec::text("Account Name", Gen::Company, 10, false),
            FieldSpec::made("Start Date", ValueKind::Date, Gen::TermStart, 5, false),
            FieldSpec::made("End Date", ValueKind::Date, Gen::TermEnd, 5, false)
                .salted_as("Start Date"),
            owner,
        ],
        Module::Solutions => vec![
            FieldSpec::text("Title", Gen::SolutionTitle, 0, false),
            FieldSpec::text("Question", Gen::Paragraphs, 10, false),
            FieldSpec::text("Answer", Gen::Paragraphs, 5, true),
            FieldSpec::text("Status", Gen::Pick(&words::SOLUTION_STATUS), 0, true),
            owner,
        ],
        Module::Tasks => vec![
            FieldSpec::text("Subject", Gen::TaskSubject, 0, false),
            FieldSpec::made("Due Date", ValueKind::DateTime, Gen::DueTime, 20, true),
            FieldSpec::text("Status", Gen::Pick(&words::TASK_STATUS), 0, true),
            FieldSpec::text("Priority", Gen::Pick(&words::TASK_PRIORITIES), 0, true),
            owner,
        ],
    });
    fields.extend(system_times());
    fields
}

fn system_times() -> [FieldSpec; 2] {
    [
        FieldSpec::system("Created Time", ValueKind::DateTime, Source::CreatedTime),
        FieldSpec::system("Modified Time", ValueKind::DateTime, Source::ModifiedTime),
    ]
}

/// Requests follow the one positional observation (contract 7.2): CASEID, URI, ?, ?, ?,
/// Contact Name, Email, ?, Subject, Request Id; the gaps and the rest are our choice.
fn request_fields(id: FieldSpec, owner: FieldSpec) -> Vec<FieldSpec> {
    use FieldSpec as F;
    let mut fields = vec![id];
    fields.extend([
        F::system("URI", ValueKind::Text, Source::Uri),
        owner,
        F::text("Status", Gen::Pick(&words::REQUEST_STATUS), 0, true),
        F::text("Priority", Gen::Pick(&words::PRIORITIES), 5, true),
        F::text("Contact Name", Gen::ContactName, 3, false),
        F::text("Email", Gen::Email, 15, false),
        F::text("Phone", Gen::Phone, 30, false),
        F::text("Subject", Gen::RequestSubject, 0, false),
        F::system("Request Id", ValueKind::Integer, Source::RequestNo),
        F::text("Account Name", Gen::Company, 25, false),
        F::text("Product Name", Gen::Product, 30, false),
        F::text("Description", Gen::Paragraphs, 10, true),
        F::text("Channel", Gen::Pick(&words::CHANNELS), 0, false),
        F::text(
            "Classification",
            Gen::Pick(&words::CLASSIFICATIONS),
            20,
            true,
        ),
        F::made("Due Date", ValueKind::DateTime, Gen::DueTime, 30, true),
        F::text("Department", Gen::Department, 0, false),
        F::text("Category", Gen::Category, 20, true),
        F::text("Sub Category", Gen::SubCategory, 20, true).salted_as("Category"),
        F::text("Resolution", Gen::Paragraphs, 60, true),
    ]);
    fields.extend(system_times());
    fields.extend([
        F::text("Created By", Gen::Agent, 0, false),
        F::text("Modified By", Gen::Agent, 0, true),
    ]);
    fields
}

fn time_entry_fields(owner: FieldSpec) -> Vec<FieldSpec> {
    use FieldSpec as F;
    vec![
        F::made("CASEID", ValueKind::Id, Gen::ParentCase, 0, false),
        F::made(
            "Executed Time",
            ValueKind::DateTime,
            Gen::ExecutedTime,
            0,
            false,
        ),
        F::text(
            "Ticket Charge Type",
            Gen::Pick(&words::CHARGE_TYPES),
            10,
            true,
        ),
        owner,
        F::made(
            "Hours Spent",
            ValueKind::Integer,
            Gen::Integer(0, 8),
            0,
            true,
        ),
        F::made(
            "Minutes Spent",
            ValueKind::Integer,
            Gen::Integer(0, 59),
            5,
            true,
        ),
        F::text("Description", Gen::Paragraphs, 25, true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_starts_with_its_id_field_and_carries_owner_and_times() {
        for module in Module::ALL {
            let fields = module_fields(module);
            let labels: Vec<&str> = fields.iter().map(|f| f.label.as_str()).collect();
            assert_eq!(labels.first(), Some(&module.id_field()));
            for needed in [owner_label(module), mandatory_label(module)] {
                assert!(labels.contains(&needed), "{module}: {needed}");
            }
            assert!(labels.contains(&"Created Time") && labels.contains(&"Modified Time"));
            let mut lower: Vec<String> = labels.iter().map(|l| l.to_lowercase()).collect();
            lower.sort();
            lower.dedup();
            assert_eq!(lower.len(), labels.len(), "{module}: duplicate label");
        }
    }

    #[test]
    fn requests_keep_the_observed_positions() {
        let fields = module_fields(Module::Requests);
        let at = |i: usize| fields.get(i).map(|f| f.label.as_str());
        assert_eq!(at(0), Some("CASEID"));
        assert_eq!(at(1), Some("URI"));
        assert_eq!(at(5), Some("Contact Name"));
        assert_eq!(at(6), Some("Email"));
        assert_eq!(at(8), Some("Subject"));
        assert_eq!(at(9), Some("Request Id"));
    }

    #[test]
    fn mandatory_fields_are_never_generated_empty() {
        for module in Module::ALL {
            let fields = module_fields(module);
            let mandatory = fields.iter().find(|f| f.label == mandatory_label(module));
            assert_eq!(mandatory.map(|f| f.empty_pct), Some(0), "{module}");
        }
    }
}
