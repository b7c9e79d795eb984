//! All SQL of zoho-sync lives under this module: the migrations, the mirror tables' bulk
//! upserts, checkpoints, the quota ledger, runs and dead letters. A page's rows, its dead
//! letters, its run's counters and its stream's checkpoint commit in one transaction, so
//! a crash at any instant leaves either all of a page or none of it. Every statement
//! names its tables unqualified: the pool's `search_path` is the configured schema.

mod batch;
mod binds;
mod change_log;
mod changes;
mod checkpoint;
mod connect;
mod console;
mod control;
mod dead_letters;
mod desk_deletions;
mod desk_mirror;
mod desk_reconcile;
pub mod desk_schema;
pub mod desk_tokens;
mod field_type;
mod fields_seen;
mod leases;
mod ledger;
mod letters_retry;
mod limits;
mod mirror;
mod page;
mod presence;
mod rates;
mod resync;
mod runs;
pub mod schema;
mod slow;
pub mod sql;
mod statistics;
mod status;
mod stream_stats;
mod sweep;
mod values;
mod views;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::desk::module::DeskModule;
use crate::store::{
    Claim, DeletionStats, DeletionsCommit, Holder, Lease, LedgerDay, PageCommit, PageStats,
    RunKind, RunOutcome, Store, StoreError, SweepCommit, SweepStats,
};
use crate::stream::{Checkpoint, PassKind, StreamKey};

pub use changes::{Change, ChangeOp};
pub use dead_letters::DeadLetter;
pub use desk_deletions::DeletionsStatus;
pub use desk_tokens::PgTokenCache;
pub use field_type::FieldType;
pub use fields_seen::FieldSeen;
pub use leases::StreamLease;
pub use letters_retry::{Fresh, Reread, Settle, Settled};
pub use mirror::MirrorRow;
pub use resync::Resync;
pub use runs::{Instance, RunSummary};
pub use status::StreamStatus;
pub use stream_stats::StreamStats;
pub use views::{view_name, MAX_VIEW_COLUMNS};

/// The database side of zoho-sync: a pool on the configured schema.
#[derive(Clone)]
pub struct Loader {
    pool: PgPool,
    schema: String,
    /// The labels and types this process knows `fields_seen` holds.
    known_fields: fields_seen::KnownFields,
    /// The advisory lock that tells other processes this one is alive (shared by the
    /// clones: one per `connect`).
    presence: std::sync::Arc<presence::Presence>,
    /// The schema of the Zoho Desk mirror's tables.
    desk_schema: std::sync::Arc<str>,
    /// Rows this process wrote per mirror table, for `ANALYZE` after large loads.
    statistics: statistics::Statistics,
    /// The Desk modules whose table this process knows exists.
    desk_ready: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<DeskModule>>>,
}

/// The Zoho Desk mirror's schema unless configured otherwise.
pub const DEFAULT_DESK_SCHEMA: &str = "zoho_desk";

impl Loader {
    /// The same loader with the Zoho Desk mirror in schema `name`.
    pub fn with_desk_schema(mut self, name: &str) -> Loader {
        self.desk_schema = name.into();
        self.desk_ready = Default::default();
        self
    }

    /// Connects as the commands do: two pool connections per stream worked at once
    /// (`api.concurrency`: a backfill's commit, and the one sent behind it), plus two for
    /// the run's bookkeeping.
    pub async fn open(config: &crate::config::Config) -> Result<Loader, StoreError> {
        let connections = u32::try_from(config.api.concurrency)
            .unwrap_or(8)
            .saturating_mul(2)
            .saturating_add(2);
        let loader =
            Loader::connect(&config.database.url, &config.database.schema, connections).await?;
        let loader = loader.with_desk_schema(&config.database.desk_schema);
        loader.count_uncounted_desk_tables().await?;
        Ok(loader)
    }
}

