//! The emulator's data for one (portal, department, module): a compact index of live
//! records sorted by id (id, created and modified time in whole seconds, request number,
//! version), plus explicit values for records written through the API. Every other field
//! value is generated on demand from (seed, module, id, version), so a million records fit
//! in about 32 MiB and start in well under a second. Invariants: the index ascends in id,
//! created time and request number together; ids are never reused; times are whole seconds.

mod churn;
mod generate;
mod query;
mod schema;
pub(crate) mod vocabulary;
mod writes;

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::zoho::module::Module;
use generate::{Context, DATETIME_FORMAT};
use query::Filter;
use schema::{FieldSpec, Source};

pub use vocabulary::AGENTS;

/// The most records one store generates; guards against a config that would exhaust memory.
pub const MAX_RECORDS: u64 = 20_000_000;

/// The type of a custom field's values.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum FieldKind {
    Text,
    Number,
    Decimal,
    Date,
    DateTime,
    Boolean,
    Picklist { options: Vec<String> },
}

/// A portal-specific field of a module.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct CustomField {
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// One record as the emulator holds it: id and fields in the module's order, the id field
/// first; `None` is an empty (`null`) value. Date-times are already rendered as
/// `yyyy-MM-dd HH:mm:ss` in the store's data time zone, dates as `yyyy-MM-dd`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: u64,
    pub fields: Vec<(String, Option<String>)>,
}

/// Which records a read selects (before the fromindex/toindex window is applied).
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only records whose Modified Time is strictly after this instant.
    pub modified_after: Option<DateTime<Utc>>,
    /// Only records whose owner field equals this name (`myrecords`).
    pub owner: Option<String>,
    /// `getrecordsbysearch`: (field label, value). Exact match for id and numeric fields,
    /// case-insensitive substring for text.
    pub search: Option<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("no field `{0}` in this module")]
    UnknownField(String),
    #[error("mandatory field `{0}` is missing")]
    MandatoryMissing(String),
    #[error("no record with id {0}")]
    NotFound(u64),
    #[error("a field labelled `{0}` already exists")]
    DuplicateField(String),
}

/// Who a store belongs to and how it renders: everything but the records themselves.
#[derive(Clone, Debug)]
pub struct StoreSpec {
    /// Same seed, same data. Stores whose seeds differ modulo 1000 have disjoint ids.
    pub seed: u64,
    pub module: Module,
    /// Goes into the requests' `URI` field.
    pub portal: String,
    /// Goes into the requests' `Department` field.
    pub department: String,
    /// The data time zone date-times are rendered in.
    pub zone: Tz,
    pub custom_fields: Vec<CustomField>,
}

/// One live record in the index; 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    id: u64,
    /// Epoch seconds.
    created: i64,
    /// Epoch seconds; what `modified_after` compares with.
    modified: i64,
    /// The `Request Id` (every module keeps one; only requests show it).
    seq: u32,
    /// Bumped by every change; volatile generated fields depend on it.
    version: u32,
}

pub struct ModuleStore {
    spec: StoreSpec,
    fields: Vec<FieldSpec>,
    index: Vec<Entry>,
    /// Explicit values of records written through the API, by field position; positions
    /// past the end (custom fields added later) and system fields are generated.
    overrides: HashMap<u64, Vec<Option<String>>>,
    /// The highest id ever handed out, deleted or not.
    last_id: u64,
    last_seq: Option<u32>,
}

impl fmt::Debug for ModuleStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleStore")
            .field("module", &self.spec.module)
            .field("portal", &self.spec.portal)
            .field("department", &self.spec.department)
            .field("records", &self.index.len())
            .field("written", &self.overrides.len())
            .finish()
    }
}

impl ModuleStore {
    /// Generates `count` records (at most `MAX_RECORDS`); created times spread over five
    /// years before `now`, ids ascending with creation. A custom field whose label repeats
    /// an existing one is skipped.
    pub fn generate(mut spec: StoreSpec, count: u64, now: DateTime<Utc>) -> ModuleStore {
        if count > MAX_RECORDS {
            tracing::warn!(count, max = MAX_RECORDS, module = %spec.module, "record count capped");
        }
        let count = usize::try_from(count.min(MAX_RECORDS)).unwrap_or(0);
        let index = generate::initial_index(spec.seed, spec.module, count, now.timestamp());
        let custom = std::mem::take(&mut spec.custom_fields);
        let mut store = ModuleStore {
            fields: schema::module_fields(spec.module),
            last_id: index
                .last()
                .map_or(generate::id_floor(spec.seed, spec.module), |e| e.id),
            last_seq: index.last().map(|e| e.seq),
            spec,
            index,
            overrides: HashMap::new(),
        };
        for field in custom {
            if let Err(error) = store.add_custom_field(field) {
                tracing::warn!(%error, "custom field skipped");
            }
        }
        store
    }

