//! A sweep larger than a day's budget: it stops at the budget, continues from its
//! checkpoint on the next Pacific days without reading a window twice, and only the
//! complete sweep marks records deleted. A record the mirror saw modified after the
//! sweep started is spared even though the sweep never saw it, until the next sweep.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use zoho_sync::loader::Loader;
use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::{Module, RecordId};

use crate::support::emulator::TestEmulator;
use crate::support::sync::{emulator_now, loader, stream, SyncSetup};
use crate::sweep_deletes::{
    backfilled, churn_deletes, logged_deletes, marked_deleted, next_pacific_day, set_clock,
    unfiltered_reads_after,
};

/// Requests a day: one incremental pass and six sweep pages.
const BUDGET: u32 = 7;

fn small_budget(setup: &SyncSetup) {
    setup.edit_config(|text| {
        text.replacen("daily_limit = 15000", &format!("daily_limit = {BUDGET}"), 1)
    });
}

async fn sweep_checkpoint(loader: &Loader) -> zoho_sync::stream::Checkpoint {
    loader
        .checkpoint(&stream(Module::Requests), PassKind::Sweep)
        .await
        .expect("sweep checkpoint")
}

/// Runs `sync` once a Pacific day until the sweep completes; the days it took.
async fn sync_until_swept(emulator: &TestEmulator, setup: &SyncSetup, loader: &Loader) -> u32 {
    let passes = sweep_checkpoint(loader).await.passes;
    for day in 1..=5 {
        let run = setup.run(&["sync"]).await;
        run.assert_success();
        if sweep_checkpoint(loader).await.passes > passes {
            return day;
        }
        assert!(run.stdout.contains("budget is spent"), "{}", run.stdout);
        next_pacific_day(emulator).await;
    }
    panic!("the sweep did not complete in five days");
}

#[tokio::test]
async fn a_sweep_resumes_across_quota_days_and_marks_only_once_complete() {
    // 3,000 ids left: 16 sweep requests, 6 a day.
    let (emulator, database, setup) = backfilled(3_020).await;
    small_budget(&setup);
    let (_, after_backfill) = unfiltered_reads_after(&emulator, 0).await;
    let deleted = churn_deletes(&emulator, Module::Requests, 20).await;
    let loader = loader(&database).await;

    let run = setup.run(&["sync"]).await;
    run.assert_success();
    assert!(run.stdout.contains("budget is spent"), "{}", run.stdout);
    let first_day = sweep_checkpoint(&loader).await;
    assert!(first_day.in_progress, "{first_day:?}");
    assert!(first_day.pass_started_at.is_some());
    assert!(marked_deleted(&loader, Module::Requests).await.is_empty());
    next_pacific_day(&emulator).await;

    let days = 1 + sync_until_swept(&emulator, &setup, &loader).await;
    assert_eq!(days, 3);
    let done = sweep_checkpoint(&loader).await;
    assert_eq!(done.pass_started_at, first_day.pass_started_at);
    let (sweep_requests, _) = unfiltered_reads_after(&emulator, after_backfill).await;
    assert_eq!(sweep_requests, pass_requests(3_000));
    assert_eq!(marked_deleted(&loader, Module::Requests).await, deleted);
    assert_eq!(logged_deletes(&loader, Module::Requests).await, deleted);
}

#[tokio::test]
async fn a_record_modified_after_the_sweep_started_is_spared_until_the_next_sweep() {
    let (emulator, database, setup) = backfilled(3_000).await;
    small_budget(&setup);
    let deleted = churn_deletes(&emulator, Module::Requests, 10).await;
    let loader = loader(&database).await;
    // The first day's sweep reads the first 1,195 ids.
    setup.run(&["sync"]).await.assert_success();
    assert!(sweep_checkpoint(&loader).await.in_progress);
    next_pacific_day(&emulator).await;

    // Far past the sweep's cursor: modified (and mirrored by an incremental pass, which
    // `backfill` runs but no sweep), then deleted before the sweep gets there.
    let ids: Vec<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    let spared = RecordId(ids[2_500]);
    let client = emulator.client(zoho_sync::zoho::Format::Json);
    let subject = vec![(
        "Subject".to_string(),
        Some("modified mid-sweep".to_string()),
    )];
    client
        .update_record(Module::Requests, spared, &subject)
        .await
        .expect("update");
    setup.run(&["backfill"]).await.assert_success();
    assert!(sweep_checkpoint(&loader).await.in_progress);
    client
        .delete_record(Module::Requests, spared)
        .await
        .expect("delete");

    sync_until_swept(&emulator, &setup, &loader).await;
    assert_eq!(marked_deleted(&loader, Module::Requests).await, deleted);
    assert!(!logged_deletes(&loader, Module::Requests)
        .await
        .contains(&spared.0));

    // The next sweep, a week on, finds it.
    setup.edit_config(|text| {
        text.replacen(&format!("daily_limit = {BUDGET}"), "daily_limit = 15000", 1)
    });
    let week_on = emulator_now(&emulator).await + TimeDelta::days(8);
    set_clock(&emulator, week_on).await;
    sync_until_swept(&emulator, &setup, &loader).await;
    let mut all: BTreeSet<u64> = deleted;
    all.insert(spared.0);
    assert_eq!(marked_deleted(&loader, Module::Requests).await, all);
}

#[tokio::test]
async fn a_row_the_mirror_got_after_the_sweep_started_is_judged_by_the_next_sweep_only() {
    let (emulator, database, setup) = backfilled(3_000).await;
    small_budget(&setup);
    let loader = loader(&database).await;
    setup.run(&["sync"]).await.assert_success();
    assert!(sweep_checkpoint(&loader).await.in_progress);
    // A row written mid-sweep, old and long passed by the sweep's cursor, that the
    // source does not have (as if an incremental pass had brought a record deleted
    // since): the sweep cannot have seen it, so it must not judge it.
    sqlx::query(
        "INSERT INTO requests (portal, department, id, fields, _synced_at, modified_time) \
         VALUES ($1, $2, 1, '{}', now(), '2001-01-01T00:00:00Z')",
    )
    .bind(crate::support::emulator::PORTAL)
    .bind(crate::support::emulator::DEPARTMENT)
    .execute(loader.pool())
    .await
    .expect("insert a row");
    next_pacific_day(&emulator).await;

    sync_until_swept(&emulator, &setup, &loader).await;
    assert!(marked_deleted(&loader, Module::Requests).await.is_empty());

    let week_on = emulator_now(&emulator).await + TimeDelta::days(8);
    set_clock(&emulator, week_on).await;
    next_pacific_day(&emulator).await;
    sync_until_swept(&emulator, &setup, &loader).await;
    assert_eq!(
        marked_deleted(&loader, Module::Requests).await,
        BTreeSet::from([1])
    );
}
