//! The emulated clock: real time plus an offset that the admin API sets or advances, so a
//! test can cross a Pacific midnight or a daylight-saving switch in milliseconds. Every
//! "now" the emulator uses (quota day, record times, churn, auth timestamps) comes from
//! here; emulated time still flows at the real rate between adjustments.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use super::state::lock;

#[derive(Debug)]
pub struct Clock {
    offset: Mutex<TimeDelta>,
}

impl Clock {
    /// A clock reading `start` now (the real time when `None`).
    pub fn new(start: Option<DateTime<Utc>>) -> Clock {
        let offset = start.map_or(TimeDelta::zero(), |at| at - Utc::now());
        Clock {
            offset: Mutex::new(offset),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = *lock(&self.offset);
        Utc::now()
            .checked_add_signed(offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Makes the clock read `at` now.
    pub fn set(&self, at: DateTime<Utc>) {
        *lock(&self.offset) = at - Utc::now();
    }

    /// Moves the clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: TimeDelta) {
        let mut offset = lock(&self.offset);
        *offset = offset.checked_add(&by).unwrap_or(*offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        (a - b).num_milliseconds().abs() < 1_000
    }

    #[test]
    fn a_new_clock_reads_real_time_or_the_given_start() {
        assert!(close(Clock::new(None).now(), Utc::now()));
        let start = Utc.with_ymd_and_hms(2015, 3, 3, 12, 0, 0).unwrap();
        assert!(close(Clock::new(Some(start)).now(), start));
    }

    #[test]
    fn set_and_advance_move_emulated_time() {
        let clock = Clock::new(None);
        let at = Utc.with_ymd_and_hms(2026, 3, 8, 9, 59, 0).unwrap();
        clock.set(at);
        assert!(close(clock.now(), at));
        clock.advance(TimeDelta::hours(2));
        assert!(close(clock.now(), at + TimeDelta::hours(2)));
    }
}
