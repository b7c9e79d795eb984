//! The read-only commands: `status` (per stream: rows mirrored, checkpoints, last run,
//! and each organisation's quota today) and `plan` (what the remaining backfills and a day
//! of incremental passes cost, and how many days the budget needs for them). Neither
//! sends a request to the API.

mod schedule;
mod status_json;

use chrono::{TimeDelta, Utc};

use super::sync::{describe_reset, open_database};
use crate::config::{Config, OrganisationConfig, SourceConfig};
use crate::desk::module::{DeskModule, IncrementalRead};
use crate::loader::{DeletionsStatus, FieldSeen, FieldType, StreamStatus, MAX_VIEW_COLUMNS};
use crate::scheduler::estimate::{cost_model, days_needed, org_model, CostModel};
use crate::store::{self, StoreError};
use crate::stream::{Checkpoint, Module, StreamKey};
use status_json::StatusDocument;

/// How far back `plan` looks to measure how many records change per day.
const CHANGE_WINDOW_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot use the database: {0}")]
    Database(#[from] StoreError),
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
}

/// The backfill's state as `status` prints it: a backfill that completed before and runs
/// again is a resync.
fn backfill_shown(cp: Option<&Checkpoint>) -> String {
    match cp {
        Some(c) if c.in_progress && c.passes > 0 => format!("resync at row {}", c.cursor.next),
        other => backfill_state(other),
    }
}

/// The backfill's state as `status --json` and `plan` give it.
fn backfill_state(cp: Option<&Checkpoint>) -> String {
    match cp {
        Some(cp) if cp.in_progress => format!("at row {}", cp.cursor.next),
        Some(cp) if cp.completed_at.is_some() => "complete".into(),
        _ => "not started".into(),
    }
}

