//! A run: the passes the scheduler plans for every configured organisation, worked by
//! `api.concurrency` streams at a time, recorded in the runs table. Organisations are
//! independent: one whose token is revoked fails alone. A spent budget is not a failure:
//! the run ends cleanly with the moment the quota resets, and the next run continues from
//! the checkpoints.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{Pass, PassEnd, Pipeline, PipelineError, Progress};
use crate::config::{Config, ConfigError, OrganisationConfig};
use crate::fetcher::{Budget, FetchError, Fetcher};
use crate::loader::{Loader, PassKind, RunKind, RunOutcome, StreamKey};
use crate::scheduler::{self, BackfillState, Goal, PlannedPass, StreamState};
use crate::zoho::client::Client;
use crate::zoho::ErrorClass;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Zoho(#[from] crate::zoho::ZohoError),
}

/// How one organisation's part of a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgOutcome {
    Completed,
    QuotaSpent { resets_at: DateTime<Utc> },
    Cancelled,
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct OrgSummary {
    pub organisation: String,
    pub run_id: i64,
    pub outcome: OrgOutcome,
    pub requests: u64,
    /// Each pass that ran and how it ended (an error as text).
    pub passes: Vec<(StreamKey, PassKind, Result<PassEnd, String>)>,
}

/// Runs `goal` for every organisation, one after the other.
pub async fn run(
    config: &Config,
    loader: &Loader,
    kind: RunKind,
    goal: &Goal,
    cancel: &CancellationToken,
    progress: &Arc<Progress>,
) -> Result<Vec<OrgSummary>, RunError> {
    let mut summaries = Vec::new();
    for org in &config.organisations {
        if cancel.is_cancelled() {
            break;
        }
        summaries.push(run_organisation(config, org, loader, kind, goal, cancel, progress).await?);
    }
    Ok(summaries)
}

async fn run_organisation(
    config: &Config,
    org: &OrganisationConfig,
    loader: &Loader,
    kind: RunKind,
    goal: &Goal,
    cancel: &CancellationToken,
    progress: &Arc<Progress>,
) -> Result<OrgSummary, RunError> {
    let budget = Budget {
        organisation: org.name.clone(),
        per_day: org.daily_limit - org.reserve,
        rule: org.day_rule,
    };
    let mut pipelines = HashMap::new();
    for department in &org.departments {
        let settings = config.client_settings(Some(&org.name), Some(department))?;
        let fetcher = Fetcher::new(
            Client::new(settings)?,
            loader.clone(),
            budget.clone(),
            cancel.clone(),
            Arc::clone(progress),
        );
        let pipeline = Pipeline {
            fetcher: Arc::new(fetcher),
            loader: loader.clone(),
            read_ahead: config.api.read_ahead,
            cancel: cancel.clone(),
            progress: Arc::clone(progress),
        };
        pipelines.insert(department.clone(), pipeline);
    }
    let streams = stream_states(org, loader).await?;
    let run_id = loader
        .start_run(kind, &org.name)
        .await
        .map_err(PipelineError::from)?;
    let left = budget_left(loader, &budget, pipelines.values().next()).await?;
    let phases = scheduler::plan(&streams, goal, left);
    let spent_at_start = (left == 0).then(|| {
        let now = pipelines
            .values()
            .next()
            .map_or_else(Utc::now, |p| p.fetcher.server_now());
        budget.rule.next_reset(now)
    });
    tracing::info!(organisation = %org.name, budget_left = left, passes = phases.iter().map(Vec::len).sum::<usize>(), "run starts");

    let lease_ttl = config.database.lease;
    let mut passes = Vec::new();
    for phase in phases {
        let results: Vec<_> = stream::iter(phase)
            .map(|planned| {
                let pipelines = &pipelines;
                async move {
                    let pipeline = &pipelines[&planned.stream.department];
                    let end = leased_pass(pipeline, &planned, org, run_id, lease_ttl).await;
                    (planned.stream.clone(), planned.kind, end)
                }
            })
            .buffer_unordered(config.api.concurrency.max(1))
            .collect()
            .await;
        let stop = results
            .iter()
            .any(|(_, _, end)| !matches!(end, Ok(PassEnd::Completed)));
        passes.extend(results);
        if stop {
            break;
        }
    }
    let requests: u64 = pipelines.values().map(|p| p.fetcher.requests()).sum();
    let outcome = match spent_at_start {
        Some(resets_at) => OrgOutcome::QuotaSpent { resets_at },
        None => outcome_of(&passes),
    };
    let (recorded, error) = match &outcome {
        OrgOutcome::Completed => (RunOutcome::Completed, None),
        OrgOutcome::QuotaSpent { .. } => (RunOutcome::QuotaSpent, None),
        OrgOutcome::Cancelled => (RunOutcome::Interrupted, None),
        OrgOutcome::Failed(e) => (RunOutcome::Failed, Some(e.as_str())),
    };
    loader
        .add_run_requests(run_id, u32::try_from(requests).unwrap_or(u32::MAX))
        .await
        .map_err(PipelineError::from)?;
    loader
        .finish_run(run_id, recorded, error)
        .await
        .map_err(PipelineError::from)?;
    Ok(OrgSummary {
        organisation: org.name.clone(),
        run_id,
        outcome,
        requests,
        passes: passes
            .into_iter()
            .map(|(s, k, end)| (s, k, end.map_err(|e| e.to_string())))
            .collect(),
    })
}

