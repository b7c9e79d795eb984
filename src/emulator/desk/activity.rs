//! What the Desk API has served, for tests to assert on: counters of calls by endpoint,
//! outcome and organisation, token-endpoint counters by result, and a bounded log of the
//! latest calls (oldest dropped first). Tokens, secrets and request bodies are never
//! recorded; the query string of a Desk call holds none.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::emulator::request_log::{Numbered, RequestLog};
use crate::emulator::state::lock;

/// One line of the Desk request log.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeskLogEntry {
    pub seq: u64,
    /// Emulated time of the call.
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub query: String,
    /// The endpoint's name (`tickets.search`), or `unknown`.
    pub endpoint: String,
    /// The token's organisation, when the token was valid.
    pub org_id: Option<String>,
    pub status: u16,
    /// `ok`, `no-content`, an `errorCode`, or `fault-<kind>`.
    pub outcome: String,
    /// Credits charged.
    pub weight: u32,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DeskCounters {
    pub total: u64,
    pub by_endpoint: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_org: BTreeMap<String, u64>,
    /// Token requests by result: `refreshed`, `exchanged`, or the error.
    pub tokens: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub struct DeskActivity {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    counters: DeskCounters,
    log: RequestLog<DeskLogEntry>,
}

impl Numbered for DeskLogEntry {
    fn seq(&self) -> u64 {
        self.seq
    }

    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

impl DeskActivity {
    pub fn new(capacity: usize) -> DeskActivity {
        DeskActivity {
            inner: Mutex::new(Inner {
                counters: DeskCounters::default(),
                log: RequestLog::new(capacity),
            }),
        }
    }

    pub fn record(&self, entry: DeskLogEntry) {
        let mut inner = lock(&self.inner);
        let counters = &mut inner.counters;
        counters.total += 1;
        *counters
            .by_endpoint
            .entry(entry.endpoint.clone())
            .or_default() += 1;
        *counters
            .by_outcome
            .entry(entry.outcome.clone())
            .or_default() += 1;
        if let Some(org) = &entry.org_id {
            *counters.by_org.entry(org.clone()).or_default() += 1;
        }
        inner.log.push(entry);
    }

    /// Counts one token request by its result.
    pub fn token(&self, result: &str) {
        *lock(&self.inner)
            .counters
            .tokens
            .entry(result.to_string())
            .or_default() += 1;
    }

    pub fn counters(&self) -> DeskCounters {
        lock(&self.inner).counters.clone()
    }

    /// Entries with a sequence number above `after`, oldest first, at most `limit`.
    pub fn log(&self, after: u64, limit: usize) -> Vec<DeskLogEntry> {
        lock(&self.inner).log.after(after, limit)
    }

    pub fn reset(&self) {
        let mut inner = lock(&self.inner);
        inner.counters = DeskCounters::default();
        inner.log.clear();
    }
}
