//! Records changing behind a sync's back: churn applied on request, or at a rate per
//! simulated minute. A rate is applied lazily, when a request reaches the store: whole
//! emulated minutes since the last application times the rate, capped so that a clock
//! jumped by months cannot stall a request. Every application draws a fresh churn seed
//! from (emulator seed, application count), so a run is reproducible.

use chrono::{DateTime, Utc};

use super::seeds;
use super::state::{lock, write, StoreSlot};

/// The most minutes of rate-driven churn one application catches up on.
const MAX_MINUTES: i64 = 24 * 60;
/// The most records of each kind one application touches.
const MAX_PER_KIND: u64 = 100_000;

/// Records to create, modify and delete (at once, or per simulated minute).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ChurnCounts {
    pub creates: u32,
    pub modifies: u32,
    pub deletes: u32,
}

impl ChurnCounts {
    fn is_zero(self) -> bool {
        self == ChurnCounts::default()
    }

    fn times(self, minutes: i64) -> ChurnCounts {
        let scale = |n: u32| {
            let total = u64::from(n).saturating_mul(u64::try_from(minutes).unwrap_or(0));
            u32::try_from(total.min(MAX_PER_KIND)).unwrap_or(u32::MAX)
        };
        ChurnCounts {
            creates: scale(self.creates),
            modifies: scale(self.modifies),
            deletes: scale(self.deletes),
        }
    }
}

/// The rate of one store and how far it has been applied.
#[derive(Debug)]
pub struct ChurnState {
    rate: ChurnCounts,
    applied_until: DateTime<Utc>,
    runs: u64,
}

impl ChurnState {
    pub fn new(now: DateTime<Utc>) -> ChurnState {
        ChurnState {
            rate: ChurnCounts::default(),
            applied_until: now,
            runs: 0,
        }
    }

    /// The churn due at `now`, advancing the mark by the whole minutes it covers.
    fn due(&mut self, now: DateTime<Utc>) -> Option<ChurnCounts> {
        if self.rate.is_zero() {
            return None;
        }
        let minutes = (now - self.applied_until).num_minutes();
        if minutes < 1 {
            return None;
        }
        self.applied_until += chrono::TimeDelta::minutes(minutes);
        Some(self.rate.times(minutes.min(MAX_MINUTES)))
    }

    fn next_seed(&mut self, seed: u64) -> u64 {
        self.runs += 1;
        seeds::mix_all(&[seed, self.runs])
    }
}

impl StoreSlot {
    /// Applies the rate-driven churn due at `now`, if any.
    pub fn catch_up(&self, seed: u64, now: DateTime<Utc>) {
        let mut state = lock(&self.churn);
        if let Some(counts) = state.due(now) {
            let churn_seed = state.next_seed(seed);
            apply(self, churn_seed, counts, now);
        }
    }

    /// Churns the store now.
    pub fn churn_now(&self, seed: u64, counts: ChurnCounts, now: DateTime<Utc>) {
        let churn_seed = lock(&self.churn).next_seed(seed);
        apply(self, churn_seed, counts, now);
    }

    /// Sets the per-minute rate, counting from `now` (zero stops it).
    pub fn set_rate(&self, rate: ChurnCounts, now: DateTime<Utc>) {
        let mut state = lock(&self.churn);
        state.rate = rate;
        state.applied_until = now;
    }

    pub fn rate(&self) -> ChurnCounts {
        lock(&self.churn).rate
    }
}

fn apply(slot: &StoreSlot, churn_seed: u64, counts: ChurnCounts, now: DateTime<Utc>) {
    if counts.is_zero() {
        return;
    }
    write(&slot.store).churn(
        churn_seed,
        counts.creates,
        counts.modifies,
        counts.deletes,
        now,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    #[test]
    fn a_rate_is_due_per_whole_minute_and_capped() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut state = ChurnState::new(start);
        assert_eq!(state.due(start + TimeDelta::minutes(5)), None);
        state.rate = ChurnCounts {
            creates: 2,
            modifies: 1,
            deletes: 0,
        };
        state.applied_until = start;
        assert_eq!(state.due(start + TimeDelta::seconds(59)), None);
        let due = state.due(start + TimeDelta::seconds(150));
        assert_eq!(
            due,
            Some(ChurnCounts {
                creates: 4,
                modifies: 2,
                deletes: 0
            })
        );
        // The half minute left over counts towards the next application.
        let due = state.due(start + TimeDelta::seconds(180));
        assert_eq!(
            due,
            Some(ChurnCounts {
                creates: 2,
                modifies: 1,
                deletes: 0
            })
        );
        let far = state.due(start + TimeDelta::days(400)).unwrap();
        assert_eq!(far.creates, 2 * 24 * 60);
    }
}
