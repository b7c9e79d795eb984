//! Deletions of a Zoho Desk organisation end to end: records moved to the recycle bin
//! leave the mirror's live rows (marked `_deleted_at`, a delete in the change log), and a
//! record restored from the bin comes back, while the ledger stays equal to the credits
//! the emulator charged.

use zoho_sync::desk::DeskModule;

use crate::support::database::TestDatabase;
use crate::support::desk_sync::{
    assert_mirror_equals_source, charged, desk_emulator, desk_mirror, desk_source,
    past_the_index_lag, reserved, DeskSync, ORG_ID,
};

/// Deletes the change log recorded, per module.
async fn logged_deletes(database: &TestDatabase) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT module, count(*) FROM zoho.change_log WHERE portal = $1 AND op = 'delete' \
         GROUP BY module ORDER BY module",
    )
    .bind(ORG_ID)
    .fetch_all(&database.pool)
    .await
    .expect("the change log")
}

#[tokio::test]
async fn records_moved_to_the_recycle_bin_leave_the_mirror_and_restored_ones_come_back() {
    let emulator = desk_emulator(200).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts"]);
    setup.run(&["backfill"]).await.assert_success();
    let churns = [
        serde_json::json!({ "trashes": 15, "updates": 10, "creates": 5 }),
        serde_json::json!({ "restores": 6, "trashes": 4 }),
        serde_json::json!({ "restores": 3, "updates": 5 }),
    ];
    for (round, churn) in churns.into_iter().enumerate() {
        emulator.admin_post("desk/churn", churn).await;
        past_the_index_lag(&emulator).await;
        setup.run(&["sync"]).await.assert_success();
        for module in [DeskModule::Tickets, DeskModule::Contacts] {
            assert_mirror_equals_source(&emulator, &database, module).await;
        }
        assert_eq!(
            reserved(&database).await,
            charged(&emulator).await,
            "round {round}"
        );
    }
    // 19 records of each module were deleted, each logged once.
    assert_eq!(
        logged_deletes(&database).await,
        [("contacts".to_string(), 19), ("tickets".to_string(), 19)]
    );
    // The feed carries the Desk changes, each live record with its object as mirrored.
    let feed = setup.run(&["changes", "--module", "tickets"]).await;
    feed.assert_success();
    let changes: Vec<serde_json::Value> = feed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("an NDJSON line"))
        .filter(|c: &serde_json::Value| c.get("seq").is_some())
        .collect();
    let deletes = changes.iter().filter(|c| c["op"] == "delete").count();
    assert_eq!(deletes, 19);
    let live = desk_mirror(&database, DeskModule::Tickets).await;
    for change in changes.iter().filter(|c| c["op"] != "delete") {
        assert_eq!(change["department"], "");
        let id: i64 = change["record_id"].as_str().unwrap().parse().unwrap();
        if live.contains_key(&id) {
            assert_eq!(change["fields"]["id"], id.to_string(), "{change}");
        }
    }
    let status = setup.run(&["status"]).await;
    status.assert_success();
    assert!(
        status.stdout.contains("desk: deletions applied through"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("credits used today"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn a_walk_stops_an_hour_before_the_last_walk_began() {
    let emulator = desk_emulator(50).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.run(&["backfill"]).await.assert_success();
    // 150 deletions: the first walk reads them all (two pages), the next only the first
    // page, which already reaches deletions older than its cursor less an hour.
    emulator
        .admin_post(
            "desk/churn",
            serde_json::json!({ "trashes": 30, "creates": 120 }),
        )
        .await;
    emulator
        .admin_post("desk/churn", serde_json::json!({ "trashes": 120 }))
        .await;
    emulator
        .admin_post(
            "desk/clock",
            serde_json::json!({ "advance_secs": 2 * 3600 }),
        )
        .await;
    setup.run(&["sync"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
    let bin_calls = || async {
        let counters = emulator.admin_get("desk/counters").await;
        counters["requests"]["by_endpoint"]["recycleBin.list"]
            .as_u64()
            .unwrap_or(0)
    };
    let first = bin_calls().await;
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(bin_calls().await - first, 1);
}

#[tokio::test]
async fn records_purged_before_a_walk_of_the_bin_saw_them_are_found_by_the_reconciliation() {
    let emulator = desk_emulator(200).await;
    let database = TestDatabase::fresh().await;
    let setup = backfilled_with_daily_reconciliation(&emulator, &database).await;
    // Twelve tickets trashed, then purged from the bin before any walk of it read them.
    emulator
        .admin_post(
            "desk/churn",
            serde_json::json!({ "trashes": 12, "updates": 5 }),
        )
        .await;
    emulator
        .admin_post("desk/churn", serde_json::json!({ "purges": 12 }))
        .await;
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    let source = desk_source(&emulator, DeskModule::Tickets).await;
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    assert_eq!(mirror.len(), source.len() + 12, "the bin never showed them");
    // A day on, the reconciliation is due: it reads every ticket and retires the twelve.
    a_day_later(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
    assert_eq!(reserved(&database).await, charged(&emulator).await);
    let purged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM zoho.change_log WHERE module = 'tickets' AND op = 'delete'",
    )
    .fetch_one(&database.pool)
    .await
    .expect("the change log");
    assert_eq!(purged, 12);
}

#[tokio::test]
async fn archived_tickets_are_read_by_the_reconciliation_and_never_taken_for_deleted() {
    let emulator = desk_emulator(200).await;
    let database = TestDatabase::fresh().await;
    let setup = backfilled_with_daily_reconciliation(&emulator, &database).await;
    let before = desk_source(&emulator, DeskModule::Tickets).await;
    // Seven tickets archived: gone from lists and search, alive in their department's
    // archive (D25).
    emulator
        .admin_post(
            "desk/churn",
            serde_json::json!({ "module": "tickets", "archives": 7 }),
        )
        .await;
    let live = desk_source(&emulator, DeskModule::Tickets).await;
    let archived: Vec<i64> = before
        .keys()
        .filter(|id| !live.contains_key(id))
        .copied()
        .collect();
    assert_eq!(archived.len(), 7);
    // A day on, the reconciliation is due: it walks every ticket search shows, then the
    // archives, and retires only what it saw in neither.
    a_day_later(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    for id in &archived {
        assert!(
            mirror.contains_key(id),
            "archived ticket {id} taken for deleted"
        );
    }
    assert_eq!(mirror.len(), live.len() + 7);
    assert_eq!(reserved(&database).await, charged(&emulator).await);
    let sweeps: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM zoho.checkpoints WHERE kind = 'sweep' AND completed_at IS NOT NULL",
    )
    .fetch_one(&database.pool)
    .await
    .expect("the checkpoints");
    assert_eq!(sweeps, 1, "the reconciliation ran");
}

/// Tickets backfilled under a config whose reconciliation is due every day.
async fn backfilled_with_daily_reconciliation(
    emulator: &crate::support::emulator::TestEmulator,
    database: &TestDatabase,
) -> DeskSync {
    let setup = DeskSync::new(emulator, database, &["tickets"]);
    setup.edit_config(|text| {
        text.replace(
            "edition = \"free\"",
            "edition = \"free\"\nsweep_every_days = 1",
        )
    });
    setup.run(&["backfill"]).await.assert_success();
    setup
}

/// The emulator's clock a day (and a minute) on: a daily reconciliation is due.
async fn a_day_later(emulator: &crate::support::emulator::TestEmulator) {
    emulator
        .admin_post(
            "desk/clock",
            serde_json::json!({ "advance_secs": 86_400 + 60 }),
        )
        .await;
}
