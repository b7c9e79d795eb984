//! The search index of a store whose organisation has an index lag (D16): a copy of the
//! records that receives each write `lag` after it happened, in the order the writes
//! happened. Until then a search shows the record as it was (or not at all, if it was
//! just created) and still shows a record just trashed. Changes are applied lazily, when
//! the store is next touched, so no background task runs.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Hit, Records};

/// A write on its way to the index.
#[derive(Clone, Debug)]
pub(super) enum Change {
    Put(Hit),
    Remove(u64),
}

#[derive(Debug)]
pub(super) struct LaggedIndex {
    records: Records,
    pending: VecDeque<(DateTime<Utc>, Change)>,
    lag: TimeDelta,
}

impl LaggedIndex {
    pub fn new(records: Records, lag: Duration) -> LaggedIndex {
        LaggedIndex {
            records,
            pending: VecDeque::new(),
            lag: TimeDelta::from_std(lag).unwrap_or(TimeDelta::MAX),
        }
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Queues a write made at `now`.
    pub fn push(&mut self, change: Change, now: DateTime<Utc>) {
        let due = now
            .checked_add_signed(self.lag)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.pending.push_back((due, change));
    }

    /// Applies every write whose lag has passed at `now`. A clock set back keeps them
    /// queued: they were written "later" than the new now.
    pub fn apply_due(&mut self, now: DateTime<Utc>) {
        while self.pending.front().is_some_and(|(due, _)| *due <= now) {
            let Some((_, change)) = self.pending.pop_front() else {
                break;
            };
            match change {
                Change::Put(hit) => self.records.put(hit),
                Change::Remove(id) => {
                    self.records.remove(id);
                }
            }
        }
    }
}
