//! Pure planning: which pass of which stream to work next, decided from the checkpoints,
//! the modules' priorities and the budget left. No I/O and no clock (the time is passed
//! in), so every decision can be tested exhaustively. Incremental passes of every stream
//! whose backfill is complete come first, because fresh data matters more than old;
//! what the budget leaves goes to backfills, highest priority first, and what they leave
//! to the sweeps that find deleted records (`pipeline::sweep`).

pub mod estimate;
pub mod freshness;
pub mod pacing;

use crate::stream::Module;
use crate::stream::{PassKind, StreamKey};

/// Where a stream's backfill stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillState {
    NotStarted,
    InProgress,
    Done,
}

/// What the planner knows of one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    pub key: StreamKey,
    /// 1 is first.
    pub priority: u32,
    pub backfill: BackfillState,
}

/// What a run is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// `backfill [--module M]...`: the selected modules' history (all when empty), after the
    /// incremental passes of every complete stream.
    Backfill { modules: Vec<Module> },
    /// `sync` and the daemon's rounds: an incremental pass of every complete stream of
    /// the modules (all when empty), and the backfill of any stream not yet complete.
    Sync { modules: Vec<Module> },
}

/// One pass to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPass {
    pub stream: StreamKey,
    pub kind: PassKind,
}

/// The passes of a run in two phases: incremental passes, then backfills. Each phase is
/// ordered by priority (then portal, department, module) and may run its passes side by
/// side; the second starts when the first is over. Nothing is planned without budget.
pub fn plan(streams: &[StreamState], goal: &Goal, budget_left: u32) -> [Vec<PlannedPass>; 2] {
    if budget_left == 0 {
        return [Vec::new(), Vec::new()];
    }
    let mut ordered: Vec<&StreamState> = streams.iter().collect();
    ordered.sort_by(|a, b| (a.priority, &a.key).cmp(&(b.priority, &b.key)));
    let due = |m: Module| match goal {
        Goal::Backfill { .. } => true,
        Goal::Sync { modules } => modules.is_empty() || modules.contains(&m),
    };
    let incremental = ordered
        .iter()
        .filter(|s| s.backfill == BackfillState::Done && due(s.key.module))
        .map(|s| PlannedPass {
            stream: s.key.clone(),
            kind: PassKind::Incremental,
        })
        .collect();
    let wanted = |m: Module| match goal {
        Goal::Backfill { modules } => modules.is_empty() || modules.contains(&m),
        Goal::Sync { modules } => modules.is_empty() || modules.contains(&m),
    };
    let backfills = ordered
        .iter()
        .filter(|s| s.backfill != BackfillState::Done && wanted(s.key.module))
        .map(|s| PlannedPass {
            stream: s.key.clone(),
            kind: PassKind::Backfill,
        })
        .collect();
    [incremental, backfills]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::zoho::module::Module as M;

    /// A stream of portal `p`, department `d`, for planning tests.
    pub(crate) fn stream(module: M, priority: u32, backfill: BackfillState) -> StreamState {
        StreamState {
            key: StreamKey {
                portal: "p".into(),
                department: "d".into(),
                module: module.into(),
            },
            priority,
            backfill,
        }
    }

    fn kinds(passes: &[PlannedPass]) -> Vec<(Module, PassKind)> {
        passes.iter().map(|p| (p.stream.module, p.kind)).collect()
    }

    #[test]
    fn incremental_passes_come_first_then_backfills_by_priority() {
        let streams = [
            stream(M::Tasks, 3, BackfillState::NotStarted),
            stream(M::Contacts, 2, BackfillState::Done),
            stream(M::Requests, 1, BackfillState::InProgress),
            stream(M::Accounts, 1, BackfillState::Done),
        ];
        let [first, second] = plan(&streams, &Goal::Sync { modules: vec![] }, 10);
        assert_eq!(
            kinds(&first),
            [
                (M::Accounts.into(), PassKind::Incremental),
                (M::Contacts.into(), PassKind::Incremental)
            ]
        );
        assert_eq!(
            kinds(&second),
            [
                (M::Requests.into(), PassKind::Backfill),
                (M::Tasks.into(), PassKind::Backfill)
            ]
        );
    }

    #[test]
    fn a_backfill_of_chosen_modules_leaves_the_others_alone() {
        let streams = [
            stream(M::Tasks, 1, BackfillState::NotStarted),
            stream(M::Requests, 1, BackfillState::NotStarted),
        ];
        let goal = Goal::Backfill {
            modules: vec![M::Requests.into()],
        };
        let [first, second] = plan(&streams, &goal, 10);
        assert!(first.is_empty());
        assert_eq!(kinds(&second), [(M::Requests.into(), PassKind::Backfill)]);
    }

    #[test]
    fn nothing_is_planned_without_budget() {
        let streams = [stream(M::Tasks, 1, BackfillState::Done)];
        let [first, second] = plan(&streams, &Goal::Sync { modules: vec![] }, 0);
        assert!(first.is_empty() && second.is_empty());
    }
}
