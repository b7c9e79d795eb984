//! The one code path every command shares: run a pass of a stream, page by page, each
//! page committed (rows, dead letters and checkpoint in one transaction) strictly in
//! order, so a crash, a stop or a spent budget costs at most the pages in flight. How
//! pages follow each other is the source's: offset windows (`offset`, with read-ahead)
//! or ranges of modification time (`seek`). This module holds what both share: where a
//! pass starts, and how a page's rows are committed with its checkpoint.

mod agents;
mod archives;
mod commits;
pub mod deletions;
mod offset;
pub mod run;
mod seek;
mod sweep;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::ReadAhead;
use crate::desk::record::DeskRecord;
use crate::fetcher::{FetchError, Fetcher};
use crate::source::{Outcome, Paging, Row};
use crate::store::{
    patiently, DeleteMode, Lease, PageCommit, PageStats, Prepared, Store, StoreError,
};
use crate::stream::agents::AgentFault;
use crate::stream::cursor::{Cursor, PageFault};
use crate::stream::seek::{Seek, SeekFault};
use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::telemetry::Progress;
use crate::zoho::codec::BadRow;
use crate::zoho::record::Record;

/// How far before a pass's start the next incremental pass looks back, against clock
/// skew between the server's machines and rows modified while a page was being served.
pub const WATERMARK_OVERLAP: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Fetch(FetchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A page no paging can make sense of: the pass stops rather than guess.
    #[error("the {stream} page from row {from}: {fault}")]
    Page {
        stream: String,
        from: u32,
        fault: PageFault,
    },
    /// A page of a walk by modification time that makes no sense: the pass stops.
    #[error("the {stream} page of rows modified from {from}: {fault}")]
    Seek {
        stream: String,
        from: DateTime<Utc>,
        fault: SeekFault,
    },
    /// A window of an agent's rows that makes no sense: the pass stops.
    #[error("the {stream} page of agent {agent}: {fault}")]
    Agent {
        stream: String,
        agent: u64,
        fault: AgentFault,
    },
    /// An agent's rows kept leaving the range ahead of every reading of them.
    #[error("the {stream} rows of agent {agent} kept moving ahead of the walk; the next round reads them again")]
    AgentMoving { stream: String, agent: u64 },
    /// A pass its source cannot run (a sweep of a source paged by modification time).
    #[error("the {stream} {kind:?} pass is not something this source can run")]
    Unsupported { stream: String, kind: PassKind },
    /// A bug of ours (a page task that panicked): not the server's fault, nor the user's.
    #[error("internal error: {0}")]
    Internal(String),
    /// The recycle bin changed ahead of every walk of this round.
    #[error("the recycle bin of {portal} kept losing rows ahead of the walk ({restarts} restarts); the next round walks it again")]
    DeletionsMoving { portal: String, restarts: u32 },
    #[error("the {stream} incremental pass has no watermark: its backfill has not completed")]
    NoWatermark { stream: String },
    /// A sweep that cannot read every id must not conclude that a record is gone.
    #[error("the {stream} sweep got {rows} row(s) without a readable id; it stops rather than mark live records deleted")]
    SweepUnreadable { stream: String, rows: usize },
}

/// How a pass ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassEnd {
    Completed,
    /// Another process holds the stream's lease.
    Skipped,
    /// The round's share of the budget is spent; the pass continues next round.
    Paused,
    BudgetSpent {
        resets_at: DateTime<Utc>,
    },
    Cancelled,
}

/// One stream's pass and everything it needs.
pub struct Pass<'a> {
    pub stream: &'a StreamKey,
    pub kind: PassKind,
    pub zone: Tz,
    pub run_id: i64,
    /// The lease this process holds on the stream; every page commit renews it.
    pub lease: Option<&'a Lease>,
    /// When the pass was planned (our clock): if another process completed a pass of
    /// this kind since, this one is not run again.
    pub planned_at: DateTime<Utc>,
    /// Rows the pass inserted or updated so far: what an incremental pass found changed,
    /// for its stream's learned change rate.
    pub changed: AtomicU64,
}

pub struct Pipeline {
    pub fetcher: Arc<Fetcher>,
    pub store: Arc<dyn Store>,
    /// Windows fetched ahead of the one the cursor needs, by kind of pass (0: none).
    pub read_ahead: ReadAhead,
    pub cancel: CancellationToken,
    pub progress: Arc<Progress>,
    /// What a sweep does to the rows of records deleted at the source.
    pub deletes: DeleteMode,
}