/// Runs one pass under a lease on its stream; a stream another process holds is skipped.
async fn leased_pass(
    pipeline: &Pipeline,
    planned: &PlannedPass,
    org: &OrganisationConfig,
    run_id: i64,
    ttl: std::time::Duration,
) -> Result<PassEnd, PipelineError> {
    let holder = holder_id();
    let Some(lease) = pipeline
        .loader
        .take_lease(&planned.stream, holder, ttl)
        .await?
    else {
        tracing::info!(stream = %planned.stream, "another process holds this stream; skipping it");
        return Ok(PassEnd::Skipped);
    };
    let pass = Pass {
        stream: &planned.stream,
        kind: planned.kind,
        zone: org.data_time_zone,
        run_id,
        lease: Some(&lease),
    };
    let end = pipeline.run_pass(&pass).await;
    if let Err(e) = pipeline.loader.release_lease(&lease).await {
        // It expires by itself; another process waits at most the lease's length.
        tracing::warn!(stream = %planned.stream, error = %e, "cannot release the stream's lease");
    }
    end
}

/// This process's name in the lease table: host, process id and a random tag (a pid can
/// be reused after a crash).
pub fn holder_id() -> &'static str {
    static HOLDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOLDER.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        format!(
            "{host}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    })
}

/// A failure outranks a stop, a stop outranks a spent budget.
fn outcome_of(passes: &[(StreamKey, PassKind, Result<PassEnd, PipelineError>)]) -> OrgOutcome {
    let mut outcome = OrgOutcome::Completed;
    for (stream, kind, end) in passes {
        match end {
            Err(e) => {
                let text = match e {
                    PipelineError::Fetch(FetchError::Zoho(z)) if z.class() == ErrorClass::Auth => {
                        format!("the authtoken was refused ({z}); generate a new one with `zoho-sync auth token`")
                    }
                    e => format!("{stream} {kind:?} pass: {e}"),
                };
                return OrgOutcome::Failed(text);
            }
            Ok(PassEnd::Cancelled) => outcome = OrgOutcome::Cancelled,
            Ok(PassEnd::BudgetSpent { resets_at }) if outcome == OrgOutcome::Completed => {
                outcome = OrgOutcome::QuotaSpent {
                    resets_at: *resets_at,
                }
            }
            Ok(_) => {}
        }
    }
    outcome
}

async fn stream_states(
    org: &OrganisationConfig,
    loader: &Loader,
) -> Result<Vec<StreamState>, RunError> {
    let mut states = Vec::new();
    for department in &org.departments {
        for &(module, priority) in &org.modules {
            let key = StreamKey {
                portal: org.portal.clone(),
                department: department.clone(),
                module,
            };
            let backfill = loader
                .checkpoint(&key, PassKind::Backfill)
                .await
                .map_err(PipelineError::from)?;
            let state = if backfill.in_progress {
                BackfillState::InProgress
            } else if backfill.completed_at.is_some() {
                BackfillState::Done
            } else {
                BackfillState::NotStarted
            };
            states.push(StreamState {
                key,
                priority,
                backfill: state,
            });
        }
    }
    Ok(states)
}

/// Requests left today by the ledger (the day as our clock reads the server's).
async fn budget_left(
    loader: &Loader,
    budget: &Budget,
    pipeline: Option<&Pipeline>,
) -> Result<u32, RunError> {
    let day = match pipeline {
        Some(p) => p.fetcher.quota_day().0,
        None => budget.rule.day_of(Utc::now()),
    };
    let used = loader
        .ledger_day(&budget.organisation, day)
        .await
        .map_err(PipelineError::from)?;
    if used.spent {
        return Ok(0);
    }
    Ok(budget.per_day.saturating_sub(used.used))
}
