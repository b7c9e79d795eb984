//! The fetcher: pulls one page from the API for a pass, inside the budget. Every request,
//! retries included, is first reserved in the PostgreSQL quota ledger (one atomic
//! statement), so that any number of processes together never send more than the
//! organisation's budget; a request the ledger refuses is never sent. The quota day is the
//! server's: the fetcher reads the server's clock from each answer's `Date` header (a
//! reading our own clock contradicts is not believed, see `clock`), and a reservation
//! made on the wrong day (the first of a run, or one racing midnight) is moved to the day
//! the server counted it on.

pub mod clock;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::loader::{patiently, Loader, LoaderError};
use crate::quota::DayRule;
use crate::stream::cursor::Window;
use crate::telemetry::Progress;
use crate::zoho::client::{Client, GetRecords, SelectFields, TIME_FORMAT};
use crate::zoho::codec::{Answer, RowOutcome};
use crate::zoho::error::ErrorClass;
use crate::zoho::module::{Method, Module};
use crate::zoho::retry::RetryPolicy;
use crate::zoho::ZohoError;
pub use clock::{Reading, ServerClock};

/// An organisation's share of the day: requests we may send, by the server's day.
#[derive(Clone, Debug)]
pub struct Budget {
    pub organisation: String,
    /// The daily limit less the reserve kept for the organisation's other integrations.
    pub per_day: u32,
    pub rule: DayRule,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("today's request budget is spent; it resets at {resets_at}")]
    BudgetSpent { resets_at: DateTime<Utc> },
    #[error("stopped")]
    Cancelled,
    /// The share of the budget this round may spend is spent (the daemon's pacing).
    #[error("this round's share of the budget is spent")]
    AllowanceSpent,
    #[error(transparent)]
    Zoho(#[from] ZohoError),
    #[error(transparent)]
    Loader(#[from] LoaderError),
}

/// One page as served.
#[derive(Debug)]
pub struct Page {
    pub window: Window,
    pub rows: Vec<RowOutcome>,
    /// The server's clock when it answered (our own, shifted, if it sent no `Date`).
    pub server_time: DateTime<Utc>,
}

/// What a pass reads: the whole module, or rows modified after a moment.
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub modified_after: Option<DateTime<Utc>>,
    /// The portal's data time zone, in which `lastmodifiedtime` is written.
    pub zone: Tz,
    /// Only the id field of each row (a sweep), instead of every field.
    pub ids_only: bool,
}

