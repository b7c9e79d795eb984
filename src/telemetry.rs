//! Logging: one `tracing` subscriber for the process, human-readable or JSON lines on
//! stderr, its level from `-v`/`-q` unless `RUST_LOG` says otherwise. Stdout is left to
//! command output (tables, tokens, JSON), so the two never mix. A warning that can repeat
//! at the pace of the work (a slow statement, a busy pool) goes through a `Throttle`, so
//! a misbehaving run logs a line a minute per kind, not gigabytes.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

/// How log lines are written (to stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The default filter for a verbosity: `-q` warnings, `-qq` errors, `-v` debug, `-vv` trace.
pub fn default_level(verbose: u8, quiet: u8) -> &'static str {
    match (verbose, quiet) {
        (0, 0) => "info",
        (0, 1) => "warn",
        (0, _) => "error",
        (1, _) => "debug",
        _ => "trace",
    }
}

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(format: LogFormat, verbose: u8, quiet: u8) {
    // sqlx reports PostgreSQL's notices ("schema already exists, skipping") at info.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},sqlx=warn", default_level(verbose, quiet))));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Lets through at most one report per key and period, and counts the ones held back so
/// the next report let through can say how many there were. Keys are a small fixed set
/// (kinds of report), never values.
#[derive(Debug)]
pub struct Throttle {
    period: Duration,
    /// Per key: when a report was last let through, and how many were held back since.
    keys: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Throttle {
    pub fn new(period: Duration) -> Throttle {
        Throttle {
            period,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(held_back)` when a report of `key` may be emitted at `now` (with the number
    /// held back since the last one), `None` when this one is to be held back.
    pub fn admit(&self, key: &str, now: Instant) -> Option<u64> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        match keys.get_mut(key) {
            Some((last, held)) if now.saturating_duration_since(*last) < self.period => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                *last = now;
                Some(std::mem::take(held))
            }
            None => {
                keys.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

/// Counters a progress display reads while passes run.
#[derive(Debug, Default)]
pub struct Progress {
    pub requests: AtomicU64,
    pub records: AtomicU64,
    pub pages: AtomicU64,
    pub dead_letters: AtomicU64,
    pub retries: AtomicU64,
    /// Requests by method and outcome (`ok`, `no-data`, or the error class).
    pub outcomes: std::sync::Mutex<std::collections::BTreeMap<(&'static str, &'static str), u64>>,
}

impl Progress {
    pub fn count_outcome(&self, method: &'static str, outcome: &'static str) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        *outcomes.entry((method, outcome)).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_lets_one_report_per_key_and_period_through_and_counts_the_rest() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(throttle.admit("slow", at(0)), Some(0));
        assert_eq!(throttle.admit("slow", at(1)), None);
        assert_eq!(throttle.admit("slow", at(59)), None);
        assert_eq!(throttle.admit("pool", at(59)), Some(0), "keys are apart");
        assert_eq!(throttle.admit("slow", at(60)), Some(2));
        assert_eq!(throttle.admit("slow", at(61)), None);
        assert_eq!(throttle.admit("slow", at(200)), Some(1));
        assert_eq!(throttle.admit("slow", at(300)), Some(0));
    }

    #[test]
    fn verbosity_flags_map_to_levels() {
        assert_eq!(default_level(0, 0), "info");
        assert_eq!(default_level(0, 2), "error");
        assert_eq!(default_level(2, 0), "trace");
    }
}
