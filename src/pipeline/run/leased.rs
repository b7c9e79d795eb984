//! One pass under its stream's lease: take the lease (a dead holder's at once, see
//! `loader::leases`), run the pass, give the lease back. A stream a live process holds
//! is not worked: the pass is reported held, with who holds it, so a one-shot command can
//! say so and exit with its own code, and the daemon logs it and tries next round. A stop
//! is an outcome, not a failure: whatever wait it cut short, the pass ends `Cancelled`.
//! The clean-up after a pass (releasing the lease) is bounded, so a database that holds
//! a lock or is down cannot keep a stopping process from leaving.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::OrgRunner;
use crate::fetcher::FetchError;
use crate::pipeline::{Pass, PassEnd, PipelineError};
use crate::scheduler::PlannedPass;
use crate::store::{patiently, Claim, Holder, Holding, StoreError};
use crate::stream::{PassKind, StreamKey};

/// The longest a clean-up statement (releasing a lease, recording a stopped run) may take
/// once a stop was asked for: well inside `shutdown::GRACE`.
pub(crate) const CLEANUP_TIMEOUT: Duration = Duration::from_secs(2);

/// How a planned pass went, lease included.
#[derive(Debug)]
pub(super) enum Leased {
    Ran(Result<PassEnd, PipelineError>),
    /// A live process holds the stream.
    Held(Holding),
}

impl OrgRunner {
    /// Runs one pass under a lease on its stream.
    pub(super) async fn leased_pass(
        &self,
        planned: &PlannedPass,
        run_id: i64,
        planned_at: DateTime<Utc>,
    ) -> Leased {
        let Some(pipeline) = self.pipelines.get(&planned.stream.department) else {
            return Leased::Ran(Ok(PassEnd::Skipped));
        };
        if self.cancel.is_cancelled() {
            return Leased::Ran(Ok(PassEnd::Cancelled));
        }
        let claim = patiently("taking a lease", &self.cancel, || {
            self.store
                .take_lease(&planned.stream, Holder::this_process(), self.lease_ttl)
        })
        .await;
        let lease = match claim {
            Ok(Claim::Taken(lease)) => lease,
            Ok(Claim::Held(holding)) => {
                tracing::info!(
                    stream = %planned.stream, host = holding.host.as_deref().unwrap_or("?"),
                    pid = holding.pid.unwrap_or(0), since = %holding.since,
                    "a live process holds this stream; leaving it to that process"
                );
                return Leased::Held(holding);
            }
            Err(e) => return Leased::Ran(stopped(Err(e.into()))),
        };
        let pass = Pass {
            stream: &planned.stream,
            kind: planned.kind,
            zone: self.org.data_time_zone(),
            run_id,
            lease: Some(&lease),
            planned_at,
            changed: Default::default(),
        };
        let end = stopped(pipeline.run_pass(&pass).await);
        let released = tokio::time::timeout(CLEANUP_TIMEOUT, self.store.release_lease(&lease));
        match released.await {
            Ok(Ok(())) => {}
            // Our presence lock goes with the process, and the lease with it; until
            // then the lease expires by itself.
            Ok(Err(e)) => {
                tracing::warn!(stream = %planned.stream, error = %e, "cannot release the stream's lease")
            }
            Err(_) => {
                tracing::warn!(stream = %planned.stream, "releasing the stream's lease timed out")
            }
        }
        Leased::Ran(end)
    }
}

/// A pass cut short by a stop, wherever it was waiting, ends `Cancelled`.
fn stopped(end: Result<PassEnd, PipelineError>) -> Result<PassEnd, PipelineError> {
    match end {
        Err(e) if is_stop(&e) => Ok(PassEnd::Cancelled),
        end => end,
    }
}

/// Whether the error is a stop rather than a failure.
pub(super) fn is_stop(error: &PipelineError) -> bool {
    matches!(
        error,
        PipelineError::Store(StoreError::Cancelled { .. })
            | PipelineError::Fetch(FetchError::Cancelled)
            | PipelineError::Fetch(FetchError::Store(StoreError::Cancelled { .. }))
    )
}

/// The passes of a phase, with the streams live processes hold set apart.
pub(super) type PhaseResults = Vec<(StreamKey, PassKind, Result<PassEnd, PipelineError>)>;

/// Splits a phase's outcomes: a held stream's pass counts as skipped.
pub(super) fn split_held(
    outcomes: Vec<(StreamKey, PassKind, Leased)>,
    held: &mut Vec<(StreamKey, Holding)>,
) -> PhaseResults {
    outcomes
        .into_iter()
        .map(|(stream, kind, leased)| match leased {
            Leased::Ran(end) => (stream, kind, end),
            Leased::Held(holding) => {
                held.push((stream.clone(), holding));
                (stream, kind, Ok(PassEnd::Skipped))
            }
        })
        .collect()
}
