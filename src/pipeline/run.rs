//! A run: the passes the scheduler plans for one organisation, worked by
//! `api.concurrency` streams at a time under leases, recorded in the runs table. An
//! `OrgRunner` is built once per organisation (the daemon keeps it between rounds, so its
//! reading of the server's clock survives) and runs rounds; `run` is the one-shot form.
//! Organisations are independent: one whose token is revoked fails alone. A spent budget
//! is not a failure: the round ends cleanly with the moment the quota resets, and the next
//! round continues from the checkpoints. Streams that live processes hold are reported
//! with who holds them (`OrgSummary::held`); a stop ends the round as `Cancelled`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::deletions::DeletionWalk;
use super::{PassEnd, Pipeline, PipelineError};
use crate::config::{Config, ConfigError, OrganisationConfig, SourceConfig};
use crate::desk::TokenCache;
use crate::fetcher::{Allowance, FetchError, Fetcher, ServerClock, Shared};
use crate::quota::{Budget, QuotaToday};
use crate::scheduler::{self, BackfillState, Goal, PlannedPass, StreamState};
use crate::source::desk::DeskSource;
use crate::source::support::SupportSource;
use crate::source::{Failure, Source, SourceError};
use crate::store::{self, patiently, DeleteMode, Holding, RunKind, RunOutcome, Store, StoreError};
use crate::stream::{Module, PassKind, StreamKey};
use crate::telemetry::Progress;
use crate::zoho::client::Client;

mod leased;

use leased::split_held;
pub(crate) use leased::CLEANUP_TIMEOUT;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Zoho(#[from] crate::zoho::ZohoError),
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Pipeline(PipelineError::Store(e))
    }
}

impl RunError {
    /// Whether a stop cut the round short (not a failure).
    pub fn is_stop(&self) -> bool {
        matches!(self, RunError::Pipeline(e) if leased::is_stop(e))
    }
}

/// The phases of a round, in the order they run: fresh data first (the rows modified,
/// then, for Zoho Desk, the recycle bin's deletions), then history, then the sweeps for
/// deletions with what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Incremental,
    Deletions,
    Backfill,
    Sweep,
}

/// How one organisation's round ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgOutcome {
    Completed,
    QuotaSpent {
        resets_at: DateTime<Utc>,
    },
    Cancelled,
    /// The authtoken was refused: nothing will work until it is replaced.
    AuthFailed(String),
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct OrgSummary {
    pub organisation: String,
    pub run_id: i64,
    pub outcome: OrgOutcome,
    pub requests: u64,
    /// Requests the incremental passes took (the daemon's estimate of a round's need).
    pub incremental_requests: u64,
    /// Each pass that ran and how it ended (an error as text).
    pub passes: Vec<(StreamKey, PassKind, Result<PassEnd, String>)>,
    /// The streams left to the live processes that hold them, and who those are.
    pub held: Vec<(StreamKey, Holding)>,
}

/// One organisation's pipelines (one per department), kept between rounds.
pub struct OrgRunner {
    pub org: OrganisationConfig,
    pub budget: Budget,
    pub(super) store: Arc<dyn Store>,
    pipelines: BTreeMap<String, Pipeline>,
    allowance: Arc<Allowance>,
    concurrency: usize,
    lease_ttl: Duration,
    pub(super) cancel: CancellationToken,
}

/// Where an organisation's runner keeps its state: the store, and the cache of Zoho Desk
/// access tokens (shared by every process on the store, so refreshes stay one at a time).
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<dyn TokenCache>,
}

/// Runs `goal` once for every organisation, one after the other.
pub async fn run(
    config: &Config,
    backends: &Backends,
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
        let runner = OrgRunner::new(config, org, backends, cancel, progress)?;
        // The budget left is the server's day's: plan by its clock, not ours.
        tokio::select! {
            () = runner.probe_clock() => {}
            () = cancel.cancelled() => break,
        }
        summaries.push(runner.round(kind, goal, None).await?);
    }
    Ok(summaries)
}

impl OrgRunner {
    pub fn new(
        config: &Config,
        org: &OrganisationConfig,
        backends: &Backends,
        cancel: &CancellationToken,
        progress: &Arc<Progress>,
    ) -> Result<OrgRunner, RunError> {
        let store = &backends.store;
        let budget = org.budget();
        let allowance = Arc::new(Allowance::default());
        let shared = Shared {
            store: Arc::clone(store),
            // One server, one clock: every department's answers teach the same estimate.
            clock: Arc::new(ServerClock::new(config.api.max_clock_skew)),
            cancel: cancel.clone(),
            progress: Arc::clone(progress),
            allowance: Arc::clone(&allowance),
        };
        let mut pipelines = BTreeMap::new();
        for department in &org.departments {
            let source = source(config, org, department, backends)?;
            let fetcher = Fetcher::new(source, budget.clone(), config.api.retry, shared.clone());
            let pipeline = Pipeline {
                fetcher: Arc::new(fetcher),
                store: Arc::clone(store),
                read_ahead: config.api.read_ahead,
                cancel: cancel.clone(),
                progress: Arc::clone(progress),
                deletes: if config.database.hard_delete {
                    DeleteMode::Remove
                } else {
                    DeleteMode::Mark
                },
            };
            pipelines.insert(department.clone(), pipeline);
        }
        Ok(OrgRunner {
            org: org.clone(),
            budget,
            store: Arc::clone(store),
            pipelines,
            allowance,
            concurrency: config.api.concurrency.max(1),
            lease_ttl: config.database.lease,
            cancel: cancel.clone(),
        })
    }

