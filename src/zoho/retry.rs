//! How transient failures are retried: exponential backoff with full jitter, capped. The
//! delay before retry `n` is drawn uniformly from `[0, min(max_delay, initial_delay·2^(n-1))]`,
//! so that many clients failing together spread out instead of retrying in lock-step. The
//! arithmetic saturates: no attempt number, however large, can overflow or exceed the cap.
//! `backoff` is the one wait every retry loop uses (the fetcher's and the wire client's),
//! and a stop cuts it short.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

/// What waiting before a retry came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// Waited this long: try again.
    Waited(Duration),
    /// The policy allows no more retries.
    Exhausted,
    /// A stop came first.
    Stopped,
}

/// How transient failures are retried: jittered exponential backoff with a cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The upper bound of the delay before retry `attempt` (1 = the first retry).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let initial_ms = u64::try_from(self.initial_delay.as_millis()).unwrap_or(u64::MAX);
        let grown = Duration::from_millis(initial_ms.saturating_mul(factor));
        grown.min(self.max_delay)
    }

    /// Waits before retry `attempt` (1 = the first retry), unless the policy allows no
    /// more or `cancel` fires first.
    pub async fn backoff(&self, attempt: u32, cancel: &CancellationToken) -> Backoff {
        if attempt > self.max_retries {
            return Backoff::Exhausted;
        }
        let delay = self.delay(attempt, &mut rand::thread_rng());
        tokio::select! {
            () = tokio::time::sleep(delay) => Backoff::Waited(delay),
            () = cancel.cancelled() => Backoff::Stopped,
        }
    }

    /// The delay before retry `attempt` (1 = the first retry): full jitter below `ceiling`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling_ms = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.gen_range(0..=ceiling_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }

    #[test]
    fn the_ceiling_doubles_from_the_initial_delay_until_the_cap() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(5), Duration::from_millis(1600));
        assert_eq!(p.ceiling(6), Duration::from_secs(2));
        assert_eq!(p.ceiling(40), Duration::from_secs(2));
    }

    #[test]
    fn huge_attempt_numbers_neither_overflow_nor_pass_the_cap() {
        let mut rng = StdRng::seed_from_u64(7);
        let p = policy();
        for attempt in [0, 63, 64, 1000, u32::MAX] {
            assert!(p.delay(attempt, &mut rng) <= p.max_delay);
        }
        let wide = RetryPolicy {
            initial_delay: Duration::MAX,
            max_delay: Duration::MAX,
            ..p
        };
        assert!(wide.ceiling(u32::MAX) > Duration::ZERO);
    }

    #[test]
    fn every_delay_lies_between_zero_and_the_ceiling_and_they_vary() {
        let mut rng = StdRng::seed_from_u64(42);
        let p = policy();
        for attempt in 1..10 {
            let delays: Vec<Duration> = (0..200).map(|_| p.delay(attempt, &mut rng)).collect();
            assert!(delays.iter().all(|d| *d <= p.ceiling(attempt)));
            let first = delays.first().copied();
            assert!(
                delays.iter().any(|d| Some(*d) != first),
                "no jitter at {attempt}"
            );
        }
    }

    #[test]
    fn a_zero_initial_delay_gives_zero_delays() {
        let mut rng = StdRng::seed_from_u64(1);
        let p = RetryPolicy {
            initial_delay: Duration::ZERO,
            ..policy()
        };
        assert_eq!(p.delay(3, &mut rng), Duration::ZERO);
    }
}
