//! The command-line surface: argument definitions (clap) and the dispatch from a parsed
//! command to the module that does the work. This surface is kept stable; later features
//! add subcommands. Every command ends in an `ExitCode` of the documented meaning
//! (0 success, also a clean stop at the quota or on a signal; 1 runtime failure, also a
//! stop that outlasted its grace; 2 usage or config error; 3 streams held by other live
//! processes were left to them; 4 `dead-letters --retry` left letters untried because the
//! day's budget ran out; 130 a second signal).

pub mod api;
pub mod auth;
pub mod changes;
pub mod dead_letters;
pub mod demo;
pub mod report;
pub mod resync;
pub mod sync;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::fetcher::{Reading, ServerClock};
use crate::stream::Module as StreamModule;
use crate::telemetry::LogFormat;
use crate::zoho::client::server_clock;

/// Exit code for a runtime failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a one-shot `backfill` or `sync` that left streams to the live processes
/// holding them (the rest of its work done): a cron job should notice.
pub const EXIT_HELD: u8 = 3;
/// Exit code of a `dead-letters --retry` that left letters untried because the day's
/// budget (less its reserve) ran out: unlike a backfill's, its work is not resumed by
/// the next round, so a cron job should notice.
pub const EXIT_BUDGET_SPENT: u8 = 4;
/// Exit code after a second stop signal (the shell's 128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Parser)]
#[command(
    name = "zoho-sync",
    version,
    about = "Mirror a Zoho Support organisation into PostgreSQL inside the daily API quota"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, value_name = "FILE", default_value = "sync.toml")]
    pub config: PathBuf,

    /// How log lines are written (to stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// More log detail (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Less log detail (-q warnings only, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The first run: the built-in emulator, the local PostgreSQL and a backfill.
    Demo(DemoArgs),
    /// Serve the built-in emulator of the Zoho Support API.
    Emulator(crate::emulator::Options),
    /// Zoho Accounts authtokens (Support) and refresh tokens (Desk).
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Run one API method against the configured portal and print the answer.
    Api(ApiArgs),
    /// Read modules' whole history into the mirror (one-shot; stops cleanly at the quota).
    Backfill(BackfillArgs),
    /// One incremental pass of every module (and the first backfill of any never synced).
    Sync,
    /// Dry run: what the backfills and a day of incremental passes cost, in requests and days.
    Plan,
    /// Per module: rows mirrored, checkpoints, last run, and today's quota.
    Status(StatusArgs),
    /// Run as a service: rounds when modules are due (adaptive polling, or the configured
    /// schedules), paced over the day, with health, metrics and a status page over HTTP.
    Daemon,
    /// Apply the database migrations (they are also applied by every command that needs them).
    Migrate,
    /// The change log after a sequence number, with the records' current fields, as
    /// NDJSON or CSV; ends with the sequence number to resume from.
    Changes(changes::ChangesArgs),
    /// What was set aside (rows that could not be mirrored), per stream, oldest first;
    /// with --retry, their records read again by id inside the budget.
    DeadLetters(dead_letters::DeadLettersArgs),
    /// Read a module's whole history again inside the budget, keeping the mirror; a
    /// sweep follows to find what is gone at the source. Resumable like a backfill.
    Resync(resync::ResyncArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which API's emulator to mirror: the legacy Zoho Support API or Zoho Desk.
    #[arg(long, value_enum, default_value_t = DemoApi::Support)]
    pub api: DemoApi,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoApi {
    Support,
    Desk,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Only these modules (repeatable; a legacy or a Zoho Desk module's name); all
    /// configured modules by default.
    #[arg(long = "module", value_name = "MODULE", value_parser = parse_modules)]
    pub modules: Vec<Vec<StreamModule>>,
}

impl BackfillArgs {
    /// Every module the names mean.
    pub fn modules(&self) -> Vec<StreamModule> {
        self.modules.iter().flatten().copied().collect()
    }
}

fn parse_modules(name: &str) -> Result<Vec<StreamModule>, String> {
    let modules = StreamModule::parse_any(name);
    if modules.is_empty() {
        Err(format!(
            "`{name}` is not a module of the legacy API nor of Zoho Desk"
        ))
    } else {
        Ok(modules)
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "html")]
    pub json: bool,
    /// Write the daemon's status page (the same HTML `/` serves) to this file instead.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Generate an authtoken (API mode) and print it.
    Token(auth::TokenArgs),
    /// Exchange a Zoho Desk self client's grant code for a refresh token and print it once.
    Desk(auth::DeskArgs),
}

pub use api::ApiArgs;

/// The server's clock as the one-shot commands read it: the `Date` of a `HEAD` of the
/// API's base URL (no quota cost), believed within `api.max_clock_skew_secs`; our own
/// clock when the server cannot be reached or is not believed.
pub async fn server_now(config: &Config) -> DateTime<Utc> {
    server_now_at(config, &config.api.base_url).await
}

/// `server_now` of another host (a Zoho Desk organisation's).
pub async fn server_now_at(config: &Config, url: &url::Url) -> DateTime<Utc> {
    let http = reqwest::Client::new();
    let said = server_clock(&http, url, config.api.connect_timeout).await;
    match ServerClock::new(config.api.max_clock_skew).observe(said) {
        Reading::Trusted(now) => now,
        Reading::Contradicted { .. } | Reading::Absent(_) => Utc::now(),
    }
}

/// Parses the command line; clap itself exits with 2 on a usage error.
pub fn parse() -> Cli {
    Cli::parse()
}
