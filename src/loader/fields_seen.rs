//! `fields_seen`: every label seen per module, when it first appeared and the narrowest
//! type of the values seen so far. A page writes to it only what is news: the loader
//! keeps, per module, the labels and types it already knows are stored, and a page whose
//! labels and types are all known costs no statement. Novelty is recorded in the page's
//! transaction (under the change-log append lock every page commit takes, so concurrent
//! writers of the same labels queue instead of deadlocking); types only ever widen. A
//! label may be of any length: rows are keyed by its md5 (`label_key`), never by the
//! label itself, which no index could hold past about 2,700 bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use serde_json::{Map, Value};

use super::field_type::FieldType;
use super::schema::mirror_table;
use super::values::clean_text;
use super::{Loader, StoreError};
use crate::desk::module::DeskModule;
use crate::desk::record::DeskRecord;
use crate::stream::Module;
use crate::zoho::module::Module as SupportModule;
use crate::zoho::record::Record;

/// The labels of a page and the join of their values' types (`None`: only empty values).
pub(super) type Observed = BTreeMap<String, Option<FieldType>>;

/// A module's labels and their stored types.
type Labels = HashMap<String, Option<FieldType>>;

/// What this process knows is stored in `fields_seen`, per module (shared by the
/// loader's clones). It may lag the table (another process widened a type): then a page
/// sends a label that changes nothing, once.
#[derive(Clone, Debug, Default)]
pub(super) struct KnownFields {
    modules: Arc<Mutex<HashMap<Module, Labels>>>,
}

impl KnownFields {
    /// The observed labels not yet known with at least their observed type.
    pub(super) fn novel(&self, module: Module, observed: &Observed) -> Observed {
        let modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
        let known = modules.get(&module);
        observed
            .iter()
            .filter(|(label, ty)| match known.and_then(|k| k.get(*label)) {
                None => true,
                Some(stored) => FieldType::join_opt(*stored, **ty) != *stored,
            })
            .map(|(label, ty)| (label.clone(), *ty))
            .collect()
    }

    /// Remembers labels as stored with (at least) these types.
    pub(super) fn learn(&self, module: Module, stored: &Observed) {
        let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
        let known = modules.entry(module).or_default();
        for (label, ty) in stored {
            let entry = known.entry(label.clone()).or_insert(*ty);
            *entry = FieldType::join_opt(*entry, *ty);
        }
    }
}

/// A module's key in `fields_seen`: the legacy URL name (`requests`), or `desk.` and the
/// Desk name (`desk.contacts`: both APIs have contacts, with different fields).
pub(super) fn seen_key(module: Module) -> String {
    match module {
        Module::Support(m) => m.url_name().to_string(),
        Module::Desk(m) => format!("desk.{}", m.name()),
    }
}

/// The module a `fields_seen` key names.
fn from_seen_key(key: &str) -> Option<Module> {
    match key.strip_prefix("desk.") {
        Some(name) => DeskModule::parse(name).map(Module::Desk),
        None => SupportModule::parse(key).map(Module::Support),
    }
}

/// Every label of the records and the join of the types of its non-empty values. A
/// page's records almost always share one layout of labels, so the types are joined by
/// position while the layout holds and put in the map once per layout, not once per
/// field; a value is not typed once its label's join is already `text`, the widest.
pub(super) fn observe<'a>(records: impl Iterator<Item = &'a Record>) -> Observed {
    let mut observed = Observed::new();
    let mut layout: Vec<&str> = Vec::new();
    let mut joined: Vec<Option<FieldType>> = Vec::new();
    for record in records {
        let same = layout.len() == record.fields.len()
            && layout
                .iter()
                .zip(&record.fields)
                .all(|(l, f)| *l == f.label);
        if !same {
            flush(&mut observed, &layout, &joined);
            layout = record.fields.iter().map(|f| f.label.as_str()).collect();
            joined = vec![None; layout.len()];
        }
        for (slot, field) in joined.iter_mut().zip(&record.fields) {
            if *slot == Some(FieldType::Text) {
                continue;
            }
            let ty = field
                .value
                .as_deref()
                .map(|v| FieldType::of(&clean_text(v)));
            *slot = FieldType::join_opt(*slot, ty);
        }
    }
    flush(&mut observed, &layout, &joined);
    observed
}

/// Notes one layout's labels with the types joined for them.
fn flush(observed: &mut Observed, layout: &[&str], joined: &[Option<FieldType>]) {
    for (label, ty) in layout.iter().zip(joined) {
        note(observed, label, *ty);
    }
}

/// Joins `ty` into the label's type; the label is copied only the first time it is seen.
fn note(observed: &mut Observed, label: &str, ty: Option<FieldType>) {
    let label = clean_text(label);
    match observed.get_mut(label.as_ref()) {
        Some(slot) => *slot = FieldType::join_opt(*slot, ty),
        None => {
            observed.insert(label.into_owned(), ty);
        }
    }
}

