//! `zoho-sync backfill` and `sync` end to end: the real binary, the emulator and a fresh
//! database; the mirror must equal the source, within the request bound.

use zoho_sync::emulator::config::EmulatorConfig;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{getrecords_served, loader, mirror, SyncSettings, SyncSetup};

/// An emulator whose demo portal holds `n` requests and nothing else.
pub async fn emulator_with_requests(n: u64) -> TestEmulator {
    let mut config = EmulatorConfig::default().with_records(0);
    config.portals[0].records.insert(Module::Requests, n);
    TestEmulator::start(config).await
}

#[tokio::test]
async fn a_backfill_of_10000_records_mirrors_every_field_within_the_request_bound() {
    let emulator = emulator_with_requests(10_000).await;
    let source = emulator.snapshot(Module::Requests).await;
    for format in ["json", "xml"] {
        let database = TestDatabase::fresh().await;
        let settings = SyncSettings {
            format,
            ..SyncSettings::default()
        };
        let setup = SyncSetup::new(&emulator, &database, &settings);
        let before = getrecords_served(&emulator).await;
        setup.run(&["backfill"]).await.assert_success();
        let used = getrecords_served(&emulator).await - before;
        assert!(used <= 10_000 / 200 + 1, "{format}: {used} requests");
        let mirror = mirror(&loader(&database).await, Module::Requests).await;
        assert_eq!(mirror.len(), 10_000);
        assert!(
            mirror == source,
            "{format}: the mirror differs from the source"
        );
    }
}

#[tokio::test]
async fn a_second_backfill_of_a_complete_module_sends_nothing_and_sync_reads_only_changes() {
    let emulator = emulator_with_requests(450).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    let after_backfill = getrecords_served(&emulator).await;

    // Nothing changed: an incremental pass costs one request and changes nothing.
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(getrecords_served(&emulator).await, after_backfill + 1);

    emulator
        .admin_post(
            "churn",
            serde_json::json!({ "module": "requests", "modifies": 30, "creates": 5 }),
        )
        .await;
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(getrecords_served(&emulator).await, after_backfill + 2);
    let mirror = mirror(&loader(&database).await, Module::Requests).await;
    assert_eq!(mirror, emulator.snapshot(Module::Requests).await);
}
