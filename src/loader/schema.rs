//! The one static description of the mirror tables: for each module, its table and the
//! typed column of every standard field (contract sections 7.2-7.4, the emulator's owner
//! field and the system times), label → column name and type. The upsert builder reads
//! only this, and an integration test checks it column for column against the migrated
//! tables, so the SQL of `migrations/` and the Rust never drift apart. Fields not listed
//! here (custom fields, unknown labels) live only in the `fields` jsonb.

use crate::store::StoreError;
use crate::stream::{Module as StreamModule, StreamKey};
use crate::zoho::module::Module;

/// The SQL type of a typed mirror column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    BigInt,
    Numeric,
    Boolean,
    Text,
    Date,
    TimestampTz,
}

impl ColumnType {
    /// The type as `information_schema.columns.data_type` spells it.
    pub fn data_type(self) -> &'static str {
        match self {
            ColumnType::BigInt => "bigint",
            ColumnType::Numeric => "numeric",
            ColumnType::Boolean => "boolean",
            ColumnType::Text => "text",
            ColumnType::Date => "date",
            ColumnType::TimestampTz => "timestamp with time zone",
        }
    }

    /// The array type the column's values are bound as. Numerics travel as checked text
    /// (sqlx has no decimal type enabled here) and are cast in the statement.
    pub(super) fn bind_array(self) -> &'static str {
        match self {
            ColumnType::BigInt => "bigint[]",
            ColumnType::Numeric | ColumnType::Text => "text[]",
            ColumnType::Boolean => "boolean[]",
            ColumnType::Date => "date[]",
            ColumnType::TimestampTz => "timestamptz[]",
        }
    }
}

/// One typed column: the field label it is filled from (matched case-insensitively, as
/// the server matches labels) and its name in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub label: &'static str,
    pub name: &'static str,
    pub ty: ColumnType,
}

/// A module's mirror table.
#[derive(Debug)]
pub struct MirrorTable {
    pub module: Module,
    pub name: &'static str,
    /// The typed columns besides the fixed ones (`FIXED_COLUMNS`).
    pub columns: &'static [Column],
}

/// Columns every mirror table has, in this order, before the typed ones. The record id
/// is `id`; its field (`CASEID`, ...) has no column of its own.
pub const FIXED_COLUMNS: [(&str, ColumnType); 3] = [
    ("portal", ColumnType::Text),
    ("department", ColumnType::Text),
    ("id", ColumnType::BigInt),
];

/// The jsonb of every field as received, and when the row was last written.
pub const FIELDS_COLUMN: &str = "fields";
pub const SYNCED_AT_COLUMN: &str = "_synced_at";
/// When a sweep found the row deleted at the source (NULL while it exists).
pub const DELETED_AT_COLUMN: &str = "_deleted_at";
/// The start of the last sweep that saw the row (see `loader::sweep`).
pub const SWEPT_AT_COLUMN: &str = "_swept_at";

const fn col(label: &'static str, name: &'static str, ty: ColumnType) -> Column {
    Column { label, name, ty }
}

use ColumnType::{BigInt, Date, Text, TimestampTz};

const CREATED_TIME: Column = col("Created Time", "created_time", TimestampTz);
const MODIFIED_TIME: Column = col("Modified Time", "modified_time", TimestampTz);

/// `Department` is a field of requests as well as the key column `department` (the
/// department the stream reads), hence `department_name`.
const REQUESTS: [Column; 23] = [
    col("URI", "uri", Text),
    col("Request Owner", "request_owner", Text),
    col("Status", "status", Text),
    col("Priority", "priority", Text),
    col("Contact Name", "contact_name", Text),
    col("Email", "email", Text),
    col("Phone", "phone", Text),
    col("Subject", "subject", Text),
    col("Request Id", "request_id", BigInt),
    col("Account Name", "account_name", Text),
    col("Product Name", "product_name", Text),
    col("Description", "description", Text),
    col("Channel", "channel", Text),
    col("Classification", "classification", Text),
    col("Due Date", "due_date", TimestampTz),
    col("Department", "department_name", Text),
    col("Category", "category", Text),
    col("Sub Category", "sub_category", Text),
    col("Resolution", "resolution", Text),
    CREATED_TIME,
    MODIFIED_TIME,
    col("Created By", "created_by", Text),
    col("Modified By", "modified_by", Text),
];

