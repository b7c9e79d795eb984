//! An in-memory source for the pipeline's tests: a module's rows in the order served,
//! each with the moment it was last modified, paged by position as the legacy API pages,
//! or (`seeking`) by ranges of modification time as Zoho Desk's search pages.
//! It also lists an organisation's deletions, newest first, as Zoho Desk's recycle bin.
//! A test can change the rows (or the deletions) before any request (as concurrent users would), make the
//! next requests fail, slow every request down, and read what was asked: the windows,
//! how many requests started and how many finished, and how many were in flight at once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Filter, Listing, Outcome, Paging, Request, Row, Source, SourceError, Tombstone};
use crate::quota::DayRule;
use crate::stream::seek::{Mark, SeekRequest, TimeOrder};
use crate::stream::Module;
use crate::zoho::codec::RowOutcome;
use crate::zoho::record::{Field, Record, RecordId};

/// One served row: the record (or a row that fails to decode), when it was modified and,
/// for a source that walks responses too, when its customer last responded.
#[derive(Clone, Debug)]
pub struct MemoryRow {
    pub row: RowOutcome,
    pub modified: DateTime<Utc>,
    pub responded: Option<DateTime<Utc>>,
    /// The agent it belongs to, for a source read per agent.
    pub agent: u64,
}

impl MemoryRow {
    /// A record with id `id`, one field, modified at `modified`.
    pub fn record(id: u64, modified: DateTime<Utc>) -> MemoryRow {
        let record = Record {
            id: Some(RecordId(id)),
            fields: vec![Field {
                label: "Subject".into(),
                value: Some(format!("subject {id}").into()),
            }],
        };
        MemoryRow {
            row: RowOutcome::Ok(record),
            modified,
            responded: None,
            agent: 0,
        }
    }

    /// The same row, belonging to `agent`.
    pub fn of_agent(self, agent: u64) -> MemoryRow {
        MemoryRow { agent, ..self }
    }

    /// The same row, its customer's last response at `at`.
    pub fn responded_at(self, at: DateTime<Utc>) -> MemoryRow {
        MemoryRow {
            responded: Some(at),
            ..self
        }
    }

    fn id(&self) -> Option<RecordId> {
        self.row.id()
    }
}

/// Changes the rows of a module before request `n` (from 0).
pub type Hook = Box<dyn FnMut(u64, &mut Vec<MemoryRow>) + Send>;

/// Changes the deletions listed before request `n` (from 0).
pub type BinHook = Box<dyn FnMut(u64, &mut Vec<Tombstone>) + Send>;

#[derive(Default)]
struct State {
    modules: HashMap<Module, Vec<MemoryRow>>,
    hooks: Vec<Hook>,
    /// The organisation's deletions, newest first.
    bin: Vec<Tombstone>,
    bin_hooks: Vec<BinHook>,
    failures: VecDeque<SourceError>,
    requests: Vec<(Module, Request)>,
    started: u64,
    finished: u64,
    in_flight: u64,
    most_in_flight: u64,
}

/// The source in memory.
pub struct MemorySource {
    state: Mutex<State>,
    paging: Paging,
    page_rows: u32,
    latency: Duration,
    responses: bool,
    /// The agents a source read per agent lists.
    agents: Vec<u64>,
}

impl std::fmt::Debug for MemorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySource")
            .field("page_rows", &self.page_rows)
            .finish_non_exhaustive()
    }
}

impl MemorySource {
    /// An empty source paged by offsets, `page_rows` rows a request, each request
    /// taking `latency`.
    pub fn new(page_rows: u32, latency: Duration) -> MemorySource {
        MemorySource {
            state: Mutex::default(),
            paging: Paging::Offset,
            page_rows,
            latency,
            responses: false,
            agents: Vec::new(),
        }
    }

    /// The same, paged by ranges of modification time.
    pub fn seeking(page_rows: u32, latency: Duration) -> MemorySource {
        MemorySource {
            paging: Paging::Seek,
            ..MemorySource::new(page_rows, latency)
        }
    }

    /// The same, read per agent: `agents` listed, each one's rows by windows of a range.
    pub fn per_agent(page_rows: u32, agents: Vec<u64>) -> MemorySource {
        MemorySource {
            paging: Paging::PerAgent,
            agents,
            ..MemorySource::new(page_rows, Duration::ZERO)
        }
    }

