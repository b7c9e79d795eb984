//! What the daemon reports at `/metrics`: one `prometheus-client` `Registry`, built when
//! the daemon starts, encoded in the Prometheus text format (0.0.4) at each scrape. The
//! crate writes every name, type line and label (escaping the values); no secret is a
//! label.
//!
//! Each figure has one source of truth. The pipelines' counters (requests by method and
//! outcome, records, pages, dead letters, retries) live in each organisation's
//! `telemetry::Progress`, which the pipelines update whether or not a daemon runs them: a
//! collector (`PipelineCounters`) reads those atomics at scrape time instead of mirroring
//! them into counters of the crate, which would be a second count to keep in step. What
//! only the daemon knows (refused tokens, round durations, the quota after each round) is
//! kept in the crate's own families, updated where it happens.
//!
//! A scrape stays cheap whatever the size of the mirror: lag comes from `stream_stats`,
//! one row per stream that every page's commit keeps (never a scan of a mirror table),
//! read with a short timeout, and is measured in the server's clock (as the daemon last
//! read it), the clock the Modified Times are written in, so a skewed local clock does not
//! skew it. Each scrape refills the lag family with its own reading, under a lock held
//! only while it refills and encodes, so concurrent scrapes never mix their readings.

mod pipeline_counters;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::adaptive::ModulePlan;
use crate::config::Config;
use crate::loader::Loader;
use crate::stream::StreamKey;
use crate::telemetry::{Progress, Throttle};
use pipeline_counters::PipelineCounters;

/// How long a scrape waits for the database: it must answer well inside a scraper's (or
/// a health check's) timeout even when the database does not.
pub const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// At most one warning a minute about a scrape that could not read the lag.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Upper bounds of the round-duration buckets, in seconds: from a round of a page or two
/// to one that spends a whole day's budget.
const ROUND_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The label of every per-organisation family.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    organisation: String,
}

