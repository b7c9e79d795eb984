//! Which sweeps a round runs: the scheduler decides from each complete stream's backfill
//! and sweep checkpoints, the module's cadence and the server's clock (the clock the
//! sweeps' starts are recorded in).

use std::collections::HashSet;

use super::{OrgRunner, RunError};
use crate::scheduler::{self, BackfillState, Goal, PlannedPass, StreamState};
use crate::store::patiently;
use crate::stream::{PassKind, StreamKey};

impl OrgRunner {
    /// The sweeps due in this round, by priority.
    pub(super) async fn sweeps_due(
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
            if scheduler::sweep::is_due(every, &backfill, &sweep, now) {
                due.insert(key);
            }
        }
        Ok(scheduler::sweep::plan(streams, goal, budget_left, |s| {
            due.contains(&s.key)
        }))
    }
}
