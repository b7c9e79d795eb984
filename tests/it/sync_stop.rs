//! Bounded stops: SIGTERM stops a `backfill` within the grace (10 s) even when the
//! database cannot answer, because another session holds a lock on the checkpoints or
//! because the server is down. The upper bound asserted is only a safety net against a
//! hang; either way nothing committed is lost, and the next run completes the mirror.

use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::process::Child;
use zoho_sync::loader::Loader;
use zoho_sync::zoho::{Module, Secret};

use crate::support::database::TestDatabase;
use crate::support::private_pg::PrivatePostgres;
use crate::support::sync::{
    assert_mirror_equals_source, mirror, slow_emulator_with, stream, wait_for, SyncSettings,
    SyncSetup,
};

/// Far above the grace: reaching it means the stop hung.
const SAFETY_NET: Duration = Duration::from_secs(40);

/// SIGTERM, as `systemctl stop` or `docker stop` sends it.
fn terminate(child: &Child) {
    let pid = child.id().expect("the backfill runs");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}");
}

/// SIGTERM, then the exit status and how long the stop took (fails past the safety net).
async fn stop(child: &mut Child, log: &Path) -> (ExitStatus, Duration) {
    terminate(child);
    let signalled = Instant::now();
    let Ok(status) = tokio::time::timeout(SAFETY_NET, child.wait()).await else {
        panic!(
            "the backfill did not stop after SIGTERM; its log:\n{}",
            read(log)
        );
    };
    (status.expect("reap the backfill"), signalled.elapsed())
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[tokio::test]
async fn sigterm_while_another_session_locks_the_checkpoints_stops_a_backfill_within_the_grace() {
    let emulator = slow_emulator_with(&[(Module::Requests, 8_000)], 50).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let loader = crate::support::sync::loader(&database).await;
    let key = stream(Module::Requests);
    let (mut backfill, log) = setup.start_logged(&["backfill"]);
    wait_for("some pages to commit", Duration::from_secs(30), || async {
        loader.mirror_count(&key).await.unwrap_or(0) >= 400
    })
    .await;

    let mut locker = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("a session of the test's own");
    let mut lock = locker.begin().await.expect("a transaction");
    sqlx::query("LOCK TABLE zoho.checkpoints IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock the checkpoints");
    wait_for(
        "a page commit to wait on the lock",
        Duration::from_secs(30),
        || async {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock')",
            )
            .fetch_one(&database.pool)
            .await
            .unwrap_or(false)
        },
    )
    .await;

    let (status, took) = stop(&mut backfill, &log).await;
    let text = read(&log);
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(status.code(), Some(0), "stopped in {took:?}; log:\n{text}");
    lock.rollback().await.expect("release the lock");

    setup.run(&["backfill"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}

#[tokio::test]
async fn sigterm_while_the_database_is_down_stops_a_backfill_within_the_grace() {
    let private = PrivatePostgres::start();
    let emulator = slow_emulator_with(&[(Module::Requests, 8_000)], 50).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let url = private.url();
    setup.edit_config(|text| text.replacen(&database.url, &url, 1));
    let (mut backfill, log) = setup.start_logged(&["backfill"]);
    let loader = Loader::connect(&Secret::new(url.clone()), "zoho", 2)
        .await
        .expect("the private database");
    wait_for("some pages to commit", Duration::from_secs(30), || async {
        mirror(&loader, Module::Requests).await.len() >= 400
    })
    .await;
    drop(loader);

    private.stop();
    wait_for(
        "the backfill to wait for the database",
        Duration::from_secs(30),
        || async { read(&log).contains("database unavailable") },
    )
    .await;
    let (status, took) = stop(&mut backfill, &log).await;
    let text = read(&log);
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(status.code(), Some(0), "stopped in {took:?}; log:\n{text}");

    private.start_again();
    setup.run(&["backfill"]).await.assert_success();
    let loader = Loader::connect(&Secret::new(url), "zoho", 2)
        .await
        .expect("the private database");
    assert!(
        mirror(&loader, Module::Requests).await == emulator.snapshot(Module::Requests).await,
        "the mirror differs from the source"
    );
}
