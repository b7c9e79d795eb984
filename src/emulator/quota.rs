//! One organisation's daily API allowance as the emulator enforces it. Every request that
//! carries a valid token is charged, whatever its outcome (faults included); a request is
//! served only while fewer than `limit` requests were charged before it in the same quota
//! day. The count restarts at the first charge of a new day, with the day told by
//! `crate::quota::DayRule`, so the emulator and the sync's ledger agree on every boundary.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::lock;
use crate::quota::DayRule;

#[derive(Debug)]
pub struct Quota {
    rule: DayRule,
    limit: u32,
    usage: Mutex<DayUsage>,
}

#[derive(Clone, Copy, Debug, Default)]
struct DayUsage {
    day: Option<NaiveDate>,
    used: u32,
}

/// What the admin API reports about one organisation's quota.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QuotaStatus {
    pub day: NaiveDate,
    pub used: u32,
    pub limit: u32,
    pub resets_at: DateTime<Utc>,
}

impl Quota {
    pub fn new(rule: DayRule, limit: u32) -> Quota {
        Quota {
            rule,
            limit,
            usage: Mutex::new(DayUsage::default()),
        }
    }

    /// Charges one request made at `now`; true when it may be served.
    pub fn charge(&self, now: DateTime<Utc>) -> bool {
        let today = self.rule.day_of(now);
        let mut usage = lock(&self.usage);
        if usage.day != Some(today) {
            *usage = DayUsage {
                day: Some(today),
                used: 0,
            };
        }
        let allowed = usage.used < self.limit;
        usage.used = usage.used.saturating_add(1);
        allowed
    }

    pub fn status(&self, now: DateTime<Utc>) -> QuotaStatus {
        let today = self.rule.day_of(now);
        let usage = *lock(&self.usage);
        QuotaStatus {
            day: today,
            used: if usage.day == Some(today) {
                usage.used
            } else {
                0
            },
            limit: self.limit,
            resets_at: self.rule.next_reset(now),
        }
    }

    /// Forgets today's charges.
    pub fn reset(&self) {
        *lock(&self.usage) = DayUsage::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn requests_past_the_limit_are_refused_but_still_counted() {
        let quota = Quota::new(DayRule::Pacific, 2);
        let now = Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap();
        assert!(quota.charge(now));
        assert!(quota.charge(now));
        assert!(!quota.charge(now));
        assert_eq!(quota.status(now).used, 3);
        assert_eq!(quota.status(now).limit, 2);
    }

    #[test]
    fn the_count_restarts_at_pacific_midnight() {
        let quota = Quota::new(DayRule::Pacific, 1);
        // 07:59:59 UTC in winter is 23:59:59 PST.
        let before = Utc.with_ymd_and_hms(2026, 1, 6, 7, 59, 59).unwrap();
        assert!(quota.charge(before));
        assert!(!quota.charge(before));
        let after = before + chrono::TimeDelta::seconds(1);
        assert_eq!(quota.status(after).used, 0);
        assert_eq!(quota.status(before).resets_at, after);
        assert!(quota.charge(after));
    }
}
