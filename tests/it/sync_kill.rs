//! A backfill killed with SIGKILL at random points (before its first request, during a
//! page, right after a commit) loses nothing and repeats little: the run that finally
//! completes leaves a mirror equal to the source, no record twice, and the pages fetched
//! again are at most the pages in flight at each kill (one per stream worked at once).

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, getrecords_served, loader, stream, wait_for,
    SyncSettings, SyncSetup,
};

const MODULES: [(Module, u64); 2] = [(Module::Requests, 6_000), (Module::Contacts, 6_000)];
const KILLS: u64 = 5;
/// Streams worked at once, each with one page in flight (`read_ahead` 0).
const CONCURRENCY: u64 = 2;

/// Where a kill lands.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// A random moment from the start: often during start-up or the first request.
    AfterDelay(u64),
    /// Some pages after the kill's start, then a jitter shorter than the latency: during
    /// a page or its commit.
    AfterPages { pages: u64, jitter_ms: u64 },
    /// As soon as the mirror has grown: right after a commit, between pages.
    AfterCommit,
}

fn kill_point(rng: &mut StdRng) -> KillPoint {
    match rng.gen_range(0..3) {
        0 => KillPoint::AfterDelay(rng.gen_range(0..150)),
        1 => KillPoint::AfterPages {
            pages: rng.gen_range(1..=4),
            jitter_ms: rng.gen_range(0..25),
        },
        _ => KillPoint::AfterCommit,
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

async fn wait_for_kill_point(point: KillPoint, emulator: &TestEmulator, database: &TestDatabase) {
    let limit = Duration::from_secs(10);
    match point {
        KillPoint::AfterDelay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        KillPoint::AfterPages { pages, jitter_ms } => {
            let start = getrecords_served(emulator).await;
            wait_for("pages to be served", limit, || async {
                getrecords_served(emulator).await >= start + pages
            })
            .await;
            tokio::time::sleep(Duration::from_millis(jitter_ms)).await;
        }
        KillPoint::AfterCommit => {
            let start = mirrored(database).await;
            wait_for("a page to be committed", limit, || async {
                mirrored(database).await > start
            })
            .await;
        }
    }
}

#[tokio::test]
async fn a_backfill_killed_at_random_points_completes_with_an_exact_mirror_within_the_bound() {
    let emulator = emulator_with(&MODULES).await;
    emulator
        .admin_post("latency", json!({ "millis": 20 }))
        .await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        concurrency: CONCURRENCY as usize,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points = Vec::new();
    for _ in 0..KILLS {
        let point = kill_point(&mut rng);
        points.push(point);
        let mut child = setup.start(&["backfill"]);
        wait_for_kill_point(point, &emulator, &database).await;
        child.start_kill().expect("kill the backfill");
        let status = child.wait().await.expect("reap the backfill");
        assert_eq!(
            status.code(),
            None,
            "seed {seed}: the backfill ended by itself before the kill at {point:?}"
        );
    }
    setup.run(&["backfill"]).await.assert_success();

    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;
    let minimum: u64 = MODULES.iter().map(|&(_, n)| pass_requests(n)).sum();
    let served = getrecords_served(&emulator).await;
    assert!(
        served <= minimum + KILLS * CONCURRENCY,
        "seed {seed}, kills {points:?}: {served} requests, at most {minimum} + {} expected",
        KILLS * CONCURRENCY
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
    let charged = emulator.quota_used().await;
    assert!(
        charged <= reserved && reserved <= charged + KILLS * CONCURRENCY,
        "seed {seed}: the ledger holds {reserved} requests, the emulator charged {charged}"
    );
}