fn watermark(cp: Option<&Checkpoint>) -> String {
    cp.and_then(|c| c.watermark).map_or_else(
        || "-".into(),
        |w| w.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn last_run(status: &StreamStatus) -> String {
    status.last_run.as_ref().map_or_else(
        || "-".into(),
        |r| {
            let outcome = r.outcome.map_or("running or died", |o| o.as_str());
            match &r.instance {
                Some(by) => format!("#{} {} {} ({by})", r.id, r.kind.as_str(), outcome),
                None => format!("#{} {} {}", r.id, r.kind.as_str(), outcome),
            }
        },
    )
}

/// `zoho-sync status --html FILE`: the daemon's status page, written once.
pub async fn status_page(config: &Config, file: &std::path::Path) -> Result<(), ReportError> {
    let loader = open_database(config).await?;
    let snapshot = crate::daemon::console::snapshot(config, &loader).await?;
    std::fs::write(file, crate::daemon::console::render(&snapshot))?;
    println!("status page written to {}", file.display());
    Ok(())
}

/// `zoho-sync status [--json]`.
pub async fn status(config: &Config, as_json: bool) -> Result<(), ReportError> {
    let loader = open_database(config).await?;
    let streams = loader.status().await?;
    let fields = loader.fields_seen().await?;
    // The quota day is the server's: read its clock (no request of the quota), or
    // fall back to ours when it cannot be reached.
    let now = super::server_now(config).await;
    let mut quotas = Vec::new();
    for org in &config.organisations {
        quotas.push((org, store::quota_today(&loader, &org.budget(), now).await?));
    }
    if as_json {
        let mut schedules = Vec::new();
        for org in &config.organisations {
            schedules.extend(schedule::schedule(config, org, &loader).await?);
        }
        let share = schedule::incremental_share(config);
        let document =
            StatusDocument::new(&streams, &quotas, &fields).with_schedules(&schedules, share);
        println!("{}", document.to_line().map_err(std::io::Error::from)?);
        return Ok(());
    }
    println!(
        "{:<32} {:>9} {:>6} {:<16} {:<24} LAST RUN",
        "STREAM", "ROWS", "DEAD", "BACKFILL", "INCREMENTAL SINCE"
    );
    for s in &streams {
        println!(
            "{:<32} {:>9} {:>6} {:<16} {:<24} {}",
            s.stream.to_string(),
            s.rows,
            s.dead_letters,
            backfill_shown(s.backfill.as_ref()),
            watermark(s.incremental.as_ref()),
            last_run(s)
        );
    }
    print_fields(&loader, &fields);
    print_deletions(config, &loader.deletions_status().await?);
    for org in &config.organisations {
        schedule::print_schedule(config, org, &loader).await?;
    }
    for (org, q) in &quotas {
        let unit = org_model(org).unit;
        println!(
            "{}: {} {unit} used today, {} left; the quota resets {}",
            org.name,
            q.used,
            q.left,
            describe_reset(q.resets_at)
        );
    }
    Ok(())
}

/// Per Zoho Desk organisation, how far its recycle bin's deletions are applied.
fn print_deletions(config: &Config, walks: &[DeletionsStatus]) {
    for org in &config.organisations {
        let SourceConfig::Desk(desk) = &org.source else {
            continue;
        };
        match walks.iter().find(|w| w.portal == desk.org_id) {
            Some(w) => println!(
                "{}: deletions applied through {} (recycle bin last walked {}){}",
                org.name,
                w.deleted_through.format("%Y-%m-%d %H:%M:%S UTC"),
                w.walked_at.format("%Y-%m-%d %H:%M:%S UTC"),
                if w.dead_letters > 0 {
                    format!("; {} unreadable bin rows in dead letters", w.dead_letters)
                } else {
                    String::new()
                }
            ),
            None => println!("{}: the recycle bin was never walked", org.name),
        }
    }
}

/// Custom fields listed per module by the text `status` (`--json` lists them all).
const LISTED_FIELDS: usize = 50;

/// How much of a label the text `status` shows: a server chooses its length.
const LABEL_CHARS: usize = 40;

/// Per module, how many fields were seen (standard ones in a line), how many custom
/// fields have values but no view column, then the first custom fields: type, view
/// column and when each first appeared.
fn print_fields(loader: &crate::loader::Loader, fields: &[FieldSeen]) {
    let mut modules: Vec<_> = fields.iter().map(|f| f.module).collect();
    modules.dedup();
    for module in modules {
        let of_module: Vec<&FieldSeen> = fields.iter().filter(|f| f.module == module).collect();
        let standard = of_module.iter().filter(|f| f.standard).count();
        println!(
            "{module}: {} fields seen, {standard} standard; view {}",
            of_module.len(),
            loader.view_of(module)
        );
        let unviewed = of_module
            .iter()
            .filter(|f| !f.standard && f.value_type.is_some() && f.column.is_none())
            .count();
        if unviewed > 0 {
            println!(
                "  {unviewed} custom fields with values have no view column (a view holds at most {MAX_VIEW_COLUMNS} columns); their values are in the `fields` column"
            );
        }
        let custom: Vec<_> = of_module.iter().filter(|f| !f.standard).collect();
        for f in custom.iter().take(LISTED_FIELDS) {
            print_field(f);
        }
        if custom.len() > LISTED_FIELDS {
            println!(
                "  ... and {} more custom fields (`status --json` lists them all)",
                custom.len() - LISTED_FIELDS
            );
        }
    }
}

fn print_field(f: &FieldSeen) {
    let ty = f.value_type.map_or("(no value yet)", FieldType::as_str);
    let column = f
        .column
        .as_ref()
        .map_or_else(|| "-".to_string(), |(name, ty)| format!("{name} {ty}"));
    let mut label: String = f.label.chars().take(LABEL_CHARS).collect();
    if label.len() < f.label.len() {
        label.push('…');
    }
    println!(
        "  {:<32} {:<14} column {:<32} first seen {}",
        label,
        ty,
        column,
        f.first_seen_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
}

/// `zoho-sync plan`: a dry run from what the mirror knows.
pub async fn plan(config: &Config) -> Result<(), ReportError> {
    let loader = open_database(config).await?;
    let statuses = loader.status().await?;
    let since = Utc::now() - TimeDelta::days(CHANGE_WINDOW_DAYS);
    for org in &config.organisations {
        let unit = org_model(org).unit;
        let budget = u64::from(org.budget().per_day);
        println!("{}: {budget} {unit} a day for zoho-sync", org.name);
        println!(
            "  {:<32} {:>9} {:<14} {:>17} {:>19} {:>14}",
            "STREAM", "ROWS", "BACKFILL", "BACKFILL LEFT", "INCREMENTAL PER DAY", "SWEEP"
        );
        let mut totals = PlanTotals::default();
        for department in &org.departments {
            for &(module, _) in &org.modules {
                let key = StreamKey {
                    portal: org.portal.clone(),
                    department: department.clone(),
                    module,
                };
                let status = statuses.iter().find(|s| s.stream == key);
                let changes = u64::try_from(loader.modified_since(&key, since).await?).unwrap_or(0);
                let model = cost_model(org, module);
                plan_stream(org, model, &key, status, changes, &mut totals);
            }
        }
        if matches!(org.source, SourceConfig::Desk(_)) {
            // The recycle bin is walked every round, for every module at once.
            totals.daily += CostModel::DESK.request_cost;
            println!(
                "  {:<32} {:>9} {:<14} {:>17} {:>19} {:>14}",
                "recycle bin (deletions)",
                "",
                "",
                "",
                CostModel::DESK.request_cost,
                ""
            );
        }
        print_plan_totals(budget, org_model(org), &totals);
        schedule::print_schedule(config, org, &loader).await?;
    }
    Ok(())
}

/// What `plan` adds up over an organisation's streams.
#[derive(Default)]
struct PlanTotals {
    backfill: u64,
    daily: u64,
    sweeps_daily: u64,
    /// Some backfill's size is unknown (it has not reached its end).
    unknown: bool,
}

fn plan_stream(
    org: &OrganisationConfig,
    model: CostModel,
    key: &StreamKey,
    status: Option<&StreamStatus>,
    changes: u64,
    totals: &mut PlanTotals,
) {
    let backfill = status.and_then(|s| s.backfill.as_ref());
    let rows = status.map_or(0, |s| s.rows);
    let done = backfill.is_some_and(|c| c.completed_at.is_some() && !c.in_progress);
    let changed = model.per_day(changes.div_ceil(CHANGE_WINDOW_DAYS as u64), 1);
    let daily = match (&org.source, key.module.desk().map(|m| m.incremental())) {
        (_, Some(IncrementalRead::FullList)) => model.pass(u64::try_from(rows).unwrap_or(0)),
        // The agent list, then at least one request per agent (the configured count).
        (SourceConfig::Desk(desk), Some(IncrementalRead::PerAgent)) => {
            changed + model.request_cost * u64::from(desk.agents)
        }
        // The second walk of tickets, by the customer's response: a search when quiet.
        (SourceConfig::Desk(_), Some(IncrementalRead::Search))
            if key.module.desk() == Some(DeskModule::Tickets) =>
        {
            changed + model.request_cost
        }
        _ => changed,
    };
    totals.daily += daily;
    let remaining = if done {
        "0".to_string()
    } else {
        totals.unknown = true;
        // The source's size is unknown until the backfill reaches its end; what is
        // mirrored already is a lower bound of what it cost.
        format!(
            "> {}",
            model.pass(u64::try_from(rows).unwrap_or(0)) - model.request_cost
        )
    };
    let (sweep, per_day) = sweep_cost(org, model, key.module, rows);
    totals.sweeps_daily += per_day;
    println!(
        "  {:<32} {:>9} {:<14} {:>17} {:>19} {:>14}",
        key.to_string(),
        rows,
        backfill_state(backfill),
        remaining,
        daily,
        sweep
    );
}

fn print_plan_totals(budget: u64, model: CostModel, totals: &PlanTotals) {
    let (unit, daily) = (model.unit, totals.daily);
    let free = budget.saturating_sub(daily);
    match days_needed(totals.backfill, free) {
        _ if totals.unknown => println!(
            "  incremental passes need ~{daily} {unit} a day, leaving {free} a day \
             (≈ {} records) for backfills of unknown size",
            free / model.request_cost * model.rows_per_request
        ),
        Some(days) => println!(
            "  incremental passes need ~{daily} {unit} a day; backfills are done ({days} days left)"
        ),
        None => println!(
            "  incremental passes alone need {daily} of {budget} {unit} a day: \
             nothing is left for backfills"
        ),
    }
    println!(
        "  sweeps (finding deleted records) need ~{} {unit} a day on average, \
         from what incremental passes and backfills leave",
        totals.sweeps_daily
    );
}

/// A module's sweep: its cost and cadence as shown ("51 / 7 d", or "off"), and its
/// cost spread over a day.
fn sweep_cost(
    org: &OrganisationConfig,
    model: CostModel,
    module: Module,
    rows: i64,
) -> (String, u64) {
    let Some(every) = org.sweep_every(module) else {
        return ("off".into(), 0);
    };
    let days = u64::try_from(every.num_days()).unwrap_or(1).max(1);
    // A sweep reads every record (the legacy API's ids only; a Desk reconciliation by
    // creation time), as a backfill does.
    let units = model.pass(u64::try_from(rows).unwrap_or(0));
    (format!("{units} / {days} d"), units.div_ceil(days))
}
