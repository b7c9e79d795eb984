//! A page's rows as the mirror upsert binds them: one array per column, typed from the
//! wire text (`values`), and each record's fields as JSON text for the `fields` jsonb.
//! Building them is the CPU side of a commit, done ahead of it when it can be
//! (`Store::prepare`), so that the stream's one path through the database carries only
//! statements. The arrays hold one row per id, in ascending id order, as the upsert
//! needs (`mirror::prepare` sorts and de-duplicates the page first).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use super::mirror::Prepared;
use super::schema::{Column, ColumnType, MirrorTable};
use super::values::{clean_text, convert, Value};
use crate::zoho::record::{Record, Text};

/// The typed values of one column, in row order.
enum ColumnValues {
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<Text>>),
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
}

/// Every field as received, label → string or null, as the JSON text the `fields` jsonb
/// is cast from; NULs replaced (jsonb refuses them). Written straight from the record,
/// with no map in between: a label sent twice is written twice, and jsonb keeps the last,
/// as a map would.
pub(super) fn fields_json(record: &Record) -> String {
    serde_json::to_string(&FieldsJson(record)).expect("a map of strings always serialises")
}

struct FieldsJson<'r>(&'r Record);

impl serde::Serialize for FieldsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.fields.iter().map(|f| {
            let value = f.value.as_deref().map(clean_text);
            (clean_text(&f.label), value)
        }))
    }
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

    /// Whether these are the binds of `prepared`'s rows (the same ids: a page's rows
    /// never change once fetched).
    pub(super) fn are_of(&self, prepared: &Prepared<'_>) -> bool {
        self.ids.iter().eq(prepared.rows.keys())
    }
}

/// The rows of several pages' binds as one upsert binds them: one row per id, the later
/// page's where two pages hold the same id (the anchor row a window shares with the one
/// before it), ids ascending. It borrows the pages' values, so merging copies no text.
pub(super) struct Merged<'b> {
    ids: Vec<i64>,
    fields: Vec<&'b str>,
    columns: Vec<ColumnRefs<'b>>,
}

/// One column's values of a merge, borrowed.
enum ColumnRefs<'b> {
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<&'b str>>),
    Boolean(Vec<Option<bool>>),
    Date(Vec<Option<NaiveDate>>),
    TimestampTz(Vec<Option<DateTime<Utc>>>),
}

impl<'b> ColumnRefs<'b> {
    /// The values of `column` at `rows` (page, row), in that order.
    fn pick(pages: &[&'b Binds], column: usize, rows: &[(usize, usize)]) -> ColumnRefs<'b> {
        let of = |page: usize| -> &'b ColumnValues {
            let binds: &'b Binds = pages[page];
            &binds.columns[column]
        };
        macro_rules! pick {
            ($variant:ident, $map:expr) => {
                ColumnRefs::$variant(
                    rows.iter()
                        .map(|&(page, row)| match of(page) {
                            ColumnValues::$variant(v) => v[row].as_ref().map($map),
                            _ => None,
                        })
                        .collect(),
                )
            };
        }
        match pages.first().map(|p| &p.columns[column]) {
            Some(ColumnValues::BigInt(_)) => pick!(BigInt, |x: &i64| *x),
            Some(ColumnValues::Boolean(_)) => pick!(Boolean, |x: &bool| *x),
            Some(ColumnValues::Date(_)) => pick!(Date, |x: &NaiveDate| *x),
            Some(ColumnValues::TimestampTz(_)) => pick!(TimestampTz, |x: &DateTime<Utc>| *x),
            Some(ColumnValues::Text(_)) | None => pick!(Text, |x: &Text| x.as_str()),
        }
    }

    fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        match self {
            ColumnRefs::BigInt(v) => query.bind(v.as_slice()),
            ColumnRefs::Text(v) => query.bind(v.as_slice()),
            ColumnRefs::Boolean(v) => query.bind(v.as_slice()),
            ColumnRefs::Date(v) => query.bind(v.as_slice()),
            ColumnRefs::TimestampTz(v) => query.bind(v.as_slice()),
        }
    }
}

