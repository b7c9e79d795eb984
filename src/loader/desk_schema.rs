//! The Zoho Desk mirror's tables, one per Desk module, in their own schema
//! (`database.desk_schema`, `zoho_desk` by default): keyed by `(org_id, id)`, the record
//! as received in `record jsonb`, `_synced_at`, `_deleted_at`, `_seen_at` (the start of
//! the last reconciliation that saw the record), and typed columns for
//! the common fields. The typed columns are generated from `record` by PostgreSQL itself
//! (`GENERATED ALWAYS AS ... STORED`, through guarded casts that return NULL for a value
//! that does not fit), so they can never disagree with the record, and the upsert only
//! ever writes `record`. The tables are created by code when first needed, because the
//! schema's name is the user's (migrations run in the main schema only).

use crate::desk::module::DeskModule;

/// How a typed column reads its value from the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskColumnType {
    Text,
    /// A Desk id (a digit string).
    BigInt,
    Boolean,
    TimestampTz,
}

/// One typed column: its name and the record key it is read from.
#[derive(Clone, Copy, Debug)]
pub struct DeskColumn {
    pub name: &'static str,
    pub key: &'static str,
    pub ty: DeskColumnType,
}

/// A Desk module's mirror table.
#[derive(Debug)]
pub struct DeskTable {
    pub module: DeskModule,
    pub name: &'static str,
    pub columns: &'static [DeskColumn],
}

const fn col(name: &'static str, key: &'static str, ty: DeskColumnType) -> DeskColumn {
    DeskColumn { name, key, ty }
}

use DeskColumnType::{BigInt, Boolean, Text, TimestampTz};

/// Every table has these, first.
pub const COMMON: &[DeskColumn] = &[
    col("modified_time", "modifiedTime", TimestampTz),
    col("created_time", "createdTime", TimestampTz),
];

const TICKETS: &[DeskColumn] = &[
    col("ticket_number", "ticketNumber", Text),
    col("subject", "subject", Text),
    col("status", "status", Text),
    col("status_type", "statusType", Text),
    col("priority", "priority", Text),
    col("channel", "channel", Text),
    col("category", "category", Text),
    col("department_id", "departmentId", BigInt),
    col("contact_id", "contactId", BigInt),
    col("account_id", "accountId", BigInt),
    col("assignee_id", "assigneeId", BigInt),
    col("team_id", "teamId", BigInt),
    col("product_id", "productId", BigInt),
    col("due_date", "dueDate", TimestampTz),
    col("closed_time", "closedTime", TimestampTz),
    col(
        "customer_response_time",
        "customerResponseTime",
        TimestampTz,
    ),
    col("is_spam", "isSpam", Boolean),
];

const CONTACTS: &[DeskColumn] = &[
    col("first_name", "firstName", Text),
    col("last_name", "lastName", Text),
    col("email", "email", Text),
    col("phone", "phone", Text),
    col("mobile", "mobile", Text),
    col("type", "type", Text),
    col("account_id", "accountId", BigInt),
    col("owner_id", "ownerId", BigInt),
];

const ACCOUNTS: &[DeskColumn] = &[
    col("account_name", "accountName", Text),
    col("email", "email", Text),
    col("phone", "phone", Text),
    col("website", "website", Text),
    col("industry", "industry", Text),
    col("owner_id", "ownerId", BigInt),
];

const ACTIVITIES: &[DeskColumn] = &[
    col("subject", "subject", Text),
    col("status", "status", Text),
    col("priority", "priority", Text),
    col("due_date", "dueDate", TimestampTz),
    col("ticket_id", "ticketId", BigInt),
    col("owner_id", "ownerId", BigInt),
];

const PRODUCTS: &[DeskColumn] = &[
    col("product_name", "productName", Text),
    col("product_code", "productCode", Text),
    col("unit_price", "unitPrice", Text),
];

const CONTRACTS: &[DeskColumn] = &[
    col("contract_name", "contractName", Text),
    col("account_id", "accountId", BigInt),
    col("owner_id", "ownerId", BigInt),
];

const AGENTS: &[DeskColumn] = &[
    col("first_name", "firstName", Text),
    col("last_name", "lastName", Text),
    col("email_id", "emailId", Text),
    col("status", "status", Text),
];

const DEPARTMENTS: &[DeskColumn] = &[
    col("name", "name", Text),
    col("is_enabled", "isEnabled", Boolean),
];

const TIME_ENTRIES: &[DeskColumn] = &[
    col("executed_time", "executedTime", TimestampTz),
    col("owner_id", "ownerId", BigInt),
];

