//! One pass under its stream's lease: take the lease (a dead holder's at once, see
//! `loader::leases`), run the pass, give the lease back. A stream a live process holds
//! is not worked: the pass is reported held, with who holds it, so a one-shot command can
//! say so and exit with its own code, and the daemon logs it and tries next round.

use chrono::{DateTime, Utc};

use super::OrgRunner;
use crate::loader::{patiently, Claim, Holder, Holding, PassKind, StreamKey};
use crate::pipeline::{Pass, PassEnd, PipelineError};
use crate::scheduler::PlannedPass;

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
        let claim = patiently("taking a lease", || {
            self.loader
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
            Err(e) => return Leased::Ran(Err(e.into())),
        };
        let pass = Pass {
            stream: &planned.stream,
            kind: planned.kind,
            zone: self.org.data_time_zone,
            run_id,
            lease: Some(&lease),
            planned_at,
        };
        let end = pipeline.run_pass(&pass).await;
        if let Err(e) = self.loader.release_lease(&lease).await {
            // Our presence lock goes with the process, and the lease with it; until then
            // the lease expires by itself.
            tracing::warn!(stream = %planned.stream, error = %e, "cannot release the stream's lease");
        }
        Leased::Ran(end)
    }
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