impl std::fmt::Debug for Loader {
    // The pool's options hold the password; only the schema is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// PostgreSQL is the production store: each operation is the `Loader` method of the
/// same name, whose module says how it keeps the store's promises.
#[async_trait::async_trait]
impl Store for Loader {
    async fn checkpoint(
        &self,
        stream: &StreamKey,
        kind: PassKind,
    ) -> Result<Checkpoint, StoreError> {
        Loader::checkpoint(self, stream, kind).await
    }

    async fn commit_page(&self, page: &PageCommit<'_>) -> Result<PageStats, StoreError> {
        Loader::commit_page(self, page).await
    }

    async fn commit_pages(&self, pages: &[PageCommit<'_>]) -> Result<PageStats, StoreError> {
        Loader::commit_pages(self, pages).await
    }

    fn overlaps_commits(&self, stream: &StreamKey) -> bool {
        stream.module.desk().is_none()
    }

    async fn commit_in_order(
        &self,
        pages: &[crate::store::PageCommit<'_>],
        order: crate::store::CommitOrder,
    ) -> Result<crate::store::Ordered, StoreError> {
        Loader::commit_in_order(self, pages, order).await
    }

    fn prepare(
        &self,
        stream: &StreamKey,
        records: &[&crate::zoho::record::Record],
        zone: chrono_tz::Tz,
    ) -> Option<crate::store::Prepared> {
        Loader::prepare_page(self, stream, records, zone)
    }

    async fn commit_sweep_page(&self, page: &SweepCommit<'_>) -> Result<SweepStats, StoreError> {
        Loader::commit_sweep_page(self, page).await
    }

    async fn deletions_cursor(&self, portal: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Loader::deletions_cursor(self, portal).await
    }

    async fn commit_deletions(
        &self,
        page: &DeletionsCommit<'_>,
    ) -> Result<DeletionStats, StoreError> {
        Loader::commit_deletions(self, page).await
    }

    async fn take_lease(
        &self,
        stream: &StreamKey,
        holder: &Holder,
        ttl: std::time::Duration,
    ) -> Result<Claim, StoreError> {
        Loader::take_lease(self, stream, holder, ttl).await
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        Loader::release_lease(self, lease).await
    }

    async fn reserve(
        &self,
        organisation: &str,
        day: chrono::NaiveDate,
        cost: u32,
        budget: u32,
    ) -> Result<Option<u32>, StoreError> {
        Loader::reserve(self, organisation, day, cost, budget).await
    }

    async fn move_reservation(
        &self,
        organisation: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        cost: u32,
    ) -> Result<(), StoreError> {
        Loader::move_reservation(self, organisation, from, to, cost).await
    }

    async fn mark_day_spent(
        &self,
        organisation: &str,
        day: chrono::NaiveDate,
    ) -> Result<(), StoreError> {
        Loader::mark_day_spent(self, organisation, day).await
    }

    async fn ledger_day(
        &self,
        organisation: &str,
        day: chrono::NaiveDate,
    ) -> Result<LedgerDay, StoreError> {
        Loader::ledger_day(self, organisation, day).await
    }

    async fn observe_changes(
        &self,
        stream: &StreamKey,
        changes: u64,
        exposure: std::time::Duration,
    ) -> Result<(), StoreError> {
        Loader::observe_changes(self, stream, changes, exposure).await
    }

    async fn change_rates(
        &self,
        portal: &str,
    ) -> Result<Vec<(StreamKey, crate::scheduler::freshness::RateEstimate)>, StoreError> {
        Loader::change_rates(self, portal).await
    }

    async fn start_run(&self, kind: RunKind, organisation: &str) -> Result<i64, StoreError> {
        Loader::start_run(self, kind, organisation).await
    }

    async fn add_run_requests(&self, run_id: i64, requests: u32) -> Result<(), StoreError> {
        Loader::add_run_requests(self, run_id, requests).await
    }

    async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        Loader::finish_run(self, run_id, outcome, error).await
    }
}
