//! Records over HTTP: GET by id against the snapshot and the visibility rule of D18,
//! writes stamping the emulated second (D12, D23, D24), time entries per agent (D15) and
//! archived tickets (D25); unknown paths are `URL_NOT_FOUND`.

use reqwest::Method;
use serde_json::json;

use super::{error, Desk};

#[tokio::test]
async fn a_record_is_404_by_a_non_numeric_id_and_403_when_not_visible() {
    let desk = Desk::start(3).await;
    let id = desk.ids("accounts").await.remove(0);
    let shown = desk.get(&format!("accounts/{id}"), "").await;
    let snapshot = desk
        .admin_get(&format!("records/{}/accounts", desk.org_id))
        .await;
    assert_eq!(shown.json(), snapshot[&id]);
    let forbidden = error(
        "FORBIDDEN",
        "You are not authorized to access this resource.",
    );
    for unknown in ["1", "99999999999999999999999"] {
        let answer = desk.get(&format!("accounts/{unknown}"), "").await;
        assert_eq!((answer.status, answer.body), (403, forbidden.clone()));
    }
    desk.call(
        Method::POST,
        "accounts/moveToTrash",
        "",
        Some(json!({ "accountIds": [id] })),
    )
    .await;
    assert_eq!(desk.get(&format!("accounts/{id}"), "").await.status, 403);
    let not_found = desk.get("accounts/abc", "").await;
    assert_eq!(
        (not_found.status, not_found.body),
        (
            404,
            error("URL_NOT_FOUND", "The URL you requested could not be found.")
        )
    );
    let wrong = desk
        .call(Method::DELETE, &format!("accounts/{id}"), "", None)
        .await;
    assert_eq!(
        (wrong.status, wrong.body),
        (
            405,
            error(
                "METHOD_NOT_ALLOWED",
                "The requested method is not allowed for this URL."
            )
        )
    );
}

#[tokio::test]
async fn writes_bump_modified_time_to_the_emulated_second() {
    let desk = Desk::start(3).await;
    let id = desk.ids("tickets").await.remove(0);
    desk.admin_post("clock", json!({ "set": "2026-03-04T12:00:00.750Z" }))
        .await;
    let patched = desk
        .call(
            Method::PATCH,
            &format!("tickets/{id}"),
            "",
            Some(json!({ "status": "Closed", "cf": { "cf_region": "EMEA" } })),
        )
        .await;
    let ticket = patched.json();
    assert_eq!(
        (patched.status, &ticket["modifiedTime"]),
        (200, &json!("2026-03-04T12:00:00.000Z"))
    );
    assert_eq!(
        (
            &ticket["status"],
            &ticket["statusType"],
            &ticket["cf"]["cf_region"]
        ),
        (&json!("Closed"), &json!("Closed"), &json!("EMEA"))
    );
    assert_eq!(ticket["customFields"]["Region"], json!("EMEA"));
    let created = desk
        .call(
            Method::POST,
            "accounts",
            "",
            Some(json!({ "accountName": "Nordwind Logistics" })),
        )
        .await;
    assert_eq!(
        (created.status, created.json()["createdTime"].clone()),
        (200, json!("2026-03-04T12:00:00.000Z"))
    );
    let bad = desk
        .call(
            Method::PATCH,
            &format!("tickets/{id}"),
            "",
            Some(json!({ "status": "Lost" })),
        )
        .await;
    assert_eq!(
        bad.body,
        r#"{"errorCode":"INVALID_DATA","message":"The data does not comply to the validation restrictions defined.","errors":[{"fieldName":"/status","errorType":"invalid","errorMessage":"the value is not allowed for this field"}]}"#
    );
}

#[tokio::test]
async fn time_entries_are_read_per_agent_module_and_modified_time() {
    let desk = Desk::start(200).await;
    let agent = desk.get("agents", "").await.column("id").remove(0);
    let range = "modifiedTimeRange=2000-01-01T00:00:00.000Z,2100-01-01T00:00:00.000Z";
    let path = format!("agents/{agent}/timeEntry");
    let page = desk
        .get(&path, &format!("{range}&module=tickets&limit=100"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.column("id").is_empty());
    assert!(page.column("ownerId").iter().all(|o| *o == agent));
    assert!(page.column("module").iter().all(|m| m == "tickets"));
    assert!(page
        .column("modifiedTime")
        .iter()
        .all(|t| t.ends_with(".000Z")));
    let bad = desk.get(&path, "module=solutions").await;
    assert_eq!(
        (bad.status, bad.body),
        (
            422,
            error(
                "UNPROCESSABLE_ENTITY",
                "The value passed for the 'module' query parameter is invalid."
            )
        )
    );
    assert_eq!(desk.get("agents/1/timeEntry", "").await.status, 403);
}

#[tokio::test]
async fn a_department_without_archived_tickets_answers_204_and_unknown_paths_are_url_not_found() {
    let desk = Desk::start(3).await;
    let department = desk.get("departments", "").await.column("id").remove(0);
    let archived = desk
        .get(
            "tickets/archivedTickets",
            &format!("departmentId={department}"),
        )
        .await;
    assert_eq!(
        (
            archived.status,
            archived.header("x-rate-limit-request-weight-v3")
        ),
        (204, Some("3"))
    );
    for path in ["tickets/1/threads/x", "solutions", "requests"] {
        let answer = desk.get(path, "").await;
        assert_eq!(
            (answer.status, answer.body),
            (
                404,
                error("URL_NOT_FOUND", "The URL you requested could not be found.")
            ),
            "{path}"
        );
    }
}
