//! The shape of a module's typed view: which mirror-table columns it shows first (with
//! the types PostgreSQL reports for them, so a refresh can tell whether the view is up
//! to date), where the custom fields' values are, and the quoted names of the view and
//! its table: a legacy module's in the main schema, a Desk module's in the Desk schema.

use super::super::desk_schema::{desk_table, DeskColumnType, COMMON};
use super::super::schema::{mirror_table, ColumnType, FIXED_COLUMNS, SYNCED_AT_COLUMN};
use super::view_name;
use crate::desk::module::DeskModule;
use crate::stream::Module;
use crate::zoho::module::Module as SupportModule;

/// What a module's view is made of: the mirror table's columns it shows, where the custom
/// fields' values are, and the names of both relations (quoted, schema-qualified when
/// not in the main schema).
pub(super) struct ViewShape {
    pub module: Module,
    pub view: String,
    pub table: String,
    /// The table's columns the view shows first: name and `format_type` spelling.
    pub base: Vec<(String, String)>,
    /// The jsonb object holding the custom fields' values, keyed by label.
    pub values: &'static str,
}

impl ViewShape {
    pub fn support(module: SupportModule) -> ViewShape {
        let table = mirror_table(module);
        let typed = |name: &str, ty: ColumnType| (name.to_string(), ty.data_type().to_string());
        let base = FIXED_COLUMNS
            .iter()
            .map(|(name, ty)| typed(name, *ty))
            .chain(table.columns.iter().map(|c| typed(c.name, c.ty)))
            .chain([typed(SYNCED_AT_COLUMN, ColumnType::TimestampTz)])
            .collect();
        ViewShape {
            module: Module::Support(module),
            view: format!("\"{}\"", view_name(module)),
            table: table.name.to_string(),
            base,
            values: "fields",
        }
    }

    /// `schema`: the Desk schema, quoted.
    pub fn desk(module: DeskModule, schema: &str) -> ViewShape {
        let table = desk_table(module);
        let typed = |name: &str, ty: &str| (name.to_string(), ty.to_string());
        let base = [typed("org_id", "bigint"), typed("id", "bigint")]
            .into_iter()
            .chain(
                COMMON
                    .iter()
                    .chain(table.columns)
                    .map(|c| typed(c.name, desk_format_type(c.ty))),
            )
            .chain([typed(SYNCED_AT_COLUMN, "timestamp with time zone")])
            .collect();
        ViewShape {
            module: Module::Desk(module),
            view: format!("{schema}.\"{}_view\"", module.name()),
            table: format!("{schema}.{}", module.name()),
            base,
            values: "(record -> 'cf')",
        }
    }
}

fn desk_format_type(ty: DeskColumnType) -> &'static str {
    match ty {
        DeskColumnType::Text => "text",
        DeskColumnType::BigInt => "bigint",
        DeskColumnType::Boolean => "boolean",
        DeskColumnType::TimestampTz => "timestamp with time zone",
    }
}
