//! The one code path every command shares: run a pass of a stream, page by page, each
//! page committed (rows, dead letters and checkpoint in one transaction) strictly in
//! order. By default a stream has one page in flight, so a pass never asks for a window
//! past its end; with `read_ahead` windows are also fetched ahead on the assumption that
//! the data set holds still (hiding latency at the price of up to `read_ahead` requests
//! past the end of each pass). A page whose window no longer matches the cursor, because
//! an earlier page showed the set moved, is dropped and asked for again. So a crash, a
//! stop or a spent budget costs at most the pages in flight.

pub mod run;
mod sweep;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::fetcher::{FetchError, Fetcher, Page};
use crate::source::Filter;
use crate::store::{patiently, DeleteMode, Lease, PageCommit, Store, StoreError};
use crate::stream::cursor::{Cursor, PageFault, Step, Window};
use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::telemetry::Progress;
use crate::zoho::codec::{BadRow, RowOutcome};
use crate::zoho::record::{Record, RecordId};

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
    /// A bug of ours (a page task that panicked): not the server's fault, nor the user's.
    #[error("internal error: {0}")]
    Internal(String),
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
}

pub struct Pipeline {
    pub fetcher: Arc<Fetcher>,
    pub store: Arc<dyn Store>,
    /// Windows fetched ahead of the one the cursor needs (0: none).
    pub read_ahead: usize,
    pub cancel: CancellationToken,
    pub progress: Arc<Progress>,
    /// What a sweep does to the rows of records deleted at the source.
    pub deletes: DeleteMode,
}

