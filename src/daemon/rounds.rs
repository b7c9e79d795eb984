//! One organisation's loop: wait for the next fire of its schedules (in the server's
//! clock, re-read at no quota cost while waiting, so a server whose clock jumps is
//! followed), pace the round, run it, and record what happened. A refused token ends
//! the loop; anything else is waited out until the next fire.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::metrics::Telemetry;
use crate::config::{Config, OrganisationConfig};
use crate::loader::Loader;
use crate::pipeline::run::{Backends, OrgOutcome, OrgRunner};
use crate::scheduler::pacing::{pace, rounds_between, PaceInput};
use crate::scheduler::Goal;
use crate::store::RunKind;
use crate::stream::Module;

/// The longest the loop sleeps before reading the server's clock again.
const CLOCK_CHECK: Duration = Duration::from_secs(2);
/// Rounds counted ahead when pacing (a schedule firing every second has 86,400 a day).
const ROUNDS_CAP: u32 = 100_000;

/// Runs rounds until stopped; returns why it stopped for good, if it did.
pub async fn organisation_loop(
    config: Config,
    org: OrganisationConfig,
    loader: Loader,
    telemetry: Arc<Telemetry>,
    cancel: CancellationToken,
) -> Option<String> {
    let progress = telemetry.progress(&org.name);
    let backends = Backends {
        tokens: Arc::new(loader.desk_tokens()),
        store: Arc::new(loader),
    };
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
    while !cancel.is_cancelled() {
        let Some(now) = wait_for_fire(&runner, &org, &schedule, last, &cancel).await else {
            break;
        };
        telemetry.set_server_clock(&org.name, now);
        let due = due_modules(&org, &schedule, last, now);
        last = now;
        if due.is_empty() {
            // Only the organisation's schedule fired, and every module has its own: an
            // empty list would mean "all modules" to the planner.
            continue;
        }
        let started = Instant::now();
        let allowance = match paced(&runner, &schedule, now, per_round, config.daemon.pace).await {
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
        if next <= now {
            return Some(now);
        }
        let wait = (next - now)
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

/// Modules whose schedule fired in `(last, now]`: their own, or the organisation's.
fn due_modules(
    org: &OrganisationConfig,
    schedule: &cron::Schedule,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Module> {
    let fired = |s: &cron::Schedule| s.after(&last).next().is_some_and(|t| t <= now);
    org.modules
        .iter()
        .map(|(m, _)| *m)
        .filter(
            |m| match org.module_schedules.iter().find(|(sm, _)| sm == m) {
                Some((_, own)) => fired(own),
                None => fired(schedule),
            },
        )
        .collect()
}

/// What pacing says of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// Run it; its backfills may send at most this many requests (`None`: no limit).
    Run { backfills: Option<u32> },
    /// Not now: the pace is ahead of the day.
    Skip,
}

/// Whether the round runs under pacing, and what its backfills may spend.
async fn paced(
    runner: &OrgRunner,
    schedule: &cron::Schedule,
    now: DateTime<Utc>,
    per_round: u32,
    pacing: bool,
) -> Result<Round, crate::pipeline::run::RunError> {
    if !pacing {
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
        rounds_left: rounds_between(schedule, now, day_end, ROUNDS_CAP),
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
            due_modules(&org, &hourly, last, five),
            [SupportModule::Requests.into()]
        );
        let hour = last + chrono::TimeDelta::hours(1);
        assert_eq!(
            due_modules(&org, &hourly, hour - chrono::TimeDelta::seconds(1), hour),
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
        assert!(due_modules(&org, &hourly, last, hour).is_empty());
    }
}
