//! What a run is (backfill, sync, the daemon's, or a retry of dead letters) and how it
//! ended, as the store records them.

/// What kind of invocation a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunKind {
    Backfill,
    Sync,
    Daemon,
    /// `dead-letters --retry`: records re-read by id; no checkpoint moves.
    Retry,
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
            RunKind::Retry => "retry",
        }
    }

    pub fn parse(text: &str) -> Option<RunKind> {
        [
            RunKind::Backfill,
            RunKind::Sync,
            RunKind::Daemon,
            RunKind::Retry,
        ]
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
