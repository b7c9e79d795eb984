//! `zoho-sync resync`: a module's whole history read again inside the budget, keeping the
//! mirror. Rows read again unchanged log nothing, changed ones are logged once, and the
//! sweep that follows finds the records deleted at the source; status says where the
//! resync stands, and a resync stopped by the budget continues with the next command.

use std::collections::BTreeSet;

use serde_json::json;
use zoho_sync::stream::{Checkpoint, PassKind};
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, loader, stream, SyncSettings, SyncSetup,
};
use crate::sweep_deletes::{
    assert_rows_stay_and_the_rest_are_the_source, churn_deletes, logged_deletes, marked_deleted,
};

/// The requests stream's backfill checkpoint.
async fn backfill_of(database: &TestDatabase) -> Checkpoint {
    loader(database)
        .await
        .checkpoint(&stream(Module::Requests), PassKind::Backfill)
        .await
        .expect("checkpoint")
}

/// Change log entries of `module` that are not deletes.
async fn logged_upserts(database: &TestDatabase) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM zoho.change_log WHERE module = 'requests' AND op <> 'delete'",
    )
    .fetch_one(&database.pool)
    .await
    .expect("change log")
}

#[tokio::test]
async fn a_resync_reads_everything_again_logs_only_changes_and_a_sweep_finds_the_deleted() {
    let emulator = emulator_with(&[(Module::Requests, 900)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    let after_backfill = logged_upserts(&database).await;
    emulator
        .admin_post(
            "churn",
            json!({ "module": "requests", "mode": "now", "modifies": 4 }),
        )
        .await;
    let deleted = churn_deletes(&emulator, Module::Requests, 3).await;

    let resync = setup.run(&["resync", "--module", "requests"]).await;
    resync.assert_success();
    assert!(
        resync
            .stdout
            .contains("read again from its first row; a sweep follows"),
        "{}",
        resync.stdout
    );
    // Only the 4 modified rows were logged; the other 893 came back unchanged.
    assert_eq!(logged_upserts(&database).await, after_backfill + 4);
    let backfill = backfill_of(&database).await;
    let loader = loader(&database).await;
    assert!(
        !backfill.in_progress && backfill.passes == 2,
        "{backfill:?}"
    );
    assert!(marked_deleted(&loader, Module::Requests).await.is_empty());

    // The sweep follows in the next sync.
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(marked_deleted(&loader, Module::Requests).await, deleted);
    assert_eq!(logged_deletes(&loader, Module::Requests).await, deleted);
    assert_rows_stay_and_the_rest_are_the_source(&emulator, &loader, &deleted).await;
}

#[tokio::test]
async fn a_resync_stopped_by_the_budget_continues_where_it_stopped() {
    let emulator = emulator_with(&[(Module::Requests, 900)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    // Today's budget: 2 more requests only.
    let used: i64 = sqlx::query_scalar("SELECT used::bigint FROM zoho.quota_ledger")
        .fetch_one(&database.pool)
        .await
        .expect("the ledger");
    setup.edit_config(|text| {
        text.replace(
            "daily_limit = 15000",
            &format!("daily_limit = {}", used + 2),
        )
    });
    setup.run(&["resync", "--module", "requests"]).await;
    let status = setup.run(&["status"]).await;
    assert!(status.stdout.contains("resync at row"), "{}", status.stdout);

    setup.edit_config(|text| {
        text.replace(
            &format!("daily_limit = {}", used + 2),
            "daily_limit = 15000",
        )
    });
    let again = setup.run(&["resync", "--module", "requests"]).await;
    again.assert_success();
    assert!(
        again.stdout.contains("its pass in progress continues"),
        "{}",
        again.stdout
    );
    let backfill = backfill_of(&database).await;
    assert!(
        !backfill.in_progress && backfill.passes == 2,
        "{backfill:?}"
    );
    let ids: BTreeSet<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    assert_eq!(ids.len(), 900);
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}
