//! The typed views, one per module (`<table>_view`, beside its mirror table): the fixed
//! and typed columns of the mirror table, then one column per custom field with values
//! (a legacy label of `fields`, a Desk `cf` key of `record`), typed as `fields_seen`
//! recorded when the column was added, over the rows not deleted. A custom column's name
//! (snake_case of its label, deduplicated), type and position are fixed when it is added,
//! so a refresh only appends columns and `CREATE OR REPLACE VIEW` never breaks what was
//! built on a view. Values are read from the jsonb through the guarded casts of migration
//! 0006, so a value that does not fit its column is NULL, never an error. A refresh runs
//! under an advisory lock, outside any page's transaction, and issues no DDL when the
//! view already has the right columns. A view holds at most `MAX_VIEW_COLUMNS`; the
//! custom fields past it keep no column and are read from `fields`. Labels come from the
//! server and may hold anything: their literals and the column names are quoted by
//! PostgreSQL itself (`format` with `%L` and `%I`), which is right under any
//! `standard_conforming_strings`.

use std::collections::HashSet;

use sqlx::{PgConnection, Row};

mod shape;

use shape::ViewShape;

use super::field_type::FieldType;
use super::fields_seen::{is_standard, seen_key};
use super::schema::mirror_table;
use super::{slow, Loader, StoreError};
use crate::desk::module::DeskModule;
use crate::stream::Module;
use crate::zoho::module::Module as SupportModule;

/// Serialises view refreshes across processes ("zs_views").
const VIEW_LOCK: i64 = 0x7a73_5f76_6965_7773;

/// The most columns a view may have (a view is a relation: PostgreSQL's
/// `MaxHeapAttributeNumber`): custom fields past it get no column and stay readable in
/// `fields`; `status` says how many.
pub const MAX_VIEW_COLUMNS: usize = 1600;

/// Column names stay under PostgreSQL's 63 bytes, with room for a `_NN` suffix.
const MAX_NAME_BYTES: usize = 56;

/// How long a refresh waits for readers of the view before giving up (it is retried
/// with the next new field, or at the next start).
const LOCK_TIMEOUT: &str = "5s";

/// SQLSTATEs of a `CREATE OR REPLACE VIEW` that would change existing columns.
const CANNOT_REPLACE: [&str; 2] = ["42P16", "42804"];

/// A custom field's column.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CustomColumn {
    label: String,
    name: String,
    ty: FieldType,
}

/// The view's name for a legacy module (in the main schema).
pub fn view_name(module: SupportModule) -> String {
    format!("{}_view", mirror_table(module).name)
}

impl Loader {
    /// Brings every legacy module's view up to date with `fields_seen`.
    pub async fn refresh_views(&self) -> Result<(), StoreError> {
        for module in SupportModule::ALL {
            self.refresh_view(module).await?;
        }
        Ok(())
    }

    /// Gives a column to every custom field of the module that has values and none yet,
    /// and recreates the view if its columns differ from what they should be.
    pub async fn refresh_view(&self, module: SupportModule) -> Result<(), StoreError> {
        self.refresh(&ViewShape::support(module)).await
    }

    /// `refresh_view` of a Desk module, whose table must exist.
    pub(super) async fn refresh_desk_view(&self, module: DeskModule) -> Result<(), StoreError> {
        let schema = self.desk_schema_quoted()?;
        self.refresh(&ViewShape::desk(module, &schema)).await
    }

    /// The name of a module's view, as a reader writes it (`status`).
    pub fn view_of(&self, module: Module) -> String {
        match module {
            Module::Support(m) => view_name(m),
            Module::Desk(m) => format!("{}.{}_view", self.desk_schema, m.name()),
        }
    }