    /// Our best reading of the server's clock.
    pub fn server_now(&self) -> DateTime<Utc> {
        self.pipelines
            .values()
            .next()
            .map_or_else(Utc::now, |p| p.fetcher.server_now())
    }

    /// Refreshes the reading of the server's clock at no quota cost.
    pub async fn probe_clock(&self) {
        if let Some(pipeline) = self.pipelines.values().next() {
            pipeline.fetcher.probe_clock().await;
        }
    }

    /// Requests used and left today by the ledger (the server's day, as we read it).
    pub async fn quota_today(&self) -> Result<QuotaToday, RunError> {
        Ok(store::quota_today(self.store.as_ref(), &self.budget, self.server_now()).await?)
    }

    /// One round: the incremental passes, then the backfills, which may send at most
    /// `backfill_allowance` requests (all the budget allows when `None`), then the sweeps
    /// due, with what the backfills left.
    pub async fn round(
        &self,
        kind: RunKind,
        goal: &Goal,
        backfill_allowance: Option<u32>,
    ) -> Result<OrgSummary, RunError> {
        // Our clock before the states are read: a pass another process completes after
        // this is skipped rather than run again.
        let planned_at = Utc::now();
        let streams = self.stream_states().await?;
        let left = self.quota_today().await?.left;
        let [incremental, backfills] = scheduler::plan(&streams, goal, left);
        let sweeps = self.sweeps_due(&streams, goal, left).await?;
        let phases = [
            (Phase::Incremental, incremental),
            (Phase::Deletions, Vec::new()),
            (Phase::Backfill, backfills),
            (Phase::Sweep, sweeps),
        ];
        let run_id = self.store.start_run(kind, &self.org.name).await?;
        tracing::info!(organisation = %self.org.name, budget_left = left, passes = phases.iter().map(|(_, p)| p.len()).sum::<usize>(), "run starts");
        let before = self.requests();
        let mut passes = Vec::new();
        let mut held = Vec::new();
        let mut incremental_requests = 0;
        let mut deletions = None;
        for (phase, planned) in phases {
            match phase {
                Phase::Deletions => {
                    if left == 0 {
                        break;
                    }
                    let walked = self.walk_deletions(run_id, &streams).await;
                    let go_on = matches!(walked, None | Some(Ok(PassEnd::Completed)));
                    deletions = walked;
                    if go_on {
                        continue;
                    }
                    break;
                }
                Phase::Incremental => self.allowance.set(None),
                Phase::Backfill => self.allowance.set(backfill_allowance),
                // Sweeps get what the backfills left of the allowance.
                Phase::Sweep => {}
            }
            let results = split_held(self.run_phase(planned, run_id, planned_at).await, &mut held);
            if phase == Phase::Incremental {
                incremental_requests = self.requests() - before;
            }
            let stop = results.iter().any(|(_, _, end)| {
                !matches!(
                    end,
                    Ok(PassEnd::Completed | PassEnd::Skipped | PassEnd::Paused)
                )
            });
            let starved = results
                .iter()
                .any(|(_, _, end)| matches!(end, Ok(PassEnd::Paused)));
            passes.extend(results);
            if stop || starved {
                break;
            }
        }
        self.allowance.set(None);
        let requests = self.requests() - before;
        let outcome = if left == 0 {
            OrgOutcome::QuotaSpent {
                resets_at: self.budget.rule.next_reset(self.server_now()),
            }
        } else {
            outcome_of(&passes, deletions.as_ref())
        };
        self.record(run_id, &outcome, requests).await?;
        Ok(OrgSummary {
            organisation: self.org.name.clone(),
            run_id,
            outcome,
            requests,
            incremental_requests,
            passes: passes
                .into_iter()
                .map(|(s, k, end)| (s, k, end.map_err(|e| e.to_string())))
                .collect(),
            held,
        })
    }

