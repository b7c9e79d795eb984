//! `zoho-sync backfill` and `sync` of a Zoho Desk organisation end to end: the real
//! binary, the emulator's Desk side and a fresh database. The mirror must hold every
//! record of each module with its latest modification, and the credits the ledger
//! counted must be what the emulator charged.

use zoho_sync::desk::DeskModule;

use crate::support::database::TestDatabase;
use crate::support::desk_sync::{
    assert_mirror_equals_source, charged, desk_emulator, desk_mirror, desk_source,
    past_the_index_lag, reserved, DeskSync,
};
use crate::support::emulator::TestEmulator;

#[tokio::test]
async fn a_desk_backfill_then_a_sync_past_the_index_lag_mirror_every_record() {
    let emulator = desk_emulator(450).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts"]);
    setup.run(&["backfill"]).await.assert_success();
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    for module in [DeskModule::Tickets, DeskModule::Contacts] {
        assert_mirror_equals_source(&emulator, &database, module).await;
    }
}

#[tokio::test]
async fn incremental_passes_under_churn_leave_the_mirror_equal_and_the_ledger_equal_to_the_charges()
{
    let emulator = desk_emulator(300).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "accounts"]);
    setup.run(&["backfill"]).await.assert_success();
    for round in 0..3 {
        // Creates and updates, several in one second, then time for the index (D16).
        emulator
            .admin_post(
                "desk/churn",
                serde_json::json!({ "creates": 20, "updates": 60 }),
            )
            .await;
        past_the_index_lag(&emulator).await;
        setup.run(&["sync"]).await.assert_success();
        for module in [DeskModule::Tickets, DeskModule::Accounts] {
            assert_mirror_equals_source(&emulator, &database, module).await;
        }
        assert_eq!(
            reserved(&database).await,
            charged(&emulator).await,
            "round {round}"
        );
    }
}

