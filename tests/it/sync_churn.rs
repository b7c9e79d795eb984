//! Records created, modified and deleted while `backfill` and then `sync` page through
//! them: once the churn stops, one more `sync` leaves every live record in the mirror with
//! exactly its latest values. (Deleted records may linger in the mirror: the API lists no
//! deletions, and finding them is the job of sweeps.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{loader, mirror, slow_emulator_with, SyncSettings, SyncSetup};

const MODULES: [(Module, u64); 2] = [(Module::Requests, 4_000), (Module::Contacts, 2_000)];

/// Posts a churn order every 40 ms until stopped; the orders posted.
fn churn_in_background(
    emulator: Arc<TestEmulator>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let orders = AtomicU64::new(0);
        while !stop.load(Ordering::Relaxed) {
            for (module, _) in MODULES {
                emulator
                    .admin_post(
                        "churn",
                        json!({ "module": module.url_name(), "mode": "now",
                                "creates": 3, "modifies": 8, "deletes": 1 }),
                    )
                    .await;
            }
            orders.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        orders.load(Ordering::Relaxed)
    })
}

#[tokio::test]
async fn after_churn_during_every_pass_one_more_sync_leaves_every_live_record_exact() {
    let emulator = Arc::new(slow_emulator_with(&MODULES, 15).await);
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let stop = Arc::new(AtomicBool::new(false));
    let churn = churn_in_background(Arc::clone(&emulator), Arc::clone(&stop));
    for args in [["backfill"], ["sync"], ["sync"]] {
        setup.run(&args).await.assert_success();
    }
    stop.store(true, Ordering::Relaxed);
    let orders = churn.await.expect("the churn task");
    assert!(orders >= 10, "only {orders} churn orders were posted");
    setup.run(&["sync"]).await.assert_success();

    let loader = loader(&database).await;
    for (module, _) in MODULES {
        let mirror = mirror(&loader, module).await;
        let source = emulator.snapshot(module).await;
        let wrong: Vec<u64> = source
            .iter()
            .filter(|(id, fields)| mirror.get(id) != Some(fields))
            .map(|(id, _)| *id)
            .collect();
        let missing = wrong.iter().filter(|id| !mirror.contains_key(id)).count();
        assert!(
            wrong.is_empty(),
            "{module}: of {} live records {missing} are missing and {} stale, e.g. {:?}",
            source.len(),
            wrong.len() - missing,
            &wrong[..wrong.len().min(10)]
        );
    }
}