    async fn refresh(&self, shape: &ViewShape) -> Result<(), StoreError> {
        let mut tx = slow::timed("connection wait", "BEGIN", self.pool.begin()).await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(VIEW_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT set_config('lock_timeout', $1, true)")
            .bind(LOCK_TIMEOUT)
            .execute(&mut *tx)
            .await?;
        let custom = assign_columns(&mut tx, shape).await?;
        let wanted = view_columns(shape, &custom);
        if existing_columns(&mut tx, &shape.view).await? != wanted {
            let items = custom_items(&mut tx, shape, &custom).await?;
            replace_view(&mut tx, &shape.view, &view_sql(shape, &items)).await?;
            tracing::info!(module = %shape.module, columns = wanted.len(), "view refreshed");
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Reads the module's custom columns, first giving one to each custom field with values
/// and no column yet; returns them in view order.
async fn assign_columns(
    conn: &mut PgConnection,
    shape: &ViewShape,
) -> Result<Vec<CustomColumn>, StoreError> {
    let rows = sqlx::query(
        "SELECT label, value_type, column_name, column_type FROM fields_seen \
         WHERE module = $1 ORDER BY column_position NULLS LAST, first_seen_at, label",
    )
    .bind(seen_key(shape.module))
    .fetch_all(&mut *conn)
    .await?;
    let mut taken: HashSet<String> = shape.base.iter().map(|(name, _)| name.clone()).collect();
    let (mut columns, mut added) = (Vec::new(), Vec::new());
    for row in &rows {
        let label: String = row.try_get("label")?;
        let stored = (
            row.try_get::<Option<String>, _>("column_name")?,
            row.try_get::<Option<String>, _>("column_type")?,
        );
        let value_type = row.try_get::<Option<String>, _>("value_type")?;
        let column = match (stored, value_type) {
            ((Some(name), Some(ty)), _) => CustomColumn {
                ty: parse_type(&ty)?,
                label,
                name,
            },
            (_, Some(ty))
                if !is_standard(shape.module, &label) && taken.len() < MAX_VIEW_COLUMNS =>
            {
                let name = unique_name(&snake_case(&label), &taken);
                let column = CustomColumn {
                    ty: parse_type(&ty)?,
                    label,
                    name,
                };
                added.push(column.clone());
                column
            }
            _ => continue,
        };
        taken.insert(column.name.clone());
        columns.push(column);
    }
    if !added.is_empty() {
        store_columns(conn, shape.module, columns.len() - added.len(), &added).await?;
    }
    Ok(columns)
}

fn parse_type(text: &str) -> Result<FieldType, StoreError> {
    FieldType::parse(text).ok_or_else(|| StoreError::corrupt("field type", text))
}

/// Fixes the new columns' names, types and positions (after the `existing` ones).
async fn store_columns(
    conn: &mut PgConnection,
    module: Module,
    existing: usize,
    added: &[CustomColumn],
) -> Result<(), StoreError> {
    let labels: Vec<&str> = added.iter().map(|c| c.label.as_str()).collect();
    let names: Vec<&str> = added.iter().map(|c| c.name.as_str()).collect();
    let types: Vec<&str> = added.iter().map(|c| c.ty.as_str()).collect();
    let first = i32::try_from(existing).unwrap_or(i32::MAX);
    sqlx::query(
        "UPDATE fields_seen f SET column_name = u.name, column_type = u.ty, \
         column_position = $2 + u.n::int FROM unnest($3::text[], $4::text[], $5::text[]) \
         WITH ORDINALITY AS u(label, name, ty, n) \
         WHERE f.module = $1 AND f.label_key = md5(u.label)",
    )
    .bind(seen_key(module))
    .bind(first)
    .bind(labels)
    .bind(names)
    .bind(types)
    .execute(conn)
    .await?;
    Ok(())
}

/// The view's columns, name and `format_type` spelling, in order.
fn view_columns(shape: &ViewShape, custom: &[CustomColumn]) -> Vec<(String, String)> {
    shape
        .base
        .iter()
        .cloned()
        .chain(
            custom
                .iter()
                .map(|c| (c.name.clone(), c.ty.sql_name().to_string())),
        )
        .collect()
}

/// The view's current columns (none when it does not exist); `view` is quoted.
async fn existing_columns(
    conn: &mut PgConnection,
    view: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT attname::text AS name, format_type(atttypid, atttypmod) AS ty \
         FROM pg_attribute WHERE attrelid = to_regclass($1) \
         AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    .bind(view)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("ty")?)))
        .collect()
}

/// `CREATE OR REPLACE VIEW`; when that cannot keep the existing columns (the mirror table
/// itself changed), the view is dropped and created again, which fails, rolling the
/// refresh back, if other objects depend on it.
async fn replace_view(conn: &mut PgConnection, view: &str, select: &str) -> Result<(), StoreError> {
    sqlx::query("SAVEPOINT replace_view")
        .execute(&mut *conn)
        .await?;
    let ddl = format!("CREATE OR REPLACE VIEW {view} AS {select}");
    let replaced = slow::timed("view DDL", &ddl, sqlx::query(&ddl).execute(&mut *conn)).await;
    match replaced {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db))
            if db
                .code()
                .is_some_and(|c| CANNOT_REPLACE.contains(&c.as_ref())) =>
        {
            sqlx::query("ROLLBACK TO SAVEPOINT replace_view")
                .execute(&mut *conn)
                .await?;
            sqlx::query(&format!("DROP VIEW {view}"))
                .execute(&mut *conn)
                .await?;
            sqlx::query(&format!("CREATE VIEW {view} AS {select}"))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The custom columns' select items (`fields ->> 'Label' AS "name"`, through the guarded
/// cast of the column's type), in order. PostgreSQL quotes them (`quote_literal` writes
/// `E'…'` when a label holds a backslash), from bound parameters, so a label can never end
/// its literal, whatever the session's `standard_conforming_strings`. The jsonb they are
/// read from is a constant of this file.
async fn custom_items(
    conn: &mut PgConnection,
    shape: &ViewShape,
    custom: &[CustomColumn],
) -> Result<Vec<String>, StoreError> {
    let labels: Vec<&str> = custom.iter().map(|c| c.label.as_str()).collect();
    let names: Vec<&str> = custom.iter().map(|c| c.name.as_str()).collect();
    let casts: Vec<Option<String>> = custom
        .iter()
        .map(|c| match c.ty {
            FieldType::Text => None,
            ty => Some(format!("zoho_sync_{}", ty.as_str())),
        })
        .collect();
    let items = sqlx::query_scalar(
        "SELECT CASE WHEN u.cast_fn IS NULL \
         THEN format('%s ->> %L AS %I', $4::text, u.label, u.name) \
         ELSE format('%I(%s ->> %L) AS %I', u.cast_fn, $4::text, u.label, u.name) END \
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY \
         AS u(label, name, cast_fn, n) ORDER BY u.n",
    )
    .bind(labels)
    .bind(names)
    .bind(casts)
    .bind(shape.values)
    .fetch_all(conn)
    .await?;
    Ok(items)
}

/// The view's query: the mirror table's columns, then the custom `items`.
fn view_sql(shape: &ViewShape, items: &[String]) -> String {
    let columns: Vec<&str> = shape
        .base
        .iter()
        .map(|(name, _)| name.as_str())
        .chain(items.iter().map(String::as_str))
        .collect();
    format!(
        "SELECT {} FROM {} WHERE _deleted_at IS NULL",
        columns.join(", "),
        shape.table
    )
}

/// snake_case of a label: lower case, words joined by `_` (a lower-to-upper change starts
/// a word), anything but letters and digits dropped; `field` when nothing is left.
pub(super) fn snake_case(label: &str) -> String {
    let mut out = String::new();
    let mut pending_break = false;
    let mut previous_lower = false;
    for c in label.chars() {
        if !c.is_alphanumeric() {
            pending_break = true;
            previous_lower = false;
            continue;
        }
        if (pending_break || (previous_lower && c.is_uppercase())) && !out.is_empty() {
            out.push('_');
        }
        pending_break = false;
        previous_lower = c.is_lowercase() || c.is_numeric();
        out.extend(c.to_lowercase());
    }
    while out.len() > MAX_NAME_BYTES {
        out.pop();
    }
    let trimmed = out.trim_end_matches('_');
    if trimmed.is_empty() {
        "field".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `base`, or `base_2`, `base_3`, … whichever is not taken.
fn unique_name(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|name| !taken.contains(name))
        .unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_snake_case_column_names() {
        assert_eq!(snake_case("Escalation Level"), "escalation_level");
        assert_eq!(snake_case("CustomerTier"), "customer_tier");
        assert_eq!(snake_case("TIME_ENTRY_ID"), "time_entry_id");
        assert_eq!(snake_case("  SLA (hours) #2 "), "sla_hours_2");
        assert_eq!(snake_case("Prioridad Día"), "prioridad_día");
        assert_eq!(snake_case("?!"), "field");
        assert!(snake_case(&"Long Label ".repeat(20)).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn a_name_already_taken_gets_the_first_free_suffix() {
        let taken: HashSet<String> = ["status", "status_2"].map(String::from).into();
        assert_eq!(unique_name("status", &taken), "status_3");
        assert_eq!(unique_name("tier", &taken), "tier");
    }

    #[test]
    fn the_view_selects_the_mirror_columns_then_the_custom_items() {
        let items = ["fields ->> 'Note' AS \"select\"".to_string()];
        let shape = ViewShape::support(SupportModule::Products);
        let sql = view_sql(&shape, &items);
        assert!(
            sql.starts_with("SELECT portal, department, id, product_name"),
            "{sql}"
        );
        assert!(
            sql.ends_with(
                ", fields ->> 'Note' AS \"select\" FROM products WHERE _deleted_at IS NULL"
            ),
            "{sql}"
        );
        let custom = [CustomColumn {
            label: "Note".into(),
            name: "select".into(),
            ty: FieldType::Text,
        }];
        let columns = view_columns(&shape, &custom);
        assert_eq!(
            columns.last(),
            Some(&("select".to_string(), "text".to_string()))
        );
    }

    #[test]
    fn a_desk_view_reads_custom_fields_from_cf_in_the_desk_schema() {
        let shape = ViewShape::desk(DeskModule::Tickets, "\"zoho_desk\"");
        assert_eq!(shape.view, "\"zoho_desk\".\"tickets_view\"");
        let sql = view_sql(
            &shape,
            &["(record -> 'cf') ->> 'cf_tier' AS cf_tier".into()],
        );
        assert!(
            sql.starts_with("SELECT org_id, id, modified_time, created_time, ticket_number"),
            "{sql}"
        );
        assert!(
            sql.ends_with("_synced_at, (record -> 'cf') ->> 'cf_tier' AS cf_tier FROM \"zoho_desk\".tickets WHERE _deleted_at IS NULL"),
            "{sql}"
        );
    }
}