    pub fn module(&self) -> Module {
        self.spec.module
    }

    pub fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    /// Live records.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Field labels in wire order, the id field first, custom fields last.
    pub fn labels(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.label.clone()).collect()
    }

    /// The label as the store spells it, matched case-insensitively (and trimmed).
    pub fn canonical_label(&self, label: &str) -> Option<&str> {
        let at = self.field_position(label)?;
        self.fields.get(at).map(|f| f.label.as_str())
    }

    /// The owner field `myrecords` filters on (e.g. `Request Owner`).
    pub fn owner_label(&self) -> &'static str {
        schema::owner_label(self.spec.module)
    }

    /// The field an add must carry (e.g. `Subject`).
    pub fn mandatory_label(&self) -> &'static str {
        schema::mandatory_label(self.spec.module)
    }

    /// The matching rows in ascending id order, windowed to `from..=to` (1-based; a `from`
    /// of 0 counts as 1). An empty vector means the window is past the end. Without a
    /// filter this costs only the window.
    pub fn select(&self, query: &Query, from: usize, to: usize) -> Result<Vec<Row>, StoreError> {
        let filter = Filter::compile(self, query)?;
        let from = from.max(1);
        if to < from {
            return Ok(Vec::new());
        }
        let Some(filter) = filter else {
            let window = self.index.get(from - 1..to.min(self.index.len()));
            return Ok(window
                .unwrap_or(&[])
                .iter()
                .map(|e| self.row_of(e))
                .collect());
        };
        Ok(filter
            .candidates(self)
            .iter()
            .filter(|e| filter.matches(self, e))
            .skip(from - 1)
            .take(to - from + 1)
            .map(|e| self.row_of(e))
            .collect())
    }

    pub fn get(&self, id: u64) -> Option<Row> {
        let pos = self.position(id)?;
        self.index.get(pos).map(|e| self.row_of(e))
    }

    /// All live rows in ascending id order.
    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        self.index.iter().map(|e| self.row_of(e))
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.index.binary_search_by_key(&id, |e| e.id).ok()
    }

    fn field_position(&self, label: &str) -> Option<usize> {
        let label = label.trim();
        let lower = label.to_lowercase();
        self.fields
            .iter()
            .position(|f| f.label.eq_ignore_ascii_case(label) || f.label.to_lowercase() == lower)
    }

    fn context(&self) -> Context<'_> {
        Context {
            seed: self.spec.seed,
            module: self.spec.module,
            department: &self.spec.department,
            zone: self.spec.zone,
        }
    }

    fn row_of(&self, entry: &Entry) -> Row {
        let explicit = self.overrides.get(&entry.id);
        let ctx = self.context();
        let fields = self
            .fields
            .iter()
            .enumerate()
            .map(|(at, spec)| {
                (
                    spec.label.clone(),
                    self.value(&ctx, entry, at, spec, explicit),
                )
            })
            .collect();
        Row {
            id: entry.id,
            fields,
        }
    }

    /// The value of the field at position `at`, for the filters.
    fn value_at(&self, entry: &Entry, at: usize) -> Option<String> {
        let spec = self.fields.get(at)?;
        let explicit = self.overrides.get(&entry.id);
        self.value(&self.context(), entry, at, spec, explicit)
    }

    fn value(
        &self,
        ctx: &Context<'_>,
        entry: &Entry,
        at: usize,
        spec: &FieldSpec,
        explicit: Option<&Vec<Option<String>>>,
    ) -> Option<String> {
        match &spec.source {
            Source::Id => Some(entry.id.to_string()),
            Source::Uri => Some(format!(
                "/support/{}/ShowHomePage.do#Cases/dv/{}",
                self.spec.portal, entry.id
            )),
            Source::RequestNo => Some(entry.seq.to_string()),
            Source::CreatedTime => generate::render_time(ctx.zone, entry.created, DATETIME_FORMAT),
            Source::ModifiedTime => {
                generate::render_time(ctx.zone, entry.modified, DATETIME_FORMAT)
            }
            Source::Generated(gen) => match explicit.and_then(|values| values.get(at)) {
                Some(value) => value.clone(),
                None => generate::value(ctx, spec, gen, entry),
            },
        }
    }
}

#[cfg(test)]
mod tests;
