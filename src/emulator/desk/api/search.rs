//! `GET /{module}/search` (section 4.1, D9, D12, D15, D16): a 0-based `from` capped so no
//! window reaches past 5,000 results, time ranges inclusive at both ends, `sortBy` with a
//! `-` for descending (ties in ascending id order), field searches, and a `count` of all
//! matches. It reads the search index, which shows each write `index_lag` late. Priced
//! as a list by its `from`, or 1 for a search by `id` (D19).

use super::super::credits::list_cost;
use super::super::errors::DeskError;
use super::super::module::DeskModule;
use super::super::params::SEARCH_CAP;
use super::super::store::{Filter, Sort};
use super::lists::sort_key;
use super::{Call, Reply};
use crate::emulator::state::read;

/// How a field search matches.
#[derive(Clone, Copy)]
enum Match {
    /// The exact value (ids, picklists).
    Exact,
    /// A substring of at least three characters, `*` wildcards ignored.
    Text,
}

/// The field searches each module offers besides `id` and the ranges.
fn field_searches(module: DeskModule) -> &'static [(&'static str, Match)] {
    use Match::{Exact, Text};
    match module {
        DeskModule::Tickets => &[
            ("ticketNumber", Exact),
            ("subject", Text),
            ("email", Text),
            ("phone", Text),
            ("status", Exact),
            ("priority", Exact),
            ("channel", Exact),
            ("category", Exact),
            ("departmentId", Exact),
            ("contactId", Exact),
            ("accountId", Exact),
            ("assigneeId", Exact),
            ("productId", Exact),
        ],
        DeskModule::Contacts => &[
            ("firstName", Text),
            ("lastName", Text),
            ("email", Text),
            ("phone", Text),
            ("mobile", Text),
            ("accountId", Exact),
            ("ownerId", Exact),
        ],
        DeskModule::Accounts => &[
            ("accountName", Text),
            ("email", Text),
            ("phone", Text),
            ("website", Text),
            ("ownerId", Exact),
        ],
        DeskModule::Products => &[
            ("productName", Text),
            ("productCode", Text),
            ("ownerId", Exact),
        ],
        _ => &[
            ("subject", Text),
            ("status", Exact),
            ("priority", Exact),
            ("departmentId", Exact),
            ("ownerId", Exact),
            ("ticketId", Exact),
        ],
    }
}

pub struct SearchOp {
    module: DeskModule,
    from: u64,
    limit: u32,
    sort: Sort,
    filters: Vec<Filter>,
    by_id: bool,
}

impl SearchOp {
    pub fn decode(call: &Call<'_>, module: DeskModule) -> Result<SearchOp, DeskError> {
        let q = call.query;
        let searches = field_searches(module);
        let mut allowed: Vec<&str> = vec!["from", "limit", "sortBy", "id"];
        allowed.extend(module.search_ranges());
        allowed.extend(searches.iter().map(|(name, _)| *name));
        q.only(&allowed)?;
        let from = q.zero_based_from(true)?;
        let limit = q.limit(100, 10)?;
        if from + u64::from(limit) > SEARCH_CAP {
            return Err(DeskError::SearchCap);
        }
        let sort = q
            .sort(module.search_sorts())?
            .map_or(Sort::BY_ID, |(name, descending)| Sort {
                key: sort_key(name),
                descending,
            });
        let mut filters = Vec::new();
        let id = q.id("id")?;
        if let Some(id) = id {
            filters.push(Filter::Id(id));
        }
        for name in module.search_ranges() {
            if let Some(range) = q.range(name)? {
                let field = name.trim_end_matches("Range");
                filters.push(Filter::Range {
                    field: static_name(module, field),
                    range,
                });
            }
        }
        for (name, how) in searches {
            let Some(value) = q.get(name)? else { continue };
            filters.push(match how {
                Match::Exact => Filter::Equals {
                    field: name,
                    values: vec![value.to_string()],
                },
                Match::Text => {
                    let text = value.replace('*', "");
                    if text.chars().count() < 3 {
                        return Err(DeskError::TooShort((*name).to_string()));
                    }
                    Filter::Contains { field: name, text }
                }
            });
        }
        Ok(SearchOp {
            module,
            from,
            limit,
            sort,
            filters,
            by_id: id.is_some(),
        })
    }

    pub fn cost(&self) -> u32 {
        if self.by_id {
            1
        } else {
            list_cost(self.from)
        }
    }

    pub fn run(self, call: &Call<'_>) -> Reply {
        let Some(slot) = call.org.slot(self.module) else {
            return Reply::no_content();
        };
        let skip = usize::try_from(self.from).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(0);
        let (hits, count) = read(&slot.store).search(&self.filters, self.sort, skip, limit);
        let rows = hits
            .iter()
            .map(|hit| hit.record(&call.org.facts, self.module).search_row())
            .collect();
        Reply::rows(rows, Some(count))
    }
}

/// The module's spelling of a field name as a `'static` str (the filters keep it).
fn static_name(module: DeskModule, name: &str) -> &'static str {
    super::super::records::schema::field(module, name).map_or("createdTime", |f| f.name)
}
