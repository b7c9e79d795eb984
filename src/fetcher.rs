//! The fetcher: pulls one page from a source for a pass, inside the budget. Every
//! request, retries included, is first reserved in the store's quota ledger at the
//! source's cost (one atomic statement), so that any number of processes together never
//! spend more than the organisation's budget; a request the ledger refuses is never
//! sent. Transient failures are retried under the one retry policy, each retry reserved
//! like any request, every wait cut short by a stop. The quota day is the server's: the
//! fetcher reads the server's clock from each answer (a reading our own clock
//! contradicts is not believed, see `clock`), and a reservation made on the wrong day
//! (the first of a run, or one racing midnight) is moved to the day the server counted
//! it on.

pub mod clock;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;

use crate::quota::Budget;
use crate::source::{Failure, Paging, Request, Row, Source, SourceError};
use crate::store::{patiently, Store, StoreError};
use crate::stream::Module;
use crate::telemetry::Progress;
use crate::zoho::retry::{Backoff, RetryPolicy};
pub use clock::{Reading, ServerClock};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("today's budget is spent; it resets at {resets_at}")]
    BudgetSpent { resets_at: DateTime<Utc> },
    #[error("stopped")]
    Cancelled,
    /// The share of the budget this round may spend is spent (the daemon's pacing).
    #[error("this round's share of the budget is spent")]
    AllowanceSpent,
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a request lists: one module's rows, or the organisation's deletions.
#[derive(Clone, Copy, Debug)]
enum Listed {
    Module(Module),
    Deletions,
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listed::Module(module) => module.fmt(f),
            Listed::Deletions => f.write_str("deletions"),
        }
    }
}

/// One page as served.
#[derive(Debug)]
pub struct Page {
    pub request: Request,
    pub rows: Vec<Row>,
    /// The server's clock when it answered (our own, shifted, if it sent no `Date`).
    pub server_time: DateTime<Utc>,
}

/// What an organisation's fetchers share.
#[derive(Clone, Debug)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// Our reading of the server's clock.
    pub clock: Arc<ServerClock>,
    pub cancel: CancellationToken,
    pub progress: Arc<Progress>,
    /// Requests this round may still send.
    pub allowance: Arc<Allowance>,
}

#[derive(Debug)]
pub struct Fetcher {
    source: Arc<dyn Source>,
    budget: Budget,
    retry: RetryPolicy,
    shared: Shared,
    requests: AtomicU64,
}

/// How many more requests a round may send (pacing); unlimited by default.
#[derive(Debug)]
pub struct Allowance(AtomicI64);

impl Default for Allowance {
    fn default() -> Self {
        Allowance(AtomicI64::new(i64::MAX))
    }
}

impl Allowance {
    /// `None` lifts the limit.
    pub fn set(&self, requests: Option<u32>) {
        self.0
            .store(requests.map_or(i64::MAX, i64::from), Ordering::SeqCst);
    }

    /// Takes one request from the allowance, if any is left.
    fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                (left > 0).then(|| if left == i64::MAX { left } else { left - 1 })
            })
            .is_ok()
    }
}

impl Fetcher {
    pub fn new(
        source: Arc<dyn Source>,
        budget: Budget,
        retry: RetryPolicy,
        shared: Shared,
    ) -> Fetcher {
        Fetcher {
            source,
            budget,
            retry,
            shared,
            requests: AtomicU64::new(0),
        }
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Rows one request returns at most (the page size).
    pub fn page_rows(&self, module: Module) -> u32 {
        self.source.page_rows(module)
    }

    /// Rows one page of the organisation's deletions holds at most.
    pub fn deletions_page_rows(&self) -> u32 {
        self.source.deletions_page_rows()
    }

    /// Whether an incremental pass of `module` also walks it by the customer's response.
    pub fn reads_responses(&self, module: Module) -> bool {
        self.source.reads_responses(module)
    }

    /// Whether a reconciliation of `module` also reads its per-department archives.
    pub fn reads_archives(&self, module: Module) -> bool {
        self.source.reads_archives(module)
    }

    /// How the source pages.
    pub fn paging(&self, module: Module) -> Paging {
        self.source.paging(module)
    }

    /// Requests sent so far (each one reserved in the ledger first).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Our best reading of the server's clock.
    pub fn server_now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Reads the server's clock without spending any budget; keeps the last estimate if
    /// the server is silent or its reading is not believed.
    pub async fn probe_clock(&self) {
        if let Some(server_time) = self.source.server_clock().await {
            self.shared.clock.observe(Some(server_time));
        }
    }

    /// The server's quota day now, and when it ends.
    pub fn quota_day(&self) -> (NaiveDate, DateTime<Utc>) {
        let now = self.server_now();
        (
            self.budget.rule.day_of(now),
            self.budget.rule.next_reset(now),
        )
    }

    /// One page of `module`, retried on transient failures, every attempt reserved. A
    /// page past the end is empty.
    pub async fn get_page(&self, module: Module, request: Request) -> Result<Page, FetchError> {
        self.fetch(Listed::Module(module), request).await
    }

    /// One page of the organisation's deletions, newest first, from `from` (0-based),
    /// fetched like any page.
    pub async fn get_deletions(&self, from: u32, limit: u32) -> Result<Page, FetchError> {
        self.fetch(Listed::Deletions, Request::Deletions { from, limit })
            .await
    }

    async fn fetch(&self, listed: Listed, request: Request) -> Result<Page, FetchError> {
        let mut attempt = 0;
        loop {
            if self.shared.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            let error = match self.attempt(listed, request).await? {
                Ok(page) => return Ok(page),
                Err(error) => error,
            };
            attempt += 1;
            match self.retry.backoff(attempt, &self.shared.cancel).await {
                Backoff::Waited(delay) => {
                    self.shared.progress.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        %listed, ?request, attempt, error = %error,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "page request failed; retried"
                    );
                }
                Backoff::Exhausted => return Err(FetchError::Source(error)),
                Backoff::Stopped => return Err(FetchError::Cancelled),
            }
        }
    }

