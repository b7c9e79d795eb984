//! Desk records changing behind a client's back: creates, updates (all stamped with the
//! same emulated second, so one churn makes a tie group), moves to the recycle bin,
//! purges and restores, applied at once or at a rate per simulated minute. A rate is
//! applied lazily when a request reaches the store: whole minutes since the last
//! application times the rate, capped so a clock jumped by months cannot stall a request.
//! Each application draws from (seed, application count), so a run is reproducible.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use super::facts::Dice;
use super::module::DeskModule;
use super::org::DeskSlot;
use super::store::DeskStore;
use crate::emulator::state::{lock, write};

/// The most minutes of rate-driven churn one application catches up on.
const MAX_MINUTES: i64 = 24 * 60;
/// The most records of each kind one application touches.
const MAX_PER_KIND: u64 = 100_000;

/// Records to change, at once or per simulated minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeskChurn {
    pub creates: u32,
    pub updates: u32,
    pub trashes: u32,
    pub purges: u32,
    pub restores: u32,
    /// Tickets only: customers' replies, which move `customerResponseTime` and, in the
    /// emulator, not `modifiedTime` (the pessimistic answer to the contract's Q6).
    pub replies: u32,
    /// Tickets only: records archived (D25), which leave lists and search unchanged.
    pub archives: u32,
}

impl DeskChurn {
    fn is_zero(self) -> bool {
        self == DeskChurn::default()
    }

    fn times(self, minutes: i64) -> DeskChurn {
        let scale = |n: u32| {
            let total = u64::from(n).saturating_mul(u64::try_from(minutes).unwrap_or(0));
            u32::try_from(total.min(MAX_PER_KIND)).unwrap_or(u32::MAX)
        };
        DeskChurn {
            creates: scale(self.creates),
            updates: scale(self.updates),
            trashes: scale(self.trashes),
            purges: scale(self.purges),
            restores: scale(self.restores),
            replies: scale(self.replies),
            archives: scale(self.archives),
        }
    }
}

/// The rate of one store and how far it has been applied.
#[derive(Debug)]
pub struct ChurnState {
    rate: DeskChurn,
    applied_until: DateTime<Utc>,
    runs: u64,
}

impl ChurnState {
    pub fn new(now: DateTime<Utc>) -> ChurnState {
        ChurnState {
            rate: DeskChurn::default(),
            applied_until: now,
            runs: 0,
        }
    }

    fn due(&mut self, now: DateTime<Utc>) -> Option<DeskChurn> {
        if self.rate.is_zero() {
            return None;
        }
        let minutes = (now - self.applied_until).num_minutes();
        if minutes < 1 {
            return None;
        }
        self.applied_until += TimeDelta::minutes(minutes);
        Some(self.rate.times(minutes.min(MAX_MINUTES)))
    }

    fn next_seed(&mut self, seed: u64) -> u64 {
        self.runs += 1;
        crate::emulator::seeds::mix_all(&[seed, 0xDE5C, self.runs])
    }
}

/// Applies the rate-driven churn due at `now`, if any.
pub fn catch_up(slot: &DeskSlot, seed: u64, now: DateTime<Utc>) {
    let mut state = lock(&slot.churn);
    if let Some(counts) = state.due(now) {
        let churn_seed = state.next_seed(seed);
        apply(&mut write(&slot.store), churn_seed, counts, now);
    }
}

/// Churns the store now.
pub fn churn_now(slot: &DeskSlot, seed: u64, counts: DeskChurn, now: DateTime<Utc>) {
    let churn_seed = lock(&slot.churn).next_seed(seed);
    apply(&mut write(&slot.store), churn_seed, counts, now);
}

/// Sets the per-minute rate from `now` on (zero stops it).
pub fn set_rate(slot: &DeskSlot, rate: DeskChurn, now: DateTime<Utc>) {
    let mut state = lock(&slot.churn);
    state.rate = rate;
    state.applied_until = now;
}

pub fn rate(slot: &DeskSlot) -> DeskChurn {
    lock(&slot.churn).rate
}

/// Restores, purges, trashes, updates, replies, archives and creates distinct random
/// records, in that order (so no record is trashed and restored by one application).
pub fn apply(store: &mut DeskStore, churn_seed: u64, counts: DeskChurn, now: DateTime<Utc>) {
    if counts.is_zero() {
        return;
    }
    let mut dice = Dice::new(&[churn_seed, store.module().number() as u64]);
    let binned: Vec<u64> = store.trashed().map(|t| t.hit.entry.id).collect();
    let restored = pick(&mut dice, &binned, counts.restores);
    for id in &restored {
        let _ = store.restore(*id, now);
    }
    let left: Vec<u64> = binned
        .into_iter()
        .filter(|id| !restored.contains(id))
        .collect();
    for id in pick(&mut dice, &left, counts.purges) {
        let _ = store.purge(id);
    }
    let facts = std::sync::Arc::clone(store.facts());
    let live = store.live_ids();
    let trashed = pick(&mut dice, &live, counts.trashes);
    for id in &trashed {
        let by = facts.agent(&mut dice).id;
        let _ = store.trash(*id, by, now);
    }
    let live: Vec<u64> = live
        .into_iter()
        .filter(|id| !trashed.contains(id))
        .collect();
    let touched = pick(&mut dice, &live, counts.updates);
    for id in &touched {
        let _ = store.touch(*id, now);
    }
    if store.module() == DeskModule::Tickets {
        let quiet: Vec<u64> = live
            .into_iter()
            .filter(|id| !touched.contains(id))
            .collect();
        let replied = pick(&mut dice, &quiet, counts.replies);
        for id in &replied {
            let _ = store.reply(*id, now);
        }
        let still: Vec<u64> = quiet
            .into_iter()
            .filter(|id| !replied.contains(id))
            .collect();
        for id in pick(&mut dice, &still, counts.archives) {
            let _ = store.archive(id, now);
        }
    }
    for _ in 0..counts.creates {
        store.create(serde_json::Map::new(), now);
    }
    tracing::debug!(module = %store.module(), ?counts, live = store.len(), "desk store churned");
}

/// `count` distinct items of `from` (all of them when there are no more).
fn pick(dice: &mut Dice, from: &[u64], count: u32) -> BTreeSet<u64> {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count >= from.len() {
        return from.iter().copied().collect();
    }
    let mut chosen = BTreeSet::new();
    while chosen.len() < count {
        let at = dice.below(from.len() as u64) as usize;
        if let Some(id) = from.get(at) {
            chosen.insert(*id);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_due_per_whole_minute_and_capped() {
        let start = DateTime::<Utc>::default();
        let mut state = ChurnState::new(start);
        assert_eq!(state.due(start + TimeDelta::minutes(5)), None);
        state.rate = DeskChurn {
            updates: 2,
            trashes: 1,
            ..DeskChurn::default()
        };
        assert_eq!(state.due(start + TimeDelta::seconds(59)), None);
        let due = state.due(start + TimeDelta::seconds(150));
        assert_eq!(
            due,
            Some(DeskChurn {
                updates: 4,
                trashes: 2,
                ..DeskChurn::default()
            })
        );
        let far = state.due(start + TimeDelta::days(400)).map(|d| d.updates);
        assert_eq!(far, Some(2 * 24 * 60));
    }
}
