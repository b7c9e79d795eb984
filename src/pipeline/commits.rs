//! A pass's commits, with the next one on its way while the one before is committing.
//! Where the store can order them (`Store::overlaps_commits`) and the pass reads ahead,
//! a batch of judged pages is sent as soon as it is ready, in a task of its own, while
//! the batch before it is still committing: its rows cross the wire, are bound and
//! written meanwhile, and the store makes it wait, inside the database, for the earlier
//! commit to be stored before its change log and checkpoint (`CommitOrder`). The two
//! write no row in common: the anchor row a batch shares with the one before, when the
//! same in both, is left out of the later one (`CommitOrder::shared`); a batch sharing
//! any other row waits for the earlier commit to be settled before it is sent. At most two commits are in flight, and they are settled
//! in the order they were sent, so the pass learns of a failure before it sends more.
//!
//! The invariant is the pipeline's: a checkpoint is never stored ahead of the pages
//! before it. A commit found `Behind` (the earlier one had not reached the database, or
//! failed) wrote nothing; it is sent again once the earlier one is settled as stored,
//! and never after a failure, which ends the pass as a failed commit always has. A kill
//! costs the pages of both commits in flight, and those judged and fetched behind them.

use std::sync::atomic::{AtomicI64, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use tokio::task::JoinHandle;

use super::{page_commits, Committing, Pass, Pipeline, PipelineError, SplitRows, Tally};
use crate::store::{patiently, CommitOrder, Ordered, StoreError};
use crate::stream::Checkpoint;
use crate::zoho::record::{Record, RecordId};

/// A page judged, ready to store, with the checkpoint its pass reaches once it is.
pub(super) struct Judged {
    pub rows: SplitRows,
    pub checkpoint: Checkpoint,
    pub from: u32,
    pub done: bool,
}

/// What a commit's task hands back: how it ended, and its pages (sent again if `Behind`).
type Settled = (Result<Ordered, StoreError>, Vec<Judged>);

/// A commit sent and not yet settled.
struct InFlight {
    order: CommitOrder,
    tally: Tally,
    /// The ids of its records, sorted, and its last record (the anchor of the window
    /// after it), to tell which rows a commit sent behind it shares with it.
    ids: Vec<u64>,
    last: Option<Record>,
    task: JoinHandle<Settled>,
}

/// How a batch may follow the commit in flight.
enum Follows {
    /// Sent now: it shares no row with that commit, but perhaps `shared`, the same.
    Beside { shared: Option<RecordId> },
    /// Sent once that commit is settled: it holds a row that commit writes differently.
    Behind,
}

impl InFlight {
    fn follows(&self, batch: &[Judged]) -> Follows {
        follows(&self.ids, self.last.as_ref(), batch)
    }
}

/// How `batch` may follow a commit of the records with `ids` (sorted), `last` the last.
fn follows(ids: &[u64], last: Option<&Record>, batch: &[Judged]) -> Follows {
    let records = || batch.iter().flat_map(|j| j.rows.records.iter());
    let mut shared = None;
    for record in records() {
        let Some(id) = record.id else { continue };
        if ids.binary_search(&id.0).is_err() {
            continue;
        }
        // The later page's row is the one stored: the batch's last of that id.
        let stored = records().rev().find(|r| r.id == Some(id));
        match (last, stored) {
            (Some(anchor), Some(ours)) if anchor == ours && shared.is_none_or(|s| s == id) => {
                shared = Some(id)
            }
            _ => return Follows::Behind,
        }
    }
    Follows::Beside { shared }
}

/// The commits of one pass.
pub(super) struct Commits {
    /// Whether a commit may be sent while the one before is committing.
    overlap: bool,
    at: Arc<Committing>,
    in_flight: Option<InFlight>,
}

impl Commits {
    pub(super) fn new(pipeline: &Pipeline, pass: &Pass<'_>, overlap: bool) -> Commits {
        Commits {
            overlap: overlap && pipeline.store.overlaps_commits(pass.stream),
            at: Arc::new(Committing::of(pass, pipeline.deletes)),
            in_flight: None,
        }
    }

    /// Stores `batch` (pages of the pass, in order, after every page submitted before):
    /// at once, or, when commits overlap, sent now and settled with the next submit or
    /// `flush`. An error is the earlier commit's, or this one's when stored at once.
    pub(super) async fn submit(
        &mut self,
        pipeline: &Pipeline,
        pass: &Pass<'_>,
        batch: Vec<Judged>,
    ) -> Result<(), PipelineError> {
        if batch.is_empty() {
            return Ok(());
        }
        if !self.overlap {
            let pages = pages_of(&batch);
            return pipeline.commit_pages(pass, &pages).await;
        }
        let follows = self.in_flight.as_ref().map(|f| f.follows(&batch));
        if let Some(Follows::Behind) = follows {
            self.flush(pipeline, pass).await?;
        }
        let order = CommitOrder {
            token: next_token(),
            after: self.in_flight.as_ref().map(|f| f.order.token),
            shared: match follows {
                Some(Follows::Beside { shared }) => shared,
                _ => None,
            },
        };
        let tally = Tally::of(&pages_of(&batch));
        let mut ids: Vec<u64> = batch
            .iter()
            .flat_map(|j| j.rows.records.iter().filter_map(|r| r.id.map(|id| id.0)))
            .collect();
        ids.sort_unstable();
        let last = batch.last().and_then(|j| j.rows.records.last()).cloned();
        let task = tokio::spawn(store(pipeline, Arc::clone(&self.at), batch, order));
        let commit = InFlight {
            order,
            tally,
            ids,
            last,
            task,
        };
        let earlier = self.in_flight.replace(commit);
        let Some(earlier) = earlier else {
            return Ok(());
        };
        let settled = self.settle(pipeline, pass, earlier).await;
        if settled.is_err() {
            // The later commit's gate stays shut (the earlier one is not stored): it
            // ends writing nothing, and its pages are read again with the pass.
            if let Some(later) = self.in_flight.take() {
                let _ = later.task.await;
            }
        }
        settled
    }

    /// Waits for the commit in flight, if any, to be settled.
    pub(super) async fn flush(
        &mut self,
        pipeline: &Pipeline,
        pass: &Pass<'_>,
    ) -> Result<(), PipelineError> {
        match self.in_flight.take() {
            Some(last) => self.settle(pipeline, pass, last).await,
            None => Ok(()),
        }
    }

    /// Settles a commit: counts it if stored; sends it again, now that the commit it
    /// follows is settled as stored, if it was behind that one.
    async fn settle(
        &mut self,
        pipeline: &Pipeline,
        pass: &Pass<'_>,
        commit: InFlight,
    ) -> Result<(), PipelineError> {
        let (ended, batch) = commit.task.await.map_err(|join| {
            PipelineError::Internal(format!(
                "the task committing {} failed: {join}",
                pass.stream
            ))
        })?;
        let stats = match ended? {
            Ordered::Stored(stats) => stats,
            Ordered::Behind => {
                tracing::debug!(
                    pages = batch.len(),
                    "a commit sent early waited for the one before it; sending it again"
                );
                let (again, _) = store(pipeline, Arc::clone(&self.at), batch, commit.order).await;
                match again? {
                    Ordered::Stored(stats) => stats,
                    Ordered::Behind => {
                        return Err(PipelineError::Store(StoreError::Refused(format!(
                            "the {} checkpoint was moved by another commit than this pass's",
                            pass.stream
                        ))))
                    }
                }
            }
        };
        pipeline.count_stored(pass, &commit.tally, stats);
        Ok(())
    }
}

/// Stores a batch in order, patiently (retryable failures are tried again, a stop ends
/// the tries), and hands the batch back with the outcome.
fn store(
    pipeline: &Pipeline,
    at: Arc<Committing>,
    batch: Vec<Judged>,
    order: CommitOrder,
) -> impl std::future::Future<Output = Settled> + Send + 'static {
    let store = Arc::clone(&pipeline.store);
    let cancel = pipeline.cancel.clone();
    async move {
        let ended = {
            let pages = pages_of(&batch);
            let commits = page_commits(&at, &pages, Utc::now());
            patiently("a page commit", &cancel, || {
                store.commit_in_order(&commits, order)
            })
            .await
        };
        (ended, batch)
    }
}

