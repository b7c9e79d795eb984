//! Passes of a source paged by offset windows (the legacy API): the cursor says which
//! window to ask for, and each page's ids say whether it follows on from the last. An
//! incremental pass or a sweep has, by default, one page in flight, so it never asks for
//! a window past its end. A backfill reads ahead by default: windows are also fetched
//! ahead on the assumption that the data set holds still, which hides latency at the
//! price of up to `read_ahead` requests past the end of the pass. The windows ahead grow
//! by one with each full page the pass has stored (a slow start): a module that fits in
//! one page costs one request, and a pass of `p` pages asks at most `p - 1` windows past
//! its end, so only long passes pay the full `read_ahead`. A page whose window no longer
//! matches the cursor, because an earlier page showed the set moved, is dropped and
//! asked for again. Pages judged are committed in batches; a pass that reads ahead sends
//! each batch while the one before is still committing (`commits`).

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::Utc;
use tokio::task::JoinHandle;

use super::commits::{Commits, Judged};
use super::{fetch_end, split, Pass, PassEnd, Pipeline, PipelineError, WATERMARK_OVERLAP};
use crate::config::ReadAhead;
use crate::fetcher::{FetchError, Page};
use crate::source::{Filter, Request, Row};
use crate::store::Prepared;
use crate::stream::cursor::{Cursor, Step, Window};
use crate::stream::{Checkpoint, PassKind};
use crate::zoho::record::{Record, RecordId};

/// Windows asked for, in order, each with the task fetching its page and readying its
/// records for the store (`Store::prepare`), so that this work is done beside the commit
/// of the page before.
type InFlight = VecDeque<(
    Window,
    JoinHandle<Result<(Page, Option<Prepared>), FetchError>>,
)>;

impl Pipeline {
    pub(super) async fn offset_pages(
        &self,
        pass: &Pass<'_>,
        mut checkpoint: Checkpoint,
    ) -> Result<PassEnd, PipelineError> {
        let filter = Filter {
            modified_after: match pass.kind {
                PassKind::Backfill | PassKind::Sweep => None,
                PassKind::Incremental => checkpoint.watermark,
            },
            ids_only: pass.kind == PassKind::Sweep,
        };
        tracing::debug!(next = checkpoint.cursor.next, since = ?filter.modified_after, "pass starts");
        let mut in_flight: InFlight = VecDeque::new();
        let mut ahead = Ahead::new(self.read_ahead, pass.kind);
        // A pass that reads ahead sends a commit while the one before is committing.
        let mut commits = Commits::new(self, pass, ahead.limit > 0 && !filter.ids_only);
        let mut batch: Vec<Judged> = Vec::new();
        let outcome = loop {
            if self.cancel.is_cancelled() {
                // Pages judged are paid for: stored if the stop leaves time, else read again.
                let _ = commits.submit(self, pass, std::mem::take(&mut batch)).await;
                break Ok(PassEnd::Cancelled);
            }
            self.fill(&mut in_flight, pass, checkpoint.cursor, filter, ahead.now());
            // Pages judged wait for the next only while it is already here, and only in a
            // pass that reads ahead: one that does not keeps a single page uncommitted.
            let next_here = in_flight
                .front()
                .is_some_and(|(_, task)| task.is_finished());
            if batch.len() > ahead.now().min(MAX_BATCH - 1) || !next_here {
                if let Err(e) = commits.submit(self, pass, std::mem::take(&mut batch)).await {
                    break Err(e);
                }
            }
            let Some((window, task)) = in_flight.pop_front() else {
                break commits
                    .submit(self, pass, std::mem::take(&mut batch))
                    .await
                    .map(|()| PassEnd::Completed);
            };
            let (page, prepared) = match task.await {
                Ok(Ok(fetched)) => fetched,
                Ok(Err(e)) => {
                    break match commits.submit(self, pass, std::mem::take(&mut batch)).await {
                        Ok(()) => fetch_end(e),
                        Err(stored) => Err(stored),
                    };
                }
                Err(join) => {
                    break Err(PipelineError::Internal(format!(
                        "the task fetching the {} page from row {} failed: {join}",
                        pass.stream, window.from
                    )))
                }
            };
            if window
                != checkpoint
                    .cursor
                    .window(self.fetcher.page_rows(pass.stream.module))
            {
                continue; // fetched ahead for a cursor that did not come to be
            }
            // An error ends the pass through the same exit, which cancels what is in flight.
            match self
                .apply(
                    pass,
                    &mut checkpoint,
                    (page, prepared),
                    &mut in_flight,
                    (filter, &mut ahead),
                )
                .await
            {
                Err(e) => {
                    // The pages judged before this one are sound: stored first.
                    break commits
                        .submit(self, pass, std::mem::take(&mut batch))
                        .await
                        .and(Err(e));
                }
                Ok(Applied::Judged(judged)) => {
                    let done = judged.done;
                    batch.push(*judged);
                    if done {
                        let stored = commits.submit(self, pass, std::mem::take(&mut batch)).await;
                        break stored.map(|()| PassEnd::Completed);
                    }
                }
                Ok(Applied::Swept { done: true }) => break Ok(PassEnd::Completed),
                Ok(Applied::Swept { done: false }) => {}
                Ok(Applied::SteppedBack) => {
                    abort_all(&mut in_flight);
                    if let Err(e) = commits.submit(self, pass, std::mem::take(&mut batch)).await {
                        break Err(e);
                    }
                }
            }
        };
        abort_all(&mut in_flight);
        // The last commit sent is settled before the pass says how it ended; after a
        // stop, what it could not store is read again, as any page in flight.
        let flushed = commits.flush(self, pass).await;
        let outcome = match (outcome, flushed) {
            (Ok(PassEnd::Cancelled), _) => Ok(PassEnd::Cancelled),
            (Ok(_), Err(stored)) => Err(stored),
            (outcome, _) => outcome,
        };
        tracing::debug!(outcome = ?outcome.as_ref().ok(), next = checkpoint.cursor.next, "pass ends");
        outcome
    }

