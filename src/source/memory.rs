//! An in-memory source for the pipeline's tests: a module's rows in the order served,
//! each with the moment it was last modified, paged by position as the legacy API pages.
//! A test can change the rows before any request (as concurrent users would), make the
//! next requests fail, slow every request down, and read what was asked: the windows,
//! how many requests started and how many finished, and how many were in flight at once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Filter, Listing, Source, SourceError};
use crate::quota::DayRule;
use crate::stream::cursor::Window;
use crate::zoho::codec::RowOutcome;
use crate::zoho::module::Module;
use crate::zoho::record::{Field, Record, RecordId};

/// One served row: the record (or a row that fails to decode) and when it was modified.
#[derive(Clone, Debug)]
pub struct Row {
    pub row: RowOutcome,
    pub modified: DateTime<Utc>,
}

impl Row {
    /// A record with id `id`, one field, modified at `modified`.
    pub fn record(id: u64, modified: DateTime<Utc>) -> Row {
        let record = Record {
            id: Some(RecordId(id)),
            fields: vec![Field {
                label: "Subject".into(),
                value: Some(format!("subject {id}")),
            }],
        };
        Row {
            row: RowOutcome::Ok(record),
            modified,
        }
    }

    fn id(&self) -> Option<RecordId> {
        self.row.id()
    }
}

/// Changes the rows of a module before request `n` (from 0).
pub type Hook = Box<dyn FnMut(u64, &mut Vec<Row>) + Send>;

#[derive(Default)]
struct State {
    modules: HashMap<Module, Vec<Row>>,
    hooks: Vec<Hook>,
    failures: VecDeque<SourceError>,
    windows: Vec<(Module, Window, Filter)>,
    started: u64,
    finished: u64,
    in_flight: u64,
    most_in_flight: u64,
}

/// The source in memory.
pub struct MemorySource {
    state: Mutex<State>,
    page_rows: u32,
    latency: Duration,
}

impl std::fmt::Debug for MemorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySource")
            .field("page_rows", &self.page_rows)
            .finish_non_exhaustive()
    }
}

impl MemorySource {
    /// An empty source of `page_rows` rows a request, each request taking `latency`.
    pub fn new(page_rows: u32, latency: Duration) -> MemorySource {
        MemorySource {
            state: Mutex::default(),
            page_rows,
            latency,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets a module's rows, in the order served.
    pub fn set_rows(&self, module: Module, rows: Vec<Row>) {
        self.state().modules.insert(module, rows);
    }

    /// The ids of a module's rows now.
    pub fn ids(&self, module: Module) -> Vec<RecordId> {
        let state = self.state();
        let rows = state.modules.get(&module).map(Vec::as_slice).unwrap_or(&[]);
        rows.iter().filter_map(Row::id).collect()
    }

    /// Runs `hook` on a module's rows before every request (with its number, from 0).
    pub fn before_each_request(&self, hook: Hook) {
        self.state().hooks.push(hook);
    }

    /// The next requests fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SourceError>) {
        self.state().failures.extend(errors);
    }

    /// Every window asked for, in order.
    pub fn windows(&self) -> Vec<(Module, Window, Filter)> {
        self.state().windows.clone()
    }

    /// Requests started, and finished (answered; an abandoned one never finishes).
    pub fn requests(&self) -> (u64, u64) {
        let state = self.state();
        (state.started, state.finished)
    }

    /// The most requests in flight at once so far.
    pub fn most_in_flight(&self) -> u64 {
        self.state().most_in_flight
    }

    /// Starts a request: runs the hooks, takes a scripted failure or the window's rows.
    fn start(
        &self,
        module: Module,
        window: Window,
        filter: Filter,
    ) -> Result<Vec<RowOutcome>, SourceError> {
        let mut guard = self.state();
        let state = &mut *guard;
        let n = state.started;
        state.started += 1;
        state.in_flight += 1;
        state.most_in_flight = state.most_in_flight.max(state.in_flight);
        state.windows.push((module, window, filter));
        let rows = state.modules.entry(module).or_default();
        for hook in &mut state.hooks {
            hook(n, rows);
        }
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        let from = window.from.saturating_sub(1) as usize;
        Ok(rows
            .iter()
            .filter(|r| filter.modified_after.is_none_or(|t| r.modified > t))
            .skip(from)
            .take(window.len() as usize)
            .map(|r| r.row.clone())
            .collect())
    }
}

/// Counts a request out of flight however it ends, abandoned included.
struct InFlight<'a>(&'a MemorySource);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.state().in_flight -= 1;
    }
}

#[async_trait]
impl Source for MemorySource {
    fn page_rows(&self) -> u32 {
        self.page_rows
    }

    fn request_cost(&self) -> u32 {
        1
    }

    fn day_rule(&self) -> DayRule {
        DayRule::Pacific
    }

    fn list_method(&self) -> &'static str {
        "list"
    }

    async fn list(&self, module: Module, window: Window, filter: Filter) -> Listing {
        let rows = self.start(module, window, filter);
        let _in_flight = InFlight(self);
        tokio::time::sleep(self.latency).await;
        self.state().finished += 1;
        Listing {
            outcome: if rows.is_ok() { "ok" } else { "failed" },
            rows,
            server_time: Some(Utc::now()),
        }
    }

    async fn server_clock(&self) -> Option<DateTime<Utc>> {
        Some(Utc::now())
    }
}
