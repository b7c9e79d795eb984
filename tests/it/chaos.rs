//! The fault and crash suite: a flaky server and a database restarted under a running
//! sync; the mirror must still end equal to the source, every request sent must be in
//! the ledger, and nothing may panic.

use std::time::Duration;

use serde_json::json;
use zoho_sync::loader::Loader;
use zoho_sync::zoho::{Module, Secret};

use crate::support::database::TestDatabase;
use crate::support::private_pg::PrivatePostgres;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, mirror, slow_emulator_with, wait_for, SyncSettings,
    SyncSetup,
};

fn no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked"),
        "the process panicked:\n{stderr}"
    );
}

#[tokio::test]
async fn a_backfill_through_a_flaky_server_completes_equal_and_the_ledger_counts_every_request() {
    let emulator = emulator_with(&[(Module::Requests, 4_000), (Module::Contacts, 2_000)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        max_retries: 12,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    setup.edit_config(|text| text.replacen("timeout_secs = 10", "timeout_secs = 1", 1));
    emulator
        .admin_post("faults", json!({ "delay_secs": 1.5 }))
        .await;
    for (kind, probability) in [
        ("http500", 0.05),
        ("http503", 0.05),
        ("delay", 0.05),
        ("truncated", 0.02),
        ("malformed", 0.02),
    ] {
        emulator
            .admin_post(
                "faults",
                json!({ "kind": kind, "probability": probability }),
            )
            .await;
    }
    let outcome = setup.run(&["backfill"]).await;
    no_panic(&outcome.stderr);
    outcome.assert_success();
    emulator
        .admin_post("faults", json!({ "clear": true }))
        .await;

    assert_mirror_equals_source(&emulator, &database, &[Module::Requests, Module::Contacts]).await;
    let counters = emulator.admin_get("counters").await;
    let served = counters["requests"]["by_portal"]["demo"]
        .as_u64()
        .expect("served");
    let loader = crate::support::sync::loader(&database).await;
    let ledger: u64 = loader
        .ledger_days("demo")
        .await
        .unwrap()
        .iter()
        .map(|(_, day)| u64::from(day.used))
        .sum();
    assert_eq!(
        ledger, served,
        "every request the server saw is in the ledger"
    );
    let faulted: u64 = counters["requests"]["by_outcome"]
        .as_object()
        .expect("outcomes")
        .iter()
        .filter(|(k, _)| k.starts_with("fault"))
        .map(|(_, v)| v.as_u64().unwrap_or(0))
        .sum();
    assert!(faulted > 0, "no fault struck: {counters}");
}

#[tokio::test]
async fn a_database_restart_in_the_middle_of_a_sync_is_waited_out_and_the_mirror_ends_equal() {
    let private = PrivatePostgres::start();
    // 41 pages of 150 ms: the restart lands well inside the backfill.
    let emulator = slow_emulator_with(&[(Module::Requests, 8_000)], 150).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let url = private.url();
    setup.edit_config(|text| text.replacen(&database.url, &url, 1));

    let mut backfill = setup.start(&["backfill"]);
    let loader = Loader::connect(&Secret::new(url.clone()), "zoho", 2)
        .await
        .expect("the private database");
    wait_for(
        "some pages to be committed",
        Duration::from_secs(30),
        || async { mirror(&loader, Module::Requests).await.len() >= 400 },
    )
    .await;
    drop(loader);
    assert!(
        backfill
            .try_wait()
            .expect("the backfill's status")
            .is_none(),
        "the backfill ended before the restart: the test proves nothing"
    );
    private.restart();

    let output = tokio::time::timeout(Duration::from_secs(120), async {
        let status = backfill.wait().await.expect("the backfill ends");
        let mut stderr = String::new();
        if let Some(mut pipe) = backfill.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = pipe.read_to_string(&mut stderr).await;
        }
        (status, stderr)
    })
    .await
    .expect("the backfill ends after the restart");
    no_panic(&output.1);
    assert!(output.0.success(), "the backfill failed:\n{}", output.1);

    let loader = Loader::connect(&Secret::new(url), "zoho", 2).await.unwrap();
    let mirrored = mirror(&loader, Module::Requests).await;
    assert!(
        mirrored == emulator.snapshot(Module::Requests).await,
        "the mirror differs from the source"
    );
}