    /// Walks a Zoho Desk organisation's deletions (`None` for a legacy organisation, or
    /// when nothing is left of today's budget).
    async fn walk_deletions(
        &self,
        run_id: i64,
        streams: &[StreamState],
    ) -> Option<Result<PassEnd, PipelineError>> {
        let SourceConfig::Desk(desk) = &self.org.source else {
            return None;
        };
        let pipeline = self.pipelines.get("")?;
        self.allowance.set(None);
        let modules: Vec<Module> = self.org.modules.iter().map(|(m, _)| *m).collect();
        let walk = DeletionWalk {
            portal: &desk.org_id,
            run_id,
            modules: &modules,
            mirror_empty: streams
                .iter()
                .all(|s| s.backfill == BackfillState::NotStarted),
        };
        let span = tracing::info_span!("deletions", portal = %desk.org_id);
        Some(pipeline.walk_deletions(&walk).instrument(span).await)
    }

    fn requests(&self) -> u64 {
        self.pipelines.values().map(|p| p.fetcher.requests()).sum()
    }

    async fn run_phase(
        &self,
        planned: Vec<PlannedPass>,
        run_id: i64,
        planned_at: DateTime<Utc>,
    ) -> Vec<(StreamKey, PassKind, leased::Leased)> {
        stream::iter(planned)
            .map(|planned| async move {
                let end = self.leased_pass(&planned, run_id, planned_at).await;
                (planned.stream, planned.kind, end)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await
    }

    async fn record(
        &self,
        run_id: i64,
        outcome: &OrgOutcome,
        requests: u64,
    ) -> Result<(), RunError> {
        let (recorded, error) = match outcome {
            OrgOutcome::Completed => (RunOutcome::Completed, None),
            OrgOutcome::QuotaSpent { .. } => (RunOutcome::QuotaSpent, None),
            OrgOutcome::Cancelled => (RunOutcome::Interrupted, None),
            OrgOutcome::AuthFailed(e) | OrgOutcome::Failed(e) => {
                (RunOutcome::Failed, Some(e.as_str()))
            }
        };
        let requests = u32::try_from(requests).unwrap_or(u32::MAX);
        // Recording a stop must not give up at the stop: it gets its own patience, cut
        // `CLEANUP_TIMEOUT` after a stop (a run left unrecorded only reads as running).
        let patience = CancellationToken::new();
        let record = async {
            patiently("recording the run", &patience, || {
                self.store.add_run_requests(run_id, requests)
            })
            .await?;
            patiently("recording the run", &patience, || {
                self.store.finish_run(run_id, recorded, error)
            })
            .await
        };
        let cut = async {
            self.cancel.cancelled().await;
            tokio::time::sleep(CLEANUP_TIMEOUT).await;
        };
        tokio::select! {
            recorded = record => Ok(recorded?),
            () = cut => {
                tracing::warn!(run_id, "recording the stopped run timed out");
                Ok(())
            }
        }
    }

    async fn stream_states(&self) -> Result<Vec<StreamState>, RunError> {
        let mut states = Vec::new();
        for department in &self.org.departments {
            for &(module, priority) in &self.org.modules {
                let key = StreamKey {
                    portal: self.org.portal.clone(),
                    department: department.clone(),
                    module,
                };
                let backfill = self.store.checkpoint(&key, PassKind::Backfill).await?;
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
}

/// The source of one organisation's department (a Desk organisation has one, unnamed).
pub fn source(
    config: &Config,
    org: &OrganisationConfig,
    department: &str,
    backends: &Backends,
) -> Result<Arc<dyn Source>, RunError> {
    Ok(match &org.source {
        SourceConfig::Support(support) => {
            let settings = config.client_settings(Some(&org.name), Some(department))?;
            let client = Client::new(settings)?;
            Arc::new(SupportSource::new(
                client,
                support.data_time_zone,
                org.day_rule,
            ))
        }
        SourceConfig::Desk(desk) => {
            let secrets = (
                desk.client_secret.resolve(&org.name)?,
                desk.refresh_token.resolve(&org.name)?,
            );
            let tokens = Arc::clone(&backends.tokens);
            Arc::new(DeskSource::new(
                desk,
                &config.api,
                org.day_rule,
                secrets,
                tokens,
            )?)
        }
    })
}

/// A failure outranks a stop, a stop outranks a spent budget.
fn outcome_of(
    passes: &[(StreamKey, PassKind, Result<PassEnd, PipelineError>)],
    deletions: Option<&Result<PassEnd, PipelineError>>,
) -> OrgOutcome {
    let mut outcome = OrgOutcome::Completed;
    let ends = passes
        .iter()
        .map(|(stream, kind, end)| (format!("{stream} {kind:?} pass"), end))
        .chain(deletions.map(|end| ("the walk of the recycle bin".to_string(), end)));
    for (what, end) in ends {
        match end {
            Err(PipelineError::Fetch(FetchError::Source(e))) if e.failure == Failure::Auth => {
                return OrgOutcome::AuthFailed(e.to_string());
            }
            Err(e) => return OrgOutcome::Failed(format!("{what}: {e}")),
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
