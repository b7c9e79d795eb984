//! One organisation's loop: wait for the next fire of its schedules (in the server's
//! clock, re-read at no quota cost while waiting, so a server whose clock jumps is
//! followed), pace the round, run it, and record what happened. A refused token ends
//! the loop; anything else is waited out until the next fire.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::adaptive::{passes_left, Adaptive, ModulePlan};
use super::metrics::Telemetry;
use crate::config::{Config, OrganisationConfig};
use crate::loader::Loader;
use crate::pipeline::run::{Backends, OrgOutcome, OrgRunner};
use crate::scheduler::pacing::{pace, rounds_between, PaceInput};
use crate::scheduler::Goal;
use crate::store::{RunKind, Store};
use crate::stream::Module;

/// The longest the loop sleeps before reading the server's clock again.
const CLOCK_CHECK: Duration = Duration::from_secs(2);
/// Rounds counted ahead when pacing (a schedule firing every second has 86,400 a day).
const ROUNDS_CAP: u32 = 100_000;
/// Adaptive modules due within this much of the first are polled in the same round: one
/// round, one run record, instead of several a few seconds apart.
const GATHER: Duration = Duration::from_secs(60);

/// Runs rounds until stopped; returns why it stopped for good, if it did.
pub async fn organisation_loop(
    config: Config,
    org: OrganisationConfig,
    loader: Loader,
    telemetry: Arc<Telemetry>,
    cancel: CancellationToken,
) -> Option<String> {
    let progress = telemetry.progress(&org.name);
    let store: Arc<dyn Store> = Arc::new(loader.clone());
    let backends = Backends {
        tokens: Arc::new(loader.desk_tokens()),
        store: Arc::clone(&store),
    };
    let adaptive = Adaptive::of(&config, &org);
    let runner = match OrgRunner::new(&config, &org, &backends, &cancel, &progress) {
        Ok(runner) => runner,
        Err(e) => {
            tracing::error!(organisation = %org.name, error = %e, "cannot start this organisation");
            return Some(format!("{}: {e}", org.name));
        }
    };
    let schedule = org
        .schedule
        .clone()
        .unwrap_or_else(|| config.daemon.schedule.clone());
    runner.probe_clock().await;
    let mut last = runner.server_now();
    telemetry.set_server_clock(&org.name, last);
    // Until a round has measured it, assume one request per stream.
    let mut per_round =
        u32::try_from(org.modules.len() * org.departments.len()).unwrap_or(u32::MAX);
    // A due module whose round was skipped by pacing, failed, or found its stream held
    // stays due: it is tried again no sooner than the shortest interval later, instead
    // of at every wake-up.
    let mut retry_from = Utc::now();
    while !cancel.is_cancelled() {
        let plans = adaptive_plans(adaptive.as_ref(), &org, store.as_ref()).await;
        telemetry.set_schedule(&org.name, &plans);
        let next_adaptive = adaptive_wake(&plans, retry_from);
        let fire = wait_for_fire(&runner, &org, &schedule, last, next_adaptive, &cancel);
        let Some(now) = fire.await else {
            break;
        };
        telemetry.set_server_clock(&org.name, now);
        let due = due_modules(&org, &schedule, (last, now), &plans, Utc::now());
        if let Some(adaptive) = &adaptive {
            if due.iter().any(|m| adaptive.modules().contains(m)) {
                retry_from = Utc::now() + adaptive.min_interval();
            }
        }
        last = now;
        if due.is_empty() {
            // Only the organisation's schedule fired, and every module has its own: an
            // empty list would mean "all modules" to the planner.
            continue;
        }
        let started = Instant::now();
        let pacing = Pacing {
            schedule: &schedule,
            plans: &plans,
            per_round,
            on: config.daemon.pace,
        };
        let allowance = match paced(&runner, &pacing, now).await {
            Ok(Round::Run { backfills }) => backfills,
            Ok(Round::Skip) => continue,
            Err(e) => {
                tracing::warn!(organisation = %org.name, error = %e, "cannot read the ledger; waiting for the next round");
                continue;
            }
        };
        let goal = Goal::Sync { modules: due };
        match runner.round(RunKind::Daemon, &goal, allowance).await {
            Ok(summary) => {
                per_round = u32::try_from(summary.incremental_requests).unwrap_or(u32::MAX);
                if !summary.held.is_empty() {
                    tracing::info!(organisation = %org.name, streams = summary.held.len(), "streams held by other live processes were left to them; the next round tries again");
                }
                telemetry.round_finished(&org.name, started.elapsed());
                match summary.outcome {
                    OrgOutcome::AuthFailed(e) => {
                        telemetry.auth_failed(&org.name);
                        tracing::error!(organisation = %org.name, error = %e, "token refused; this organisation stops");
                        return Some(format!("{}: {e}", org.name));
                    }
                    OrgOutcome::Failed(e) => {
                        tracing::warn!(organisation = %org.name, error = %e, "round failed; the next round retries");
                    }
                    OrgOutcome::QuotaSpent { resets_at } => {
                        tracing::info!(organisation = %org.name, %resets_at, "budget spent; rounds resume after the reset");
                    }
                    OrgOutcome::Completed | OrgOutcome::Cancelled => {}
                }
            }
            Err(e) => {
                tracing::warn!(organisation = %org.name, error = %e, "round failed; the next round retries");
            }
        }
        if let Ok(today) = runner.quota_today().await {
            telemetry.set_quota(&org.name, today.used, today.left);
        }
    }
    None
}

