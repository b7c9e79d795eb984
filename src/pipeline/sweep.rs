//! Sweeps, in one place. The legacy API lists no deletions, so a sweep reads every id of
//! a module (an id-only pass, paged by the same anchored cursor as any pass) to find the
//! records deleted at the source. A Zoho Desk stream's sweep is its reconciliation: a
//! walk of every record by creation time (`pipeline::seek`, `loader::desk_reconcile`)
//! that finds the deletions its recycle bin no longer shows; it also runs at once after
//! 50 days without an incremental pass. It costs a pass over the whole module, so it runs on a
//! cadence per module (weekly by default), only for streams whose backfill is complete,
//! and only in a round's last phase, with the budget the incremental passes and backfills
//! left; a sweep in progress is always continued (it may span several quota days). The
//! cadence is measured in the server's clock, from the start of the last sweep (or,
//! before the first one, of the backfill, which saw every record then). Each page's ids
//! commit with the sweep's checkpoint, and the page that ends the sweep also applies the
//! deletions it found (the store says how: `loader::sweep` for PostgreSQL). A page holding
//! a row whose id cannot be read stops the sweep: concluding from it would mark that
//! record deleted.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeDelta, Utc};

use super::run::{OrgRunner, RunError};
use super::{Pass, Pipeline, PipelineError};
use crate::scheduler::{BackfillState, Goal, PlannedPass, StreamState};
use crate::store::{patiently, SweepCommit};
use crate::stream::{Checkpoint, PassKind, StreamKey};
use crate::zoho::codec::BadRow;
use crate::zoho::record::RecordId;

/// How long a Zoho Desk stream may go without an incremental pass before its
/// reconciliation runs at once: the recycle bin keeps deletions 60 days (§4.5).
pub const DESK_GAP: TimeDelta = TimeDelta::days(50);

/// Whether a stream's sweep should run now; `every` is `None` when sweeps are off.
pub fn is_due(
    every: Option<TimeDelta>,
    backfill: &Checkpoint,
    sweep: &Checkpoint,
    now: DateTime<Utc>,
) -> bool {
    let Some(every) = every else {
        return false;
    };
    if sweep.in_progress {
        return true;
    }
    let last = if sweep.completed_at.is_some() {
        sweep.pass_started_at.or(sweep.completed_at)
    } else {
        backfill.pass_started_at.or(backfill.completed_at)
    };
    last.is_some_and(|at| now >= at + every)
}

/// The sweeps of a round: streams of the goal's modules whose backfill is complete and
/// whose sweep `due` says should run, by priority. Only `sync` and the daemon sweep;
/// `backfill` is about history.
pub fn plan(
    streams: &[StreamState],
    goal: &Goal,
    budget_left: u32,
    due: impl Fn(&StreamState) -> bool,
) -> Vec<PlannedPass> {
    let Goal::Sync { modules } = goal else {
        return Vec::new();
    };
    if budget_left == 0 {
        return Vec::new();
    }
    let mut ordered: Vec<&StreamState> = streams
        .iter()
        .filter(|s| s.backfill == BackfillState::Done)
        .filter(|s| modules.is_empty() || modules.contains(&s.key.module))
        .filter(|s| due(s))
        .collect();
    ordered.sort_by(|a, b| (a.priority, &a.key).cmp(&(b.priority, &b.key)));
    ordered
        .into_iter()
        .map(|s| PlannedPass {
            stream: s.key.clone(),
            kind: PassKind::Sweep,
        })
        .collect()
}

impl OrgRunner {
    /// The sweeps due in this round, by priority.
    pub(crate) async fn sweeps_due(
        &self,
        streams: &[StreamState],
        goal: &Goal,
        budget_left: u32,
    ) -> Result<Vec<PlannedPass>, RunError> {
        if budget_left == 0 || !matches!(goal, Goal::Sync { .. }) {
            return Ok(Vec::new());
        }
        let now = self.server_now();
        let mut due: HashSet<&StreamKey> = HashSet::new();
        for state in streams {
            let every = self.org.sweep_every(state.key.module);
            if state.backfill != BackfillState::Done || every.is_none() {
                continue;
            }
            let key = &state.key;
            let backfill = patiently("reading a checkpoint", &self.cancel, || {
                self.store.checkpoint(key, PassKind::Backfill)
            })
            .await?;
            let sweep = patiently("reading a checkpoint", &self.cancel, || {
                self.store.checkpoint(key, PassKind::Sweep)
            })
            .await?;
            if is_due(every, &backfill, &sweep, now) || self.after_a_gap(key, now).await? {
                due.insert(key);
            }
        }
        Ok(plan(streams, goal, budget_left, |s| due.contains(&s.key)))
    }
}