type InFlight = VecDeque<(Window, JoinHandle<Result<Page, FetchError>>)>;

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
        let mut checkpoint = self.start(pass).await?;
        if !checkpoint.in_progress
            && checkpoint
                .completed_at
                .is_some_and(|done| done > pass.planned_at)
        {
            tracing::debug!("another process completed this pass since it was planned");
            return Ok(PassEnd::Skipped);
        }
        let filter = Filter {
            modified_after: match pass.kind {
                PassKind::Backfill | PassKind::Sweep => None,
                PassKind::Incremental => checkpoint.watermark,
            },
            ids_only: pass.kind == PassKind::Sweep,
        };
        tracing::debug!(next = checkpoint.cursor.next, since = ?filter.modified_after, "pass starts");
        let mut in_flight: InFlight = VecDeque::new();
        let outcome = loop {
            if self.cancel.is_cancelled() {
                break Ok(PassEnd::Cancelled);
            }
            self.fill(&mut in_flight, pass, checkpoint.cursor, filter);
            let Some((window, task)) = in_flight.pop_front() else {
                break Ok(PassEnd::Completed);
            };
            let page = match task.await {
                Ok(Ok(page)) => page,
                Ok(Err(FetchError::BudgetSpent { resets_at })) => {
                    break Ok(PassEnd::BudgetSpent { resets_at })
                }
                Ok(Err(FetchError::Cancelled)) => break Ok(PassEnd::Cancelled),
                Ok(Err(FetchError::AllowanceSpent)) => break Ok(PassEnd::Paused),
                Ok(Err(e)) => break Err(PipelineError::Fetch(e)),
                Err(join) => {
                    break Err(PipelineError::Internal(format!(
                        "the task fetching the {} page from row {} failed: {join}",
                        pass.stream, window.from
                    )))
                }
            };
            if window != checkpoint.cursor.window(self.fetcher.page_rows()) {
                continue; // fetched ahead for a cursor that did not come to be
            }
            // An error ends the pass through the same exit, which cancels what is in flight.
            match self
                .apply(pass, &mut checkpoint, page, &mut in_flight, filter)
                .await
            {
                Err(e) => break Err(e),
                Ok(Applied::Completed) => break Ok(PassEnd::Completed),
                Ok(Applied::Advanced) => {}
                Ok(Applied::SteppedBack) => abort_all(&mut in_flight),
            }
        };
        abort_all(&mut in_flight);
        tracing::debug!(outcome = ?outcome.as_ref().ok(), next = checkpoint.cursor.next, "pass ends");
        outcome
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
        if pass.kind == PassKind::Incremental {
            checkpoint.watermark = match checkpoint.watermark {
                Some(w) => Some(w),
                None => {
                    let backfill = self
                        .store
                        .checkpoint(pass.stream, PassKind::Backfill)
                        .await?;
                    let started = backfill
                        .pass_started_at
                        .filter(|_| backfill.completed_at.is_some() && !backfill.in_progress);
                    Some(
                        started.ok_or_else(|| PipelineError::NoWatermark {
                            stream: pass.stream.to_string(),
                        })? - WATERMARK_OVERLAP,
                    )
                }
            };
        }
        Ok(checkpoint)
    }

    /// Keeps `1 + read_ahead` windows in flight, continuing from the last one (or the
    /// cursor).
    fn fill(&self, in_flight: &mut InFlight, pass: &Pass<'_>, cursor: Cursor, filter: Filter) {
        while in_flight.len() <= self.read_ahead {
            let window = match in_flight.back() {
                Some((last, _)) => last.next(),
                None => cursor.window(self.fetcher.page_rows()),
            };
            let fetcher = Arc::clone(&self.fetcher);
            let module = pass.stream.module;
            let task = tokio::spawn(async move { fetcher.get_page(module, window, filter).await });
            in_flight.push_back((window, task));
        }
    }

    /// Commits one page in order, or steps back when the set moved (everything in flight
    /// is then stale). Once the page is judged (before it is committed), the next window
    /// is known for certain and is fetched while this page is written: loading is
    /// pipelined with fetching at no risk of a request past the end. Every decoded row
    /// of the page is stored, the anchor too (storing a row again changes nothing), so no
    /// row depends on the order of ids to be kept.
    async fn apply(
        &self,
        pass: &Pass<'_>,
        checkpoint: &mut Checkpoint,
        page: Page,
        in_flight: &mut InFlight,
        filter: Filter,
    ) -> Result<Applied, PipelineError> {
        let ids: Vec<Option<RecordId>> = page.rows.iter().map(RowOutcome::id).collect();
        let cursor = checkpoint.cursor;
        let step = cursor
            .step(page.window, &ids)
            .map_err(|fault| PipelineError::Page {
                stream: pass.stream.to_string(),
                from: page.window.from,
                fault,
            })?;
        let (next, done) = match step {
            Step::Advance { cursor, done } => (cursor, done),
            Step::StepBack { cursor: back } => {
                tracing::info!(
                    from = page.window.from,
                    back_to = back.next,
                    "the data set moved; stepping back"
                );
                checkpoint.cursor = back;
                return Ok(Applied::SteppedBack);
            }
        };
        if next.order != cursor.order {
            tracing::warn!(
                from = page.window.from,
                "the server served ids out of ascending order; this pass now trusts only its anchor rows"
            );
        }
        if !done {
            self.fill(in_flight, pass, next, filter);
        }
        let new_rows = cursor.new_rows(page.window, page.rows.len());
        let rows = split(page.rows, new_rows);
        let starts = checkpoint.pass_started_at.is_none();
        checkpoint.cursor = next;
        checkpoint.in_progress = !done;
        checkpoint.pass_started_at = checkpoint.pass_started_at.or(Some(page.server_time));
        if done {
            checkpoint.completed_at = Some(Utc::now());
            checkpoint.passes += 1;
            if pass.kind == PassKind::Incremental {
                checkpoint.watermark = checkpoint.pass_started_at.map(|t| t - WATERMARK_OVERLAP);
            }
        }
        let applied = if done {
            Applied::Completed
        } else {
            Applied::Advanced
        };
        if pass.kind == PassKind::Sweep {
            let known: Vec<RecordId> = ids.iter().flatten().copied().collect();
            let from = page.window.from;
            self.commit_sweep(pass, checkpoint, &known, &rows.bad, from, starts)
                .await?;
            return Ok(applied);
        }
        self.commit_rows(pass, checkpoint, &rows, page.window.from, done)
            .await?;
        Ok(applied)
    }

    async fn commit_rows(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
        rows: &SplitRows,
        from: u32,
        done: bool,
    ) -> Result<(), PipelineError> {
        let commit = PageCommit {
            stream: pass.stream,
            kind: pass.kind,
            run_id: pass.run_id,
            records: &rows.records,
            bad_rows: &rows.bad,
            checkpoint,
            zone: pass.zone,
            synced_at: Utc::now(),
            lease: pass.lease,
        };
        let stats = patiently("a page commit", &self.cancel, || {
            self.store.commit_page(&commit)
        })
        .await?;
        self.progress.pages.fetch_add(1, Ordering::Relaxed);
        self.progress
            .records
            .fetch_add(rows.new_records, Ordering::Relaxed);
        self.progress
            .dead_letters
            .fetch_add(stats.dead_letters, Ordering::Relaxed);
        tracing::debug!(
            from,
            rows = rows.records.len(),
            inserted = stats.inserted,
            updated = stats.updated,
            dead_letters = stats.dead_letters,
            done,
            "page committed"
        );
        Ok(())
    }
}

/// What one page did to its pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Applied {
    /// Stored; the pass goes on.
    Advanced,
    /// Stored, and it was the pass's last page.
    Completed,
    /// Not stored: the set moved and the cursor stepped back.
    SteppedBack,
}

/// A page's rows, ready to commit.
struct SplitRows {
    records: Vec<Record>,
    bad: Vec<BadRow>,
    /// Records new to the pass (not the anchor met again), for the progress display.
    new_records: u64,
}

/// Splits a page into records and rows to set aside; the last `new_rows` rows are new.
fn split(rows: Vec<RowOutcome>, new_rows: usize) -> SplitRows {
    let first_new = rows.len().saturating_sub(new_rows);
    let mut split = SplitRows {
        records: Vec::with_capacity(rows.len()),
        bad: Vec::new(),
        new_records: 0,
    };
    for (at, row) in rows.into_iter().enumerate() {
        match row {
            RowOutcome::Ok(record) if record.id.is_some() => {
                split.new_records += u64::from(at >= first_new);
                split.records.push(record);
            }
            RowOutcome::Ok(record) => split.bad.push(BadRow {
                raw: format!("{:?}", record.fields),
                error: "the row carries no record id".into(),
                id: None,
            }),
            RowOutcome::Bad(row) => split.bad.push(row),
        }
    }
    split
}

fn abort_all(in_flight: &mut InFlight) {
    for (_, task) in in_flight.drain(..) {
        task.abort();
    }
}

#[cfg(test)]
mod tests;
