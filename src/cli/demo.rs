//! `zoho-sync demo`: the first run. Serves the built-in emulator in-process (the legacy
//! demo portal, or with `--api desk` the Zoho Desk demo organisation, with their sample
//! data under a small daily quota), points a configuration at it and at `DATABASE_URL`
//! (default: the local PostgreSQL), and runs the backfill (the same code path as
//! `zoho-sync backfill`). When the day's quota runs out it moves the emulator's clock past
//! the reset, as the real day would, and goes on until the mirror is complete.

use std::net::SocketAddr;

use crate::cli::sync::{self, SyncCommandError};
use crate::cli::DemoApi;
use crate::config::{Config, ConfigError, BUILT_IN};
use crate::emulator::{spawn, EmulatorConfig, EmulatorError, RunningEmulator};

mod desk;
use crate::scheduler::Goal;
use crate::store::RunKind;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no PostgreSQL at {0}: start one (e.g. `docker compose up -d postgres`, or \
         `pg_ctlcluster 15 main start`) or set DATABASE_URL"
    )]
    NoDatabase(String),
    #[error(transparent)]
    Sync(#[from] SyncCommandError),
    #[error("cannot write the demo's token file: {0}")]
    TokenFile(#[from] std::io::Error),
}

/// Runs the demo to its end, or until `cancel`.
pub async fn run(
    api: DemoApi,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), DemoError> {
    let emulator = spawn(
        EmulatorConfig::default(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    match api {
        DemoApi::Support => support(&emulator, cancel).await,
        DemoApi::Desk => desk::run(&emulator, cancel).await,
    }
}

async fn support(
    emulator: &RunningEmulator,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), DemoError> {
    let token_dir = tempfile_dir()?;
    let token_path = token_dir.join("authtoken");
    let token = emulator
        .token()
        .map(|t| t.expose().to_string())
        .unwrap_or_default();
    std::fs::write(&token_path, token)?;
    let text = BUILT_IN
        .replace("http://127.0.0.1:8089", &emulator.base_url())
        // The demo moves the emulator's clock to each next midnight on purpose.
        .replace("max_clock_skew_secs = 900", "max_clock_skew_secs = 0")
        .replace(
            "# daily_limit = 250",
            &format!("daily_limit = {DEMO_DAILY_LIMIT}"),
        )
        .replace(
            "authtoken_env = \"ZOHO_AUTHTOKEN\"",
            &format!(
                "authtoken_env = \"ZOHO_SYNC_DEMO_UNUSED\"\nauthtoken_file = {:?}",
                token_path.display().to_string()
            ),
        );
    let config = Config::from_toml(&text, std::env::vars())?;
    println!(
        "zoho-sync demo: emulator at {} (portal `demo`, {} requests a day), mirror in schema `{}`",
        emulator.base_url(),
        config.organisations.first().map_or(0, |o| o.daily_limit),
        config.database.schema
    );
    backfill_day_by_day(&config, &emulator.base_url(), cancel).await?;
    if cancel.is_cancelled() {
        return Ok(());
    }
    println!(
        "\nTry the mirror (psql \"$DATABASE_URL\"):\n  \
         SELECT status, count(*) FROM zoho.requests GROUP BY status;\n  \
         SELECT subject, modified_time FROM zoho.requests ORDER BY modified_time DESC LIMIT 5;\n  \
         SELECT fields->>'Email' FROM zoho.contacts LIMIT 5;\n\
         Then `zoho-sync status` shows the checkpoints and today's quota."
    );
    let _ = std::fs::remove_dir_all(&token_dir);
    Ok(())
}

/// Backfills every module, day after emulated day: when a day's quota runs out, the
/// emulator's clock moves to the reset. `Ok(())` when the mirror is complete, the days
/// run out or `cancel` stops it.
async fn backfill_day_by_day(
    config: &Config,
    base_url: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), DemoError> {
    if let Err(e) = sync::open_database(config).await {
        tracing::debug!(error = %e, "demo database unreachable");
        return Err(DemoError::NoDatabase(redacted_host(
            config.database.url.expose(),
        )));
    }
    let goal = Goal::Backfill {
        modules: Vec::new(),
    };
    for day in 1..=MAX_DAYS {
        println!("\n== day {day}");
        match sync::run_once(config, RunKind::Backfill, &goal, cancel).await? {
            _ if cancel.is_cancelled() => return Ok(()),
            Some(resets_at) => {
                println!(
                    "The quota ran out: the demo moves the emulator's clock to the reset ({}).",
                    sync::describe_reset(resets_at)
                );
                advance_clock(base_url, resets_at).await;
            }
            None => break,
        }
    }
    Ok(())
}

/// The demo portal's daily limit: small, so the quota runs out and the demo shows it.
const DEMO_DAILY_LIMIT: u32 = 60;
/// Emulated days the demo goes on for at most.
const MAX_DAYS: u32 = 5;

/// Sets the emulator's clock just past `at` through its admin API.
pub(super) async fn advance_clock(base_url: &str, at: chrono::DateTime<chrono::Utc>) {
    let body = format!(
        "{{\"set\": \"{}\"}}",
        (at + chrono::TimeDelta::seconds(1)).to_rfc3339()
    );
    let sent = reqwest::Client::new()
        .post(format!("{base_url}/_emulator/clock"))
        .body(body)
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot move the emulator's clock");
    }
}

/// Moves the emulator's clock forward by `secs` through its admin API.
pub(super) async fn advance_clock_by(base_url: &str, secs: u64) {
    let body = format!("{{\"advance_secs\": {secs}}}");
    let sent = reqwest::Client::new()
        .post(format!("{base_url}/_emulator/clock"))
        .body(body)
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot move the emulator's clock");
    }
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("zoho-sync-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `host:port/db` of a database URL, without user or password.
fn redacted_host(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("?"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => "the configured database URL".into(),
    }
}
