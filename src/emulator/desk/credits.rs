//! An organisation's daily API credits and concurrency as the emulator enforces them
//! (section 6, D19-D21). A call's cost is reserved before it runs and given back if it
//! ends in an error (4xx/5xx cost nothing), so concurrent calls can never together spend
//! more than the day's pool: a call whose cost does not fit in what is left is refused
//! with THRESHOLD_EXCEEDED. The day starts at 00:00 of the configured zone, by the
//! emulated clock. Every day's charged total is kept for the admin counters, so tests
//! can compare a client's ledger with what was charged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::emulator::state::lock;

/// Credits of a list or search call by its `from` (D19, ELP's tiers).
pub fn list_cost(from: u64) -> u32 {
    match from {
        0..=2_000 => 3,
        2_001..=10_000 => 5,
        10_001..=50_000 => 10,
        50_001..=100_000 => 50,
        _ => 100,
    }
}

/// Credits of one record moved to or out of the bin, or deleted from it (D19).
pub const BIN_COST_PER_ID: u32 = 6;

#[derive(Debug)]
pub struct Credits {
    zone: Tz,
    pool: u32,
    usage: Mutex<Usage>,
}

#[derive(Debug, Default)]
struct Usage {
    day: Option<NaiveDate>,
    used: u32,
    /// Credits charged per credit day, all days since start (or the last reset).
    charged: BTreeMap<NaiveDate, u64>,
}

/// What the admin API shows of an organisation's credits.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CreditStatus {
    pub day: NaiveDate,
    pub used: u32,
    pub pool: u32,
    pub remaining: u32,
    pub resets_at: DateTime<Utc>,
    pub charged_by_day: BTreeMap<NaiveDate, u64>,
}

/// A reservation refused: the day's credits cannot pay for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub retry_after_secs: u64,
}

impl Credits {
    pub fn new(zone: Tz, pool: u32) -> Credits {
        Credits {
            zone,
            pool,
            usage: Mutex::new(Usage::default()),
        }
    }

    fn day_of(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The first instant of the next credit day after `now`.
    pub fn next_reset(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = self.day_of(now);
        let next = today.succ_opt().unwrap_or(today);
        // Midnight can fall in a DST gap in a few zones; the first valid instant after it.
        (0..=3)
            .filter_map(|h| next.and_hms_opt(h, 0, 0))
            .find_map(|t| self.zone.from_local_datetime(&t).earliest())
            .map_or(now, |t| t.with_timezone(&Utc))
    }

    /// Whole seconds from `now` to the next reset, rounded up (`Retry-After`, D21).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        let wait = (self.next_reset(now) - now).num_milliseconds().max(0);
        u64::try_from((wait + 999) / 1000).unwrap_or(0)
    }

    /// Reserves `cost` credits at `now`; returns what is left after it.
    pub fn reserve(&self, cost: u32, now: DateTime<Utc>) -> Result<u32, Exhausted> {
        let today = self.day_of(now);
        let mut usage = lock(&self.usage);
        if usage.day != Some(today) {
            usage.day = Some(today);
            usage.used = 0;
        }
        let left = self.pool.saturating_sub(usage.used);
        if cost > left || left == 0 {
            let wait = (self.next_reset(now) - now).num_milliseconds().max(0);
            return Err(Exhausted {
                retry_after_secs: u64::try_from((wait + 999) / 1000).unwrap_or(0),
            });
        }
        usage.used += cost;
        *usage.charged.entry(today).or_default() += u64::from(cost);
        Ok(left - cost)
    }

    /// Gives back a reservation made at `at` (the call failed); nothing if the day turned.
    pub fn refund(&self, cost: u32, at: DateTime<Utc>) -> u32 {
        let day = self.day_of(at);
        let mut usage = lock(&self.usage);
        if usage.day == Some(day) {
            usage.used = usage.used.saturating_sub(cost);
            if let Some(charged) = usage.charged.get_mut(&day) {
                *charged = charged.saturating_sub(u64::from(cost));
            }
        }
        self.pool.saturating_sub(usage.used)
    }

    /// Credits left today.
    pub fn remaining(&self, now: DateTime<Utc>) -> u32 {
        let usage = lock(&self.usage);
        if usage.day == Some(self.day_of(now)) {
            self.pool.saturating_sub(usage.used)
        } else {
            self.pool
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> CreditStatus {
        let remaining = self.remaining(now);
        CreditStatus {
            day: self.day_of(now),
            used: self.pool - remaining,
            pool: self.pool,
            remaining,
            resets_at: self.next_reset(now),
            charged_by_day: lock(&self.usage).charged.clone(),
        }
    }

    /// Forgets every charge.
    pub fn reset(&self) {
        *lock(&self.usage) = Usage::default();
    }
}

/// The calls of one organisation in flight, bounded by its edition (D21).
#[derive(Debug)]
pub struct Gate {
    limit: u32,
    in_flight: AtomicU32,
}

/// A place in the gate, given back when dropped.
#[derive(Debug)]
pub struct Pass<'a>(&'a Gate);

impl Gate {
    pub fn new(limit: u32) -> Gate {
        Gate {
            limit,
            in_flight: AtomicU32::new(0),
        }
    }

    /// A place, unless `limit` calls are already in flight.
    pub fn enter(&self) -> Option<Pass<'_>> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Pass(self))
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn list_costs_follow_the_tiers_of_d19() {
        let tiers: Vec<u32> = [0, 2_000, 2_001, 10_000, 10_001, 50_001, 100_001]
            .map(list_cost)
            .to_vec();
        assert_eq!(tiers, vec![3, 3, 5, 5, 10, 50, 100]);
    }

    #[test]
    fn a_call_that_does_not_fit_is_refused_until_the_zone_midnight() {
        let credits = Credits::new(chrono_tz::Asia::Kolkata, 10);
        let now = at("2026-03-04T18:00:00Z"); // 23:30 in Kolkata
        assert_eq!(credits.reserve(3, now), Ok(7));
        assert_eq!(credits.reserve(6, now), Ok(1));
        let refused = credits.reserve(3, now);
        assert_eq!(
            refused,
            Err(Exhausted {
                retry_after_secs: 30 * 60
            })
        );
        assert_eq!(credits.refund(6, now), 7);
        assert_eq!(credits.status(now).charged_by_day.values().sum::<u64>(), 3);
        let tomorrow = now + TimeDelta::minutes(30);
        assert_eq!(credits.remaining(tomorrow), 10);
        assert_eq!(credits.reserve(10, tomorrow), Ok(0));
        assert!(credits.reserve(1, tomorrow).is_err());
    }

    #[test]
    fn the_gate_admits_up_to_its_limit_and_frees_a_place_on_drop() {
        let gate = Gate::new(2);
        let a = gate.enter();
        let b = gate.enter();
        assert!(a.is_some() && b.is_some() && gate.enter().is_none());
        drop(a);
        assert!(gate.enter().is_some());
    }
}