impl Pipeline {
    /// Runs (or resumes) one pass to its end, the budget's end, or a stop.
    pub async fn run_pass(&self, pass: &Pass<'_>) -> Result<PassEnd, PipelineError> {
        let span = tracing::info_span!(
            "pass", portal = %pass.stream.portal, department = %pass.stream.department,
            module = %pass.stream.module, kind = ?pass.kind,
        );
        self.pages(pass).instrument(span).await
    }

    async fn pages(&self, pass: &Pass<'_>) -> Result<PassEnd, PipelineError> {
        let checkpoint = self.start(pass).await?;
        if !checkpoint.in_progress
            && checkpoint
                .completed_at
                .is_some_and(|done| done > pass.planned_at)
        {
            tracing::debug!("another process completed this pass since it was planned");
            return Ok(PassEnd::Skipped);
        }
        // A whole incremental pass run here finds the changes made since the last one
        // completed: what the stream's change rate learns from.
        let since = match pass.kind {
            PassKind::Incremental if !checkpoint.in_progress => checkpoint.completed_at,
            _ => None,
        };
        let end = match self.fetcher.paging(pass.stream.module) {
            Paging::Offset => self.offset_pages(pass, checkpoint).await,
            Paging::Seek => self.seek_pages(pass, checkpoint).await,
            Paging::PerAgent => self.agent_pages(pass, checkpoint).await,
        };
        if let (Ok(PassEnd::Completed), Some(since)) = (&end, since) {
            self.observe_changes(pass, since).await;
        }
        end
    }

    /// Adds the pass's finding to its stream's change rate; a failure only costs the
    /// estimate one observation.
    async fn observe_changes(&self, pass: &Pass<'_>, since: DateTime<Utc>) {
        let changed = pass.changed.load(Ordering::Relaxed);
        let exposure = (Utc::now() - since).to_std().unwrap_or_default();
        if let Err(e) = self
            .store
            .observe_changes(pass.stream, changed, exposure)
            .await
        {
            tracing::warn!(error = %e, changed, "could not record the stream's change rate");
        }
    }

    /// The checkpoint the pass continues from, a fresh pass set up if none is in progress.
    async fn start(&self, pass: &Pass<'_>) -> Result<Checkpoint, PipelineError> {
        let mut checkpoint = patiently("reading a checkpoint", &self.cancel, || {
            self.store.checkpoint(pass.stream, pass.kind)
        })
        .await?;
        if checkpoint.in_progress {
            return Ok(checkpoint);
        }
        checkpoint.cursor = Cursor::START;
        checkpoint.pass_started_at = None;
        if pass.kind == PassKind::Incremental && checkpoint.watermark.is_none() {
            let backfill = self
                .store
                .checkpoint(pass.stream, PassKind::Backfill)
                .await?;
            checkpoint.watermark =
                Some(
                    after_backfill(&backfill).ok_or_else(|| PipelineError::NoWatermark {
                        stream: pass.stream.to_string(),
                    })?,
                );
        }
        Ok(checkpoint)
    }

    /// Commits a page's rows, its dead letters and the checkpoint it reaches.
    async fn commit_rows(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
        rows: &SplitRows,
        from: u32,
        done: bool,
    ) -> Result<(), PipelineError> {
        self.commit_pages(pass, &[(checkpoint, rows, from, done)])
            .await
    }

    /// Commits pages of the pass in order (each one's rows, dead letters and the
    /// checkpoint it reaches), together when the store can.
    async fn commit_pages(
        &self,
        pass: &Pass<'_>,
        pages: &[(&Checkpoint, &SplitRows, u32, bool)],
    ) -> Result<(), PipelineError> {
        let at = Committing::of(pass, self.deletes);
        let commits = page_commits(&at, pages, Utc::now());
        let stats = patiently("a page commit", &self.cancel, || {
            self.store.commit_pages(&commits)
        })
        .await?;
        self.count_stored(pass, &Tally::of(pages), stats);
        Ok(())
    }

    /// Counts pages stored: in the pass's changes and the progress display.
    fn count_stored(&self, pass: &Pass<'_>, tally: &Tally, stats: PageStats) {
        pass.changed
            .fetch_add(stats.inserted + stats.updated, Ordering::Relaxed);
        self.progress
            .pages
            .fetch_add(tally.pages, Ordering::Relaxed);
        self.progress
            .records
            .fetch_add(tally.new_records, Ordering::Relaxed);
        self.progress
            .dead_letters
            .fetch_add(stats.dead_letters, Ordering::Relaxed);
        tracing::debug!(
            pages = tally.pages,
            last_from = tally.last_from,
            inserted = stats.inserted,
            updated = stats.updated,
            dead_letters = stats.dead_letters,
            done = tally.done,
            "pages committed"
        );
    }
}

