//! Index lag (D16), the recycle bin (section 5, D17) and churn: a write is searchable only
//! after the organisation's lag; trashed records leave lists, searches and snapshots,
//! wait in the bin (newest first) for 60 days, and come back by a restore; churn creates,
//! updates, trashes, purges and restores at once or per simulated minute.

use reqwest::Method;
use serde_json::json;

use super::Desk;

#[tokio::test]
async fn a_write_becomes_searchable_only_after_the_index_lag() {
    let desk = Desk::with_org(|org| org.index_lag = std::time::Duration::from_secs(60)).await;
    let created = desk
        .call(
            Method::POST,
            "contacts",
            "",
            Some(json!({ "lastName": "Kowalczyk" })),
        )
        .await;
    let id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        desk.get(&format!("contacts/{id}"), "").await.status,
        200,
        "by id at once"
    );
    assert_eq!(
        desk.get("contacts/search", &format!("id={id}"))
            .await
            .status,
        204
    );
    desk.advance(59).await;
    assert_eq!(
        desk.get("contacts/search", &format!("id={id}"))
            .await
            .status,
        204
    );
    desk.advance(1).await;
    assert_eq!(
        desk.get("contacts/search", &format!("id={id}"))
            .await
            .column("id"),
        vec![id]
    );
}

#[tokio::test]
async fn the_bin_lists_trashed_records_newest_first_and_forgets_them_after_sixty_days() {
    let mut desk = Desk::start(5).await;
    let tickets = desk.ids("tickets").await;
    let contacts = desk.ids("contacts").await;
    desk.call(
        Method::POST,
        "tickets/moveToTrash",
        "",
        Some(json!({ "ticketIds": [tickets[0]] })),
    )
    .await;
    desk.advance(10).await;
    desk.call(
        Method::POST,
        "contacts/moveToTrash",
        "",
        Some(json!({ "contactIds": [contacts[1]] })),
    )
    .await;
    let bin = desk
        .get("recycleBin", "sortBy=-deletedTime&limit=100")
        .await;
    assert_eq!(
        bin.column("id"),
        vec![contacts[1].clone(), tickets[0].clone()]
    );
    assert_eq!(bin.column("type"), vec!["Contacts", "Tickets"]);
    assert_eq!(bin.column("deletedTime")[1], "2026-03-04T12:00:00.000Z");
    assert!(
        !desk.ids("tickets").await.contains(&tickets[0]),
        "snapshots exclude trashed records"
    );
    desk.advance_and_refresh(60 * 86_400 - 10 + 1).await;
    assert_eq!(
        desk.get("recycleBin", "").await.column("id"),
        vec![contacts[1].clone()]
    );
    desk.advance(10).await;
    assert_eq!(desk.get("recycleBin", "").await.status, 204);
    let restore = desk
        .call(
            Method::POST,
            "recycleBin/restore",
            "",
            Some(json!({ "ids": [contacts[1]] })),
        )
        .await;
    assert_eq!(restore.json()["results"][0]["success"], json!(false));
}

#[tokio::test]
async fn a_restored_record_is_live_again_and_modified_at_the_restore() {
    let desk = Desk::start(5).await;
    let id = desk.ids("accounts").await.remove(2);
    desk.call(
        Method::POST,
        "accounts/moveToTrash",
        "",
        Some(json!({ "accountIds": [id] })),
    )
    .await;
    desk.advance(5).await;
    let restore = desk
        .call(
            Method::POST,
            "recycleBin/restore",
            "",
            Some(json!({ "ids": [id] })),
        )
        .await;
    assert_eq!(
        restore.body,
        format!(r#"{{"results":[{{"errors":null,"id":"{id}","success":true}}]}}"#)
    );
    assert_eq!(restore.header("x-rate-limit-request-weight-v3"), Some("6"));
    let back = desk.get(&format!("accounts/{id}"), "").await.json();
    assert_eq!(back["modifiedTime"], json!("2026-03-04T12:00:05.000Z"));
}

#[tokio::test]
async fn churn_changes_the_snapshot_at_once_or_per_simulated_minute() {
    let desk = Desk::start(50).await;
    let path = format!("records/{}/tasks", desk.org_id);
    let churn = json!({ "org_id": desk.org_id, "module": "tasks", "creates": 3, "updates": 4, "trashes": 5 });
    let answer = desk.admin_post("churn", churn).await;
    assert_eq!(answer["stores"][0]["records"], json!(48));
    assert_eq!(answer["stores"][0]["trashed"], json!(5));
    let snapshot = desk.admin_get(&path).await;
    let changed = snapshot.as_object().map(|o| {
        o.values()
            .filter(|t| t["modifiedTime"] == json!("2026-03-04T12:00:00.000Z"))
            .count()
    });
    assert_eq!(changed, Some(7));
    desk.admin_post(
        "churn",
        json!({ "module": "tasks", "purges": 2, "restores": 1 }),
    )
    .await;
    assert_eq!(
        desk.get("recycleBin", "module=tasks")
            .await
            .column("id")
            .len(),
        2
    );
    desk.admin_post(
        "churn",
        json!({ "module": "tasks", "mode": "rate", "creates": 2 }),
    )
    .await;
    desk.advance(180).await;
    assert_eq!(desk.ids("tasks").await.len(), 49 + 6);
}