    /// Keeps `1 + ahead` windows in flight, continuing from the last one (or the cursor).
    fn fill(
        &self,
        in_flight: &mut InFlight,
        pass: &Pass<'_>,
        cursor: Cursor,
        filter: Filter,
        ahead: usize,
    ) {
        while in_flight.len() <= ahead {
            let window = match in_flight.back() {
                Some((last, _)) => last.next(),
                None => cursor.window(self.fetcher.page_rows(pass.stream.module)),
            };
            let fetcher = Arc::clone(&self.fetcher);
            let store = Arc::clone(&self.store);
            let (stream, zone) = (pass.stream.clone(), pass.zone);
            let request = Request::Window { window, filter };
            let task = tokio::spawn(async move {
                let page = fetcher.get_page(stream.module, request).await?;
                // A sweep's ids are stamped, never upserted: nothing to ready.
                if filter.ids_only {
                    return Ok((page, None));
                }
                // On the blocking pool, as decoding is: CPU work on the async workers
                // would delay the commit running beside it.
                let readied = tokio::task::spawn_blocking(move || {
                    let records: Vec<&Record> = page.rows.iter().filter_map(Row::record).collect();
                    let prepared = store.prepare(&stream, &records, zone);
                    (page, prepared)
                })
                .await;
                match readied {
                    Ok(readied) => Ok(readied),
                    // A panic stays a panic: the pass reports the task as failed.
                    Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                    Err(_) => Err(FetchError::Cancelled),
                }
            });
            in_flight.push_back((window, task));
        }
    }