/// Every `cf` key of Desk records (D24: their custom fields, keyed by API name) and the
/// join of the types of its non-empty values; a value that is not a string (a
/// multi-select's array, a number) is typed by its JSON text.
pub(super) fn observe_cf<'a>(records: impl Iterator<Item = &'a DeskRecord>) -> Observed {
    let mut observed = Observed::new();
    for record in records {
        let Some(Value::Object(cf)) = record.object.get("cf") else {
            continue;
        };
        observe_object(cf, &mut observed);
    }
    observed
}

fn observe_object(cf: &Map<String, Value>, observed: &mut Observed) {
    for (key, value) in cf {
        let ty = match value {
            Value::Null => None,
            Value::String(text) if text.is_empty() => None,
            Value::String(text) => Some(FieldType::of(&clean_text(text))),
            other => Some(FieldType::of(&other.to_string())),
        };
        note(observed, key, ty);
    }
}

/// Whether a label is a standard field of the module: its record id or a typed column
/// (matched case-insensitively, as labels are everywhere else). A Desk module's labels
/// are its `cf` keys, all custom.
pub(super) fn is_standard(module: Module, label: &str) -> bool {
    let Module::Support(module) = module else {
        return false;
    };
    label.eq_ignore_ascii_case(module.id_field())
        || mirror_table(module)
            .columns
            .iter()
            .any(|c| c.label.eq_ignore_ascii_case(label))
}

/// SQL of the join of two stored types (`fields_seen.value_type` spellings).
const JOIN_SQL: &str = "CASE WHEN f.value_type IS NULL THEN EXCLUDED.value_type \
     WHEN EXCLUDED.value_type IS NULL OR EXCLUDED.value_type = f.value_type THEN f.value_type \
     WHEN f.value_type IN ('bigint', 'numeric') AND EXCLUDED.value_type IN ('bigint', 'numeric') \
     THEN 'numeric' \
     WHEN f.value_type IN ('date', 'timestamp') AND EXCLUDED.value_type IN ('date', 'timestamp') \
     THEN 'timestamp' ELSE 'text' END";

/// Records novel labels and types in one statement. Returns whether one of them is a
/// field that now has values but no view column yet (its view needs refreshing).
pub(super) async fn record(
    conn: &mut PgConnection,
    module: Module,
    novel: &Observed,
    seen_at: DateTime<Utc>,
    run_id: i64,
) -> Result<bool, StoreError> {
    if novel.is_empty() {
        return Ok(false);
    }
    let labels: Vec<&str> = novel.keys().map(String::as_str).collect();
    let types: Vec<Option<&str>> = novel.values().map(|t| t.map(FieldType::as_str)).collect();
    let sql = format!(
        "INSERT INTO fields_seen AS f (module, label, value_type, first_seen_at, first_seen_run_id) \
         SELECT $1, u.label, u.ty, $2, $3 FROM unnest($4::text[], $5::text[]) AS u(label, ty) \
         ORDER BY u.label \
         ON CONFLICT (module, label_key) DO UPDATE SET value_type = {JOIN_SQL} \
         WHERE f.value_type IS DISTINCT FROM ({JOIN_SQL}) \
         RETURNING f.label, f.value_type, f.column_name"
    );
    let rows = sqlx::query(&sql)
        .bind(seen_key(module))
        .bind(seen_at)
        .bind(run_id)
        .bind(labels)
        .bind(types)
        .fetch_all(conn)
        .await?;
    let mut needs_column = false;
    for row in rows {
        let label: String = row.try_get("label")?;
        let typed = row.try_get::<Option<String>, _>("value_type")?.is_some();
        let column: Option<String> = row.try_get("column_name")?;
        needs_column |= typed && column.is_none() && !is_standard(module, &label);
    }
    Ok(needs_column)
}

/// One row of `fields_seen`, for `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSeen {
    pub module: Module,
    pub label: String,
    /// Whether the field is a standard one (its view column is a typed column).
    pub standard: bool,
    /// The narrowest type of the values seen (`None`: only empty values so far).
    pub value_type: Option<FieldType>,
    pub first_seen_at: DateTime<Utc>,
    /// Its column in the module's view and the column's type (fixed when added), for a
    /// custom field that has one.
    pub column: Option<(String, FieldType)>,
}

impl FieldSeen {
    /// The module as `fields_seen` keys it (`requests`, `desk.contacts`).
    pub fn module_key(&self) -> String {
        seen_key(self.module)
    }
}

