//! Retrying dead letters (`dead-letters --retry`, as Airbyte's or Fivetran's retry of
//! failed records): each letter's record is read again by id (legacy `getrecordsbyid`,
//! Desk's `GET /{module}/{id}`) through the fetcher, so every request is reserved in the
//! quota ledger before it is sent and the day's budget (less its reserve) is never passed,
//! and a record is read once however many letters name it. A stream is retried under its
//! lease, so no pass of it interleaves, and settled record by record by the loader
//! (`Loader::settle_letters`): loaded through the page upsert with its letters cleared in
//! the same transaction, kept while still bad, or cleared when the source no longer has
//! it (a legacy mirror row retired as a sweep would). The invariants: no checkpoint moves, and a letter is
//! cleared only in the transaction that mirrors or retires its record. Each
//! organisation's retry is recorded as a run of kind `retry`, with its requests.

mod stream;
mod verdict;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, OrganisationConfig};
use crate::fetcher::{Fetcher, ServerClock, Shared};
use crate::loader::{DeadLetter, Loader};
use crate::pipeline::run::{self, Backends, RunError};
use crate::store::{DeleteMode, Holding, RunKind, RunOutcome, Store, StoreError};
use crate::stream::{Module, StreamKey};
use crate::zoho::record::RecordId;
pub use verdict::{group, judge, Groups};

/// What became of one letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Its record decodes now: mirrored, and the letter cleared.
    Loaded,
    /// Its record is refused again: the letter stays, with the latest reason.
    StillBad,
    /// The source no longer has its record: the letter cleared; a legacy mirror row (if
    /// any) marked deleted (or removed, under `hard_delete`) as a sweep would, a Desk one
    /// left to the walk of the recycle bin (a GET that finds nothing does not say when,
    /// nor even that, the record was deleted: D18).
    Gone,
    /// No usable record id: it cannot be read again, and stays.
    NoId,
    /// Not tried: the budget ran out, a stop came, the stream was held or failed first.
    Untried,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Loaded,
        Outcome::StillBad,
        Outcome::Gone,
        Outcome::NoId,
        Outcome::Untried,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded",
            Outcome::StillBad => "still_bad",
            Outcome::Gone => "gone",
            Outcome::NoId => "no_id",
            Outcome::Untried => "untried",
        }
    }
}

/// One letter's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterOutcome {
    /// The letter's id (as `dead-letters` lists it).
    pub letter: i64,
    pub record_id: Option<RecordId>,
    pub outcome: Outcome,
    /// Why its record is still refused (`StillBad`).
    pub error: Option<String>,
}

/// How a stream's retry ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every letter with a record id was tried.
    Done,
    /// The day's budget (less its reserve) is spent; it resets at this moment.
    BudgetSpent { resets_at: DateTime<Utc> },
    /// A live process holds the stream; it was left to it.
    Held(Holding),
    /// A stop was asked for.
    Stopped,
    /// The credentials were refused: no stream of the organisation can be retried.
    AuthFailed(String),
    /// A request failed after the fetcher's retries, or the database refused a write.
    Failed(String),
}

/// One stream's retry.
#[derive(Clone, Debug)]
pub struct StreamRetry {
    pub stream: StreamKey,
    /// Every letter of the stream, oldest first.
    pub letters: Vec<LetterOutcome>,
    /// Requests sent (each reserved in the ledger first).
    pub requests: u64,
    pub end: StreamEnd,
}

impl StreamRetry {
    /// Letters with this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.letters.iter().filter(|l| l.outcome == outcome).count()
    }

    /// Letters whose record was read again.
    pub fn tried(&self) -> usize {
        self.count(Outcome::Loaded) + self.count(Outcome::StillBad) + self.count(Outcome::Gone)
    }
}

/// One organisation's retry.
#[derive(Clone, Debug)]
pub struct OrgRetry {
    pub organisation: String,
    pub run_id: i64,
    pub streams: Vec<StreamRetry>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("cannot use the database: {0}")]
    Store(#[from] StoreError),
    /// The organisation's source could not be built (its credentials, say).
    #[error(transparent)]
    Setup(#[from] RunError),
}

impl RetryError {
    /// Whether the same retry may succeed if simply run again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            RetryError::Store(e) => e.is_retryable(),
            RetryError::Setup(_) => false,
        }
    }
}

/// Retries the dead letters of every configured stream of `modules` (all when empty),
/// one organisation after the other; an organisation without letters starts no run.
pub async fn retry(
    config: &Config,
    loader: &Loader,
    modules: &[Module],
    cancel: &CancellationToken,
) -> Result<Vec<OrgRetry>, RetryError> {
    let mut done = Vec::new();
    for org in &config.organisations {
        let mut streams = Vec::new();
        for stream in org.streams(modules) {
            let letters = loader.dead_letters(&stream).await?;
            if !letters.is_empty() {
                streams.push((stream, letters));
            }
        }
        if !streams.is_empty() {
            done.push(retry_org(config, loader, org, streams, cancel).await?);
        }
    }
    Ok(done)
}

