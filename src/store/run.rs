//! What a run is (backfill, sync or the daemon's) and how it ended, as the store
//! records them.

/// What kind of invocation a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunKind {
    Backfill,
    Sync,
    Daemon,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    Completed,
    /// The day's request budget ran out (or the server answered 4421).
    QuotaSpent,
    Failed,
    /// Stopped by a signal before finishing.
    Interrupted,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Backfill => "backfill",
            RunKind::Sync => "sync",
            RunKind::Daemon => "daemon",
        }
    }

    pub fn parse(text: &str) -> Option<RunKind> {
        [RunKind::Backfill, RunKind::Sync, RunKind::Daemon]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Completed => "completed",
            RunOutcome::QuotaSpent => "quota_spent",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunOutcome> {
        [
            RunOutcome::Completed,
            RunOutcome::QuotaSpent,
            RunOutcome::Failed,
            RunOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}