impl Loader {
    /// Every field seen, by module and then in order of first appearance.
    pub async fn fields_seen(&self) -> Result<Vec<FieldSeen>, StoreError> {
        let rows = sqlx::query(
            "SELECT module, label, value_type, first_seen_at, column_name, column_type \
             FROM fields_seen ORDER BY module, first_seen_at, label",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(field_seen).collect()
    }
}

fn field_seen(row: &sqlx::postgres::PgRow) -> Result<FieldSeen, StoreError> {
    let module: String = row.try_get("module")?;
    let module = from_seen_key(&module).ok_or_else(|| StoreError::corrupt("module", module))?;
    let label: String = row.try_get("label")?;
    let field_type = |name: &str| -> Result<Option<FieldType>, StoreError> {
        row.try_get::<Option<String>, _>(name)?
            .map(|t| FieldType::parse(&t).ok_or_else(|| StoreError::corrupt("field type", t)))
            .transpose()
    };
    let column = match (
        row.try_get::<Option<String>, _>("column_name")?,
        field_type("column_type")?,
    ) {
        (Some(name), Some(ty)) => Some((name, ty)),
        _ => None,
    };
    Ok(FieldSeen {
        module,
        standard: is_standard(module, &label),
        label,
        value_type: field_type("value_type")?,
        first_seen_at: row.try_get("first_seen_at")?,
        column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::record::Field;

    const R: Module = Module::Support(SupportModule::Requests);
    const C: Module = Module::Support(SupportModule::Contacts);
    const T: Module = Module::Support(SupportModule::TimeEntry);

    fn record(fields: &[(&str, Option<&str>)]) -> Record {
        Record {
            id: None,
            fields: fields
                .iter()
                .map(|(l, v)| Field {
                    label: (*l).into(),
                    value: v.map(Into::into),
                })
                .collect(),
        }
    }

    #[test]
    fn a_page_observes_each_label_with_the_join_of_its_values() {
        let records = [
            record(&[
                ("Score", Some("3")),
                ("Flag", None),
                ("When", Some("2020-01-02")),
            ]),
            record(&[
                ("Score", Some("3.5")),
                ("Flag", None),
                ("When", Some("soon")),
            ]),
        ];
        let observed = observe(records.iter());
        assert_eq!(observed["Score"], Some(FieldType::Numeric));
        assert_eq!(observed["Flag"], None);
        assert_eq!(observed["When"], Some(FieldType::Text));
    }

    #[test]
    fn observing_by_layout_joins_what_observing_field_by_field_joins() {
        let records = [
            record(&[("A", Some("1")), ("B", Some("x")), ("A", Some("2.5"))]),
            record(&[("A", Some("3")), ("B", Some("2")), ("A", None)]),
            record(&[("B", Some("2020-01-02")), ("C", Some("true"))]),
            record(&[]),
            record(&[("C", Some("7")), ("B", None)]),
            record(&[("C", Some("8")), ("B", Some("9"))]),
        ];
        let mut expected = Observed::new();
        for field in records.iter().flat_map(|r| &r.fields) {
            let ty = field.value.as_deref().map(FieldType::of);
            note(&mut expected, &field.label, ty);
        }
        assert_eq!(observe(records.iter()), expected);
    }

    #[test]
    fn only_unknown_labels_and_wider_types_are_novel() {
        let known = KnownFields::default();
        let first: Observed = [
            ("A".to_string(), Some(FieldType::BigInt)),
            ("B".to_string(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(known.novel(R, &first), first);
        known.learn(R, &first);
        assert!(known.novel(R, &first).is_empty());
        assert_eq!(known.novel(C, &first), first);
        let later: Observed = [
            ("A".to_string(), Some(FieldType::BigInt)),
            ("B".to_string(), Some(FieldType::Date)),
        ]
        .into_iter()
        .collect();
        let novel = known.novel(R, &later);
        assert_eq!(novel.keys().collect::<Vec<_>>(), ["B"]);
    }

    #[test]
    fn the_id_field_and_typed_columns_are_standard_and_others_are_custom() {
        assert!(is_standard(R, "CASEID"));
        assert!(is_standard(R, "modified time"));
        assert!(!is_standard(R, "Escalation Level"));
        assert!(is_standard(T, "CASEID"));
        assert!(!is_standard(Module::Desk(DeskModule::Tickets), "cf_tier"));
    }

    #[test]
    fn desk_custom_fields_are_observed_from_cf_and_keyed_apart_from_the_legacy_api() {
        let object = |cf: Value| {
            let mut o = Map::new();
            o.insert("id".into(), Value::String("7".into()));
            o.insert("cf".into(), cf);
            DeskRecord::from_object(o).expect("a record")
        };
        let records = [
            object(serde_json::json!({"cf_score": "3", "cf_when": null, "cf_tags": ["a"]})),
            object(serde_json::json!({"cf_score": "4.5", "cf_when": "2024-01-02"})),
        ];
        let observed = observe_cf(records.iter());
        assert_eq!(observed["cf_score"], Some(FieldType::Numeric));
        assert_eq!(observed["cf_when"], Some(FieldType::Date));
        assert_eq!(observed["cf_tags"], Some(FieldType::Text));
        let desk = Module::Desk(DeskModule::Contacts);
        assert_eq!(seen_key(desk), "desk.contacts");
        assert_eq!(seen_key(C), "contacts");
        assert_eq!(from_seen_key("desk.contacts"), Some(desk));
        assert_eq!(from_seen_key("contacts"), Some(C));
    }
}