/// One organisation's streams, one after the other, as one run. Once its budget is spent,
/// a stop comes or its credentials are refused, the streams left are not tried.
async fn retry_org(
    config: &Config,
    loader: &Loader,
    org: &OrganisationConfig,
    streams: Vec<(StreamKey, Vec<DeadLetter>)>,
    cancel: &CancellationToken,
) -> Result<OrgRetry, RetryError> {
    let fetchers = fetchers(config, loader, org, &streams, cancel)?;
    if let Some(fetcher) = fetchers.values().next() {
        // The quota day is the server's: read its clock (at no cost) before reserving.
        tokio::select! {
            () = fetcher.probe_clock() => {}
            () = cancel.cancelled() => {}
        }
    }
    let run_id = loader.start_run(RunKind::Retry, &org.name).await?;
    tracing::info!(organisation = %org.name, run_id, streams = streams.len(), "retrying dead letters");
    let mut results: Vec<StreamRetry> = Vec::new();
    let mut blocked: Option<StreamEnd> = None;
    for (key, letters) in streams {
        let result = match (&blocked, fetchers.get(&key.department)) {
            (None, Some(fetcher)) => {
                let retrying = stream::StreamRun {
                    loader,
                    fetcher,
                    run_id,
                    zone: org.data_time_zone(),
                    lease_ttl: config.database.lease,
                    deletes: deletes(config),
                    cancel,
                };
                retrying.retry(key, &letters).await
            }
            (Some(end), _) => stream::untried(key, &letters, end.clone()),
            (None, None) => stream::untried(key, &letters, StreamEnd::Done),
        };
        if matches!(
            result.end,
            StreamEnd::BudgetSpent { .. } | StreamEnd::Stopped | StreamEnd::AuthFailed(_)
        ) {
            blocked = Some(result.end.clone());
        }
        results.push(result);
    }
    record(loader, run_id, &results).await?;
    Ok(OrgRetry {
        organisation: org.name.clone(),
        run_id,
        streams: results,
    })
}

/// A fetcher per department with letters to retry, sharing the organisation's clock.
fn fetchers(
    config: &Config,
    loader: &Loader,
    org: &OrganisationConfig,
    streams: &[(StreamKey, Vec<DeadLetter>)],
    cancel: &CancellationToken,
) -> Result<BTreeMap<String, Fetcher>, RetryError> {
    let store: Arc<dyn Store> = Arc::new(loader.clone());
    let backends = Backends {
        store: Arc::clone(&store),
        tokens: Arc::new(loader.desk_tokens()),
    };
    let shared = Shared {
        store,
        clock: Arc::new(ServerClock::new(config.api.max_clock_skew)),
        cancel: cancel.clone(),
        progress: Arc::default(),
        allowance: Arc::default(),
    };
    let mut fetchers = BTreeMap::new();
    for (stream, _) in streams {
        if fetchers.contains_key(&stream.department) {
            continue;
        }
        let source = run::source(config, org, &stream.department, &backends)?;
        let fetcher = Fetcher::new(source, org.budget(), config.api.retry, shared.clone());
        fetchers.insert(stream.department.clone(), fetcher);
    }
    Ok(fetchers)
}

fn deletes(config: &Config) -> DeleteMode {
    if config.database.hard_delete {
        DeleteMode::Remove
    } else {
        DeleteMode::Mark
    }
}

/// Closes the run with its requests and outcome: a failure outranks a spent budget, which
/// outranks a stop.
async fn record(loader: &Loader, run_id: i64, results: &[StreamRetry]) -> Result<(), RetryError> {
    let requests: u64 = results.iter().map(|r| r.requests).sum();
    loader
        .add_run_requests(run_id, u32::try_from(requests).unwrap_or(u32::MAX))
        .await?;
    let failure = results.iter().find_map(|r| match &r.end {
        StreamEnd::Failed(e) | StreamEnd::AuthFailed(e) => Some(format!("{}: {e}", r.stream)),
        _ => None,
    });
    let ends = || results.iter().map(|r| &r.end);
    let outcome = if failure.is_some() {
        RunOutcome::Failed
    } else if ends().any(|e| matches!(e, StreamEnd::BudgetSpent { .. })) {
        RunOutcome::QuotaSpent
    } else if ends().any(|e| *e == StreamEnd::Stopped) {
        RunOutcome::Interrupted
    } else {
        RunOutcome::Completed
    };
    loader
        .finish_run(run_id, outcome, failure.as_deref())
        .await?;
    Ok(())
}