    /// The same, whose incremental passes also walk by customer response.
    pub fn with_responses(self) -> MemorySource {
        MemorySource {
            responses: true,
            ..self
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets a module's rows, in the order served.
    pub fn set_rows(&self, module: impl Into<Module>, rows: Vec<MemoryRow>) {
        self.state().modules.insert(module.into(), rows);
    }

    /// The ids of a module's rows now.
    pub fn ids(&self, module: impl Into<Module>) -> Vec<RecordId> {
        let state = self.state();
        let module = module.into();
        let rows = state.modules.get(&module).map(Vec::as_slice).unwrap_or(&[]);
        rows.iter().filter_map(MemoryRow::id).collect()
    }

    /// Runs `hook` on a module's rows before every request (with its number, from 0).
    pub fn before_each_request(&self, hook: Hook) {
        self.state().hooks.push(hook);
    }

    /// Sets the deletions listed, newest first.
    pub fn set_deletions(&self, bin: Vec<Tombstone>) {
        self.state().bin = bin;
    }

    /// Runs `hook` on the deletions before every request (with its number, from 0).
    pub fn before_each_bin_request(&self, hook: BinHook) {
        self.state().bin_hooks.push(hook);
    }

    /// The next requests fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SourceError>) {
        self.state().failures.extend(errors);
    }

    /// Every request, in order.
    pub fn requests_made(&self) -> Vec<(Module, Request)> {
        self.state().requests.clone()
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

    /// Starts a request: runs the hooks, takes a scripted failure or the page's rows.
    fn start(&self, module: Module, request: &Request) -> Result<Vec<Row>, SourceError> {
        let mut guard = self.state();
        let state = &mut *guard;
        let n = state.started;
        state.started += 1;
        state.in_flight += 1;
        state.most_in_flight = state.most_in_flight.max(state.in_flight);
        state.requests.push((module, *request));
        let rows = state.modules.entry(module).or_default();
        for hook in &mut state.hooks {
            hook(n, rows);
        }
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        match (self.paging, request) {
            (Paging::Offset, Request::Window { window, filter }) => {
                Ok(window_of(rows, window.from, window.len(), *filter))
            }
            (Paging::Seek, Request::Seek { range, order }) => Ok(range_of(rows, *range, *order)),
            (Paging::PerAgent, Request::Agents { from, limit }) => Ok(self
                .agents
                .iter()
                .skip(from.saturating_sub(1) as usize)
                .take(*limit as usize)
                .map(|a| MemoryRow::record(*a, DateTime::UNIX_EPOCH).row)
                .map(Row::by_id)
                .collect()),
            (Paging::PerAgent, Request::AgentRows { agent, range }) => {
                let own: Vec<MemoryRow> =
                    rows.iter().filter(|r| r.agent == *agent).cloned().collect();
                Ok(range_of(&own, *range, TimeOrder::Modified))
            }
            (_, Request::ById { id }) => Ok(rows
                .iter()
                .filter(|r| r.row.id() == Some(*id))
                .take(1)
                .map(|r| Row::by_id(r.row.clone()))
                .collect()),
            _ => Err(SourceError::unsupported(request)),
        }
    }
}

/// Positions `from..from+len` (1-based) of the rows the filter selects, in order.
fn window_of(rows: &[MemoryRow], from: u32, len: u32, filter: Filter) -> Vec<Row> {
    rows.iter()
        .filter(|r| filter.modified_after.is_none_or(|t| r.modified > t))
        .skip(from.saturating_sub(1) as usize)
        .take(len as usize)
        .map(|r| Row::by_id(r.row.clone()))
        .collect()
}

/// The rows whose instant (modification, or the customer's response) is in the range, by
/// that instant then id, from its offset. (Creation is taken to be modification.)
fn range_of(rows: &[MemoryRow], range: SeekRequest, order: TimeOrder) -> Vec<Row> {
    let instant = |r: &MemoryRow| match order {
        TimeOrder::Modified | TimeOrder::Created => Some(r.modified),
        TimeOrder::Responded => r.responded,
    };
    // Inside a tie group by creation time: the rows of its instant, created when modified.
    let mut hits: Vec<(DateTime<Utc>, &MemoryRow)> = rows
        .iter()
        .filter_map(|r| instant(r).map(|at| (at, r)))
        .filter(|(at, _)| range.within.is_none_or(|w| *at == w))
        .map(|(at, r)| (range.within.map_or(at, |_| r.modified), r))
        .filter(|(at, _)| *at >= range.lo && *at <= range.hi)
        .collect();
    hits.sort_by_key(|(at, r)| (*at, r.id()));
    hits.into_iter()
        .skip(range.from as usize)
        .take(range.limit as usize)
        .map(|(at, r)| Row {
            outcome: Row::by_id(r.row.clone()).outcome,
            mark: Mark {
                at: Some(at),
                id: r.id(),
            },
        })
        .collect()
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
    fn paging(&self, _module: Module) -> Paging {
        self.paging
    }

    fn page_rows(&self, _module: Module) -> u32 {
        self.page_rows
    }

    fn deletions_page_rows(&self) -> u32 {
        self.page_rows
    }

    fn reads_responses(&self, _module: Module) -> bool {
        self.responses
    }

    fn request_cost(&self, _request: &Request) -> u32 {
        1
    }

    fn day_rule(&self) -> DayRule {
        DayRule::Pacific
    }

    fn list_method(&self) -> &'static str {
        "list"
    }

    async fn list(&self, module: Module, request: &Request) -> Listing {
        let rows = self.start(module, request);
        let _in_flight = InFlight(self);
        tokio::time::sleep(self.latency).await;
        self.state().finished += 1;
        Listing {
            outcome: if rows.is_ok() { "ok" } else { "failed" },
            rows,
            server_time: Some(Utc::now()),
            credits_left: None,
        }
    }

    async fn deletions(&self, request: &Request) -> Listing {
        let rows = self.start_bin(request);
        self.state().finished += 1;
        Listing {
            outcome: if rows.is_ok() { "ok" } else { "failed" },
            rows,
            server_time: Some(Utc::now()),
            credits_left: None,
        }
    }

    async fn server_clock(&self) -> Option<DateTime<Utc>> {
        Some(Utc::now())
    }
}

impl MemorySource {
    /// A page of the deletions, after the hooks ran.
    fn start_bin(&self, request: &Request) -> Result<Vec<Row>, SourceError> {
        let mut guard = self.state();
        let state = &mut *guard;
        let n = state.started;
        state.started += 1;
        for hook in &mut state.bin_hooks {
            hook(n, &mut state.bin);
        }
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        let Request::Deletions { from, limit } = *request else {
            return Err(SourceError::unsupported(request));
        };
        Ok(state
            .bin
            .iter()
            .skip(from as usize)
            .take(limit as usize)
            .map(|t| Row {
                mark: Mark {
                    at: Some(t.deleted_at),
                    id: Some(RecordId(t.id.unsigned_abs())),
                },
                outcome: Outcome::Deleted(t.clone()),
            })
            .collect())
    }
}
