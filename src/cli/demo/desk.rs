//! `zoho-sync demo --api desk`: the same first run against the emulator's Zoho Desk demo
//! organisation (Free, 3,000 records in each module it mirrors), under a small credit
//! budget so a day runs out and the demo shows the next one. The self client's secret and
//! refresh token go to files the configuration names (never the file itself). Once the
//! backfill is complete, the emulator's clock moves past the search index's lag and one
//! incremental pass brings the records written in the backfill's last ten minutes.

use crate::cli::sync;
use crate::config::Config;
use crate::emulator::desk::config::DEMO_ORG_ID;
use crate::emulator::desk::SelfClientConfig;
use crate::emulator::RunningEmulator;
use crate::scheduler::Goal;
use crate::store::RunKind;

use super::{backfill_day_by_day, tempfile_dir, DemoError};

/// Credits a day the demo's organisation lets zoho-sync spend (`daily_limit`, of the Free
/// edition's 5,000): 100 searches, so the backfill spans three credit days.
const DEMO_DAILY_CREDITS: u32 = 300;

pub(super) async fn run(
    emulator: &RunningEmulator,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), DemoError> {
    let dir = tempfile_dir()?;
    let client = SelfClientConfig::demo();
    let secret_path = dir.join("client-secret");
    let refresh_path = dir.join("refresh-token");
    std::fs::write(&secret_path, client.client_secret.expose())?;
    std::fs::write(&refresh_path, client.refresh_token.expose())?;
    let base = emulator.base_url();
    let text = format!(
        r#"
[api]
max_clock_skew_secs = 0

[[organisations]]
name = "desk-demo"
api = "desk"
dc = "us"
org_id = "{DEMO_ORG_ID}"
client_id = "{client_id}"
client_secret_env = "ZOHO_SYNC_DEMO_UNUSED"
client_secret_file = {secret:?}
refresh_token_env = "ZOHO_SYNC_DEMO_UNUSED"
refresh_token_file = {refresh:?}
edition = "free"
daily_limit = {DEMO_DAILY_CREDITS}
reserve = 0
base_url = "{base}"
accounts_url = "{base}"
"#,
        client_id = client.client_id,
        secret = secret_path.display().to_string(),
        refresh = refresh_path.display().to_string(),
    );
    let config = Config::from_toml(&text, std::env::vars())?;
    println!(
        "zoho-sync demo: emulator at {base} (Zoho Desk organisation {DEMO_ORG_ID}, Free: 5,000 credits a day, {DEMO_DAILY_CREDITS} of them for zoho-sync), mirror in schema `{}`",
        config.database.desk_schema
    );
    backfill_day_by_day(&config, &base, cancel).await?;
    if !cancel.is_cancelled() {
        catch_up(&config, &base, cancel).await?;
        println!(
            "\nTry the mirror (psql \"$DATABASE_URL\"):\n  \
             SELECT status, count(*) FROM {schema}.tickets GROUP BY status;\n  \
             SELECT subject, modified_time FROM {schema}.tickets ORDER BY modified_time DESC LIMIT 5;\n  \
             SELECT cf_customer_tier, count(*) FROM {schema}.contacts_view GROUP BY 1 LIMIT 5;\n\
             Then `zoho-sync status` shows the checkpoints and today's credits.",
            schema = config.database.desk_schema
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Moves the clock past the index lag and runs one incremental round.
async fn catch_up(
    config: &Config,
    base: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), DemoError> {
    println!("\n== ten minutes later: the search index shows the latest writes");
    super::advance_clock_by(base, 11 * 60).await;
    let goal = Goal::Sync {
        modules: Vec::new(),
    };
    sync::run_once(config, RunKind::Sync, &goal, cancel).await?;
    Ok(())
}
