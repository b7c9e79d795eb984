//! Selection over a set of records: filters (time ranges inclusive at both ends, D12;
//! equality with any of several values; case-insensitive substrings; one id), a sort key
//! with a direction, and an offset window. Ties always come out in ascending id order,
//! in either direction, so paging inside a group of records sharing one second is stable.
//! Without filters and in id order a window costs only its rows.

use std::cmp::Ordering;

use serde_json::Value;

use super::super::facts::OrgFacts;
use super::super::module::DeskModule;
use super::super::records::{Entry, Record};
use super::super::time::Range;
use super::{Hit, Records};

/// One condition a selected record meets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// A time field within the range (epoch milliseconds, both ends inclusive).
    Range {
        field: &'static str,
        range: Range,
    },
    /// The field's value (as text, or any item of a list) equals one of these, ignoring
    /// case.
    Equals {
        field: &'static str,
        values: Vec<String>,
    },
    /// The field's text contains this, ignoring case.
    Contains {
        field: &'static str,
        text: String,
    },
    Id(u64),
    /// The field is null.
    Null(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Created,
    Modified,
    Number,
    /// Any other field, by its text; nulls last.
    Field(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    pub const BY_ID: Sort = Sort {
        key: SortKey::Id,
        descending: false,
    };
}

pub(super) struct View<'a> {
    pub facts: &'a OrgFacts,
    pub module: DeskModule,
}

impl View<'_> {
    fn record<'e>(&'e self, records: &'e Records, entry: &'e Entry) -> Record<'e> {
        Record {
            facts: self.facts,
            module: self.module,
            entry,
            written: records.written.get(&entry.id).map(|w| &**w),
        }
    }
}

/// The window `skip..skip+limit` of the sorted matches, and how many matched.
pub(super) fn window(
    records: &Records,
    view: &View<'_>,
    filters: &[Filter],
    sort: Sort,
    skip: usize,
    limit: usize,
) -> (Vec<Hit>, usize) {
    let hit = |e: &Entry| Hit {
        entry: *e,
        written: records.written.get(&e.id).cloned(),
    };
    if filters.is_empty() && sort == Sort::BY_ID {
        let rows = records
            .entries
            .iter()
            .skip(skip)
            .take(limit)
            .map(hit)
            .collect();
        return (rows, records.entries.len());
    }
    let mut matches: Vec<&Entry> = records
        .entries
        .iter()
        .filter(|e| filters.iter().all(|f| meets(&view.record(records, e), f)))
        .collect();
    let count = matches.len();
    sort_entries(records, view, &mut matches, sort);
    let rows = matches
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(hit)
        .collect();
    (rows, count)
}

fn meets(record: &Record<'_>, filter: &Filter) -> bool {
    match filter {
        Filter::Id(id) => record.entry.id == *id,
        Filter::Null(field) => record.get(field).is_null(),
        Filter::Range { field, range } => record.millis(field).is_some_and(|t| range.contains(t)),
        Filter::Equals { field, values } => {
            let equals = |v: &Value| {
                text(v).is_some_and(|v| values.iter().any(|w| w.eq_ignore_ascii_case(&v)))
            };
            // A list field (a product's `departmentIds`) matches when any item does.
            match record.get(field) {
                Value::Array(items) => items.iter().any(equals),
                value => equals(&value),
            }
        }
        Filter::Contains {
            field,
            text: wanted,
        } => text(&record.get(field))
            .is_some_and(|v| v.to_lowercase().contains(&wanted.to_lowercase())),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn sort_entries(records: &Records, view: &View<'_>, matches: &mut Vec<&Entry>, sort: Sort) {
    let direct = |e: &Entry| match sort.key {
        SortKey::Created => e.created,
        SortKey::Modified => e.modified,
        SortKey::Number => i64::from(e.number),
        _ => 0,
    };
    let directed = |o: Ordering| if sort.descending { o.reverse() } else { o };
    match sort.key {
        SortKey::Id => matches.sort_unstable_by(|a, b| directed(a.id.cmp(&b.id))),
        SortKey::Field(name) => {
            let mut keyed: Vec<(Option<String>, &Entry)> = matches
                .iter()
                .map(|e| (text(&view.record(records, e).get(name)), *e))
                .collect();
            keyed.sort_unstable_by(|(ka, a), (kb, b)| {
                let by_key = match (ka, kb) {
                    (Some(x), Some(y)) => directed(x.cmp(y)),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                by_key.then(a.id.cmp(&b.id))
            });
            *matches = keyed.into_iter().map(|(_, e)| e).collect();
        }
        _ => matches
            .sort_unstable_by(|a, b| directed(direct(a).cmp(&direct(b))).then(a.id.cmp(&b.id))),
    }
}