/// The mirror table of a Desk module.
pub fn desk_table(module: DeskModule) -> DeskTable {
    let columns = match module {
        DeskModule::Tickets => TICKETS,
        DeskModule::Contacts => CONTACTS,
        DeskModule::Accounts => ACCOUNTS,
        DeskModule::Tasks | DeskModule::Calls | DeskModule::Events => ACTIVITIES,
        DeskModule::Products => PRODUCTS,
        DeskModule::Contracts => CONTRACTS,
        DeskModule::Agents => AGENTS,
        DeskModule::Departments => DEPARTMENTS,
        DeskModule::TimeEntries => TIME_ENTRIES,
    };
    DeskTable {
        module,
        name: module.name(),
        columns,
    }
}

/// The guarded casts the generated columns use, created in the Desk schema: each returns
/// NULL for a value that does not fit and never raises, and is immutable (a generated
/// column needs that: the times carry their offset, so no setting changes a result).
pub const FUNCTIONS: &str = r#"
CREATE OR REPLACE FUNCTION zoho_desk_time(v text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:?[0-9]{2})$'
            THEN v::timestamptz
        WHEN v ~ '^[0-9]{10,13}$' THEN to_timestamp(v::bigint / 1000.0)
    END
$$;
CREATE OR REPLACE FUNCTION zoho_desk_id(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^[0-9]{1,18}$' THEN v::bigint END
$$;
CREATE OR REPLACE FUNCTION zoho_desk_flag(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(v) WHEN 'true' THEN true WHEN 'false' THEN false END
$$;
"#;

/// The expression a generated column is computed by; `schema` is the quoted schema.
fn generated(column: &DeskColumn, schema: &str) -> String {
    // Keys are constants of this file: plain ASCII identifiers, safe inside a literal.
    let value = format!("(record ->> '{}')", column.key);
    match column.ty {
        Text => value,
        BigInt => format!("{schema}.zoho_desk_id{value}"),
        Boolean => format!("{schema}.zoho_desk_flag{value}"),
        TimestampTz => format!("{schema}.zoho_desk_time{value}"),
    }
}

fn sql_type(ty: DeskColumnType) -> &'static str {
    match ty {
        Text => "text",
        BigInt => "bigint",
        Boolean => "boolean",
        TimestampTz => "timestamptz",
    }
}

/// `CREATE TABLE IF NOT EXISTS` of a module's table in `schema` (quoted).
pub fn create_table(table: &DeskTable, schema: &str) -> String {
    let columns: Vec<String> = COMMON
        .iter()
        .chain(table.columns)
        .map(|c| {
            format!(
                "{} {} GENERATED ALWAYS AS ({}) STORED",
                c.name,
                sql_type(c.ty),
                generated(c, schema)
            )
        })
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {schema}.{name} (\n\
         org_id bigint NOT NULL,\n\
         id bigint NOT NULL,\n\
         record jsonb NOT NULL,\n\
         {columns},\n\
         _synced_at timestamptz NOT NULL,\n\
         _deleted_at timestamptz,\n\
         _seen_at timestamptz,\n\
         PRIMARY KEY (org_id, id));\n\
         ALTER TABLE {schema}.{name} ADD COLUMN IF NOT EXISTS _seen_at timestamptz;\n\
         CREATE INDEX IF NOT EXISTS {name}_by_modified_time ON {schema}.{name} (org_id, modified_time);\n\
         CREATE INDEX IF NOT EXISTS {name}_deleted ON {schema}.{name} (org_id, id) \
         WHERE _deleted_at IS NOT NULL",
        name = table.name,
        columns = columns.join(",\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_desk_module_has_a_table_with_the_common_and_its_own_typed_columns() {
        for module in DeskModule::ALL {
            let table = desk_table(module);
            assert_eq!(table.name, module.name());
            let sql = create_table(&table, "\"zoho_desk\"");
            assert!(sql.contains("modified_time timestamptz GENERATED ALWAYS AS (\"zoho_desk\".zoho_desk_time(record ->> 'modifiedTime')) STORED"), "{sql}");
            assert!(sql.contains("PRIMARY KEY (org_id, id)"), "{sql}");
        }
        let tickets = create_table(&desk_table(DeskModule::Tickets), "\"d\"");
        assert!(tickets.contains("department_id bigint GENERATED ALWAYS AS (\"d\".zoho_desk_id(record ->> 'departmentId'))"));
    }
}
