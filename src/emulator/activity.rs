//! What the emulator has served, for tests to assert on: counters of record-API requests
//! by method, organisation and outcome, and a bounded log of the latest requests (oldest
//! dropped first). Only the record API is recorded; tokens never are.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::faults::FaultKind;
use super::request_log::{Numbered, RequestLog};
use super::state::lock;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Error 4832.
    NoData,
    /// Any other API error code.
    Error(u32),
    /// A fault replaced or spoilt the answer.
    Fault(FaultKind),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::NoData => f.write_str("no-data"),
            Outcome::Error(code) => write!(f, "error-{code}"),
            Outcome::Fault(kind) => write!(f, "fault-{}", kind.as_str()),
        }
    }
}

/// One line of the request log; parameters as the client sent them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LogEntry {
    pub seq: u64,
    /// Emulated time of the request.
    pub at: DateTime<Utc>,
    pub format: String,
    pub method: String,
    pub module: String,
    pub portal: Option<String>,
    pub department: Option<String>,
    pub fromindex: Option<String>,
    pub toindex: Option<String>,
    pub lastmodifiedtime: Option<String>,
    pub outcome: String,
}

/// The request counters as the admin API shows them.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Counters {
    pub total: u64,
    pub by_method: BTreeMap<String, u64>,
    /// Keyed by the token's portal; requests with an invalid token count under no portal.
    pub by_portal: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub struct Activity {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    counters: Counters,
    log: RequestLog<LogEntry>,
}

impl Numbered for LogEntry {
    fn seq(&self) -> u64 {
        self.seq
    }

    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

impl Activity {
    pub fn new(capacity: usize) -> Activity {
        Activity {
            inner: Mutex::new(Inner {
                counters: Counters::default(),
                log: RequestLog::new(capacity),
            }),
        }
    }

    /// Counts a request and logs it; `org` is the token's portal.
    pub fn record(&self, entry: LogEntry, org: Option<&str>) {
        let mut inner = lock(&self.inner);
        let counters = &mut inner.counters;
        counters.total += 1;
        *counters.by_method.entry(entry.method.clone()).or_default() += 1;
        *counters
            .by_outcome
            .entry(entry.outcome.clone())
            .or_default() += 1;
        if let Some(org) = org {
            *counters.by_portal.entry(org.to_string()).or_default() += 1;
        }
        inner.log.push(entry);
    }

    pub fn counters(&self) -> Counters {
        lock(&self.inner).counters.clone()
    }

    /// Logged requests with a sequence number above `after`, oldest first, at most `limit`.
    pub fn log(&self, after: u64, limit: usize) -> Vec<LogEntry> {
        lock(&self.inner).log.after(after, limit)
    }

    /// Zeroes the counters and empties the log (sequence numbers keep growing).
    pub fn reset(&self) {
        let mut inner = lock(&self.inner);
        inner.counters = Counters::default();
        inner.log.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, outcome: Outcome) -> LogEntry {
        LogEntry {
            seq: 0,
            at: Utc::now(),
            format: "json".into(),
            method: method.into(),
            module: "requests".into(),
            portal: Some("demo".into()),
            department: None,
            fromindex: None,
            toindex: None,
            lastmodifiedtime: None,
            outcome: outcome.to_string(),
        }
    }

    #[test]
    fn requests_are_counted_by_method_portal_and_outcome() {
        let activity = Activity::new(10);
        activity.record(entry("getrecords", Outcome::Ok), Some("demo"));
        activity.record(entry("getrecords", Outcome::NoData), Some("demo"));
        activity.record(entry("addrecords", Outcome::Error(4834)), None);
        let c = activity.counters();
        assert_eq!(c.total, 3);
        assert_eq!(c.by_method.get("getrecords"), Some(&2));
        assert_eq!(c.by_portal.get("demo"), Some(&2));
        assert_eq!(c.by_outcome.get("error-4834"), Some(&1));
        assert_eq!(c.by_outcome.get("no-data"), Some(&1));
    }

    #[test]
    fn the_log_keeps_the_latest_entries_and_pages_by_sequence() {
        let activity = Activity::new(3);
        for _ in 0..5 {
            activity.record(entry("getrecords", Outcome::Ok), None);
        }
        let seqs: Vec<u64> = activity.log(0, 10).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        let later: Vec<u64> = activity.log(3, 1).iter().map(|e| e.seq).collect();
        assert_eq!(later, vec![4]);
        activity.reset();
        assert!(activity.log(0, 10).is_empty());
        assert_eq!(activity.counters().total, 0);
    }
}