/// Sleeps until the schedule's next fire after `last`, in the server's clock; `None` if
/// stopped first.
async fn wait_for_fire(
    runner: &OrgRunner,
    org: &OrganisationConfig,
    schedule: &cron::Schedule,
    last: DateTime<Utc>,
    adaptive_due: Option<DateTime<Utc>>,
    cancel: &CancellationToken,
) -> Option<DateTime<Utc>> {
    loop {
        let now = runner.server_now();
        let next = org
            .module_schedules
            .iter()
            .map(|(_, s)| s)
            .chain(std::iter::once(schedule))
            .filter_map(|s| s.after(&last).next())
            .min()?;
        // Adaptive due times are in our clock (when passes completed, by our clock).
        let until_due = adaptive_due.map(|due| due - Utc::now());
        if next <= now || until_due.is_some_and(|d| d <= TimeDelta::zero()) {
            return Some(now);
        }
        let wait = (next - now)
            .min(until_due.unwrap_or(TimeDelta::MAX))
            .to_std()
            .unwrap_or(CLOCK_CHECK)
            .min(CLOCK_CHECK);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return None,
        }
        runner.probe_clock().await;
    }
}

/// Modules due now: those whose schedule fired in `(last, now]` (their own, or the
/// organisation's), and the adaptive ones whose due time (in our clock, `ours`) is
/// reached or near (`GATHER`), or, while they backfill, when the organisation's fired.
fn due_modules(
    org: &OrganisationConfig,
    schedule: &cron::Schedule,
    (last, now): (DateTime<Utc>, DateTime<Utc>),
    plans: &[ModulePlan],
    ours: DateTime<Utc>,
) -> Vec<Module> {
    let fired = |s: &cron::Schedule| s.after(&last).next().is_some_and(|t| t <= now);
    let gather = TimeDelta::from_std(GATHER).unwrap_or_default();
    org.modules
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| {
            if let Some(plan) = plans.iter().find(|p| p.module == *m) {
                return match plan.due_at {
                    Some(due) => due <= ours + gather,
                    None => fired(schedule),
                };
            }
            match org.module_schedules.iter().find(|(sm, _)| sm == m) {
                Some((_, own)) => fired(own),
                None => fired(schedule),
            }
        })
        .collect()
}

/// When the adaptive schedule next wakes the loop: the first due time, but not before
/// `retry_from` (a module still due after its last round waits that long).
fn adaptive_wake(plans: &[ModulePlan], retry_from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    plans
        .iter()
        .filter_map(|p| p.due_at)
        .min()
        .map(|due| due.max(retry_from))
}

/// The adaptive modules' plans; none when the organisation has none, or the database
/// cannot say (the organisation's schedule then goes on alone, and the next wake-up
/// tries again).
async fn adaptive_plans(
    adaptive: Option<&Adaptive>,
    org: &OrganisationConfig,
    store: &dyn Store,
) -> Vec<ModulePlan> {
    let Some(adaptive) = adaptive else {
        return Vec::new();
    };
    match adaptive.plan(org, store).await {
        Ok(plans) => plans,
        Err(e) => {
            tracing::warn!(organisation = %org.name, error = %e, "cannot read the adaptive schedule; retrying after the next wake-up");
            Vec::new()
        }
    }
}

/// The share of the quota day still to come.
fn day_left(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let length = (end - start).num_seconds().max(1) as f64;
    ((end - now).num_seconds() as f64 / length).clamp(0.0, 1.0)
}

/// What pacing says of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// Run it; its backfills may send at most this many requests (`None`: no limit).
    Run { backfills: Option<u32> },
    /// Not now: the pace is ahead of the day.
    Skip,
}

/// What pacing needs to know of the rounds to come.
struct Pacing<'a> {
    schedule: &'a cron::Schedule,
    plans: &'a [ModulePlan],
    per_round: u32,
    on: bool,
}

