//! `zoho-sync api` against a Zoho Desk organisation, end to end: the real binary, the
//! emulator's Desk side and a fresh database. Each write must show in the emulator's
//! records, every credit the emulator charged must have been reserved in the ledger
//! first, and a line refused (wrong API, a module that takes no writes, no credits left)
//! must send nothing.

use serde_json::{json, Value};
use zoho_sync::desk::DeskModule;

use crate::support::database::TestDatabase;
use crate::support::desk_sync::{
    charged, desk_emulator, desk_mirror, desk_source, reserved, DeskSync,
};
use crate::support::emulator::TestEmulator;

/// Desk API calls the emulator served, of any kind.
async fn calls(emulator: &TestEmulator) -> u64 {
    let counters = emulator.admin_get("desk/counters").await;
    counters["requests"]["total"].as_u64().unwrap_or(0)
}

/// `--field`s of a ticket the emulator accepts: an existing ticket's department and contact.
async fn new_ticket_fields(emulator: &TestEmulator, subject: &str) -> Vec<String> {
    let tickets = desk_source(emulator, DeskModule::Tickets).await;
    let model = tickets
        .values()
        .find(|t| t["contactId"].is_string())
        .expect("a ticket with a contact");
    vec![
        format!("subject={subject}"),
        format!(
            "departmentId={}",
            model["departmentId"].as_str().unwrap_or("")
        ),
        format!("contactId={}", model["contactId"].as_str().unwrap_or("")),
    ]
}

fn create_line<'a>(fields: &'a [String], output: &'a str) -> Vec<&'a str> {
    let mut line = vec!["api", "create", "--module", "tickets", "--output", output];
    for field in fields {
        line.extend(["--field", field.as_str()]);
    }
    line
}

#[tokio::test]
async fn a_ticket_is_created_read_updated_and_trashed_each_credit_reserved_before_it_was_charged() {
    let emulator = desk_emulator(5).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    let before = desk_source(&emulator, DeskModule::Tickets).await;

    let fields = new_ticket_fields(&emulator, "Printer down").await;
    let created = setup.run(&create_line(&fields, "jsonl")).await;
    created.assert_success();
    let record: Value = serde_json::from_str(created.stdout.trim()).expect("one JSON line");
    let id = record["id"].as_str().expect("the new id").to_string();
    let source = desk_source(&emulator, DeskModule::Tickets).await;
    assert_eq!(source.len(), before.len() + 1);
    let key: i64 = id.parse().expect("a numeric id");
    assert_eq!(source[&key]["subject"], "Printer down");

    let got = setup
        .run(&["api", "get", "--module", "tickets", "--id", &id])
        .await;
    got.assert_success();
    assert!(
        got.stdout
            .lines()
            .any(|l| l.starts_with("subject:") && l.ends_with("Printer down")),
        "{}",
        got.stdout
    );

    let update = [
        "api",
        "update",
        "--module",
        "tickets",
        "--id",
        &id,
        "--field",
        "subject=Printer fixed",
    ];
    setup.run(&update).await.assert_success();
    assert_eq!(
        desk_source(&emulator, DeskModule::Tickets).await[&key]["subject"],
        "Printer fixed"
    );

    let trashed = setup
        .run(&["api", "trash", "--module", "tickets", "--id", &id])
        .await;
    trashed.assert_success();
    assert_eq!(
        trashed.stdout,
        format!("moved to the recycle bin: tickets {id}\n")
    );
    assert!(!desk_source(&emulator, DeskModule::Tickets)
        .await
        .contains_key(&key));

    let charged = charged(&emulator).await;
    assert_eq!(reserved(&database).await, charged);
    assert_eq!(charged.values().sum::<u64>(), 1 + 1 + 1 + 6, "{charged:?}");
}

#[tokio::test]
async fn a_legacy_method_on_a_desk_organisation_is_a_usage_error_and_sends_nothing() {
    let emulator = desk_emulator(2).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    let refused = setup
        .run(&["api", "getrecords", "--module", "contacts"])
        .await;
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("get, create, update, trash"),
        "{}",
        refused.stderr
    );
    assert_eq!(calls(&emulator).await, 0);
    assert!(charged(&emulator).await.is_empty());
}

#[tokio::test]
async fn a_write_to_a_module_that_takes_none_is_refused_before_sending() {
    let emulator = desk_emulator(2).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    let line = [
        "api",
        "create",
        "--module",
        "products",
        "--field",
        "productName=Drum",
    ];
    let refused = setup.run(&line).await;
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("tickets, contacts and accounts"),
        "{}",
        refused.stderr
    );
    assert_eq!(calls(&emulator).await, 0);
}

#[tokio::test]
async fn a_trash_the_days_budget_has_no_room_for_is_refused_and_nothing_is_sent() {
    let emulator = desk_emulator(2).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.edit_config(|text| {
        text.replace(
            "edition = \"free\"",
            "edition = \"free\"\ndaily_limit = 1\nreserve = 0",
        )
    });
    let tickets = desk_source(&emulator, DeskModule::Tickets).await;
    let id = tickets.keys().next().expect("a ticket").to_string();
    let refused = setup
        .run(&["api", "trash", "--module", "tickets", "--id", &id])
        .await;
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no room for the 6 credits"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("nothing was sent"),
        "{}",
        refused.stderr
    );
    assert_eq!(calls(&emulator).await, 0);
    assert!(reserved(&database).await.is_empty());
    assert_eq!(
        desk_source(&emulator, DeskModule::Tickets).await.len(),
        tickets.len()
    );
}

#[tokio::test]
async fn a_trash_after_a_backfill_marks_the_mirror_row_deleted_and_logs_the_delete() {
    let emulator = desk_emulator(5).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.run(&["backfill"]).await.assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    let id = *mirror.keys().next().expect("a mirrored ticket");

    let line = [
        "api",
        "trash",
        "--module",
        "tickets",
        "--id",
        &id.to_string(),
    ];
    setup.run(&line).await.assert_success();

    let after = desk_mirror(&database, DeskModule::Tickets).await;
    assert!(!after.contains_key(&id), "the trashed row is still live");
    assert_eq!(after.len(), mirror.len() - 1);
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM zoho.change_log WHERE op = 'delete' AND record_id = $1",
    )
    .bind(id)
    .fetch_one(&database.pool)
    .await
    .expect("the change log");
    assert_eq!(logged, 1);
    assert_eq!(reserved(&database).await, charged(&emulator).await);
}

#[tokio::test]
async fn a_create_whose_connection_is_cut_after_it_was_made_is_sent_once_and_reported_as_maybe_made(
) {
    let emulator = desk_emulator(5).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    let before = desk_source(&emulator, DeskModule::Tickets).await;
    let fields = new_ticket_fields(&emulator, "Scanner jammed").await;
    emulator
        .admin_post("desk/faults", json!({ "kind": "reset", "next": 1 }))
        .await;

    let outcome = setup.run(&create_line(&fields, "table")).await;
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("may or may not exist"),
        "{}",
        outcome.stderr
    );
    let counters = emulator.admin_get("desk/counters").await;
    assert_eq!(counters["requests"]["by_endpoint"]["tickets.create"], 1);
    // The emulator made it before the connection was cut: one record, not two.
    assert_eq!(
        desk_source(&emulator, DeskModule::Tickets).await.len(),
        before.len() + 1
    );
    assert_eq!(reserved(&database).await, charged(&emulator).await);
}
