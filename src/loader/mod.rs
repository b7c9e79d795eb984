//! All SQL of zoho-sync lives under this module: the migrations, the mirror tables' bulk
//! upserts, checkpoints, the quota ledger, runs and dead letters. A page's rows, its dead
//! letters, its run's counters and its stream's checkpoint commit in one transaction, so
//! a crash at any instant leaves either all of a page or none of it. Every statement
//! names its tables unqualified: the pool's `search_path` is the configured schema.

mod change_log;
mod changes;
mod checkpoint;
mod connect;
mod dead_letters;
mod error;
mod field_type;
mod fields_seen;
mod leases;
mod ledger;
mod limits;
mod mirror;
mod page;
mod presence;
mod runs;
pub mod schema;
mod slow;
pub mod sql;
mod status;
mod sweep;
mod values;
mod views;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::zoho::codec::BadRow;
use crate::zoho::record::Record;

pub use changes::{Change, ChangeOp};
pub use dead_letters::DeadLetter;
pub use error::{patiently, LoaderError, DATABASE_PATIENCE};
pub use field_type::FieldType;
pub use fields_seen::FieldSeen;
pub use leases::{Claim, Holder, Holding, Lease, StreamLease};
pub use ledger::LedgerDay;
pub use mirror::MirrorRow;
pub use runs::{RunKind, RunOutcome, RunSummary};
pub use status::StreamStatus;
pub use sweep::{DeleteMode, SweepCommit, SweepStats};
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
}

impl Loader {
    /// Connects as the commands do: one pool connection per stream worked at once
    /// (`api.concurrency`), plus two for the run's bookkeeping.
    pub async fn open(config: &crate::config::Config) -> Result<Loader, LoaderError> {
        let connections = u32::try_from(config.api.concurrency)
            .unwrap_or(8)
            .saturating_add(2);
        Loader::connect(&config.database.url, &config.database.schema, connections).await
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

/// One page to commit: its rows, the rows that could not be decoded, and the checkpoint
/// the stream reaches once the page is stored.
#[derive(Clone, Copy, Debug)]
pub struct PageCommit<'a> {
    pub stream: &'a StreamKey,
    pub kind: PassKind,
    pub run_id: i64,
    pub records: &'a [Record],
    pub bad_rows: &'a [BadRow],
    pub checkpoint: &'a Checkpoint,
    /// The portal's data time zone, which wire date-times are written in.
    pub zone: Tz,
    pub synced_at: DateTime<Utc>,
    /// The lease the page is committed under: renewed in the page's transaction, and
    /// the page refused if it was lost.
    pub lease: Option<&'a Lease>,
}

/// What a committed page did to the mirror. `unchanged` rows were already stored with
/// exactly the same fields and were not touched (their `_synced_at` is kept: it is the
/// time the row's content was last written). A record repeated within the page counts
/// once; records without a usable id are dead letters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub dead_letters: u64,
}