pub struct Fetcher {
    client: Client,
    loader: Loader,
    budget: Budget,
    retry: RetryPolicy,
    cancel: CancellationToken,
    /// Our reading of the server's clock, shared by the organisation's fetchers.
    clock: Arc<ServerClock>,
    requests: AtomicU64,
    retries: AtomicU64,
    progress: Arc<Progress>,
    /// Requests this round may still send, shared by the organisation's fetchers.
    allowance: Arc<Allowance>,
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
        client: Client,
        loader: Loader,
        budget: Budget,
        clock: Arc<ServerClock>,
        cancel: CancellationToken,
        progress: Arc<Progress>,
        allowance: Arc<Allowance>,
    ) -> Fetcher {
        let retry = client.settings().retry;
        Fetcher {
            client,
            loader,
            budget,
            retry,
            cancel,
            clock,
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            progress,
            allowance,
        }
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Requests sent so far (each one reserved in the ledger first).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Our best reading of the server's clock.
    pub fn server_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Reads the server's clock without spending a request of the quota (the `Date` of
    /// an answer from outside the API); keeps the last estimate if the server is silent
    /// or its reading is not believed.
    pub async fn probe_clock(&self) {
        if let Some(server_time) = self.client.server_clock().await {
            self.clock.observe(Some(server_time));
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

    /// `getrecords` of one window, retried on transient failures, every attempt reserved.
    /// A window past the end is an empty page.
    pub async fn get_page(
        &self,
        module: Module,
        window: Window,
        filter: Filter,
    ) -> Result<Page, FetchError> {
        let request = GetRecords {
            from_index: Some(window.from),
            to_index: Some(window.to),
            select: if filter.ids_only {
                SelectFields::Labels(vec![module.id_field().to_string()])
            } else {
                SelectFields::All
            },
            last_modified_time: filter
                .modified_after
                .map(|t| t.with_timezone(&filter.zone).naive_local()),
            ..GetRecords::default()
        };
        let params = request.params(module)?;
        let mut attempt = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            let day = self.reserve().await?;
            // An answer on its way at a stop is awaited a little (it is paid for), then
            // given up: the page is asked again next time.
            let exchange = tokio::select! {
                exchange = self.client.exchange(Method::GetRecords, module, &params) => exchange,
                () = crate::shutdown::cut(&self.cancel, crate::shutdown::IN_FLIGHT) => {
                    return Err(FetchError::Cancelled)
                }
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.progress.requests.fetch_add(1, Ordering::Relaxed);
            let server_time = self.observe(day, exchange.server_time).await?;
            let outcome = match &exchange.outcome {
                Ok(_) => "ok",
                Err(e) => e.class().as_str(),
            };
            self.progress
                .count_outcome(Method::GetRecords.wire_name(), outcome);
            let error = match exchange.outcome {
                Ok(Answer::Records(rows)) => {
                    return Ok(Page {
                        window,
                        rows,
                        server_time,
                    })
                }
                Ok(_) => {
                    ZohoError::Invalid("getrecords answered with a write acknowledgement".into())
                }
                Err(e) => e,
            };
            match error.class() {
                ErrorClass::NoData => {
                    return Ok(Page {
                        window,
                        rows: Vec::new(),
                        server_time,
                    })
                }
                ErrorClass::QuotaExhausted => {
                    let day = self.budget.rule.day_of(server_time);
                    self.loader
                        .mark_day_spent(&self.budget.organisation, day)
                        .await?;
                    return Err(FetchError::BudgetSpent {
                        resets_at: self.budget.rule.next_reset(server_time),
                    });
                }
                class if class.is_retryable() && attempt < self.retry.max_retries => {
                    attempt += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.progress.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = self.retry.delay(attempt, &mut rand::thread_rng());
                    tracing::warn!(
                        %module, from = window.from, attempt, class = %class, error = %error,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "page request failed; retrying"
                    );
                    self.pause(delay).await?;
                }
                _ => return Err(FetchError::Zoho(error)),
            }
        }
    }

    /// Reserves one request on the server's current day, or reports the budget spent.
    async fn reserve(&self) -> Result<NaiveDate, FetchError> {
        if !self.allowance.take() {
            return Err(FetchError::AllowanceSpent);
        }
        let (day, resets_at) = self.quota_day();
        let reserved = patiently("a quota reservation", &self.cancel, || {
            self.loader
                .reserve_request(&self.budget.organisation, day, self.budget.per_day)
        })
        .await?;
        match reserved {
            Some(_) => Ok(day),
            None => Err(FetchError::BudgetSpent { resets_at }),
        }
    }

    /// Learns the server's clock from an answer, and moves the reservation if the server
    /// counted the request on another day than we reserved it on. A reading that is not
    /// believed moves nothing; the instant returned is then a safe stand-in.
    async fn observe(
        &self,
        reserved_on: NaiveDate,
        server_time: Option<DateTime<Utc>>,
    ) -> Result<DateTime<Utc>, FetchError> {
        let reading = self.clock.observe(server_time);
        let Reading::Trusted(server_time) = reading else {
            return Ok(reading.time());
        };
        let counted_on = self.budget.rule.day_of(server_time);
        if counted_on != reserved_on {
            tracing::debug!(%reserved_on, %counted_on, "moving a reservation to the server's day");
            patiently("moving a reservation", &self.cancel, || {
                self.loader
                    .move_reservation(&self.budget.organisation, reserved_on, counted_on)
            })
            .await?;
        }
        Ok(server_time)
    }

    async fn pause(&self, delay: std::time::Duration) -> Result<(), FetchError> {
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            () = self.cancel.cancelled() => Err(FetchError::Cancelled),
        }
    }
}

/// The `lastmodifiedtime` text for an instant, in the portal's zone (for logs and tests).
pub fn wire_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format(TIME_FORMAT).to_string()
}
