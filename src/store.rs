//! The store seam: the few operations the pipeline and the fetcher need from wherever
//! the mirror and its control state live. Reserve budget units on a quota day before a
//! request is sent, take and give back a stream's lease, commit a page (or a sweep page)
//! with the checkpoint it reaches, read checkpoints, and record runs. PostgreSQL
//! (`loader::Loader`) is the one production store; `memory::MemoryStore` keeps the same
//! promises in memory, so the pipeline's logic is tested without a database. The
//! invariant every store keeps: a page's rows, its dead letters and its checkpoint are
//! stored together or not at all, and a page committed under a lease that was lost is
//! refused whole.

mod error;
mod lease;
pub mod memory;
mod page;
mod run;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::quota::{Budget, QuotaToday};
use crate::scheduler::freshness::RateEstimate;
use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::zoho::record::Record;

pub use error::{patiently, StoreError, DATABASE_PATIENCE};
pub use lease::{Claim, Holder, Holding, Lease};
pub use page::{
    CommitOrder, DeleteMode, DeletionStats, DeletionsCommit, Ordered, PageCommit, PageStats,
    Prepared, SweepCommit, SweepStats,
};
pub use run::{RunKind, RunOutcome};

/// One quota day of one organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerDay {
    /// Requests reserved so far.
    pub used: u32,
    /// The server said the day's quota is exhausted.
    pub spent: bool,
}

/// What a store does for the pipeline.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// The saved checkpoint, or the default (never run) when there is none.
    async fn checkpoint(
        &self,
        stream: &StreamKey,
        kind: PassKind,
    ) -> Result<Checkpoint, StoreError>;

    /// Stores one page and moves its stream's checkpoint, atomically.
    async fn commit_page(&self, page: &PageCommit<'_>) -> Result<PageStats, StoreError>;

    /// Stores pages of one stream in order, as `commit_page` one after the other would;
    /// a store may commit them together, atomically, to share the cost of a commit.
    async fn commit_pages(&self, pages: &[PageCommit<'_>]) -> Result<PageStats, StoreError> {
        let mut total = PageStats::default();
        for page in pages {
            total = total.plus(self.commit_page(page).await?);
        }
        Ok(total)
    }

    /// Whether `commit_in_order` can store a commit of `stream` sent while the one before
    /// it is still committing (otherwise it answers `Behind` to every such commit).
    fn overlaps_commits(&self, _stream: &StreamKey) -> bool {
        false
    }

    /// Stores pages as `commit_pages` does, once the commit `order.after` names (if any)
    /// is stored, and marks the stream's checkpoint with `order.token`; `Behind`, having
    /// written nothing, when that commit is not stored. A store that overlaps commits
    /// waits for that commit's end itself; the others answer `Behind` whenever a commit
    /// is named.
    async fn commit_in_order(
        &self,
        pages: &[PageCommit<'_>],
        order: CommitOrder,
    ) -> Result<Ordered, StoreError> {
        if order.after.is_some() {
            return Ok(Ordered::Behind);
        }
        self.commit_pages(pages).await.map(Ordered::Stored)
    }

    /// Readies a page's records for `commit_page` (work that needs no database), so that
    /// it is done while the page before is committed; `None` when there is nothing worth
    /// doing ahead.
    fn prepare(&self, _stream: &StreamKey, _records: &[&Record], _zone: Tz) -> Option<Prepared> {
        None
    }

    /// Stamps a sweep page's ids and moves the sweep's checkpoint, atomically; the last
    /// page also applies the deletions the sweep found.
    async fn commit_sweep_page(&self, page: &SweepCommit<'_>) -> Result<SweepStats, StoreError>;

    /// How far the organisation's deletions have been applied (the server's time when the
    /// last complete walk of them started); `None` before the first.
    async fn deletions_cursor(&self, portal: &str) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Applies one page of an organisation's deletions (a record modified after its
    /// deletion was restored and is left alone), stores its unreadable rows, and on the
    /// walk's last page moves the cursor, atomically.
    async fn commit_deletions(
        &self,
        page: &DeletionsCommit<'_>,
    ) -> Result<DeletionStats, StoreError>;

    /// Takes the stream for `holder` for `ttl`, or says which live process holds it.
    async fn take_lease(
        &self,
        stream: &StreamKey,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Claim, StoreError>;

    /// Gives the stream up.
    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError>;

    /// Reserves `cost` units of `day`'s `budget`: `Some(used after)`, or `None` when the
    /// units are not left or the day is spent. Atomic across processes.
    async fn reserve(
        &self,
        organisation: &str,
        day: NaiveDate,
        cost: u32,
        budget: u32,
    ) -> Result<Option<u32>, StoreError>;

    /// Moves `cost` reserved units from day `from` to day `to` (the server counted the
    /// request on another day than it was reserved on).
    async fn move_reservation(
        &self,
        organisation: &str,
        from: NaiveDate,
        to: NaiveDate,
        cost: u32,
    ) -> Result<(), StoreError>;

    /// Marks the day spent (the server said so): no reservation succeeds for it any more.
    async fn mark_day_spent(&self, organisation: &str, day: NaiveDate) -> Result<(), StoreError>;

    /// The day's count and state.
    async fn ledger_day(&self, organisation: &str, day: NaiveDate)
        -> Result<LedgerDay, StoreError>;

    /// Adds what an incremental pass found to its stream's learned change rate:
    /// `changes` rows inserted or updated, made over `exposure`.
    async fn observe_changes(
        &self,
        stream: &StreamKey,
        changes: u64,
        exposure: Duration,
    ) -> Result<(), StoreError>;

    /// The learned change rates of `portal`'s streams (those never observed are absent).
    async fn change_rates(
        &self,
        portal: &str,
    ) -> Result<Vec<(StreamKey, RateEstimate)>, StoreError>;

    /// Opens a run's record; its id.
    async fn start_run(&self, kind: RunKind, organisation: &str) -> Result<i64, StoreError>;

    /// Adds requests to a run's count.
    async fn add_run_requests(&self, run_id: i64, requests: u32) -> Result<(), StoreError>;

    /// Closes a run's record with its outcome.
    async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        error: Option<&str>,
    ) -> Result<(), StoreError>;
}

/// Reads `budget`'s quota day at `server_now` from the ledger.
pub async fn quota_today(
    store: &dyn Store,
    budget: &Budget,
    server_now: DateTime<Utc>,
) -> Result<QuotaToday, StoreError> {
    let ledger = store
        .ledger_day(&budget.organisation, budget.rule.day_of(server_now))
        .await?;
    Ok(budget.today(ledger.used, ledger.spent, server_now))
}