/// Token refreshes the emulator granted.
async fn refreshes(emulator: &TestEmulator) -> u64 {
    let counters = emulator.admin_get("desk/counters").await;
    counters["requests"]["tokens"]["refreshed"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_desk_backfill_spans_credit_days_and_each_day_spends_at_most_its_credits() {
    let emulator = desk_emulator(700).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    // 13 credits a day: four searches of 3 credits.
    setup.edit_config(|text| {
        text.replace(
            "edition = \"free\"",
            "edition = \"free\"\ndaily_limit = 13\nreserve = 0",
        )
    });
    let mut days = 0;
    loop {
        let outcome = setup.run(&["backfill"]).await;
        outcome.assert_success();
        days += 1;
        if outcome.stdout.contains("complete") {
            break;
        }
        assert!(
            outcome.stdout.contains("budget is spent"),
            "{}",
            outcome.stdout
        );
        assert!(days < 10, "the backfill does not end");
        // The next credit day (the emulator's credit zone is UTC).
        let next = (crate::support::sync::emulator_now(&emulator).await
            + chrono::TimeDelta::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 1)
        .expect("a time")
        .and_utc();
        emulator.set_clock(&next.to_rfc3339()).await;
    }
    assert!(days >= 2, "one day held it all ({days})");
    let charged = charged(&emulator).await;
    assert!(charged.values().all(|n| *n <= 13), "{charged:?}");
    assert_eq!(reserved(&database).await, charged);
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
}

#[tokio::test]
async fn an_access_token_is_reused_across_runs_and_processes_and_refreshed_once_it_expires() {
    let emulator = desk_emulator(50).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts", "accounts"]);
    setup.run(&["backfill"]).await.assert_success();
    assert_eq!(refreshes(&emulator).await, 1);
    // Three processes at once, one database: the cached token serves them all.
    let (a, b, c) = tokio::join!(
        setup.run(&["sync"]),
        setup.run(&["sync"]),
        setup.run(&["sync"])
    );
    for outcome in [&a, &b, &c] {
        assert!(matches!(outcome.code, Some(0) | Some(3)), "{outcome:?}");
    }
    assert_eq!(
        refreshes(&emulator).await,
        1,
        "no process refreshed a live token"
    );
    // An hour later the token has expired: the next run refreshes it, once.
    emulator
        .admin_post("desk/clock", serde_json::json!({ "advance_secs": 3_700 }))
        .await;
    setup.run(&["sync"]).await.assert_success();
    assert_eq!(refreshes(&emulator).await, 2);
    assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
}

#[tokio::test]
async fn contracts_agents_and_departments_are_read_whole_each_round_and_deletions_follow() {
    let emulator = desk_emulator(120).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(
        &emulator,
        &database,
        &["tickets", "contracts", "agents", "departments"],
    );
    setup.run(&["backfill"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, DeskModule::Contracts).await;
    let before = desk_source(&emulator, DeskModule::Contracts).await;
    assert_eq!(before.len(), 120);
    for round in 0..2 {
        // Purged records leave no trace in the recycle bin: only the whole list shows them gone.
        let churn = serde_json::json!({ "creates": 8, "updates": 20, "trashes": 6, "restores": 2 });
        emulator.admin_post("desk/churn", churn).await;
        emulator
            .admin_post("desk/churn", serde_json::json!({ "purges": 4 }))
            .await;
        past_the_index_lag(&emulator).await;
        setup.run(&["sync"]).await.assert_success();
        // (Tickets learn of purges from the weekly reconciliation, `desk_deletions`.)
        assert_mirror_equals_source(&emulator, &database, DeskModule::Contracts).await;
        assert_eq!(
            reserved(&database).await,
            charged(&emulator).await,
            "round {round}"
        );
    }
    let after = desk_source(&emulator, DeskModule::Contracts).await;
    assert!(
        before.keys().any(|id| !after.contains_key(id)),
        "nothing deleted"
    );
    for module in [DeskModule::Agents, DeskModule::Departments] {
        let mirrored = desk_mirror(&database, module).await;
        assert!(!mirrored.is_empty(), "{module:?} not mirrored");
    }
}

#[tokio::test]
async fn desk_custom_fields_get_typed_columns_in_the_module_view() {
    let emulator = desk_emulator(80).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts"]);
    setup.run(&["backfill"]).await.assert_success();
    let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, cf_order_number, cf_region FROM zoho_desk.tickets_view ORDER BY id",
    )
    .fetch_all(&database.pool)
    .await
    .expect("the tickets view has the custom columns");
    let source = desk_source(&emulator, DeskModule::Tickets).await;
    assert_eq!(rows.len(), source.len());
    for (id, order_number, region) in rows {
        let cf = &source[&id]["cf"];
        assert_eq!(
            order_number.as_deref(),
            cf["cf_order_number"].as_str(),
            "{id}"
        );
        assert_eq!(region.as_deref(), cf["cf_region"].as_str(), "{id}");
    }
    let tiers: i64 =
        sqlx::query_scalar("SELECT count(cf_customer_tier) FROM zoho_desk.contacts_view")
            .fetch_one(&database.pool)
            .await
            .expect("the contacts view has its custom column");
    assert!(tiers > 0);
    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    let document: serde_json::Value = serde_json::from_str(status.stdout.trim()).expect("json");
    let fields = document["fields"].as_array().expect("fields");
    assert!(
        fields.iter().any(|f| f["module"] == "desk.tickets"
            && f["label"] == "cf_region"
            && f["view_column"]["name"] == "cf_region"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn a_customer_reply_that_leaves_modified_time_alone_still_reaches_the_mirror() {
    let emulator = desk_emulator(150).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.run(&["backfill"]).await.assert_success();
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    let before = desk_source(&emulator, DeskModule::Tickets).await;
    emulator
        .admin_post(
            "desk/churn",
            serde_json::json!({ "module": "tickets", "replies": 12 }),
        )
        .await;
    let after = desk_source(&emulator, DeskModule::Tickets).await;
    let replied: Vec<i64> = after
        .iter()
        .filter(|(id, r)| before[*id]["customerResponseTime"] != r["customerResponseTime"])
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(replied.len(), 12);
    assert!(replied
        .iter()
        .all(|id| before[id]["modifiedTime"] == after[id]["modifiedTime"]));
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    for id in &replied {
        assert_eq!(
            mirror[id]["customerResponseTime"], after[id]["customerResponseTime"],
            "ticket {id}"
        );
    }
    assert_eq!(reserved(&database).await, charged(&emulator).await);
}

/// The emulator's time entries of tickets (what the per-agent reads cover, D15).
async fn ticket_time_entries(emulator: &TestEmulator) -> Vec<(i64, serde_json::Value)> {
    desk_source(emulator, DeskModule::TimeEntries)
        .await
        .into_iter()
        .filter(|(_, entry)| entry["module"] == "tickets")
        .map(|(id, entry)| (id, entry["modifiedTime"].clone()))
        .collect()
}

async fn mirrored_time_entries(database: &TestDatabase) -> Vec<(i64, serde_json::Value)> {
    desk_mirror(database, DeskModule::TimeEntries)
        .await
        .into_iter()
        .map(|(id, entry)| (id, entry["modifiedTime"].clone()))
        .collect()
}

#[tokio::test]
async fn ticket_time_entries_are_read_per_agent_and_follow_changes_and_deletions() {
    let emulator = desk_emulator(400).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["time_entries"]);
    setup.run(&["backfill"]).await.assert_success();
    let source = ticket_time_entries(&emulator).await;
    assert!(source.len() > 50, "{}", source.len());
    assert_eq!(mirrored_time_entries(&database).await, source);
    for round in 0..2 {
        let churn = serde_json::json!({ "module": "timeEntry", "creates": 10, "updates": 30, "trashes": 5 });
        emulator.admin_post("desk/churn", churn).await;
        past_the_index_lag(&emulator).await;
        setup.run(&["sync"]).await.assert_success();
        assert_eq!(
            mirrored_time_entries(&database).await,
            ticket_time_entries(&emulator).await,
            "round {round}"
        );
        assert_eq!(reserved(&database).await, charged(&emulator).await);
    }
}

#[tokio::test]
async fn a_mass_update_past_the_search_cap_is_read_whole_by_creation_time_inside_its_second() {
    let emulator = desk_emulator(5_200).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.run(&["backfill"]).await.assert_success();
    // 5,100 tickets in one second: more than search can page by offset inside it.
    emulator
        .admin_post(
            "desk/churn",
            serde_json::json!({ "module": "tickets", "updates": 5_100 }),
        )
        .await;
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
    assert_eq!(reserved(&database).await, charged(&emulator).await);
}
