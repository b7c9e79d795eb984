//! The adaptive schedule as `plan` and `status` print it: per module, the change rate
//! learned, the passes a day the budget gives it, the interval, the mean wait of a change
//! (half the interval) and when it is next due. The same computation the daemon makes
//! (`daemon::adaptive`), from the same tables, so what is printed is what the daemon does.

use chrono::{DateTime, Utc};

use crate::config::{Config, OrganisationConfig};
use crate::daemon::adaptive::{Adaptive, ModulePlan};
use crate::daemon::console::span;
use crate::loader::Loader;
use crate::store::StoreError;

/// An organisation's adaptive schedule: its modules' plans and the modules left on fixed
/// schedules.
pub struct Schedule<'c> {
    pub org: &'c OrganisationConfig,
    pub plans: Vec<ModulePlan>,
    pub fixed: Vec<&'static str>,
}

/// The organisation's adaptive schedule; `None` when it polls on fixed schedules.
pub async fn schedule<'c>(
    config: &Config,
    org: &'c OrganisationConfig,
    loader: &Loader,
) -> Result<Option<Schedule<'c>>, StoreError> {
    let Some(adaptive) = Adaptive::of(config, org) else {
        return Ok(None);
    };
    let plans = adaptive.plan(org, loader).await?;
    let fixed = org
        .modules
        .iter()
        .filter(|(m, _)| !adaptive.modules().contains(m))
        .map(|(m, _)| m.key())
        .collect();
    Ok(Some(Schedule { org, plans, fixed }))
}

/// Prints the organisation's adaptive schedule; nothing when it polls on fixed schedules.
pub async fn print_schedule(
    config: &Config,
    org: &OrganisationConfig,
    loader: &Loader,
) -> Result<(), StoreError> {
    let Some(Schedule { plans, fixed, .. }) = schedule(config, org, loader).await? else {
        return Ok(());
    };
    println!(
        "{}: adaptive polling ({} of the budget for incremental passes)",
        org.name,
        percent(config)
    );
    println!(
        "  {:<14} {:>12} {:>11} {:>10} {:>19} NEXT PASS DUE",
        "MODULE", "CHANGES/DAY", "PASSES/DAY", "EVERY", "EXPECTED STALENESS"
    );
    for plan in &plans {
        println!(
            "  {:<14} {:>12.1} {:>11.1} {:>10} {:>19} {}",
            plan.module.key(),
            plan.rate_per_day,
            plan.passes_per_day,
            span(plan.interval.as_secs()),
            span(plan.expected_staleness().as_secs()),
            due(plan, Utc::now())
        );
    }
    if !fixed.is_empty() {
        println!("  on fixed schedules: {}", fixed.join(", "));
    }
    Ok(())
}

fn percent(config: &Config) -> String {
    format!("{:.0}%", incremental_share(config) * 100.0)
}

/// The share of the day's budget the adaptive schedule plans incremental passes with.
pub fn incremental_share(config: &Config) -> f64 {
    match config.daemon.polling {
        crate::config::Polling::Adaptive(a) => a.incremental_share,
        crate::config::Polling::Fixed => 0.0,
    }
}

fn due(plan: &ModulePlan, now: DateTime<Utc>) -> String {
    match plan.due_at {
        None => "after its backfill (on the organisation's schedule)".into(),
        Some(at) if at <= now => "now".into(),
        Some(at) => format!(
            "{} (in {})",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            span(u64::try_from((at - now).num_seconds()).unwrap_or(0))
        ),
    }
}
