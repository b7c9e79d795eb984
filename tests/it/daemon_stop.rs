//! `systemctl stop` on a busy daemon: SIGTERM while a page is in flight (the emulator
//! answers slowly) lets that page commit or roll back, releases the stream's lease and
//! exits 0 within the grace period. The mirror it leaves is consistent (whole pages, each
//! row equal to the source, the checkpoint where the rows end), and a restarted daemon
//! finishes it, asking again for at most the page that was in flight.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, getrecords_served, loader, mirror, request_log,
    slow_emulator_with, stream, wait_for, SyncSettings, SyncSetup,
};

const RECORDS: u64 = 3_000;
const LATENCY_MS: u64 = 300;

#[tokio::test]
async fn sigterm_during_a_page_exits_0_promptly_and_leaves_a_consistent_mirror() {
    let emulator = slow_emulator_with(&[(Module::Requests, RECORDS)], LATENCY_MS).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    configure(
        &setup,
        &DaemonSettings {
            pace: false,
            ..DaemonSettings::default()
        },
    );
    let mut daemon = Daemon::start(&setup);
    let loader = loader(&database).await;
    let key = stream(Module::Requests);
    // Two pages committed, then well inside the third page's answer time.
    wait_for("two pages to commit", Duration::from_secs(20), || async {
        loader.mirror_count(&key).await.unwrap_or(0) >= 399
    })
    .await;
    tokio::time::sleep(Duration::from_millis(LATENCY_MS / 3)).await;
    let in_flight = loader
        .lease_holders()
        .await
        .expect("leases")
        .iter()
        .any(|(_, holder)| daemon.holds(holder));
    assert!(in_flight, "the daemon should be working its stream");
    let signalled = Instant::now();
    let status = daemon.stop(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    assert!(signalled.elapsed() < Duration::from_secs(10));

    // Consistent: rows exactly up to the checkpoint, each equal to the source, and the
    // stream free for the next process.
    let checkpoint = loader
        .checkpoint(&key, PassKind::Backfill)
        .await
        .expect("checkpoint");
    assert!(checkpoint.in_progress, "stopped mid-backfill");
    let mirrored = mirror(&loader, Module::Requests).await;
    assert_eq!(
        mirrored.len() as u64,
        u64::from(checkpoint.cursor.next) - 1,
        "rows mirrored vs the checkpoint"
    );
    let source = emulator.snapshot(Module::Requests).await;
    let first: BTreeMap<_, _> = source
        .iter()
        .take(mirrored.len())
        .map(|(id, fields)| (*id, fields.clone()))
        .collect();
    assert!(
        mirrored == first,
        "the mirror holds exactly the first rows of the source"
    );
    assert!(loader.lease_holders().await.expect("leases").is_empty());

    // A restart finishes the backfill; at most the page in flight was asked twice.
    let served_before = getrecords_served(&emulator).await;
    let mut again = Daemon::start(&setup);
    wait_for(
        "the backfill to complete",
        Duration::from_secs(30),
        || async {
            !loader
                .checkpoint(&key, PassKind::Backfill)
                .await
                .map_or(true, |c| c.completed_at.is_none())
        },
    )
    .await;
    let status = again.stop(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", again.log());
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
    let backfill_pages: Vec<String> = request_log(&emulator)
        .await
        .iter()
        .filter(|e| e["lastmodifiedtime"].is_null())
        .map(|e| e["fromindex"].to_string())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = backfill_pages.iter().collect();
    assert!(
        backfill_pages.len() <= distinct.len() + 1,
        "windows asked twice: {backfill_pages:?}"
    );
    assert_eq!(distinct.len() as u64, pass_requests(RECORDS));
    assert!(served_before >= 3);
}
