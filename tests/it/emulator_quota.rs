//! The emulator's daily quota: 250 requests on Free, error 4421 after, and a reset at
//! Pacific midnight, with daylight saving honoured, driven through the admin clock.

use zoho_sync::emulator::EmulatorConfig;

use crate::emulator_client::{error_json, Emu};

const URI: &str = "/api/json/accounts/getrecords";

fn exceeded() -> String {
    error_json(URI, 4421, "Number of API calls exceeded.")
}

async fn emu_with_limit(limit: Option<u32>) -> Emu {
    let mut config = EmulatorConfig::default().with_records(3);
    config.portals[0].daily_limit = limit;
    Emu::with_config(config).await
}

/// Spends the rest of today's quota; every request must succeed.
async fn spend(emu: &Emu, requests: u32) {
    for n in 0..requests {
        let answer = emu.get(URI, "").await;
        assert!(
            answer.body.contains("\"result\""),
            "request {n}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn the_free_edition_allows_250_requests_then_answers_4421_until_pacific_midnight() {
    let emu = emu_with_limit(None).await;
    // 23:58:00 PST.
    emu.set_clock("2026-01-15T07:58:00Z").await;
    spend(&emu, 250).await;
    let answer = emu.get(URI, "").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, exceeded().as_str())
    );
    // Refused requests are still counted.
    assert_eq!(emu.quota_used().await, 251);
    emu.set_clock("2026-01-15T08:00:01Z").await;
    assert_eq!(emu.quota_used().await, 0);
    assert!(emu.get(URI, "").await.body.contains("\"result\""));
    let counters = emu.admin_get("/_emulator/counters").await;
    assert_eq!(counters["quota"]["demo"]["limit"], 250);
    assert_eq!(counters["quota"]["demo"]["day"], "2026-01-15");
    assert_eq!(counters["requests"]["by_outcome"]["error-4421"], 1);
}

#[tokio::test]
async fn on_the_spring_switch_the_day_ends_at_0700_utc() {
    let emu = emu_with_limit(Some(2)).await;
    // 2026-03-08 is 23 hours long; 06:59:50 UTC on the 9th is 23:59:50 PDT on the 8th.
    emu.set_clock("2026-03-09T06:59:50Z").await;
    spend(&emu, 2).await;
    assert_eq!(emu.get(URI, "").await.body, exceeded());
    emu.set_clock("2026-03-09T07:00:01Z").await;
    spend(&emu, 2).await;
    assert_eq!(emu.get(URI, "").await.body, exceeded());
}

#[tokio::test]
async fn on_the_autumn_switch_the_day_ends_at_0800_utc() {
    let emu = emu_with_limit(Some(2)).await;
    // 2026-11-01 is 25 hours long; 07:00:05 UTC on the 2nd is still 23:00:05 PST on the 1st.
    emu.set_clock("2026-11-02T06:59:55Z").await;
    spend(&emu, 2).await;
    emu.set_clock("2026-11-02T07:00:05Z").await;
    assert_eq!(emu.get(URI, "").await.body, exceeded());
    emu.set_clock("2026-11-02T08:00:01Z").await;
    spend(&emu, 2).await;
    assert_eq!(emu.get(URI, "").await.body, exceeded());
}

#[tokio::test]
async fn advancing_the_clock_by_seconds_crosses_midnight_too() {
    let emu = emu_with_limit(Some(1)).await;
    emu.set_clock("2026-07-01T06:59:58Z").await;
    spend(&emu, 1).await;
    assert_eq!(emu.get(URI, "").await.body, exceeded());
    let clock = emu
        .admin_post("/_emulator/clock", serde_json::json!({ "advance_secs": 5 }))
        .await;
    assert!(
        clock["now"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-07-01T07:00:0")),
        "{clock}"
    );
    spend(&emu, 1).await;
}