impl<'b> Merged<'b> {
    /// Merges pages' binds of one table, given in page order, leaving out id `skip`.
    pub(super) fn of(pages: &[&'b Binds], skip: Option<i64>) -> Merged<'b> {
        let mut rows: Vec<(i64, usize, usize)> = pages
            .iter()
            .enumerate()
            .flat_map(|(page, b)| {
                b.ids
                    .iter()
                    .enumerate()
                    .map(move |(row, id)| (*id, page, row))
            })
            .collect();
        // Stable: of one id's rows, the later page's sorts last and is kept.
        rows.sort_by_key(|&(id, _, _)| id);
        let mut kept: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
        for (i, &(id, page, row)) in rows.iter().enumerate() {
            if rows.get(i + 1).is_some_and(|next| next.0 == id) || skip == Some(id) {
                continue;
            }
            ids.push(id);
            kept.push((page, row));
        }
        let width = pages.first().map_or(0, |p| p.columns.len());
        Merged {
            fields: kept
                .iter()
                .map(|&(p, r)| pages[p].fields[r].as_str())
                .collect(),
            columns: (0..width)
                .map(|c| ColumnRefs::pick(pages, c, &kept))
                .collect(),
            ids,
        }
    }

    pub(super) fn ids(&self) -> &[i64] {
        &self.ids
    }

    pub(super) fn fields(&self) -> &[&'b str] {
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
}

/// The binds of `prepared`'s rows for `table`; date-times are read in `zone`.
pub(super) fn binds(table: &MirrorTable, prepared: &Prepared<'_>, zone: chrono_tz::Tz) -> Binds {
    let n = prepared.rows.len();
    let mut columns: Vec<ColumnValues> = table
        .columns
        .iter()
        .map(|c| ColumnValues::with_capacity(c.ty, n))
        .collect();
    let mut slots = Slots::new(table.columns);
    for record in prepared.rows.values() {
        let at = slots.of(record);
        for ((column, values), slot) in table.columns.iter().zip(columns.iter_mut()).zip(at) {
            let text = slot.and_then(|i| record.fields[i].value.as_deref());
            values.push(convert(column.ty, text, zone));
        }
    }
    Binds {
        ids: prepared.rows.keys().copied().collect(),
        fields: prepared.rows.values().map(|r| fields_json(r)).collect(),
        columns,
    }
}

/// Where each column's field sits in a record, as `Record::get` finds it (the first field
/// of that label, case-insensitively). Found again only when a record's labels differ
/// from the record before's: a page's records almost always share them, and searching
/// every column's label in every record was a tenth of a page's CPU.
struct Slots<'r> {
    columns: &'static [Column],
    labels: Vec<&'r str>,
    at: Vec<Option<usize>>,
}

impl<'r> Slots<'r> {
    fn new(columns: &'static [Column]) -> Slots<'r> {
        Slots {
            columns,
            labels: Vec::new(),
            at: Vec::new(),
        }
    }

    fn of(&mut self, record: &'r Record) -> &[Option<usize>] {
        let same = self.labels.len() == record.fields.len()
            && self
                .labels
                .iter()
                .zip(&record.fields)
                .all(|(l, f)| *l == f.label);
        if !same || self.at.len() != self.columns.len() {
            self.labels = record.fields.iter().map(|f| f.label.as_str()).collect();
            self.at = self
                .columns
                .iter()
                .map(|c| {
                    let label = c.label;
                    record
                        .fields
                        .iter()
                        .position(|f| f.label.eq_ignore_ascii_case(label))
                })
                .collect();
        }
        &self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::record::Field;

    fn record(fields: &[(&str, Option<&str>)]) -> Record {
        Record {
            id: None,
            fields: fields
                .iter()
                .map(|(label, value)| Field {
                    label: (*label).into(),
                    value: value.map(Into::into),
                })
                .collect(),
        }
    }

    const COLUMNS: &[Column] = &[
        Column {
            label: "Subject",
            name: "subject",
            ty: ColumnType::Text,
        },
        Column {
            label: "Status",
            name: "status",
            ty: ColumnType::Text,
        },
    ];

    fn values<'r>(slots: &mut Slots<'r>, record: &'r Record) -> Vec<Option<&'r str>> {
        let at = slots.of(record).to_vec();
        at.iter()
            .map(|slot| slot.and_then(|i| record.fields[i].value.as_deref()))
            .collect()
    }

    #[test]
    fn slots_find_what_record_get_finds_whatever_the_order_of_the_records_labels() {
        let records = [
            record(&[("SUBJECT", Some("a")), ("Status", Some("Open"))]),
            record(&[("SUBJECT", Some("b")), ("Status", Some("Closed"))]),
            record(&[
                ("Status", Some("On Hold")),
                ("subject", None),
                ("Subject", Some("x")),
            ]),
            record(&[("Other", Some("o"))]),
            record(&[]),
            record(&[("Status", Some("Open")), ("status", Some("shadowed"))]),
        ];
        let mut slots = Slots::new(COLUMNS);
        for r in &records {
            let expected: Vec<_> = COLUMNS.iter().map(|c| r.get(c.label)).collect();
            assert_eq!(values(&mut slots, r), expected, "{r:?}");
        }
    }

    #[test]
    fn fields_json_is_the_map_jsonb_would_keep_with_nuls_replaced() {
        let r = record(&[("A\0", Some("x\0\"y")), ("B", None), ("A\0", Some("last"))]);
        let text = fields_json(&r);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"A\u{FFFD}": "last", "B": null}),
            "{text}"
        );
        assert!(!text.contains('\0'), "{text}");
    }

    fn page(rows: &[(i64, &str)]) -> Binds {
        Binds {
            ids: rows.iter().map(|r| r.0).collect(),
            fields: rows
                .iter()
                .map(|r| format!("{{\"v\":\"{}\"}}", r.1))
                .collect(),
            columns: vec![ColumnValues::Text(
                rows.iter().map(|r| Some(r.1.into())).collect(),
            )],
        }
    }

    #[test]
    fn merged_pages_keep_one_row_per_id_ascending_the_later_pages_where_they_share_one() {
        let first = page(&[(1, "a"), (2, "b"), (3, "old")]);
        let second = page(&[(3, "new"), (4, "d")]);
        let third = page(&[(4, "newer"), (5, "e")]);
        assert_eq!(Merged::of(&[&first, &second], Some(3)).ids(), &[1, 2, 4]);
        let merged = Merged::of(&[&first, &second, &third], None);
        assert_eq!(merged.ids(), &[1, 2, 3, 4, 5]);
        let texts: Vec<&str> = merged.fields().to_vec();
        assert_eq!(texts[2], "{\"v\":\"new\"}");
        assert_eq!(texts[3], "{\"v\":\"newer\"}");
        let ColumnRefs::Text(column) = &merged.columns[0] else {
            panic!("a text column");
        };
        assert_eq!(
            column,
            &[Some("a"), Some("b"), Some("new"), Some("newer"), Some("e")]
        );
    }
}