    /// One reserved request: the page, a failure worth retrying (`Ok(Err)`), or the end
    /// of the pass's fetching.
    async fn attempt(
        &self,
        listed: Listed,
        request: Request,
    ) -> Result<Result<Page, SourceError>, FetchError> {
        let cost = self.source.request_cost(&request);
        let day = self.reserve(cost).await?;
        // An answer on its way at a stop is awaited a little (it is paid for), then
        // given up: the page is asked again next time.
        let list = async {
            match listed {
                Listed::Module(module) => self.source.list(module, &request).await,
                Listed::Deletions => self.source.deletions(&request).await,
            }
        };
        let listing = tokio::select! {
            listing = list => listing,
            () = crate::shutdown::cut(&self.shared.cancel, crate::shutdown::IN_FLIGHT) => {
                return Err(FetchError::Cancelled)
            }
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let progress = &self.shared.progress;
        progress.requests.fetch_add(1, Ordering::Relaxed);
        progress.count_outcome(self.source.list_method(), listing.outcome);
        let server_time = self.observe(day, cost, listing.server_time).await?;
        if let Some(left) = listing.credits_left {
            self.hold_reserve(left, server_time).await?;
        }
        match listing.rows {
            Ok(rows) => Ok(Ok(Page {
                request,
                rows,
                server_time,
            })),
            Err(e) if e.failure == Failure::QuotaExhausted => {
                let day = self.budget.rule.day_of(server_time);
                let store = &self.shared.store;
                store.mark_day_spent(&self.budget.organisation, day).await?;
                Err(FetchError::BudgetSpent {
                    resets_at: self.budget.rule.next_reset(server_time),
                })
            }
            Err(e) if e.is_retryable() => Ok(Err(e)),
            Err(e) => Err(FetchError::Source(e)),
        }
    }

    /// Reserves a request's cost on the server's current day, or reports the budget
    /// spent.
    async fn reserve(&self, cost: u32) -> Result<NaiveDate, FetchError> {
        if !self.shared.allowance.take() {
            return Err(FetchError::AllowanceSpent);
        }
        let (day, resets_at) = self.quota_day();
        let reserved = patiently("a quota reservation", &self.shared.cancel, || {
            self.shared
                .store
                .reserve(&self.budget.organisation, day, cost, self.budget.per_day)
        })
        .await?;
        match reserved {
            Some(_) => Ok(day),
            None => Err(FetchError::BudgetSpent { resets_at }),
        }
    }

    /// The server counts the organisation's whole pool, other integrations included:
    /// once no more than the reserve is left, the day is spent for us, whatever our own
    /// ledger says.
    async fn hold_reserve(&self, left: u64, server_time: DateTime<Utc>) -> Result<(), FetchError> {
        if left > u64::from(self.budget.reserve) {
            return Ok(());
        }
        let day = self.budget.rule.day_of(server_time);
        tracing::info!(
            organisation = %self.budget.organisation, left, reserve = self.budget.reserve,
            "the server says only the reserve is left today; stopping for today"
        );
        let store = &self.shared.store;
        store.mark_day_spent(&self.budget.organisation, day).await?;
        Ok(())
    }

    /// Learns the server's clock from an answer, and moves the reservation if the server
    /// counted the request on another day than we reserved it on. A reading that is not
    /// believed moves nothing; the instant returned is then a safe stand-in.
    async fn observe(
        &self,
        reserved_on: NaiveDate,
        cost: u32,
        server_time: Option<DateTime<Utc>>,
    ) -> Result<DateTime<Utc>, FetchError> {
        let reading = self.shared.clock.observe(server_time);
        let Reading::Trusted(server_time) = reading else {
            return Ok(reading.time());
        };
        let counted_on = self.budget.rule.day_of(server_time);
        if counted_on != reserved_on {
            tracing::debug!(%reserved_on, %counted_on, "moving a reservation to the server's day");
            patiently("moving a reservation", &self.shared.cancel, || {
                self.shared.store.move_reservation(
                    &self.budget.organisation,
                    reserved_on,
                    counted_on,
                    cost,
                )
            })
            .await?;
        }
        Ok(server_time)
    }
}
