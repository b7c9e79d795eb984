//! Records changing between two page requests: churn on request and at a rate per
//! simulated minute, custom fields appearing later, and the request log that shows it.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::emulator_client::Emu;

const RECORDS: &str = "/_emulator/records/demo/Support/requests";

fn ids(records: &Value) -> BTreeSet<String> {
    records
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn churn_now_creates_modifies_and_deletes_records() {
    let emu = Emu::start(40).await;
    emu.set_clock("2030-05-05T12:00:00Z").await;
    let before = emu.admin_get(RECORDS).await;
    let order = json!({ "module": "cases", "creates": 3, "modifies": 4, "deletes": 2 });
    let answer = emu.admin_post("/_emulator/churn", order).await;
    assert_eq!(answer["stores"][0]["records"], 41);
    let after = emu.admin_get(RECORDS).await;
    assert_eq!(ids(&before).difference(&ids(&after)).count(), 2);
    assert_eq!(ids(&after).difference(&ids(&before)).count(), 3);
    let changed = emu
        .get(
            "/api/json/requests/getrecords",
            "lastmodifiedtime=2030-05-05+11:59:59&toindex=200",
        )
        .await;
    let rows = changed.body.matches(r#""no":""#).count();
    assert_eq!(rows, 7, "{}", changed.body);
}

#[tokio::test]
async fn a_churn_rate_applies_per_simulated_minute_when_a_request_arrives() {
    let emu = Emu::start(10).await;
    emu.set_clock("2030-05-05T12:00:00Z").await;
    let order = json!({ "portal": "demo", "module": "requests", "mode": "rate", "creates": 2 });
    emu.admin_post("/_emulator/churn", order).await;
    let uri = "/api/json/requests/getrecords";
    let first = emu
        .get(uri, "fromindex=1&toindex=200")
        .await
        .body
        .matches(r#""no":""#)
        .count();
    assert_eq!(first, 10);
    emu.admin_post("/_emulator/clock", json!({ "advance_secs": 5 * 60 + 30 }))
        .await;
    let second = emu
        .get(uri, "fromindex=1&toindex=200")
        .await
        .body
        .matches(r#""no":""#)
        .count();
    assert_eq!(second, 20);
    // Other modules have no rate.
    let tasks = emu.admin_get("/_emulator/records/demo/Support/tasks").await;
    assert_eq!(tasks.as_array().map(Vec::len), Some(10));
}

#[tokio::test]
async fn a_custom_field_added_later_appears_in_every_record() {
    let emu = Emu::start(3).await;
    let field = json!({ "label": "Region", "kind": "picklist", "options": ["EU", "US"] });
    let order =
        json!({ "portal": "demo", "department": "support", "module": "requests", "field": field });
    let labels = emu.admin_post("/_emulator/custom-fields", order).await;
    assert_eq!(
        labels["labels"].as_array().and_then(|l| l.last()),
        Some(&json!("Region"))
    );
    let page = emu
        .get(
            "/api/json/requests/getrecords",
            "selectfields=Requests(region)",
        )
        .await
        .body;
    assert_eq!(
        page.matches(r#"{"val":"Region","content":"#).count(),
        3,
        "{page}"
    );
}

#[tokio::test]
async fn the_request_log_and_counters_record_each_request() {
    let emu = Emu::start(3).await;
    emu.get(
        "/api/json/requests/getrecords",
        "fromindex=1&toindex=3&lastmodifiedtime=2001-01-01+00:00:00",
    )
    .await;
    emu.get("/api/xml/tasks/getrecords", "fromindex=4&toindex=5")
        .await;
    emu.get_raw("/api/json/requests/getrecords", "authtoken=nope")
        .await;
    let log = emu.admin_get("/_emulator/log").await;
    let entries = log.as_array().expect("an array");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["lastmodifiedtime"], "2001-01-01 00:00:00");
    assert_eq!(
        (
            entries[0]["outcome"].as_str(),
            entries[0]["department"].as_str()
        ),
        (Some("ok"), Some("Support"))
    );
    assert_eq!(
        (
            entries[1]["module"].as_str(),
            entries[1]["fromindex"].as_str()
        ),
        (Some("tasks"), Some("4"))
    );
    assert_eq!(entries[1]["outcome"], "no-data");
    assert_eq!(entries[2]["outcome"], "error-4834");
    let later = emu
        .admin_get(&format!("/_emulator/log?after={}", entries[1]["seq"]))
        .await;
    assert_eq!(later.as_array().map(Vec::len), Some(1));
    let counters = emu.admin_get("/_emulator/counters").await;
    assert_eq!(counters["requests"]["by_method"]["getrecords"], 3);
    assert_eq!(counters["requests"]["by_portal"]["demo"], 2);
    emu.admin_post("/_emulator/counters/reset", json!({})).await;
    let counters = emu.admin_get("/_emulator/counters").await;
    assert_eq!(
        (
            counters["requests"]["total"].as_u64(),
            counters["quota"]["demo"]["used"].as_u64()
        ),
        (Some(0), Some(2))
    );
}
