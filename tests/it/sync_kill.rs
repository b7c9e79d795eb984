//! A backfill killed with SIGKILL at random points (before its first request, during a
//! page, right after a commit) and restarted at once, with the default `lease_secs`,
//! loses nothing, waits for nothing and repeats little: each restart takes the killed
//! process's streams over at once (its presence lock died with it; a restart that found
//! them held would exit before its kill point and fail the test), the run that finally
//! completes leaves a mirror equal to the source, no record twice, and the pages fetched
//! again are at most the pages in flight at each kill: two per stream worked at once
//! when nothing is read ahead; with the default read-ahead of a backfill, the windows
//! read ahead, the batch being committed and the one sent behind it.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{
    assert_mirror_equals_source, getrecords_served, loader, request_log, slow_emulator_with,
    stream, SyncSettings, SyncSetup,
};

const MODULES: [(Module, u64); 2] = [(Module::Requests, 6_000), (Module::Contacts, 6_000)];
const KILLS: u64 = 20;
/// Streams worked at once.
const CONCURRENCY: u64 = 2;
/// Pages a kill can cost a stream that reads nothing ahead: the one being written, and
/// the next, fetched meanwhile.
const IN_FLIGHT: u64 = 2;
/// Pages a kill can cost a stream whose backfill reads 3 windows ahead: the 4 windows
/// asked for, a batch of up to 2 pages committing and the batch sent behind it.
const IN_FLIGHT_READING_AHEAD: u64 = 4 + 2 + 2;

/// Where a kill lands.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// After a random moment from the start: often during start-up or the first request.
    Delay(u64),
    /// After some pages from the kill's start, then a jitter shorter than the latency: during
    /// a page or its commit.
    Pages { pages: u64, jitter_ms: u64 },
    /// As soon as the mirror has grown: right after a commit, between pages.
    Commit,
}

fn kill_point(rng: &mut StdRng) -> KillPoint {
    match rng.gen_range(0..3) {
        0 => KillPoint::Delay(rng.gen_range(0..150)),
        1 => KillPoint::Pages {
            pages: rng.gen_range(1..=4),
            jitter_ms: rng.gen_range(0..25),
        },
        _ => KillPoint::Commit,
    }
}

async fn mirrored(database: &TestDatabase) -> i64 {
    let loader = loader(database).await;
    let mut rows = 0;
    for (module, _) in MODULES {
        rows += loader.mirror_count(&stream(module)).await.unwrap_or(0);
    }
    rows
}

/// Whether the kill point is reached (a delay is reached when it has passed).
async fn reached(point: KillPoint, from: u64, emulator: &TestEmulator, db: &TestDatabase) -> bool {
    match point {
        KillPoint::Delay(_) => true,
        KillPoint::Pages { pages, .. } => getrecords_served(emulator).await >= from + pages,
        KillPoint::Commit => mirrored(db).await > i64::try_from(from).unwrap_or(i64::MAX),
    }
}

/// Waits for the kill point while the backfill runs; a backfill that ends by itself
/// first fails the test with its output.
async fn wait_for_kill_point(
    point: KillPoint,
    child: &mut Child,
    emulator: &TestEmulator,
    database: &TestDatabase,
) {
    let from = match point {
        KillPoint::Delay(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            0
        }
        KillPoint::Pages { .. } => getrecords_served(emulator).await,
        KillPoint::Commit => u64::try_from(mirrored(database).await).unwrap_or(0),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !reached(point, from, emulator, database).await {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stdout = String::new();
            let mut stderr = String::new();
            if let Some(out) = child.stdout.as_mut() {
                let _ = out.read_to_string(&mut stdout).await;
            }
            if let Some(err) = child.stderr.as_mut() {
                let _ = err.read_to_string(&mut stderr).await;
            }
            panic!("the backfill ended ({status}) before {point:?}:\n{stdout}\n{stderr}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {point:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if let KillPoint::Pages { jitter_ms, .. } = point {
        tokio::time::sleep(Duration::from_millis(jitter_ms)).await;
    }
}

#[tokio::test]
async fn a_backfill_killed_20_times_and_restarted_at_once_with_the_default_lease_ends_exact() {
    killed_and_restarted(0, IN_FLIGHT).await;
}

#[tokio::test]
async fn a_backfill_reading_ahead_killed_20_times_and_restarted_at_once_ends_exact() {
    killed_and_restarted(3, IN_FLIGHT_READING_AHEAD).await;
}

/// Kills a backfill reading `read_ahead` windows ahead `KILLS` times, restarting it at
/// once, then lets it finish: the mirror equals the source, and the requests and the
/// reservations beyond the minimum are at most `in_flight` pages per stream per kill.
async fn killed_and_restarted(read_ahead: usize, in_flight: u64) {
    let emulator = slow_emulator_with(&MODULES, 20).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        concurrency: CONCURRENCY as usize,
        read_ahead,
        ..SyncSettings::default()
    };
    let lost = KILLS * CONCURRENCY * in_flight;
    // The default `lease_secs` (120 s): no restart may wait for a lease to expire.
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::new();
    for _ in 0..KILLS {
        let point = kill_point(&mut rng);
        points.push(point);
        let mut child = setup.start(&["backfill"]);
        wait_for_kill_point(point, &mut child, &emulator, &database).await;
        child.start_kill().expect("kill the backfill");
        let status = child.wait().await.expect("reap the backfill");
        assert_eq!(
            status.code(),
            None,
            "seed {seed}: the backfill ended by itself before the kill at {point:?}"
        );
    }
    let last = setup.run(&["backfill"]).await;
    last.assert_success();
    assert!(last.stdout.contains("demo: complete"), "{}", last.stdout);
    assert!(!last.stdout.contains("held by"), "{}", last.stdout);

    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;
    let minimum: u64 = MODULES.iter().map(|&(_, n)| pass_requests(n)).sum();
    let served = getrecords_served(&emulator).await;
    assert!(
        served <= minimum + lost,
        "seed {seed}, kills {points:?}: {served} requests, at most {minimum} + {lost} expected",
    );
    // Every request was reserved first; a kill may leave a reservation unsent.
    let reserved: u64 = loader(&database)
        .await
        .ledger_days("demo")
        .await
        .expect("ledger")
        .iter()
        .map(|(_, day)| u64::from(day.used))
        .sum();
    // Every request in the log carried the valid token, so each was charged.
    let charged = request_log(&emulator).await.len() as u64;
    assert!(
        charged <= reserved && reserved <= charged + lost,
        "seed {seed}: the ledger holds {reserved} requests, the emulator charged {charged}"
    );
}
