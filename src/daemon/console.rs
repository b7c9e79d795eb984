//! The operator's status page: what `/` serves on `daemon.listen` and what
//! `zoho-sync status --html FILE` writes once. Per organisation, today's quota spent hour
//! by hour against the pacing line and the limit; per stream, its rows, dead letters, lag,
//! last pass and its outcome, when it is next due, where its backfill stands and what its
//! last sweep found; the latest runs and who ran them. A `Snapshot` is read from the database in a
//! few small queries (control tables and `stream_stats`, whose live row counts the
//! commits keep exact, never a scan of a mirror table), then rendered by pure functions
//! (`page`), so the page costs the same on a mirror of millions of rows and its rendering
//! is tested without a database.

mod chart;
mod page;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::adaptive::{Adaptive, ModulePlan};
use crate::config::{Config, OrganisationConfig};
use crate::loader::{Loader, RunSummary, StreamStats, StreamStatus};
use crate::quota::QuotaToday;
use crate::scheduler::estimate::org_model;
use crate::store::{self, StoreError};
use crate::stream::StreamKey;

pub use page::{render, span};

/// How many runs the page lists.
const RUNS_SHOWN: i64 = 20;

/// Everything the page shows, read at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub organisations: Vec<OrgView>,
    /// The latest runs of every organisation, newest first.
    pub runs: Vec<RunSummary>,
}

/// One organisation's quota and streams.
#[derive(Clone, Debug)]
pub struct OrgView {
    pub name: String,
    /// `requests` or `credits`.
    pub unit: &'static str,
    pub limit: u32,
    pub reserve: u32,
    pub day_start: DateTime<Utc>,
    pub day_end: DateTime<Utc>,
    pub quota: QuotaToday,
    /// Units reserved in each hour of the quota day so far.
    pub hours: Vec<(DateTime<Utc>, u32)>,
    pub streams: Vec<StreamView>,
}

impl OrgView {
    /// What zoho-sync may spend today: the limit less the reserve.
    pub fn budget(&self) -> u32 {
        self.limit.saturating_sub(self.reserve)
    }
}

/// One stream's line.
#[derive(Clone, Debug)]
pub struct StreamView {
    pub status: StreamStatus,
    /// The newest Modified Time mirrored.
    pub newest: Option<DateTime<Utc>>,
    /// Its module's adaptive plan, when it polls adaptively.
    pub plan: Option<ModulePlan>,
    /// What its last complete sweep found deleted at the source.
    pub sweep_found: Option<i64>,
}

/// Reads the snapshot the page shows.
pub async fn snapshot(config: &Config, loader: &Loader) -> Result<Snapshot, StoreError> {
    let taken_at = Utc::now();
    let streams = loader.checkpointed().await?;
    let dead = loader.dead_letters_by_stream().await?;
    let found = loader.sweeps_found().await?;
    let kept: HashMap<StreamKey, StreamStats> = loader.stream_stats().await?.into_iter().collect();
    let mut organisations = Vec::new();
    for org in &config.organisations {
        let plans = match Adaptive::of(config, org) {
            Some(adaptive) => adaptive.plan(org, loader).await?,
            None => Vec::new(),
        };
        let of_org: Vec<StreamView> = streams
            .iter()
            .filter(|s| s.stream.portal == org.portal)
            .map(|s| {
                let mut status = s.clone();
                status.dead_letters = dead.get(&s.stream).copied().unwrap_or(0);
                // A stream that never had a live row has no row in `stream_stats`.
                let stats = kept.get(&s.stream);
                status.rows = stats.map_or(0, |k| k.live_rows);
                StreamView {
                    newest: stats.and_then(|k| k.newest_modified),
                    plan: plans.iter().find(|p| p.module == s.stream.module).cloned(),
                    sweep_found: found.get(&s.stream).copied(),
                    status,
                }
            })
            .collect();
        organisations.push(org_view(org, loader, taken_at, of_org).await?);
    }
    Ok(Snapshot {
        taken_at,
        organisations,
        runs: loader.recent_runs(RUNS_SHOWN).await?,
    })
}

async fn org_view(
    org: &OrganisationConfig,
    loader: &Loader,
    now: DateTime<Utc>,
    streams: Vec<StreamView>,
) -> Result<OrgView, StoreError> {
    let budget = org.budget();
    let day = budget.rule.day_of(now);
    let (day_start, day_end) = (budget.rule.start_of(day), budget.rule.next_reset(now));
    Ok(OrgView {
        name: org.name.clone(),
        unit: org_model(org).unit,
        limit: org.daily_limit,
        reserve: org.reserve,
        day_start,
        day_end,
        quota: store::quota_today(loader, &budget, now).await?,
        hours: loader.quota_hours(&org.name, day_start, day_end).await?,
        streams,
    })
}
