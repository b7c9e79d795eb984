//! The records of one (organisation, module): a compact index of live entries sorted by
//! id, the values written through the API, the module's share of the recycle bin, and the
//! search index, which sees every write `index_lag` later (D16). Invariants: live entries
//! ascend in id; an id is live, trashed or purged, never two of these; ids are never
//! reused; record times are whole seconds. Selection (filters, sort, window) happens under
//! the store's lock and returns owned `Hit`s, so rendering never holds a lock.

mod lag;
mod select;
mod writes;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::facts::{Dice, OrgFacts};
use super::module::DeskModule;
use super::records::{Entry, Record, Written};
use lag::LaggedIndex;

pub use select::{Filter, Sort, SortKey};
pub use writes::{StoreError, RETENTION_SECS};

/// The most records one store generates; guards against a config that exhausts memory.
pub const MAX_RECORDS: u64 = 20_000_000;
/// Created times spread over this many seconds before the start.
const HISTORY: i64 = 5 * 365 * 86_400;

/// A selected record, owned so it can be rendered after the lock is released.
#[derive(Clone, Debug)]
pub struct Hit {
    pub entry: Entry,
    pub written: Option<Arc<Written>>,
}

impl Hit {
    pub fn record<'a>(&'a self, facts: &'a OrgFacts, module: DeskModule) -> Record<'a> {
        Record {
            facts,
            module,
            entry: &self.entry,
            written: self.written.as_deref(),
        }
    }
}

/// A record in the recycle bin.
#[derive(Clone, Debug)]
pub struct Trashed {
    pub hit: Hit,
    /// Epoch seconds.
    pub deleted_at: i64,
    pub deleted_by: u64,
}

/// Entries and written values: the live set, or what the search index shows.
#[derive(Clone, Debug, Default)]
struct Records {
    entries: Vec<Entry>,
    written: HashMap<u64, Arc<Written>>,
}

impl Records {
    fn position(&self, id: u64) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |e| e.id)
    }

    fn hit(&self, id: u64) -> Option<Hit> {
        let entry = *self.entries.get(self.position(id).ok()?)?;
        Some(Hit {
            entry,
            written: self.written.get(&id).cloned(),
        })
    }

    fn put(&mut self, hit: Hit) {
        let id = hit.entry.id;
        match self.position(id) {
            Ok(at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    *slot = hit.entry;
                }
            }
            Err(at) => self.entries.insert(at, hit.entry),
        }
        match hit.written {
            Some(written) => self.written.insert(id, written),
            None => self.written.remove(&id),
        };
    }

    fn remove(&mut self, id: u64) -> Option<Hit> {
        let hit = self.hit(id)?;
        if let Ok(at) = self.position(id) {
            self.entries.remove(at);
        }
        self.written.remove(&id);
        Some(hit)
    }
}

pub struct DeskStore {
    module: DeskModule,
    facts: Arc<OrgFacts>,
    live: Records,
    index: Option<LaggedIndex>,
    trashed: BTreeMap<u64, Trashed>,
    /// Archived records (tickets, D25): neither listed nor searched, only read through
    /// their department's archive.
    archived: BTreeMap<u64, Hit>,
    last_id: u64,
    last_number: u32,
}

impl fmt::Debug for DeskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeskStore")
            .field("module", &self.module)
            .field("live", &self.live.entries.len())
            .field("trashed", &self.trashed.len())
            .finish()
    }
}

impl DeskStore {
    /// Generates `count` records (at most `MAX_RECORDS`) created over the five years
    /// before `facts.born`, more of them recently, ids ascending with creation.
    pub fn generate(
        facts: Arc<OrgFacts>,
        module: DeskModule,
        count: u64,
        lag: Duration,
    ) -> DeskStore {
        let count = count.min(MAX_RECORDS);
        let now = facts.born;
        let start = now - HISTORY;
        let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut dice = Dice::new(&[facts.seed, facts.ordinal, module.number() as u64, 0x1DE7]);
        for k in 0..count {
            let share = (k as f64 + unit(&mut dice)) / count as f64;
            let created = start + (HISTORY as f64 * share.sqrt()) as i64;
            let modified = if dice.chance(40) {
                created
            } else {
                let u = unit(&mut dice);
                created + ((now - created) as f64 * (u * u * u)) as i64
            };
            entries.push(Entry {
                id: facts.initial_id(module, k),
                created,
                modified: modified.min(now),
                version: 0,
                number: 100 + u32::try_from(k).unwrap_or(u32::MAX - 100),
            });
        }
        let last_id = entries.last().map_or(facts.floor(module), |e| e.id);
        let last_number = entries.last().map_or(100, |e| e.number);
        let live = Records {
            entries,
            written: HashMap::new(),
        };
        let index = (!lag.is_zero()).then(|| LaggedIndex::new(live.clone(), lag));
        DeskStore {
            module,
            facts,
            live,
            index,
            trashed: BTreeMap::new(),
            archived: BTreeMap::new(),
            last_id,
            last_number,
        }
    }

    pub fn module(&self) -> DeskModule {
        self.module
    }

    pub fn facts(&self) -> &Arc<OrgFacts> {
        &self.facts
    }

    /// Live records.
    pub fn len(&self) -> usize {
        self.live.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.entries.is_empty()
    }

    /// A live record.
    pub fn get(&self, id: u64) -> Option<Hit> {
        self.live.hit(id)
    }

    /// Every live record, ascending by id.
    pub fn hits(&self) -> impl Iterator<Item = Hit> + '_ {
        self.live.entries.iter().map(|e| Hit {
            entry: *e,
            written: self.live.written.get(&e.id).cloned(),
        })
    }

    /// Applies what time has made due: index changes past their lag, bin expiry.
    pub fn catch_up(&mut self, now: DateTime<Utc>) {
        if let Some(index) = &mut self.index {
            index.apply_due(now);
        }
        self.expire(now);
    }

    /// Live records through `filters`, sorted, windowed (`skip` rows, then `limit`).
    pub fn list(&self, filters: &[Filter], sort: Sort, skip: usize, limit: usize) -> Vec<Hit> {
        select::window(&self.live, &self.view(), filters, sort, skip, limit).0
    }

    /// Like `list` over what the search index shows, with the total of matches.
    pub fn search(
        &self,
        filters: &[Filter],
        sort: Sort,
        skip: usize,
        limit: usize,
    ) -> (Vec<Hit>, usize) {
        let records = self.index.as_ref().map_or(&self.live, LaggedIndex::records);
        select::window(records, &self.view(), filters, sort, skip, limit)
    }

    fn view(&self) -> select::View<'_> {
        select::View {
            facts: &self.facts,
            module: self.module,
        }
    }
}

fn unit(dice: &mut Dice) -> f64 {
    (dice.draw() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests;
