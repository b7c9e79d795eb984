//! The API's rules of section 0 over HTTP: routing beside the legacy API, the `orgId`
//! header (D7), envelopes and 204s (D8), paging and the search cap (D9, D10), strict
//! parameters (D11), tie groups (D12), every error body byte for byte.

use reqwest::Method;
use serde_json::json;

use super::{error, Desk};

#[tokio::test]
async fn desk_paths_and_legacy_paths_route_to_their_own_api_on_one_port() {
    let desk = Desk::start(3).await;
    let search = desk.get("tickets/search", "limit=1").await;
    assert_eq!(search.status, 200, "{}", search.body);
    assert!(search.json()["count"].is_number());
    let token = desk
        .running
        .token()
        .map(|t| t.expose().to_string())
        .unwrap_or_default();
    let legacy = desk
        .http
        .get(desk.url(&format!(
            "/api/json/requests/getrecords?authtoken={token}&portal=demo&department=Support"
        )))
        .send()
        .await
        .expect("an answer");
    assert_eq!(legacy.status(), 200);
    let text = legacy.text().await.unwrap_or_default();
    assert!(
        text.starts_with(r#"{"response":{"uri":"/api/json/requests/getrecords""#),
        "{text}"
    );
}

#[tokio::test]
async fn every_answer_is_dated_by_the_emulated_clock() {
    let desk = Desk::start(2).await;
    let date = desk
        .get("agents", "")
        .await
        .header("date")
        .unwrap_or_default()
        .to_string();
    assert!(date.starts_with("Wed, 04 Mar 2026 12:00:"), "{date}");
}

#[tokio::test]
async fn the_org_id_header_may_be_missing_but_not_foreign_or_non_numeric() {
    let desk = Desk::start(2).await;
    let auth = ("Authorization", format!("Zoho-oauthtoken {}", desk.token));
    let missing = desk
        .raw(
            Method::GET,
            "departments",
            "",
            std::slice::from_ref(&auth),
            None,
        )
        .await;
    assert_eq!(missing.status, 200);
    let foreign = desk
        .raw(
            Method::GET,
            "departments",
            "",
            &[auth.clone(), ("orgId", "123".into())],
            None,
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.body),
        (
            403,
            error(
                "OAUTH_ORG_MISMATCH",
                "The OAuthToken is not valid for specified organization."
            )
        )
    );
    let words = desk
        .raw(
            Method::GET,
            "departments",
            "",
            &[auth.clone(), ("orgId", "acme".into())],
            None,
        )
        .await;
    assert_eq!(
        (words.status, words.body),
        (
            500,
            error(
                "INTERNAL_SERVER_ERROR",
                "An internal server error occurred while performing this operation."
            )
        )
    );
    let orgs = desk
        .raw(
            Method::GET,
            "organizations",
            "",
            &[auth.clone(), ("orgId", "acme".into())],
            None,
        )
        .await;
    assert_eq!(orgs.column("id"), vec![desk.org_id.clone()]);
    let ignored = desk
        .raw(Method::GET, "departments", "orgId=123", &[auth], None)
        .await;
    assert_eq!(ignored.status, 200);
}

#[tokio::test]
async fn an_empty_list_or_search_is_a_204_without_body_or_content_type() {
    let desk = Desk::start(3).await;
    for (path, query) in [
        ("tickets", "from=4"),
        (
            "tickets/search",
            "modifiedTimeRange=2001-01-01T00:00:00.000Z,2001-01-02T00:00:00.000Z",
        ),
        ("recycleBin", ""),
    ] {
        let empty = desk.get(path, query).await;
        assert_eq!(
            (
                empty.status,
                empty.body.as_str(),
                empty.header("content-type")
            ),
            (204, "", None),
            "{path}"
        );
    }
}

#[tokio::test]
async fn unknown_parameters_and_bad_values_get_the_exact_422_bodies() {
    let desk = Desk::start(3).await;
    let cases = [
        (
            "tickets",
            "sortOrder=asc",
            "Extra query parameter 'sortOrder' is present in the input.",
        ),
        (
            "tickets",
            "modifiedTimeRange=x",
            "Extra query parameter 'modifiedTimeRange' is present in the input.",
        ),
        (
            "tickets",
            "limit=101",
            "The value passed for field 'limit' exceeds the range of '1-100'.",
        ),
        (
            "contracts",
            "limit=51",
            "The value passed for field 'limit' exceeds the range of '1-50'.",
        ),
        (
            "tickets",
            "from=x",
            "The value passed for the 'from' query parameter is invalid.",
        ),
        (
            "tickets",
            "sortBy=modifiedTime",
            "The value passed for the 'sortBy' query parameter is invalid.",
        ),
        (
            "tickets/search",
            "from=5000",
            "The value passed for field 'from' exceeds the range of '0-4999'.",
        ),
        (
            "tickets/search",
            "from=4999",
            "Max search result iterable is 5000",
        ),
        (
            "tickets/search",
            "from=4950&limit=51",
            "Max search result iterable is 5000",
        ),
        (
            "tickets/search",
            "modifiedTimeRange=2026-01-01,2026-01-02",
            "The value passed for the 'modifiedTimeRange' query parameter is invalid.",
        ),
    ];
    for (path, query, message) in cases {
        let answer = desk.get(path, query).await;
        assert_eq!(
            (answer.status, answer.body),
            (422, error("UNPROCESSABLE_ENTITY", message)),
            "{path}?{query}"
        );
    }
    assert_eq!(
        desk.get("tickets/search", "from=4900&limit=100")
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn lists_page_from_one_and_searches_from_zero() {
    let desk = Desk::start(12).await;
    let all = desk.get("contacts", "limit=12").await.column("id");
    assert_eq!(all.len(), 12);
    assert_eq!(
        desk.get("contacts", "from=0&limit=3").await.column("id"),
        all[..3].to_vec()
    );
    assert_eq!(
        desk.get("contacts", "from=4&limit=3").await.column("id"),
        all[3..6].to_vec()
    );
    assert_eq!(
        desk.get("contacts/search", "from=3&limit=3")
            .await
            .column("id"),
        all[3..6].to_vec()
    );
    assert_eq!(desk.get("tickets", "").await.column("id").len(), 12);
    let row = desk.get("tickets", "limit=1").await.json()["data"][0].clone();
    assert!(
        row.get("modifiedTime").is_none() && row.get("cf").is_none() && row["id"].is_string(),
        "{row}"
    );
}

#[tokio::test]
async fn a_tie_group_larger_than_a_page_is_paged_inside_its_second_in_id_order() {
    let desk = Desk::start(400).await;
    desk.admin_post(
        "churn",
        json!({ "org_id": desk.org_id, "module": "tickets", "updates": 250 }),
    )
    .await;
    let second = "2026-03-04T12:00:00.000Z";
    let range = format!(
        "modifiedTimeRange={second},2026-03-04T12:00:00.999Z&sortBy=modifiedTime&limit=100"
    );
    let mut ids = Vec::new();
    for from in [0, 100, 200] {
        let page = desk
            .get("tickets/search", &format!("{range}&from={from}"))
            .await;
        assert_eq!(page.json()["count"], json!(250));
        assert!(page.column("modifiedTime").iter().all(|t| t == second));
        ids.extend(page.column("id"));
    }
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id.parse::<u64>().unwrap_or_default());
    sorted.dedup();
    assert_eq!((ids.len(), &ids), (250, &sorted));
}