const SOLUTIONS: [Column; 7] = [
    col("Title", "title", Text),
    col("Question", "question", Text),
    col("Answer", "answer", Text),
    col("Status", "status", Text),
    col("Solution Owner", "solution_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const ACCOUNTS: [Column; 6] = [
    col("Account Name", "account_name", Text),
    col("Phone", "phone", Text),
    col("Website", "website", Text),
    col("Account Owner", "account_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const CONTACTS: [Column; 8] = [
    col("First Name", "first_name", Text),
    col("Last Name", "last_name", Text),
    col("Email", "email", Text),
    col("Phone", "phone", Text),
    col("Account Name", "account_name", Text),
    col("Contact Owner", "contact_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const CONTRACTS: [Column; 7] = [
    col("Contract Name", "contract_name", Text),
    col("Account Name", "account_name", Text),
    col("Start Date", "start_date", Date),
    col("End Date", "end_date", Date),
    col("Contract Owner", "contract_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const PRODUCTS: [Column; 5] = [
    col("Product Name", "product_name", Text),
    col("Product Code", "product_code", Text),
    col("Product Owner", "product_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const TASKS: [Column; 7] = [
    col("Subject", "subject", Text),
    col("Due Date", "due_date", TimestampTz),
    col("Status", "status", Text),
    col("Priority", "priority", Text),
    col("Task Owner", "task_owner", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

/// `CASEID` here is the parent request, not the record id.
const TIME_ENTRY: [Column; 9] = [
    col("CASEID", "case_id", BigInt),
    col("Executed Time", "executed_time", TimestampTz),
    col("Ticket Charge Type", "ticket_charge_type", Text),
    col("TimeEntry Owner", "time_entry_owner", Text),
    col("Hours Spent", "hours_spent", BigInt),
    col("Minutes Spent", "minutes_spent", BigInt),
    col("Description", "description", Text),
    CREATED_TIME,
    MODIFIED_TIME,
];

const fn table(module: Module, name: &'static str, columns: &'static [Column]) -> MirrorTable {
    MirrorTable {
        module,
        name,
        columns,
    }
}

static REQUESTS_TABLE: MirrorTable = table(Module::Requests, "requests", &REQUESTS);
static SOLUTIONS_TABLE: MirrorTable = table(Module::Solutions, "solutions", &SOLUTIONS);
static ACCOUNTS_TABLE: MirrorTable = table(Module::Accounts, "accounts", &ACCOUNTS);
static CONTACTS_TABLE: MirrorTable = table(Module::Contacts, "contacts", &CONTACTS);
static CONTRACTS_TABLE: MirrorTable = table(Module::Contracts, "contracts", &CONTRACTS);
static PRODUCTS_TABLE: MirrorTable = table(Module::Products, "products", &PRODUCTS);
static TASKS_TABLE: MirrorTable = table(Module::Tasks, "tasks", &TASKS);
static TIME_ENTRY_TABLE: MirrorTable = table(Module::TimeEntry, "timeentry", &TIME_ENTRY);

/// The mirror table of a module.
pub fn mirror_table(module: Module) -> &'static MirrorTable {
    match module {
        Module::Requests => &REQUESTS_TABLE,
        Module::Solutions => &SOLUTIONS_TABLE,
        Module::Accounts => &ACCOUNTS_TABLE,
        Module::Contacts => &CONTACTS_TABLE,
        Module::Contracts => &CONTRACTS_TABLE,
        Module::Products => &PRODUCTS_TABLE,
        Module::Tasks => &TASKS_TABLE,
        Module::TimeEntry => &TIME_ENTRY_TABLE,
    }
}

/// The legacy mirror table of a stream; a Zoho Desk stream has none here (its tables are
/// `loader::desk_mirror`'s).
pub fn table_of(stream: &StreamKey) -> Result<&'static MirrorTable, StoreError> {
    match stream.module {
        StreamModule::Support(module) => Ok(mirror_table(module)),
        StreamModule::Desk(_) => Err(StoreError::Refused(format!(
            "{stream} is a Zoho Desk stream: the legacy mirror tables do not hold it"
        ))),
    }
}

/// Every mirror table, in `Module::ALL` order.
pub fn mirror_tables() -> impl Iterator<Item = &'static MirrorTable> {
    Module::ALL.into_iter().map(mirror_table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_has_its_own_table_named_like_its_url_segment() {
        for module in Module::ALL {
            let table = mirror_table(module);
            assert_eq!(table.module, module);
            assert_eq!(table.name, module.url_name());
        }
    }

    #[test]
    fn no_table_repeats_a_column_or_a_label_or_shadows_a_fixed_column() {
        for table in mirror_tables() {
            let mut names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
            names.extend(FIXED_COLUMNS.iter().map(|(n, _)| *n));
            names.extend([FIELDS_COLUMN, SYNCED_AT_COLUMN]);
            let mut labels: Vec<String> = table
                .columns
                .iter()
                .map(|c| c.label.to_lowercase())
                .collect();
            let (n, l) = (names.len(), labels.len());
            names.sort_unstable();
            names.dedup();
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(names.len(), n, "{}: duplicate column", table.name);
            assert_eq!(labels.len(), l, "{}: duplicate label", table.name);
        }
    }

    #[test]
    fn every_table_has_an_owner_and_both_system_times() {
        for table in mirror_tables() {
            let has = |label: &str| table.columns.iter().any(|c| c.label == label);
            assert!(
                has("Created Time") && has("Modified Time"),
                "{}",
                table.name
            );
            assert!(
                table.columns.iter().any(|c| c.label.ends_with(" Owner")),
                "{}",
                table.name
            );
        }
    }
}
