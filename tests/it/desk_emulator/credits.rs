//! Credits and concurrency (section 6, D19-D21): the two rate headers on every answer of
//! a known organisation, costs by call, errors free, a 429 THRESHOLD_EXCEEDED with
//! `Retry-After` to the zone's midnight once the day's credits are spent, a new pool after
//! it, and a 429 TOO_MANY_REQUESTS when more calls are in flight than the edition allows.

use reqwest::Method;
use serde_json::json;

use super::{error, Desk};

#[tokio::test]
async fn every_answer_says_its_weight_and_what_is_left() {
    let desk = Desk::start(5).await;
    let cases = [
        ("tickets", "", 3),
        ("tickets", "from=2001", 5),
        ("tickets/search", "from=2500", 5),
        ("tickets", "from=60000", 50),
        ("tickets", "limit=0", 0),
    ];
    let mut left = 5_000;
    for (path, query, weight) in cases {
        let answer = desk.get(path, query).await;
        left -= weight;
        assert_eq!(
            answer.header("x-rate-limit-request-weight-v3"),
            Some(weight.to_string().as_str()),
            "{path}?{query}"
        );
        assert_eq!(
            answer.header("x-rate-limit-remaining-v3"),
            Some(left.to_string().as_str()),
            "{path}?{query}"
        );
    }
    let id = desk.ids("tickets").await.remove(0);
    assert_eq!(
        desk.get(&format!("tickets/{id}"), "")
            .await
            .header("x-rate-limit-request-weight-v3"),
        Some("1")
    );
    let trash = desk
        .call(
            Method::POST,
            "tickets/moveToTrash",
            "",
            Some(json!({ "ticketIds": [id] })),
        )
        .await;
    assert_eq!(
        (trash.status, trash.header("x-rate-limit-request-weight-v3")),
        (204, Some("6"))
    );
    let gone = desk.get(&format!("tickets/{id}"), "").await;
    assert_eq!(
        (gone.status, gone.header("x-rate-limit-request-weight-v3")),
        (403, Some("0"))
    );
    assert_eq!(desk.credits_used().await, 5_000 - left + 1 + 6);
}

#[tokio::test]
async fn a_spent_day_answers_threshold_exceeded_until_the_credit_zone_midnight() {
    let mut desk = Desk::with_org(|org| {
        org.daily_credits = Some(10);
        org.credit_zone = chrono_tz::Asia::Kolkata;
    })
    .await;
    // Noon UTC is 17:30 in Kolkata: 6.5 hours to its midnight.
    for _ in 0..3 {
        assert_eq!(desk.get("departments", "").await.status, 200);
    }
    let spent = desk.get("departments", "").await;
    assert_eq!(
        (spent.status, spent.body.as_str()),
        (
            429,
            error(
                "THRESHOLD_EXCEEDED",
                "The API credit limit for the day has been exceeded."
            )
            .as_str()
        )
    );
    assert_eq!(spent.header("retry-after"), Some("23400"));
    assert_eq!(spent.header("x-rate-limit-remaining-v3"), Some("1"));
    let id = desk.ids("tickets").await.remove(0);
    assert_eq!(
        desk.get(&format!("tickets/{id}"), "").await.status,
        200,
        "a 1-credit call still fits"
    );
    desk.advance_and_refresh(23_400).await;
    let fresh = desk.get("departments", "").await;
    assert_eq!(
        (fresh.status, fresh.header("x-rate-limit-remaining-v3")),
        (200, Some("7"))
    );
    let counters = desk.admin_get("counters").await;
    let days = &counters["credits"][&desk.org_id]["charged_by_day"];
    assert_eq!(
        (&days["2026-03-04"], &days["2026-03-05"]),
        (&json!(10), &json!(3))
    );
}

#[tokio::test]
async fn more_calls_in_flight_than_the_edition_allows_get_too_many_requests() {
    let desk = Desk::start(2).await;
    desk.admin_post("latency", json!({ "millis": 1_500 })).await;
    // Free allows 5 at once: six calls started together leave exactly one refused.
    let calls = (0..6).map(|_| desk.get("departments", ""));
    let answers = futures_util::future::join_all(calls).await;
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 5);
    assert_eq!(refused.len(), 1);
    let body = error(
        "TOO_MANY_REQUESTS",
        "The maximum number of Concurrent API Calls that can be made has been exceeded.",
    );
    assert_eq!(refused[0].body, body);
    assert!(refused[0].header("retry-after").is_none());
    assert_eq!(
        refused[0].header("x-rate-limit-request-weight-v3"),
        Some("0")
    );
}

#[tokio::test]
async fn injected_faults_cost_nothing_and_carry_the_contract_bodies() {
    let desk = Desk::start(2).await;
    desk.admin_post("faults", json!({ "kind": "http500", "next": 1 }))
        .await;
    let fault = desk.get("departments", "").await;
    assert_eq!(
        (fault.status, fault.header("x-rate-limit-request-weight-v3")),
        (500, Some("0"))
    );
    desk.admin_post("faults", json!({ "kind": "threshold-exceeded", "next": 1 }))
        .await;
    let spent = desk.get("departments", "").await;
    assert_eq!(
        (spent.status, spent.header("retry-after")),
        (429, Some("43200"))
    );
    desk.admin_post("faults", json!({ "kind": "http503", "next": 1 }))
        .await;
    assert_eq!(desk.get("departments", "").await.status, 503);
    desk.admin_post("faults", json!({ "kind": "truncated", "next": 1 }))
        .await;
    let cut = desk.get("departments", "").await;
    assert!(serde_json::from_str::<serde_json::Value>(&cut.body).is_err());
    assert_eq!(desk.credits_used().await, 3, "only the truncated call ran");
    let log = desk.admin_get("log").await;
    let outcomes: Vec<&str> = log
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        outcomes,
        vec![
            "fault-http500",
            "fault-threshold-exceeded",
            "fault-http503",
            "fault-truncated"
        ]
    );
}
