//! A page's rows as the mirror upsert binds them: one array per column, typed from the
//! wire text (`values`), and each record's fields as JSON text for the `fields` jsonb.
//! Building them is the CPU side of a commit, done ahead of it when it can be
//! (`Store::prepare`), so that the stream's one path through the database carries only
//! statements. The arrays hold one row per id, in ascending id order, as the upsert
//! needs (`mirror::prepare` sorts and de-duplicates the page first).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use super::mirror::Prepared;
use super::schema::{ColumnType, MirrorTable};
use super::values::{clean_text, convert, Value};
use crate::zoho::record::Record;

/// The typed values of one column, in row order.
enum ColumnValues {
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Boolean(Vec<Option<bool>>),
    Date(Vec<Option<NaiveDate>>),
    TimestampTz(Vec<Option<DateTime<Utc>>>),
}

impl ColumnValues {
    fn with_capacity(ty: ColumnType, n: usize) -> ColumnValues {
        match ty {
            ColumnType::BigInt => ColumnValues::BigInt(Vec::with_capacity(n)),
            ColumnType::Numeric | ColumnType::Text => ColumnValues::Text(Vec::with_capacity(n)),
            ColumnType::Boolean => ColumnValues::Boolean(Vec::with_capacity(n)),
            ColumnType::Date => ColumnValues::Date(Vec::with_capacity(n)),
            ColumnType::TimestampTz => ColumnValues::TimestampTz(Vec::with_capacity(n)),
        }
    }

    /// Appends a value; `convert` returns the variant matching the column's type.
    fn push(&mut self, value: Value) {
        match (self, value) {
            (ColumnValues::BigInt(v), Value::BigInt(x)) => v.push(x),
            (ColumnValues::Text(v), Value::Text(x) | Value::Numeric(x)) => v.push(x),
            (ColumnValues::Boolean(v), Value::Boolean(x)) => v.push(x),
            (ColumnValues::Date(v), Value::Date(x)) => v.push(x),
            (ColumnValues::TimestampTz(v), Value::TimestampTz(x)) => v.push(x),
            (ColumnValues::BigInt(v), _) => v.push(None),
            (ColumnValues::Text(v), _) => v.push(None),
            (ColumnValues::Boolean(v), _) => v.push(None),
            (ColumnValues::Date(v), _) => v.push(None),
            (ColumnValues::TimestampTz(v), _) => v.push(None),
        }
    }

    fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        match self {
            ColumnValues::BigInt(v) => query.bind(v.as_slice()),
            ColumnValues::Text(v) => query.bind(v.as_slice()),
            ColumnValues::Boolean(v) => query.bind(v.as_slice()),
            ColumnValues::Date(v) => query.bind(v.as_slice()),
            ColumnValues::TimestampTz(v) => query.bind(v.as_slice()),
        }
    }
}

/// Every field as received, label → string or null; NULs replaced (jsonb refuses them).
pub(super) fn fields_json(record: &Record) -> Json {
    let map: Map<String, Json> = record
        .fields
        .iter()
        .map(|f| {
            let value = f
                .value
                .as_deref()
                .map_or(Json::Null, |v| Json::String(clean_text(v)));
            (clean_text(&f.label), value)
        })
        .collect();
    Json::Object(map)
}

/// A page's rows as the upsert binds them: ids ascending, the `fields` jsonb, one array
/// per typed column. Building them is the CPU side of a commit, so it is done ahead,
/// while the page before is committed (`Store::prepare`), when it can be.
pub(crate) struct Binds {
    ids: Vec<i64>,
    /// As JSON text, so that nothing is left to serialise when the statement is sent.
    fields: Vec<String>,
    columns: Vec<ColumnValues>,
}

impl Binds {
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn ids(&self) -> &[i64] {
        &self.ids
    }

    pub(super) fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Binds the typed columns' arrays, in the table's column order.
    pub(super) fn bind_columns<'q>(
        &'q self,
        mut query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        for values in &self.columns {
            query = values.bind(query);
        }
        query
    }

    /// Whether these are the binds of `prepared`'s rows (the same ids: a page's rows
    /// never change once fetched).
    pub(super) fn are_of(&self, prepared: &Prepared<'_>) -> bool {
        self.ids.iter().eq(prepared.rows.keys())
    }
}

/// The binds of `prepared`'s rows for `table`; date-times are read in `zone`.
pub(super) fn binds(table: &MirrorTable, prepared: &Prepared<'_>, zone: chrono_tz::Tz) -> Binds {
    let n = prepared.rows.len();
    let mut columns: Vec<ColumnValues> = table
        .columns
        .iter()
        .map(|c| ColumnValues::with_capacity(c.ty, n))
        .collect();
    for record in prepared.rows.values() {
        for (column, values) in table.columns.iter().zip(columns.iter_mut()) {
            values.push(convert(column.ty, record.get(column.label), zone));
        }
    }
    Binds {
        ids: prepared.rows.keys().copied().collect(),
        fields: prepared
            .rows
            .values()
            .map(|r| fields_json(r).to_string())
            .collect(),
        columns,
    }
}