impl OrgLabels {
    fn of(org: &str) -> OrgLabels {
        OrgLabels {
            organisation: org.to_string(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    portal: String,
    department: String,
    module: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModuleLabels {
    organisation: String,
    module: &'static str,
}

/// What the pipelines and the lag need to know of an organisation.
#[derive(Debug, Default)]
struct OrgState {
    progress: Arc<Progress>,
    portal: String,
    /// The server's clock less ours, as last read.
    clock_offset: TimeDelta,
    /// The adaptive schedule, as the organisation's loop last planned it.
    plans: Vec<ModulePlan>,
}

type Orgs = Arc<Mutex<BTreeMap<String, OrgState>>>;

/// The families the daemon itself updates.
struct Families {
    auth_failures: Family<OrgLabels, Counter>,
    round_duration: Family<OrgLabels, Histogram, fn() -> Histogram>,
    quota_used: Family<OrgLabels, Gauge>,
    quota_left: Family<OrgLabels, Gauge>,
    lag: Family<StreamLabels, Gauge<f64, AtomicU64>>,
    change_rate: Family<ModuleLabels, Gauge<f64, AtomicU64>>,
    planned_passes: Family<ModuleLabels, Gauge<f64, AtomicU64>>,
    next_due: Family<ModuleLabels, Gauge<f64, AtomicU64>>,
    lag_estimate: Family<ModuleLabels, Gauge<f64, AtomicU64>>,
}

impl Families {
    fn new() -> Families {
        Families {
            auth_failures: Family::default(),
            round_duration: Family::new_with_constructor(|| Histogram::new(ROUND_BUCKETS)),
            quota_used: Family::default(),
            quota_left: Family::default(),
            lag: Family::default(),
            change_rate: Family::default(),
            planned_passes: Family::default(),
            next_due: Family::default(),
            lag_estimate: Family::default(),
        }
    }

    /// Registers them; the crate adds each help text's final period and a counter's
    /// `_total`.
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "zoho_sync_auth_failures",
            "Rounds stopped by a refused authtoken",
            self.auth_failures.clone(),
        );
        registry.register(
            "zoho_sync_round_duration_seconds",
            "Duration of the daemon's rounds",
            self.round_duration.clone(),
        );
        registry.register(
            "zoho_sync_quota_used",
            "Requests the ledger counts today",
            self.quota_used.clone(),
        );
        registry.register(
            "zoho_sync_quota_left",
            "Requests left of today's budget",
            self.quota_left.clone(),
        );
        registry.register(
            "zoho_sync_lag_seconds",
            "Age of the newest mirrored Modified Time per stream",
            self.lag.clone(),
        );
        registry.register(
            "zoho_sync_change_rate_per_day",
            "Changes a day the adaptive schedule has learned per module",
            self.change_rate.clone(),
        );
        registry.register(
            "zoho_sync_planned_passes_per_day",
            "Incremental passes a day the adaptive schedule plans per module",
            self.planned_passes.clone(),
        );
        registry.register(
            "zoho_sync_next_pass_due_timestamp_seconds",
            "When the adaptive schedule next polls each module (Unix time)",
            self.next_due.clone(),
        );
        registry.register(
            "zoho_sync_lag_estimate_seconds",
            "Time since each adaptive module's last incremental pass: changes made since are not yet mirrored",
            self.lag_estimate.clone(),
        );
    }
}

pub struct Telemetry {
    config: Config,
    registry: Registry,
    families: Families,
    orgs: Orgs,
    /// Held while a scrape refills the lag and encodes.
    scrape: Mutex<()>,
    loader: OnceLock<Loader>,
    warnings: Throttle,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Telemetry {
    pub fn new(config: &Config) -> Telemetry {
        let families = Families::new();
        let mut orgs = BTreeMap::new();
        for org in &config.organisations {
            let state = OrgState {
                portal: org.portal.clone(),
                ..OrgState::default()
            };
            orgs.insert(org.name.clone(), state);
            // Both are reported from the start, at zero, for every organisation.
            families
                .auth_failures
                .get_or_create_owned(&OrgLabels::of(&org.name));
            families
                .round_duration
                .get_or_create_owned(&OrgLabels::of(&org.name));
        }
        let orgs: Orgs = Arc::new(Mutex::new(orgs));
        let mut registry = Registry::default();
        families.register(&mut registry);
        registry.register_collector(Box::new(PipelineCounters::new(Arc::clone(&orgs))));
        Telemetry {
            config: config.clone(),
            registry,
            families,
            orgs,
            scrape: Mutex::new(()),
            loader: OnceLock::new(),
            warnings: Throttle::new(WARN_EVERY),
        }
    }

    pub fn set_loader(&self, loader: Loader) {
        let _ = self.loader.set(loader);
    }

    pub fn loader(&self) -> Option<&Loader> {
        self.loader.get()
    }

    /// The configuration the daemon runs (the status page reads its organisations).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters an organisation's pipelines update.
    pub fn progress(&self, org: &str) -> Arc<Progress> {
        Arc::clone(
            &lock(&self.orgs)
                .entry(org.to_string())
                .or_default()
                .progress,
        )
    }

    pub fn round_finished(&self, org: &str, took: Duration) {
        self.families
            .round_duration
            .get_or_create(&OrgLabels::of(org))
            .observe(took.as_secs_f64());
    }

    pub fn auth_failed(&self, org: &str) {
        self.families
            .auth_failures
            .get_or_create(&OrgLabels::of(org))
            .inc();
    }

    pub fn set_quota(&self, org: &str, used: u32, left: u32) {
        let labels = OrgLabels::of(org);
        let families = &self.families;
        families.quota_used.get_or_create(&labels).set(used.into());
        families.quota_left.get_or_create(&labels).set(left.into());
    }

    /// Records the organisation's adaptive schedule as just planned.
    pub fn set_schedule(&self, org: &str, plans: &[ModulePlan]) {
        lock(&self.orgs).entry(org.to_string()).or_default().plans = plans.to_vec();
    }

    /// Records the organisation's reading of its server's clock.
    pub fn set_server_clock(&self, org: &str, server_now: DateTime<Utc>) {
        lock(&self.orgs)
            .entry(org.to_string())
            .or_default()
            .clock_offset = server_now - Utc::now();
    }

    /// The server's clock now for a portal (ours if no organisation reads it).
    fn server_now(&self, portal: &str) -> DateTime<Utc> {
        let offset = lock(&self.orgs)
            .values()
            .find(|state| state.portal == portal)
            .map_or_else(TimeDelta::zero, |state| state.clock_offset);
        Utc::now() + offset
    }

    /// The Prometheus text of everything known now.
    pub async fn render(&self) -> String {
        let newest = self.newest_modified().await;
        let _scrape = lock(&self.scrape);
        self.fill_lag(newest.as_deref());
        self.fill_schedule(Utc::now());
        let mut text = String::new();
        // Only the writer can fail, and a String's never does.
        if let Err(error) = prometheus_text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        text
    }

    /// Replaces the lag family with this reading: none at all (the crate then leaves the
    /// family out) when the database did not answer.
    fn fill_lag(&self, newest: Option<&[(StreamKey, DateTime<Utc>)]>) {
        self.families.lag.clear();
        for (stream, at) in newest.unwrap_or_default() {
            let now = self.server_now(&stream.portal);
            let labels = StreamLabels {
                portal: stream.portal.clone(),
                department: stream.department.clone(),
                module: stream.module.key(),
            };
            let lag = (now - *at).num_milliseconds() as f64 / 1000.0;
            self.families.lag.get_or_create(&labels).set(lag);
        }
    }

    /// Replaces the adaptive schedule's families with the plans last made.
    fn fill_schedule(&self, now: DateTime<Utc>) {
        let families = &self.families;
        for family in [
            &families.change_rate,
            &families.planned_passes,
            &families.next_due,
            &families.lag_estimate,
        ] {
            family.clear();
        }
        for (org, state) in lock(&self.orgs).iter() {
            for plan in &state.plans {
                let labels = ModuleLabels {
                    organisation: org.clone(),
                    module: plan.module.key(),
                };
                let rate = families.change_rate.get_or_create(&labels);
                rate.set(plan.rate_per_day);
                let passes = families.planned_passes.get_or_create(&labels);
                passes.set(plan.passes_per_day);
                if let Some(due) = plan.due_at {
                    let at = due.timestamp_millis() as f64 / 1000.0;
                    families.next_due.get_or_create(&labels).set(at);
                }
                if let Some(last) = plan.last_pass {
                    let age = (now - last).num_milliseconds() as f64 / 1000.0;
                    families.lag_estimate.get_or_create(&labels).set(age);
                }
            }
        }
    }

    /// Each stream's newest mirrored Modified Time; `None` (and a throttled warning) when
    /// the database does not say within `DATABASE_WAIT`.
    async fn newest_modified(&self) -> Option<Vec<(StreamKey, DateTime<Utc>)>> {
        let loader = self.loader()?;
        match tokio::time::timeout(DATABASE_WAIT, loader.newest_modified()).await {
            Ok(Ok(newest)) => return Some(newest),
            Ok(Err(error)) => self.lag_unread(&error),
            Err(_) => self.lag_unread(&format_args!("no answer within {DATABASE_WAIT:?}")),
        }
        None
    }

    fn lag_unread(&self, error: &dyn std::fmt::Display) {
        if let Some(held_back) = self.warnings.admit("lag", std::time::Instant::now()) {
            tracing::warn!(%error, held_back, "cannot read the mirror's lag for metrics");
        }
    }
}

#[cfg(test)]
mod tests;
