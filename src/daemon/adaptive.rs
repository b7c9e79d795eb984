//! The adaptive schedule of one organisation, as the database says it stands: each
//! module that polls adaptively gets its passes a day from the square-root allocator
//! (`scheduler::freshness`) over the change rates its streams' incremental passes taught
//! (`stream_rates`), and is due that interval after its last incremental pass. A module
//! still backfilling has no due time of its own: the organisation's schedule runs its
//! backfill, as it runs every fixed module. Computed afresh from the database each time
//! (a few small reads, no request), so every process sharing the database, and `status`
//! and `plan`, see the same schedule.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::{AdaptivePolling, Config, OrganisationConfig, Polling, SourceConfig};
use crate::scheduler::estimate::cost_model;
use crate::scheduler::freshness::{allocate, interval, Demand, RateEstimate};
use crate::store::{Store, StoreError};
use crate::stream::{Module, PassKind, StreamKey};

/// Credits a Zoho Desk round spends walking the recycle bin, whatever it polls.
const DESK_BIN_WALK: f64 = 3.0;

/// One adaptive module's place in the schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ModulePlan {
    pub module: Module,
    /// Changes a day, learned (summed over the module's streams).
    pub rate_per_day: f64,
    /// Passes a day the budget gives it.
    pub passes_per_day: f64,
    pub interval: Duration,
    /// When its last incremental pass completed (the backfill's end before the first).
    pub last_pass: Option<DateTime<Utc>>,
    /// When it is next due; `None` while a stream of it is still backfilling.
    pub due_at: Option<DateTime<Utc>>,
}

impl ModulePlan {
    /// The mean time a change waits for the module's next pass at this interval.
    pub fn expected_staleness(&self) -> Duration {
        self.interval / 2
    }
}

/// The adaptive modules of an organisation and the settings they are planned with.
#[derive(Clone, Debug)]
pub struct Adaptive {
    settings: AdaptivePolling,
    modules: Vec<Module>,
}

impl Adaptive {
    /// `None` when the daemon polls on fixed schedules, or every module has its own.
    pub fn of(config: &Config, org: &OrganisationConfig) -> Option<Adaptive> {
        let Polling::Adaptive(settings) = config.daemon.polling else {
            return None;
        };
        let modules: Vec<Module> = org
            .modules
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| is_adaptive(org, *m))
            .collect();
        (!modules.is_empty()).then_some(Adaptive { settings, modules })
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The shortest interval between two passes of a module.
    pub fn min_interval(&self) -> TimeDelta {
        TimeDelta::from_std(self.settings.bounds.min_interval).unwrap_or(TimeDelta::MAX)
    }

    /// Each adaptive module's rate, passes, interval and due time.
    pub async fn plan(
        &self,
        org: &OrganisationConfig,
        store: &dyn Store,
    ) -> Result<Vec<ModulePlan>, StoreError> {
        let rates: HashMap<StreamKey, RateEstimate> =
            store.change_rates(&org.portal).await?.into_iter().collect();
        let mut demands = Vec::new();
        let mut lasts = Vec::new();
        for &module in &self.modules {
            let keys = org.streams(&[module]);
            let rate_per_day = keys
                .iter()
                .map(|k| rates.get(k).copied().unwrap_or_default().per_day())
                .sum();
            demands.push(demand(org, module, keys.len(), rate_per_day));
            lasts.push(last_pass(store, &keys).await?);
        }
        let budget = f64::from(org.budget().per_day) * self.settings.incremental_share;
        let passes = allocate(&demands, budget, self.settings.bounds);
        Ok(self
            .modules
            .iter()
            .zip(demands.iter().zip(passes))
            .zip(lasts)
            .map(|((&module, (demand, passes_per_day)), last)| {
                let interval = interval(passes_per_day, self.settings.bounds);
                let step = TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX);
                ModulePlan {
                    module,
                    rate_per_day: demand.rate_per_day,
                    passes_per_day,
                    interval,
                    last_pass: last.last(),
                    due_at: last.last().map(|at| at + step),
                }
            })
            .collect())
    }
}

/// Whether `module` of `org` polls adaptively (when the daemon does): it names no
/// schedule of its own, did not ask for the fixed one, and its organisation names none.
pub fn is_adaptive(org: &OrganisationConfig, module: Module) -> bool {
    org.schedule.is_none()
        && !org.module_schedules.iter().any(|(m, _)| *m == module)
        && !org.fixed_modules.contains(&module)
}

/// What a module's passes cost: a request (or search) per stream, plus the recycle bin's
/// walk a Desk round makes, and its pages of changes.
fn demand(org: &OrganisationConfig, module: Module, streams: usize, rate_per_day: f64) -> Demand {
    let model = cost_model(org, module);
    let request = model.request_cost as f64;
    let bin = match org.source {
        SourceConfig::Desk(_) => DESK_BIN_WALK,
        SourceConfig::Support(_) => 0.0,
    };
    Demand {
        rate_per_day,
        pass_cost: streams as f64 * request + bin,
        change_cost: request / model.rows_per_request as f64,
    }
}

/// Where a module's streams stand for the schedule.
enum Last {
    /// A stream has not completed its backfill: the organisation's schedule runs it.
    Backfilling,
    /// Every stream is complete; the oldest last pass (incremental, else backfill).
    At(DateTime<Utc>),
}

impl Last {
    fn last(&self) -> Option<DateTime<Utc>> {
        match self {
            Last::Backfilling => None,
            Last::At(at) => Some(*at),
        }
    }
}

async fn last_pass(store: &dyn Store, keys: &[StreamKey]) -> Result<Last, StoreError> {
    let mut oldest: Option<DateTime<Utc>> = None;
    for key in keys {
        let backfill = store.checkpoint(key, PassKind::Backfill).await?;
        let Some(backfilled) = backfill.completed_at.filter(|_| !backfill.in_progress) else {
            return Ok(Last::Backfilling);
        };
        let incremental = store.checkpoint(key, PassKind::Incremental).await?;
        let last = incremental.completed_at.unwrap_or(backfilled);
        oldest = Some(oldest.map_or(last, |o| o.min(last)));
    }
    Ok(oldest.map_or(Last::Backfilling, Last::At))
}

/// Passes still planned today: each module's passes a day times the share of the day left.
pub fn passes_left(plans: &[ModulePlan], day_left: f64) -> u32 {
    let total: f64 = plans.iter().map(|p| p.passes_per_day).sum();
    (total * day_left.clamp(0.0, 1.0)).ceil() as u32
}

#[cfg(test)]
mod tests;