    /// Judges one page in order (a sweep's is committed at once), or steps back when the
    /// set moved (everything in flight is then stale). Once the page is judged, the next
    /// window is known for certain and is fetched while this page is written: loading is
    /// pipelined with fetching at no risk of a request past the end. Every decoded row
    /// of the page is stored, the anchor too (storing a row again changes nothing), so no
    /// row depends on the order of ids to be kept.
    async fn apply(
        &self,
        pass: &Pass<'_>,
        checkpoint: &mut Checkpoint,
        (page, prepared): (Page, Option<Prepared>),
        in_flight: &mut InFlight,
        (filter, ahead): (Filter, &mut Ahead),
    ) -> Result<Applied, PipelineError> {
        let Request::Window { window, .. } = page.request else {
            return Err(PipelineError::Internal(
                "a window page without its window".into(),
            ));
        };
        let ids: Vec<Option<RecordId>> = page.rows.iter().map(|r| r.mark.id).collect();
        let cursor = checkpoint.cursor;
        let step = cursor
            .step(window, &ids)
            .map_err(|fault| PipelineError::Page {
                stream: pass.stream.to_string(),
                from: window.from,
                fault,
            })?;
        let (next, done) = match step {
            Step::Advance { cursor, done } => (cursor, done),
            Step::StepBack { cursor: back } => {
                tracing::info!(
                    from = window.from,
                    back_to = back.next,
                    "the data set moved; stepping back"
                );
                checkpoint.cursor = back;
                return Ok(Applied::SteppedBack);
            }
        };
        if next.order != cursor.order {
            tracing::warn!(
                from = window.from,
                "the server served ids out of ascending order; this pass now trusts only its anchor rows"
            );
        }
        if !done {
            ahead.full_page();
            self.fill(in_flight, pass, next, filter, ahead.now());
        }
        let new_rows = cursor.new_rows(window, page.rows.len());
        let mut rows = split(page.rows, new_rows);
        rows.prepared = prepared;
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
        if pass.kind == PassKind::Sweep {
            let known: Vec<RecordId> = ids.iter().flatten().copied().collect();
            let from = window.from;
            self.commit_sweep(pass, checkpoint, &known, &rows.bad, from, starts)
                .await?;
            return Ok(Applied::Swept { done });
        }
        Ok(Applied::Judged(Box::new(Judged {
            rows,
            checkpoint: checkpoint.clone(),
            from: window.from,
            done,
        })))
    }
}

/// Pages judged and waiting for the next one may be committed together, up to this many
/// (and one more than the windows read ahead): the fixed cost of a commit (`BEGIN`, its
/// statement, `COMMIT`) is shared. Two, not more: with a batch committing and the next
/// sent behind it, four pages a batch held the peak RSS of a backfill at 75.6 MiB, two at
/// 55.9, for the same rate (`bench/run.py` runs of the fourth session of issue 12,
/// `BENCHMARKS.md`). A stop or a crash then loses the pages fetched but not stored: the
/// windows asked for (`read_ahead + 1`), the batch committing and the batch sent behind
/// it (`commits`), at most 8 with the default read-ahead of 3.
const MAX_BATCH: usize = 2;

/// What judging one page did to its pass.
enum Applied {
    /// To be stored, with the pages judged before it that wait.
    Judged(Box<Judged>),
    /// A sweep page, stored; `done` when it was the sweep's last.
    Swept { done: bool },
    /// Not stored: the set moved and the cursor stepped back.
    SteppedBack,
}

/// How many windows a pass reads ahead now: one more for each full page, up to the
/// configured number for its kind.
#[derive(Clone, Copy, Debug)]
struct Ahead {
    limit: usize,
    full_pages: usize,
}

impl Ahead {
    fn new(read_ahead: ReadAhead, kind: PassKind) -> Ahead {
        let limit = match kind {
            PassKind::Backfill => read_ahead.backfill,
            PassKind::Incremental | PassKind::Sweep => read_ahead.other,
        };
        Ahead {
            limit,
            full_pages: 0,
        }
    }

    /// A page came back full: the pass goes on past it.
    fn full_page(&mut self) {
        self.full_pages = self.full_pages.saturating_add(1);
    }

    fn now(self) -> usize {
        self.limit.min(self.full_pages)
    }
}

fn abort_all(in_flight: &mut InFlight) {
    for (_, task) in in_flight.drain(..) {
        task.abort();
    }
}