/// Whether the round runs under pacing, and what its backfills may spend.
async fn paced(
    runner: &OrgRunner,
    pacing: &Pacing<'_>,
    now: DateTime<Utc>,
) -> Result<Round, crate::pipeline::run::RunError> {
    let Pacing {
        schedule,
        plans,
        per_round,
        on,
    } = *pacing;
    if !on {
        return Ok(Round::Run { backfills: None });
    }
    let used = runner.quota_today().await?.used;
    let rule = runner.budget.rule;
    let day = rule.day_of(now);
    let day_start = rule.start_of(day);
    let day_end = rule.next_reset(now);
    let input = PaceInput {
        budget: runner.budget.per_day,
        used,
        day_start,
        day_end,
        now,
        rounds_left: rounds_between(schedule, now, day_end, ROUNDS_CAP)
            .saturating_add(passes_left(plans, day_left(day_start, day_end, now))),
        per_round,
    };
    let decision = pace(&input);
    tracing::debug!(
        used,
        per_round,
        allowance = decision.backfill_allowance,
        incremental = decision.incremental,
        "paced round"
    );
    if !decision.incremental {
        return Ok(Round::Skip);
    }
    Ok(Round::Run {
        backfills: Some(decision.backfill_allowance),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::module::Module as SupportModule;
    use chrono::TimeZone;

    fn organisation(modules: &str) -> OrganisationConfig {
        let text = format!(
            "[[organisations]]\nname = \"o\"\nportal = \"p\"\ndepartments = [\"d\"]\n\
             edition = \"free\"\n[organisations.modules]\n{modules}"
        );
        let config = Config::from_toml(&text, std::iter::empty()).expect("a valid config");
        config.organisations[0].clone()
    }

    #[test]
    fn a_module_with_its_own_schedule_is_due_only_when_that_schedule_fires() {
        let org = organisation(
            "requests = { schedule = \"0 */5 * * * *\" }\ncontacts = { priority = 2 }\n",
        );
        let hourly: cron::Schedule = "0 0 * * * *".parse().unwrap();
        let last = Utc.with_ymd_and_hms(2027, 6, 1, 10, 0, 0).unwrap();
        let five = last + chrono::TimeDelta::minutes(5);
        assert_eq!(
            due_modules(&org, &hourly, (last, five), &[], five),
            [SupportModule::Requests.into()]
        );
        let hour = last + chrono::TimeDelta::hours(1);
        assert_eq!(
            due_modules(
                &org,
                &hourly,
                (hour - chrono::TimeDelta::seconds(1), hour),
                &[],
                hour
            ),
            [
                SupportModule::Requests.into(),
                SupportModule::Contacts.into()
            ]
        );
    }

    #[test]
    fn when_every_module_has_its_own_schedule_the_organisations_fire_selects_none() {
        let org = organisation("requests = { schedule = \"0 0 12 * * *\" }\n");
        let hourly: cron::Schedule = "0 0 * * * *".parse().unwrap();
        let last = Utc.with_ymd_and_hms(2027, 6, 1, 10, 0, 0).unwrap();
        let hour = last + chrono::TimeDelta::hours(1);
        assert!(due_modules(&org, &hourly, (last, hour), &[], hour).is_empty());
    }

    fn plan(module: SupportModule, due_at: Option<DateTime<Utc>>) -> ModulePlan {
        ModulePlan {
            module: module.into(),
            rate_per_day: 10.0,
            passes_per_day: 24.0,
            interval: Duration::from_secs(3_600),
            last_pass: None,
            due_at,
        }
    }

    #[test]
    fn an_adaptive_module_is_due_at_its_own_time_and_a_backfilling_one_when_the_schedule_fires() {
        let org = organisation("requests = {}\ncontacts = {}\ntasks = {}\n");
        let hourly: cron::Schedule = "0 0 * * * *".parse().unwrap();
        let ten = Utc.with_ymd_and_hms(2027, 6, 1, 10, 0, 0).unwrap();
        let later = ten + chrono::TimeDelta::minutes(20);
        let plans = [
            plan(
                SupportModule::Requests,
                Some(later - chrono::TimeDelta::seconds(1)),
            ),
            plan(
                SupportModule::Contacts,
                Some(later + chrono::TimeDelta::seconds(30)),
            ),
            plan(SupportModule::Tasks, None),
        ];
        // Between two fires: the due module and the one due within a minute, together.
        assert_eq!(
            due_modules(&org, &hourly, (ten, later), &plans, later),
            [
                SupportModule::Requests.into(),
                SupportModule::Contacts.into()
            ]
        );
        // The organisation's schedule fires: the backfilling module joins.
        let eleven = ten + chrono::TimeDelta::hours(1);
        let early = [
            plan(
                SupportModule::Requests,
                Some(eleven + chrono::TimeDelta::hours(1)),
            ),
            plan(
                SupportModule::Contacts,
                Some(eleven + chrono::TimeDelta::hours(2)),
            ),
            plan(SupportModule::Tasks, None),
        ];
        assert_eq!(
            due_modules(&org, &hourly, (later, eleven), &early, eleven),
            [SupportModule::Tasks.into()]
        );
    }

    #[test]
    fn a_module_still_due_after_its_round_is_not_woken_for_before_the_retry_time() {
        let ten = Utc.with_ymd_and_hms(2027, 6, 1, 10, 0, 0).unwrap();
        let overdue = [plan(SupportModule::Requests, Some(ten))];
        let retry = ten + chrono::TimeDelta::minutes(1);
        assert_eq!(adaptive_wake(&overdue, retry), Some(retry));
        let later = ten + chrono::TimeDelta::minutes(5);
        let ahead = [plan(SupportModule::Requests, Some(later))];
        assert_eq!(adaptive_wake(&ahead, retry), Some(later));
        assert_eq!(
            adaptive_wake(&[plan(SupportModule::Tasks, None)], retry),
            None
        );
    }
}
