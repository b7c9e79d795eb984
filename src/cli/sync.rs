//! The one-shot sync commands, `backfill` and `sync`: open the database, run the pipeline
//! under a progress display, and print a summary. The stop token (`shutdown`) stops
//! between pages: what is committed stays, what is in flight lands or is fetched again
//! next time. A spent budget ends the command with exit code 0 and the moment it can resume;
//! streams that live processes hold are left to them, named with who holds them, and end
//! the command with `EXIT_HELD` so that a cron job notices.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Local, Utc};
use chrono_tz::America::Los_Angeles;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::loader::Loader;
use crate::pipeline::run::{self, OrgOutcome, OrgSummary, RunError};
use crate::scheduler::Goal;
use crate::store::{self, Store};
use crate::store::{RunKind, StoreError};
// The legacy API's page size: the plan and the progress display speak of its passes.
use crate::telemetry::Progress;
use crate::zoho::client::MAX_WINDOW as PAGE_ROWS;

#[derive(Debug, thiserror::Error)]
pub enum SyncCommandError {
    #[error("cannot use the database: {0}")]
    Database(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{0}")]
    Failed(String),
    /// Streams live processes hold were left to them (the rest ran).
    #[error("left to the live processes that hold them: {0}; run again once those have finished")]
    Held(String),
}

impl SyncCommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SyncCommandError::Run(RunError::Config(_)) => super::EXIT_USAGE,
            SyncCommandError::Held(_) => super::EXIT_HELD,
            _ => super::EXIT_FAILURE,
        }
    }
}

/// Connects to the configured database and applies the migrations.
pub async fn open_database(config: &Config) -> Result<Loader, StoreError> {
    Loader::open(config).await
}

/// `backfill` or `sync`: runs the goal until done or `cancel`, and prints the summary.
pub async fn run(
    config: &Config,
    kind: RunKind,
    goal: Goal,
    cancel: &CancellationToken,
) -> Result<(), SyncCommandError> {
    run_once(config, kind, &goal, cancel).await.map(|_| ())
}

/// Runs the goal, prints the summary, and tells when a spent budget resets (`None` when
/// no organisation's budget ran out).
pub async fn run_once(
    config: &Config,
    kind: RunKind,
    goal: &Goal,
    cancel: &CancellationToken,
) -> Result<Option<DateTime<Utc>>, SyncCommandError> {
    let connecting = crate::shutdown::waiting("connecting to the database");
    let loader = tokio::select! {
        loader = open_database(config) => loader?,
        () = cancel.cancelled() => return Ok(None),
    };
    drop(connecting);
    let progress = Arc::new(Progress::default());
    let store: Arc<dyn Store> = Arc::new(loader.clone());
    let left_today = left_today(config, store.as_ref()).await;
    let display = Display::start(config, &progress, left_today);
    let backends = run::Backends {
        store,
        tokens: Arc::new(loader.desk_tokens()),
    };
    let outcome = run::run(config, &backends, kind, goal, cancel, &progress).await;
    display.finish();
    let summaries = match outcome {
        Err(e) if e.is_stop() => {
            println!("stopped; the next run continues from the checkpoints");
            return Ok(None);
        }
        outcome => outcome?,
    };
    print_summary(&summaries, &progress);
    let failures: Vec<String> = summaries
        .iter()
        .filter_map(|s| match &s.outcome {
            OrgOutcome::Failed(e) | OrgOutcome::AuthFailed(e) => {
                Some(format!("{}: {e}", s.organisation))
            }
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        return Err(SyncCommandError::Failed(failures.join("; ")));
    }
    let held: Vec<String> = summaries
        .iter()
        .flat_map(|s| &s.held)
        .map(|(stream, holding)| format!("{stream} (held by {holding})"))
        .collect();
    if !held.is_empty() {
        return Err(SyncCommandError::Held(held.join("; ")));
    }
    Ok(summaries.iter().find_map(|s| match s.outcome {
        OrgOutcome::QuotaSpent { resets_at } => Some(resets_at),
        _ => None,
    }))
}

/// The progress bar on stderr (only on a terminal) while passes run.
struct Display {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Display {
    fn start(config: &Config, progress: &Arc<Progress>, left_today: u64) -> Display {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let per_day: u64 = config
            .organisations
            .iter()
            .map(|o| u64::from(o.budget().per_day))
            .sum();
        let progress = Arc::clone(progress);
        let ticking = bar.clone();
        let started = Instant::now();
        let ticker = tokio::spawn(async move {
            loop {
                ticking.set_message(progress_line(
                    &progress,
                    started.elapsed(),
                    per_day,
                    left_today,
                ));
                ticking.tick();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Display { bar, ticker }
    }

    fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

fn progress_line(progress: &Progress, elapsed: Duration, per_day: u64, left_today: u64) -> String {
    let records = progress.records.load(Ordering::Relaxed);
    let pages = progress.pages.load(Ordering::Relaxed);
    let requests = progress.requests.load(Ordering::Relaxed);
    let left = left_today.saturating_sub(requests);
    let rate = records as f64 / elapsed.as_secs_f64().max(0.001);
    // The source's size is unknown until a pass reaches its end, so the outlook is what
    // today's budget still covers and what a day's covers.
    let rows = u64::from(PAGE_ROWS - 1);
    format!(
        "{records} records, {pages} pages, {rate:.0} records/s | {requests} requests used, \
         {left} left today (≈ {} more records; then ≈ {} records a day)",
        left * rows,
        per_day * rows
    )
}

/// Requests left today, summed over the organisations, by the ledger and the server's
/// clock.
async fn left_today(config: &Config, store: &dyn Store) -> u64 {
    let now = super::server_now(config).await;
    let mut left = 0;
    for org in &config.organisations {
        let today = store::quota_today(store, &org.budget(), now).await;
        left += today.map_or(0, |q| u64::from(q.left));
    }
    left
}

fn print_summary(summaries: &[OrgSummary], progress: &Progress) {
    let records = progress.records.load(Ordering::Relaxed);
    let pages = progress.pages.load(Ordering::Relaxed);
    let dead = progress.dead_letters.load(Ordering::Relaxed);
    for summary in summaries {
        // A stream a live process holds was left to it: this run did not complete it.
        let held = summary.held.len();
        let outcome = match &summary.outcome {
            OrgOutcome::Completed if held > 0 => format!(
                "{held} of {} passes left to the live processes that hold their streams",
                summary.passes.len()
            ),
            OrgOutcome::Completed => "complete".to_string(),
            OrgOutcome::Cancelled => "stopped; the next run continues from the checkpoints".into(),
            OrgOutcome::Failed(e) | OrgOutcome::AuthFailed(e) => format!("failed: {e}"),
            OrgOutcome::QuotaSpent { resets_at } => format!(
                "today's budget is spent; run again after {} to continue",
                describe_reset(*resets_at)
            ),
        };
        println!(
            "{}: {outcome} (run {}, {} requests)",
            summary.organisation, summary.run_id, summary.requests
        );
        for (stream, holding) in &summary.held {
            println!("  {stream}: held by {holding}");
        }
    }
    println!("{records} records in {pages} pages loaded; {dead} rows set aside as dead letters");
}

/// A reset moment in local and Pacific time.
pub fn describe_reset(at: DateTime<Utc>) -> String {
    format!(
        "{} local ({} Pacific)",
        at.with_timezone(&Local).format("%Y-%m-%d %H:%M %Z"),
        at.with_timezone(&Los_Angeles).format("%Y-%m-%d %H:%M %Z")
    )
}
