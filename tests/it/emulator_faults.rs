//! The emulator's injected faults, each as a client sees it, and their quota charge.

use std::time::Duration;

use serde_json::json;
use zoho_sync::zoho::codec::decode;
use zoho_sync::zoho::module::{Format, Module};

use crate::emulator_client::{error_json, Emu};

const URI: &str = "/api/json/products/getrecords";

async fn fault_next(emu: &Emu, kind: &str) {
    emu.admin_post("/_emulator/faults", json!({ "kind": kind, "next": 1 }))
        .await;
}

#[tokio::test]
async fn gateway_faults_answer_without_serving_and_are_charged() {
    let emu = Emu::start(3).await;
    for (kind, status) in [("http500", 500), ("http502", 502), ("http503", 503)] {
        fault_next(&emu, kind).await;
        assert_eq!(emu.get(URI, "").await.status, status, "{kind}");
    }
    fault_next(&emu, "html").await;
    let html = emu.get(URI, "").await;
    assert_eq!(
        (html.status, html.content_type.as_str()),
        (200, "text/html;charset=UTF-8")
    );
    assert!(html.body.starts_with("<!DOCTYPE html>"));
    fault_next(&emu, "api4500").await;
    let api = emu.get(URI, "").await;
    assert_eq!(
        api.body,
        error_json(URI, 4500, "Problem occured while processing the request")
    );
    // A gateway fault on a write: nothing is written.
    fault_next(&emu, "http503").await;
    let xml = "<products><row no=\"1\"><fl val=\"Product Name\">Widget</fl></row></products>";
    assert_eq!(
        emu.post("/api/json/products/addrecords", &[("xml", xml)])
            .await
            .status,
        503
    );
    let records = emu
        .admin_get("/_emulator/records/demo/Support/products")
        .await;
    assert_eq!(records.as_array().map(Vec::len), Some(3));
    assert_eq!(emu.quota_used().await, 6);
    let counters = emu.admin_get("/_emulator/counters").await;
    assert_eq!(counters["requests"]["by_outcome"]["fault-http503"], 2);
    // The queue is spent: the next request is served normally.
    assert!(emu.get(URI, "").await.body.contains("\"Products\""));
}

#[tokio::test]
async fn spoiled_answers_break_the_way_a_client_must_notice() {
    let emu = Emu::start(3).await;
    let whole = emu.get(URI, "").await.body;
    fault_next(&emu, "truncated").await;
    let cut = emu.get(URI, "").await.body;
    assert_eq!(cut.len(), whole.len() / 2);
    assert!(whole.starts_with(&cut));
    assert!(decode(Format::Json, Module::Products, cut.as_bytes()).is_err());
    fault_next(&emu, "malformed").await;
    let broken = emu.get(URI, "").await;
    assert_eq!(broken.content_type, "application/json;charset=UTF-8");
    assert!(serde_json::from_str::<serde_json::Value>(&broken.body).is_err());
    fault_next(&emu, "malformed").await;
    let broken_xml = emu.get("/api/xml/products/getrecords", "").await.body;
    assert!(
        decode(Format::Xml, Module::Products, broken_xml.as_bytes()).is_err(),
        "{broken_xml}"
    );
    fault_next(&emu, "wrong-content-type").await;
    let typed = emu.get(URI, "").await;
    assert_eq!(
        (typed.content_type.as_str(), typed.body.as_str()),
        ("application/octet-stream", whole.as_str())
    );
}

#[tokio::test]
async fn a_reset_closes_the_connection_without_an_answer_after_serving_the_write() {
    let emu = Emu::start(3).await;
    fault_next(&emu, "reset").await;
    let xml = "<products><row no=\"1\"><fl val=\"Product Name\">Widget</fl></row></products>";
    let form = [
        ("authtoken", emu.token.as_str()),
        ("portal", "demo"),
        ("department", "Support"),
        ("xml", xml),
    ];
    let sent = emu
        .http
        .post(emu.url("/api/json/products/addrecords"))
        .form(&form)
        .send()
        .await;
    let error = sent.expect_err("no HTTP answer");
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    let records = emu
        .admin_get("/_emulator/records/demo/Support/products")
        .await;
    assert_eq!(records.as_array().map(Vec::len), Some(4));
    assert_eq!(emu.quota_used().await, 1);
}

#[tokio::test]
async fn a_delay_outlasts_the_client_timeout() {
    let emu = Emu::start(3).await;
    emu.admin_post(
        "/_emulator/faults",
        json!({ "kind": "delay", "next": 1, "delay_secs": 2.0 }),
    )
    .await;
    let url = format!(
        "{}?authtoken={}&portal=demo&department=Support",
        emu.url(URI),
        emu.token
    );
    let sent = emu
        .http
        .get(&url)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(sent.expect_err("a timeout").is_timeout());
    assert!(emu.get(URI, "").await.body.contains("\"Products\""));
}

#[tokio::test]
async fn odds_fault_every_request_until_cleared() {
    let emu = Emu::start(3).await;
    emu.admin_post(
        "/_emulator/faults",
        json!({ "kind": "http502", "probability": 1.0 }),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(emu.get(URI, "").await.status, 502);
    }
    let view = emu
        .admin_post("/_emulator/faults", json!({ "clear": true }))
        .await;
    assert_eq!(view["odds"], json!([]));
    assert_eq!(emu.get(URI, "").await.status, 200);
}

#[tokio::test]
async fn latency_slows_every_request() {
    let emu = Emu::start(3).await;
    emu.admin_post("/_emulator/latency", json!({ "millis": 150 }))
        .await;
    let started = std::time::Instant::now();
    emu.get(URI, "").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let latency = emu
        .admin_post("/_emulator/latency", json!({ "millis": 0 }))
        .await;
    assert_eq!(latency["millis"], 0);
}
