//! Evaluating a `Query` against the compact index. The search value is decoded once into a
//! needle; an exact search on the id or on `Request Id` narrows the scan to one record by
//! binary search (both ascend with the index), everything else is a linear scan that
//! renders only the fields the predicates need.

use super::schema::{Source, ValueKind};
use super::{Entry, ModuleStore, Query, StoreError};

/// A query resolved against one store's fields.
pub(super) struct Filter<'q> {
    after: Option<i64>,
    owner: Option<(usize, &'q str)>,
    search: Option<(usize, Needle)>,
}

enum Needle {
    /// Equal after trimming; booleans ignore case.
    Exact { text: String, ignore_case: bool },
    /// Lower-cased; matches any value containing it, ignoring case.
    Contains(String),
}

impl<'q> Filter<'q> {
    /// `Ok(None)` when the query selects everything.
    pub fn compile(
        store: &ModuleStore,
        query: &'q Query,
    ) -> Result<Option<Filter<'q>>, StoreError> {
        if query.modified_after.is_none() && query.owner.is_none() && query.search.is_none() {
            return Ok(None);
        }
        let search = match &query.search {
            None => None,
            Some((label, value)) => {
                let at = store
                    .field_position(label)
                    .ok_or_else(|| StoreError::UnknownField(label.clone()))?;
                let kind = store.fields.get(at).map_or(ValueKind::Text, |f| f.kind);
                Some((at, Needle::new(kind, value)))
            }
        };
        let owner_at = store
            .field_position(store.owner_label())
            .unwrap_or(usize::MAX);
        Ok(Some(Filter {
            after: query.modified_after.map(|t| t.timestamp()),
            owner: query.owner.as_deref().map(|name| (owner_at, name)),
            search,
        }))
    }

    /// The slice of the index that can hold matches.
    pub fn candidates<'s>(&self, store: &'s ModuleStore) -> &'s [Entry] {
        let index = store.index.as_slice();
        let Some((at, Needle::Exact { text, .. })) = &self.search else {
            return index;
        };
        let source = store.fields.get(*at).map(|f| &f.source);
        let found = match source {
            Some(Source::Id) => text
                .parse::<u64>()
                .ok()
                .map(|id| index.partition_point(|e| e.id < id)),
            Some(Source::RequestNo) => text
                .parse::<u32>()
                .ok()
                .map(|n| index.partition_point(|e| e.seq < n)),
            _ => return index,
        };
        // The exact test in `matches` still runs on the one candidate.
        found.and_then(|pos| index.get(pos..pos + 1)).unwrap_or(&[])
    }

    pub fn matches(&self, store: &ModuleStore, entry: &Entry) -> bool {
        if let Some(after) = self.after {
            if entry.modified <= after {
                return false;
            }
        }
        if let Some((at, name)) = self.owner {
            if store.value_at(entry, at).as_deref() != Some(name) {
                return false;
            }
        }
        match &self.search {
            None => true,
            Some((at, needle)) => store
                .value_at(entry, *at)
                .is_some_and(|v| needle.accepts(&v)),
        }
    }
}

impl Needle {
    fn new(kind: ValueKind, value: &str) -> Needle {
        if kind.matches_exactly() {
            Needle::Exact {
                text: value.trim().to_string(),
                ignore_case: kind == ValueKind::Boolean,
            }
        } else {
            Needle::Contains(value.to_lowercase())
        }
    }

    fn accepts(&self, value: &str) -> bool {
        match self {
            Needle::Exact {
                text,
                ignore_case: true,
            } => value.trim().eq_ignore_ascii_case(text),
            Needle::Exact { text, .. } => value.trim() == text,
            Needle::Contains(lower) => value.to_lowercase().contains(lower.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all, field, store};
    use super::super::AGENTS;
    use super::*;
    use crate::zoho::module::Module;

    #[test]
    fn modified_after_is_strictly_after_and_windows_the_matches() {
        let s = store(Module::Contacts, 400);
        let rows = all(&s);
        let pick = rows
            .get(200)
            .and_then(|r| field(r, "Modified Time"))
            .unwrap_or_default()
            .to_string();
        let after = chrono::NaiveDateTime::parse_from_str(&pick, "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc())
            .ok();
        let expected: Vec<u64> = rows
            .iter()
            .filter(|r| field(r, "Modified Time").is_some_and(|m| m > pick.as_str()))
            .map(|r| r.id)
            .collect();
        let query = Query {
            modified_after: after,
            ..Query::default()
        };
        let got: Vec<u64> = s
            .select(&query, 1, 1000)
            .unwrap_or_default()
            .iter()
            .map(|r| r.id)
            .collect();
        assert!(!expected.is_empty() && got == expected);
        let second: Vec<u64> = s
            .select(&query, 3, 4)
            .unwrap_or_default()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(second, expected[2..4].to_vec());
    }

    #[test]
    fn myrecords_keeps_only_the_owners_records() {
        let s = store(Module::Requests, 300);
        let query = Query {
            owner: Some(AGENTS[1].to_string()),
            ..Query::default()
        };
        let mine = s.select(&query, 1, 200).unwrap_or_default();
        assert!(!mine.is_empty());
        assert!(mine
            .iter()
            .all(|r| field(r, "Request Owner") == Some(AGENTS[1])));
    }

    #[test]
    fn search_is_exact_on_ids_and_numbers_and_a_substring_ignoring_case_on_text() {
        let s = store(Module::Requests, 300);
        let rows = all(&s);
        let search = |label: &str, value: &str| {
            let query = Query {
                search: Some((label.to_string(), value.to_string())),
                ..Query::default()
            };
            s.select(&query, 1, 200)
                .map(|rows| rows.iter().map(|r| r.id).collect::<Vec<_>>())
        };
        let target = &rows[123];
        assert_eq!(
            search("request id", field(target, "Request Id").unwrap_or("x")),
            Ok(vec![target.id])
        );
        assert_eq!(search("Request Id", "1"), Ok(vec![]));
        assert_eq!(
            search("CASEID", &target.id.to_string()),
            Ok(vec![target.id])
        );
        assert_eq!(search("CASEID", "no"), Ok(vec![]));
        let subject_hits = search("subject", "PRINTER IS").unwrap_or_default();
        let expected: Vec<u64> = rows
            .iter()
            .filter(|r| field(r, "Subject").is_some_and(|v| v.contains("Printer is")))
            .map(|r| r.id)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(subject_hits, expected);
        assert_eq!(
            search("Nope", "x"),
            Err(StoreError::UnknownField("Nope".to_string()))
        );
    }
}