/// What a pass's page commits share, owned, so that a commit can run in a task of its own.
#[derive(Clone, Debug)]
struct Committing {
    stream: StreamKey,
    kind: PassKind,
    run_id: i64,
    zone: Tz,
    lease: Option<Lease>,
    deletes: DeleteMode,
}

impl Committing {
    fn of(pass: &Pass<'_>, deletes: DeleteMode) -> Committing {
        Committing {
            stream: pass.stream.clone(),
            kind: pass.kind,
            run_id: pass.run_id,
            zone: pass.zone,
            lease: pass.lease.cloned(),
            deletes,
        }
    }
}

/// The store's view of pages to commit: (checkpoint reached, rows, first row, last page).
fn page_commits<'a>(
    at: &'a Committing,
    pages: &[(&'a Checkpoint, &'a SplitRows, u32, bool)],
    synced_at: DateTime<Utc>,
) -> Vec<PageCommit<'a>> {
    pages
        .iter()
        .map(|&(checkpoint, rows, _, _)| PageCommit {
            stream: &at.stream,
            kind: at.kind,
            run_id: at.run_id,
            records: &rows.records,
            objects: &rows.objects,
            bad_rows: &rows.bad,
            checkpoint,
            zone: at.zone,
            synced_at,
            lease: at.lease.as_ref(),
            deletes: at.deletes,
            prepared: rows.prepared.as_ref(),
        })
        .collect()
}

/// What the progress display counts of pages committed together.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    pages: u64,
    new_records: u64,
    last_from: u32,
    done: bool,
}

impl Tally {
    fn of(pages: &[(&Checkpoint, &SplitRows, u32, bool)]) -> Tally {
        let (last_from, done) = pages
            .last()
            .map_or((0, false), |&(_, _, from, done)| (from, done));
        Tally {
            pages: pages.len() as u64,
            new_records: pages.iter().map(|(_, rows, _, _)| rows.new_records).sum(),
            last_from,
            done,
        }
    }
}

/// Where the first incremental pass after a completed backfill starts: a little before
/// what the backfill could not have seen (its range's end for a walk by modification
/// time, its start for offset windows). `None` while the backfill is not complete.
fn after_backfill(backfill: &Checkpoint) -> Option<DateTime<Utc>> {
    if backfill.completed_at.is_none() || backfill.in_progress {
        return None;
    }
    match backfill.seek {
        Some(seek) => Some(Seek::next_lo(seek.hi)),
        None => backfill.pass_started_at.map(|t| t - WATERMARK_OVERLAP),
    }
}

/// A page's rows, ready to commit.
struct SplitRows {
    records: Vec<Record>,
    objects: Vec<DeskRecord>,
    bad: Vec<BadRow>,
    /// Records new to the pass (not an overlap met again), for the progress display.
    new_records: u64,
    /// The records readied for the store while the page was fetched, if they were.
    prepared: Option<Prepared>,
}

/// Splits a page into records and rows to set aside; the last `new_rows` rows are new.
fn split(rows: Vec<Row>, new_rows: usize) -> SplitRows {
    let first_new = rows.len().saturating_sub(new_rows);
    let mut split = SplitRows {
        records: Vec::with_capacity(rows.len()),
        objects: Vec::new(),
        bad: Vec::new(),
        new_records: 0,
        prepared: None,
    };
    for (at, row) in rows.into_iter().enumerate() {
        let new = u64::from(at >= first_new);
        match row.outcome {
            Outcome::Record(record) if record.id.is_some() => {
                split.new_records += new;
                split.records.push(record);
            }
            Outcome::Record(record) => split.bad.push(BadRow {
                raw: format!("{:?}", record.fields),
                error: "the row carries no record id".into(),
                id: None,
            }),
            Outcome::Object(object) => {
                split.new_records += new;
                split.objects.push(object);
            }
            Outcome::Bad(row) => split.bad.push(row),
            Outcome::Deleted(t) => split.bad.push(BadRow {
                raw: format!("{t:?}"),
                error: "the source listed a deletion where records were asked for".into(),
                id: None,
            }),
        }
    }
    split
}

/// How a page that could not be fetched ends the pass.
fn fetch_end(error: FetchError) -> Result<PassEnd, PipelineError> {
    match error {
        FetchError::BudgetSpent { resets_at } => Ok(PassEnd::BudgetSpent { resets_at }),
        FetchError::Cancelled => Ok(PassEnd::Cancelled),
        FetchError::AllowanceSpent => Ok(PassEnd::Paused),
        e => Err(PipelineError::Fetch(e)),
    }
}

#[cfg(test)]
mod tests;
