//! Our reading of the server's clock. The quota day and every incremental watermark are
//! the server's, so the fetcher learns the server's clock from each answer's `Date`
//! header. A server's clock can also lie (a `Date` years ahead, then back, or flipping
//! between days): a reading that our own clock contradicts by more than the bound is not
//! believed. It neither moves our estimate nor a reservation's day, and the pass uses a
//! safe instant instead: our estimate less the bound, never later than the server's
//! real time if either clock is within the bound of the truth, so a watermark built on
//! it can only read a little more again, never skip a change.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// How often a contradicted reading is warned of, at most.
const WARN_EVERY: TimeDelta = TimeDelta::minutes(10);

/// What an answer's `Date` said, judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Believed: the server's time when it answered.
    Trusted(DateTime<Utc>),
    /// Contradicted by our clock by more than the bound: `safe` stands in for it.
    Contradicted {
        said: DateTime<Utc>,
        safe: DateTime<Utc>,
    },
    /// No usable `Date`: our estimate stands in.
    Absent(DateTime<Utc>),
}

impl Reading {
    /// The instant a pass may build on.
    pub fn time(self) -> DateTime<Utc> {
        match self {
            Reading::Trusted(t) | Reading::Absent(t) => t,
            Reading::Contradicted { safe, .. } => safe,
        }
    }
}

/// Server time less ours, learned from believed readings only.
#[derive(Debug)]
pub struct ServerClock {
    offset: Mutex<TimeDelta>,
    /// How far a reading may stray from our clock and be believed (`None`: any reading,
    /// for an emulator whose clock is moved on purpose).
    bound: Option<TimeDelta>,
    /// When a contradicted reading was last warned of (Unix seconds; 0: never).
    warned_at: AtomicI64,
}

impl ServerClock {
    pub fn new(bound: Option<std::time::Duration>) -> ServerClock {
        ServerClock {
            offset: Mutex::new(TimeDelta::zero()),
            bound: bound.and_then(|b| TimeDelta::from_std(b).ok()),
            warned_at: AtomicI64::new(0),
        }
    }

    /// Our best reading of the server's clock now.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Judges a reading taken now, and learns from it if it is believed.
    pub fn observe(&self, said: Option<DateTime<Utc>>) -> Reading {
        let Some(said) = said else {
            return Reading::Absent(self.now());
        };
        let local = Utc::now();
        match self.bound {
            Some(bound) if (said - local).abs() > bound => {
                let safe = self.now() - bound;
                self.warn(said, local, bound);
                Reading::Contradicted { said, safe }
            }
            _ => {
                *self.offset.lock().unwrap_or_else(|e| e.into_inner()) = said - local;
                Reading::Trusted(said)
            }
        }
    }

    fn warn(&self, said: DateTime<Utc>, local: DateTime<Utc>, bound: TimeDelta) {
        let now = local.timestamp();
        let last = self.warned_at.load(Ordering::Relaxed);
        if now - last < WARN_EVERY.num_seconds() {
            return;
        }
        if self
            .warned_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::warn!(
                server_date = %said, local_time = %local, bound_secs = bound.num_seconds(),
                "the server's Date contradicts our clock by more than the bound; not believed (watermarks and quota days keep our estimate; warned at most every 10 minutes)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded() -> ServerClock {
        ServerClock::new(Some(std::time::Duration::from_secs(900)))
    }

    #[test]
    fn a_reading_within_the_bound_is_believed_and_learned() {
        let clock = bounded();
        let said = Utc::now() + TimeDelta::minutes(5);
        assert_eq!(clock.observe(Some(said)), Reading::Trusted(said));
        let drift = (clock.now() - said).abs();
        assert!(drift < TimeDelta::seconds(5), "{drift}");
    }

    #[test]
    fn a_date_years_ahead_or_a_day_back_is_not_believed_and_the_safe_instant_is_earlier() {
        let clock = bounded();
        for said in [
            Utc::now() + TimeDelta::days(3 * 365),
            Utc::now() - TimeDelta::days(1),
        ] {
            let Reading::Contradicted { safe, .. } = clock.observe(Some(said)) else {
                panic!("{said} was believed");
            };
            assert!(safe <= Utc::now() - TimeDelta::minutes(14), "{safe}");
            assert!(safe >= Utc::now() - TimeDelta::minutes(16), "{safe}");
            assert!((clock.now() - Utc::now()).abs() < TimeDelta::seconds(5));
        }
    }

    #[test]
    fn without_a_bound_every_reading_is_believed() {
        let clock = ServerClock::new(None);
        let said = Utc::now() + TimeDelta::days(400);
        assert_eq!(clock.observe(Some(said)), Reading::Trusted(said));
        assert!(clock.now() > Utc::now() + TimeDelta::days(399));
    }

    #[test]
    fn no_date_is_our_estimate() {
        let clock = bounded();
        let Reading::Absent(t) = clock.observe(None) else {
            panic!("a missing Date is absent");
        };
        assert!((t - Utc::now()).abs() < TimeDelta::seconds(5));
    }
}
