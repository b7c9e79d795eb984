//! What a page commit carries to the store and what it did: the page's records and bad
//! rows with the checkpoint it reaches, a sweep page's ids, or a page of an
//! organisation's deletions; and what becomes of the rows of records deleted at the
//! source.

use std::any::Any;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Lease;
use crate::desk::record::DeskRecord;
use crate::source::Tombstone;
use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::zoho::codec::BadRow;
use crate::zoho::record::{Record, RecordId};

/// One page to commit: its rows, the rows that could not be decoded, and the checkpoint
/// the stream reaches once the page is stored.
#[derive(Clone, Copy, Debug)]
pub struct PageCommit<'a> {
    pub stream: &'a StreamKey,
    pub kind: PassKind,
    pub run_id: i64,
    /// Legacy records (a legacy stream's page).
    pub records: &'a [Record],
    /// Zoho Desk records, each object as received (a Desk stream's page).
    pub objects: &'a [DeskRecord],
    pub bad_rows: &'a [BadRow],
    pub checkpoint: &'a Checkpoint,
    /// The portal's data time zone, which wire date-times are written in.
    pub zone: Tz,
    pub synced_at: DateTime<Utc>,
    /// The lease the page is committed under: renewed in the page's transaction, and
    /// the page refused if it was lost.
    pub lease: Option<&'a Lease>,
    /// What the last page of a reconciliation (a Desk stream's sweep) does to the rows
    /// of records it did not see.
    pub deletes: DeleteMode,
    /// The records readied by `Store::prepare` while the page was fetched, if they were;
    /// the store checks they are this page's before it uses them.
    pub prepared: Option<&'a Prepared>,
}

/// A page's records readied for its commit by the store (`Store::prepare`): work that
/// needs no database, done in the task that fetched the page, beside the commit of the
/// page before it, instead of on the stream's one path through the database. Opaque:
/// only the store that made it reads it.
pub struct Prepared(Box<dyn Any + Send + Sync>);

impl Prepared {
    pub fn new<T: Any + Send + Sync>(readied: T) -> Prepared {
        Prepared(Box::new(readied))
    }

    /// What the store readied, if it is of that kind.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prepared(..)")
    }
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

impl PageStats {
    /// What two commits did together.
    pub fn plus(self, other: PageStats) -> PageStats {
        PageStats {
            inserted: self.inserted + other.inserted,
            updated: self.updated + other.updated,
            unchanged: self.unchanged + other.unchanged,
            dead_letters: self.dead_letters + other.dead_letters,
        }
    }
}

/// Where a commit stands among its pass's commits when a pass sends one while the one
/// before it is still committing: the token it marks the stream's checkpoint with, and
/// the token of the commit it must come after (none: it follows whatever is stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitOrder {
    pub token: i64,
    pub after: Option<i64>,
    /// A record this commit holds that the commit it follows stores the same (the anchor
    /// row two windows share): left out, as storing it again would change nothing, so
    /// that the two commits write no row in common.
    pub shared: Option<RecordId>,
}

/// How a commit sent in order ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordered {
    Stored(PageStats),
    /// The commit it comes after is not stored (it failed, or had not reached the store
    /// yet): nothing was written. Sent again once that commit's fate is known.
    Behind,
}

/// What becomes of the mirror row of a record deleted at the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeleteMode {
    /// The row stays, with `_deleted_at` set.
    #[default]
    Mark,
    /// The row is removed.
    Remove,
}

/// One sweep page to commit: the ids it listed and the checkpoint the sweep reaches. A
/// checkpoint no longer in progress completes the sweep, and its deletions are applied.
#[derive(Clone, Copy, Debug)]
pub struct SweepCommit<'a> {
    pub stream: &'a StreamKey,
    pub run_id: i64,
    pub ids: &'a [RecordId],
    /// Its `pass_started_at` is the sweep's start (the server's time at its first answer).
    pub checkpoint: &'a Checkpoint,
    /// The sweep's first page: the rows in the mirror now are the ones it judges.
    pub starts: bool,
    pub deletes: DeleteMode,
    pub synced_at: DateTime<Utc>,
    pub lease: Option<&'a Lease>,
}

/// What a committed sweep page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStats {
    /// Mirror rows newly stamped as seen by this sweep.
    pub seen: u64,
    /// Rows found deleted (only on the sweep's last page).
    pub deleted: u64,
}

/// One page of an organisation's deletions to commit (Zoho Desk's recycle bin): the
/// records it names, of the modules the organisation mirrors, and the rows that could not
/// be read. The walk's last page also moves the organisation's cursor.
#[derive(Clone, Copy, Debug)]
pub struct DeletionsCommit<'a> {
    /// The organisation, as its streams name it (their `portal`).
    pub portal: &'a str,
    pub run_id: i64,
    pub tombstones: &'a [Tombstone],
    pub bad_rows: &'a [BadRow],
    /// On the walk's last page: the deletions up to this instant are all applied.
    pub deleted_through: Option<DateTime<Utc>>,
    pub deletes: DeleteMode,
    pub synced_at: DateTime<Utc>,
}

/// What a committed page of deletions did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeletionStats {
    /// Live mirror rows marked deleted (or removed).
    pub deleted: u64,
    pub dead_letters: u64,
}
