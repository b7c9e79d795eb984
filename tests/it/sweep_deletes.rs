//! Sweeps against the emulator: after a backfill, records deleted at the source (admin
//! churn) are found by the first sweep due, which reads only ids and costs one request
//! per 199 ids plus the last: marked in the mirror and logged as deletes, nothing else
//! marked. Also the helpers the other sweep tests share.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use zoho_sync::loader::Loader;
use zoho_sync::quota::DayRule;
use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{
    emulator_now, emulator_with, loader, mirror, request_log, stream, SyncSettings, SyncSetup,
};

/// Deletes `n` random records of `module` at the source; their ids.
pub async fn churn_deletes(emulator: &TestEmulator, module: Module, n: u32) -> BTreeSet<u64> {
    let before: BTreeSet<u64> = emulator.snapshot(module).await.into_keys().collect();
    emulator
        .admin_post(
            "churn",
            json!({ "module": module.url_name(), "mode": "now", "deletes": n }),
        )
        .await;
    let after: BTreeSet<u64> = emulator.snapshot(module).await.into_keys().collect();
    let gone: BTreeSet<u64> = before.difference(&after).copied().collect();
    assert_eq!(gone.len(), n as usize, "the churn deleted another count");
    gone
}

/// Moves the emulator's clock to `at`.
pub async fn set_clock(emulator: &TestEmulator, at: DateTime<Utc>) {
    emulator.set_clock(&at.to_rfc3339()).await;
}

/// Moves the emulator's clock to two minutes after the next Pacific midnight.
pub async fn next_pacific_day(emulator: &TestEmulator) {
    let now = emulator_now(emulator).await;
    set_clock(
        emulator,
        DayRule::Pacific.next_reset(now) + TimeDelta::minutes(2),
    )
    .await;
}

/// The `getrecords` requests without `lastmodifiedtime` the emulator logged after `after`
/// (backfills and sweeps; incremental passes always send the filter), and the last
/// sequence number of the log.
pub async fn unfiltered_reads_after(emulator: &TestEmulator, after: u64) -> (u64, u64) {
    let log = request_log(emulator).await;
    let last = log.last().and_then(|e| e["seq"].as_u64()).unwrap_or(0);
    let reads = log
        .iter()
        .filter(|e| e["seq"].as_u64().is_some_and(|s| s > after))
        .filter(|e| e["method"] == "getrecords" && e["lastmodifiedtime"].is_null())
        .count();
    (reads as u64, last)
}

/// The ids the change log holds a delete for, in `module`.
pub async fn logged_deletes(loader: &Loader, module: Module) -> BTreeSet<u64> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT record_id FROM change_log WHERE module = $1 AND op = 'delete' ORDER BY seq",
    )
    .bind(module.url_name())
    .fetch_all(loader.pool())
    .await
    .expect("change log");
    let unique: BTreeSet<u64> = ids.iter().map(|&id| id as u64).collect();
    assert_eq!(unique.len(), ids.len(), "a delete is logged twice: {ids:?}");
    unique
}

/// The ids the mirror has marked deleted in `module`.
pub async fn marked_deleted(loader: &Loader, module: Module) -> BTreeSet<u64> {
    loader
        .deleted_ids(&stream(module))
        .await
        .expect("deleted ids")
        .into_iter()
        .map(|id| id.0)
        .collect()
}

/// Every row stays in the mirror, the deleted ones marked: the others are exactly the
/// source's records.
pub async fn assert_rows_stay_and_the_rest_are_the_source(
    emulator: &TestEmulator,
    loader: &Loader,
    deleted: &BTreeSet<u64>,
) {
    let mirrored: BTreeSet<u64> = mirror(loader, Module::Requests).await.into_keys().collect();
    let source: BTreeSet<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    let gone: BTreeSet<u64> = mirrored.difference(&source).copied().collect();
    assert_eq!(&gone, deleted);
    assert!(source.is_subset(&mirrored));
}