impl OrgRunner {
    /// Whether a Zoho Desk stream was last read incrementally longer ago than
    /// `DESK_GAP`: the recycle bin may have forgotten deletions since, so its
    /// reconciliation runs now, whatever its cadence.
    async fn after_a_gap(&self, key: &StreamKey, now: DateTime<Utc>) -> Result<bool, RunError> {
        if key.module.desk().is_none() {
            return Ok(false);
        }
        let incremental = patiently("reading a checkpoint", &self.cancel, || {
            self.store.checkpoint(key, PassKind::Incremental)
        })
        .await?;
        let gap = incremental
            .completed_at
            .is_some_and(|at| now - at > DESK_GAP);
        if gap {
            tracing::info!(stream = %key, "no incremental pass for 50 days: reconciling now");
        }
        Ok(gap)
    }
}

impl Pipeline {
    /// Commits the ids of one sweep page (the checkpoint already moved past it).
    pub(super) async fn commit_sweep(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
        ids: &[RecordId],
        bad_rows: &[BadRow],
        from: u32,
        starts: bool,
    ) -> Result<(), PipelineError> {
        if !bad_rows.is_empty() {
            for bad in bad_rows {
                tracing::warn!(from, error = %bad.error, "a sweep row has no readable id");
            }
            return Err(PipelineError::SweepUnreadable {
                stream: pass.stream.to_string(),
                rows: bad_rows.len(),
            });
        }
        let commit = SweepCommit {
            stream: pass.stream,
            run_id: pass.run_id,
            ids,
            checkpoint,
            starts,
            deletes: self.deletes,
            synced_at: Utc::now(),
            lease: pass.lease,
        };
        let stats = patiently("a sweep page commit", &self.cancel, || {
            self.store.commit_sweep_page(&commit)
        })
        .await?;
        self.progress.pages.fetch_add(1, Ordering::Relaxed);
        let done = !checkpoint.in_progress;
        if done {
            tracing::info!(deleted = stats.deleted, "sweep complete");
        }
        tracing::debug!(
            from,
            ids = ids.len(),
            seen = stats.seen,
            done,
            "sweep page committed"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::scheduler::tests::stream;
    use crate::zoho::module::Module;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, day, 12, 0, 0).unwrap()
    }

    fn completed(started: u32) -> Checkpoint {
        Checkpoint {
            pass_started_at: Some(at(started)),
            completed_at: Some(at(started)),
            passes: 1,
            ..Checkpoint::default()
        }
    }

    const WEEK: Option<TimeDelta> = Some(TimeDelta::days(7));

    #[test]
    fn the_first_sweep_is_due_a_cadence_after_the_backfill_started() {
        let never = Checkpoint::default();
        assert!(!is_due(WEEK, &completed(1), &never, at(7)));
        assert!(is_due(WEEK, &completed(1), &never, at(8)));
    }

    #[test]
    fn the_next_sweep_is_due_a_cadence_after_the_last_one_started() {
        assert!(!is_due(WEEK, &completed(1), &completed(9), at(15)));
        assert!(is_due(WEEK, &completed(1), &completed(9), at(16)));
    }

    #[test]
    fn a_sweep_in_progress_continues_and_sweeps_that_are_off_never_run() {
        let running = Checkpoint {
            in_progress: true,
            pass_started_at: Some(at(9)),
            ..Checkpoint::default()
        };
        assert!(is_due(WEEK, &completed(1), &running, at(9)));
        assert!(!is_due(None, &completed(1), &running, at(20)));
    }

    #[test]
    fn only_complete_streams_of_a_sync_are_swept_by_priority() {
        let streams = [
            stream(Module::Tasks, 3, BackfillState::Done),
            stream(Module::Requests, 1, BackfillState::InProgress),
            stream(Module::Contacts, 2, BackfillState::Done),
        ];
        let sync = Goal::Sync { modules: vec![] };
        let planned: Vec<_> = plan(&streams, &sync, 10, |_| true)
            .iter()
            .map(|p| p.stream.module)
            .collect();
        assert_eq!(planned, [Module::Contacts.into(), Module::Tasks.into()]);
        let backfill = Goal::Backfill { modules: vec![] };
        assert!(plan(&streams, &backfill, 10, |_| true).is_empty());
        assert!(plan(&streams, &sync, 0, |_| true).is_empty());
        assert!(
            plan(&streams, &sync, 10, |s| s.key.module
                == Module::Tasks.into())
            .len()
                == 1
        );
    }
}