fn pages_of(batch: &[Judged]) -> Vec<(&Checkpoint, &SplitRows, u32, bool)> {
    batch
        .iter()
        .map(|j| (&j.checkpoint, &j.rows, j.from, j.done))
        .collect()
}

/// A token no other commit of this process has: counted from the process's first commit
/// time in nanoseconds, so that a token an earlier process left in a checkpoint is not
/// one this process expects.
fn next_token() -> i64 {
    static BASE: OnceLock<i64> = OnceLock::new();
    static COUNT: AtomicI64 = AtomicI64::new(0);
    let base = *BASE.get_or_init(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX / 2))
    });
    base.wrapping_add(COUNT.fetch_add(1, AtomicOrdering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::record::Field;

    fn record(id: u64, subject: &str) -> Record {
        Record {
            id: Some(RecordId(id)),
            fields: vec![Field {
                label: "Subject".into(),
                value: Some(subject.into()),
            }],
        }
    }

    fn judged(records: Vec<Record>) -> Judged {
        Judged {
            rows: SplitRows {
                records,
                objects: Vec::new(),
                bad: Vec::new(),
                new_records: 0,
                prepared: None,
            },
            checkpoint: Checkpoint::default(),
            from: 1,
            done: false,
        }
    }

    fn shared(follows: Follows) -> Option<Option<u64>> {
        match follows {
            Follows::Beside { shared } => Some(shared.map(|id| id.0)),
            Follows::Behind => None,
        }
    }

    #[test]
    fn a_batch_follows_beside_leaving_out_the_anchor_row_only_when_it_is_the_same() {
        let ids = [1, 2, 3];
        let anchor = record(3, "c");
        let next = |first: Record| vec![judged(vec![first, record(4, "d")])];
        // The anchor row, the same: left out.
        assert_eq!(
            shared(follows(&ids, Some(&anchor), &next(record(3, "c")))),
            Some(Some(3))
        );
        // Changed between the two reads: the batch waits for the earlier commit.
        assert_eq!(
            shared(follows(&ids, Some(&anchor), &next(record(3, "new")))),
            None
        );
        // Another row in common: waits too.
        assert_eq!(
            shared(follows(&ids, Some(&anchor), &next(record(2, "b")))),
            None
        );
        // Nothing in common.
        assert_eq!(
            shared(follows(&ids, Some(&anchor), &next(record(5, "e")))),
            Some(None)
        );
        // The row read again later in the batch is the one that counts.
        let batch = vec![
            judged(vec![record(3, "old"), record(4, "d")]),
            judged(vec![record(3, "c")]),
        ];
        assert_eq!(shared(follows(&ids, Some(&anchor), &batch)), Some(Some(3)));
    }
}