/// A setup whose `requests` backfill is complete, with the emulator's clock then moved
/// a week and a day on (to 00:05 Pacific), when the first sweep is due.
pub async fn backfilled(records: u64) -> (TestEmulator, TestDatabase, SyncSetup) {
    let emulator = emulator_with(&[(Module::Requests, records)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    let week_on = emulator_now(&emulator).await + TimeDelta::days(8);
    let midnight = DayRule::Pacific.next_reset(week_on);
    set_clock(&emulator, midnight + TimeDelta::minutes(5)).await;
    (emulator, database, setup)
}

#[tokio::test]
async fn a_sweep_finds_every_deleted_record_marks_nothing_else_and_reads_200_ids_a_request() {
    // 10,000 ids are left: floor(10,000 / 200) + 1 = floor(10,000 / 199) + 1 = 51.
    let (emulator, database, setup) = backfilled(10_037).await;
    let (_, after_backfill) = unfiltered_reads_after(&emulator, 0).await;
    let deleted = churn_deletes(&emulator, Module::Requests, 37).await;
    let loader = loader(&database).await;
    assert!(marked_deleted(&loader, Module::Requests).await.is_empty());

    setup.run(&["sync"]).await.assert_success();

    let (sweep_requests, _) = unfiltered_reads_after(&emulator, after_backfill).await;
    assert_eq!(sweep_requests, 10_000 / 200 + 1);
    assert_eq!(sweep_requests, pass_requests(10_000));
    assert_eq!(marked_deleted(&loader, Module::Requests).await, deleted);
    assert_eq!(logged_deletes(&loader, Module::Requests).await, deleted);
    let sweep = loader
        .checkpoint(&stream(Module::Requests), PassKind::Sweep)
        .await
        .expect("sweep checkpoint");
    assert!(!sweep.in_progress && sweep.passes == 1, "{sweep:?}");
    assert_rows_stay_and_the_rest_are_the_source(&emulator, &loader, &deleted).await;
    assert_eq!(mirror(&loader, Module::Requests).await.len(), 10_037);

    // `plan` shows a sweep's cost and cadence, `status` where the sweep stands.
    let plan = setup.run(&["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("51 / 7 d"), "{}", plan.stdout);
    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    let status: serde_json::Value = serde_json::from_str(status.stdout.trim()).expect("JSON");
    assert_eq!(status["streams"][0]["sweep"]["passes"], 1, "{status}");
    // The status page says what the sweep found.
    let page = setup.config_path.with_file_name("status.html");
    let path = page.to_str().expect("a path");
    setup
        .run(&["status", "--html", path])
        .await
        .assert_success();
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.contains("found 37 deleted"), "{html}");
    // Every run says which process ran it.
    let by = &status["streams"][0]["last_run"]["instance"];
    assert!(by["pid"].as_u64().is_some_and(|pid| pid > 0), "{status}");
    assert_eq!(by["version"], env!("CARGO_PKG_VERSION"), "{status}");
    assert!(
        by["host"].as_str().is_some_and(|h| !h.is_empty()),
        "{status}"
    );

    // The next sync is within the week: no second sweep.
    let (_, before) = unfiltered_reads_after(&emulator, 0).await;
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(unfiltered_reads_after(&emulator, before).await.0, 0);
}

#[tokio::test]
async fn with_hard_delete_a_sweep_removes_the_rows_of_deleted_records() {
    let (emulator, database, setup) = backfilled(500).await;
    setup.edit_config(|text| {
        text.replacen(
            "schema = \"zoho\"",
            "schema = \"zoho\"\nhard_delete = true",
            1,
        )
    });
    let deleted = churn_deletes(&emulator, Module::Requests, 5).await;

    setup.run(&["sync"]).await.assert_success();

    let loader = loader(&database).await;
    let mirrored: BTreeSet<u64> = mirror(&loader, Module::Requests)
        .await
        .into_keys()
        .collect();
    let source: BTreeSet<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    assert_eq!(mirrored, source);
    assert_eq!(logged_deletes(&loader, Module::Requests).await, deleted);
}

#[tokio::test]
async fn a_module_whose_sweeps_are_off_is_never_swept() {
    let (emulator, database, setup) = backfilled(500).await;
    setup.edit_config(|text| {
        text.replacen(
            "requests = { priority = 1 }",
            "requests = { priority = 1, sweep_every_days = 0 }",
            1,
        )
    });
    churn_deletes(&emulator, Module::Requests, 5).await;
    let (_, before) = unfiltered_reads_after(&emulator, 0).await;

    setup.run(&["sync"]).await.assert_success();

    assert_eq!(unfiltered_reads_after(&emulator, before).await.0, 0);
    let loader = loader(&database).await;
    assert!(marked_deleted(&loader, Module::Requests).await.is_empty());
}
