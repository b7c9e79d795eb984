//! The emulator's daily quota against the client: 4421 once spent, reset at Pacific
//! midnight, on ordinary days and on both daylight-saving switch days.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use zoho_sync::emulator::config::EmulatorConfig;
use zoho_sync::quota::DayRule;
use zoho_sync::zoho::client::GetRecords;
use zoho_sync::zoho::{ApiCode, ErrorClass, Format, Module};

use crate::support::emulator::TestEmulator;

fn one_row() -> GetRecords {
    GetRecords {
        from_index: Some(1),
        to_index: Some(1),
        ..GetRecords::default()
    }
}

#[tokio::test]
async fn the_free_quota_of_250_is_spent_then_refused_with_4421() {
    let emulator = TestEmulator::with_records(2).await;
    emulator.set_clock("2026-06-10T18:00:00Z").await;
    let client = emulator.client_without_retry(Format::Json);
    for _ in 0..250 {
        client
            .get_records(Module::Requests, &one_row())
            .await
            .unwrap();
    }
    let err = client
        .get_records(Module::Requests, &one_row())
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::QuotaExceeded), "{err}");
    assert_eq!(err.class(), ErrorClass::QuotaExhausted);
    // Every request with a valid token counts (contract section 0), the refused one too.
    assert_eq!(emulator.quota_used().await, 251);
}

#[tokio::test]
async fn the_quota_resets_at_pacific_midnight_including_both_dst_switch_days() {
    let mut config = EmulatorConfig::default().with_records(2);
    config.portals[0].daily_limit = Some(3);
    let emulator = TestEmulator::start(config).await;
    let client = emulator.client_without_retry(Format::Xml);
    let rule = DayRule::Pacific;
    // An ordinary summer day, the 23-hour spring day and the 25-hour autumn day of 2026.
    for day in [(2026, 7, 14), (2026, 3, 8), (2026, 11, 1)] {
        let day = NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap();
        let start = rule.start_of(day);
        let next = rule.start_of(day.succ_opt().unwrap());
        emulator
            .set_clock(&(start + Duration::minutes(1)).to_rfc3339())
            .await;
        for _ in 0..3 {
            client
                .get_records(Module::Requests, &one_row())
                .await
                .unwrap();
        }
        let err = client
            .get_records(Module::Requests, &one_row())
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::QuotaExhausted, "{day}");

        emulator
            .set_clock(&(next - Duration::seconds(2)).to_rfc3339())
            .await;
        let err = client
            .get_records(Module::Requests, &one_row())
            .await
            .unwrap_err();
        assert_eq!(
            err.class(),
            ErrorClass::QuotaExhausted,
            "{day}: still the same day"
        );

        emulator
            .set_clock(&(next + Duration::seconds(1)).to_rfc3339())
            .await;
        client
            .get_records(Module::Requests, &one_row())
            .await
            .unwrap_or_else(|e| panic!("{day}: the quota should have reset: {e}"));
    }
    // The spring day really was 23 hours and the autumn day 25.
    let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    let autumn = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let len = |d: NaiveDate| rule.start_of(d.succ_opt().unwrap()) - rule.start_of(d);
    assert_eq!(len(spring), Duration::hours(23));
    assert_eq!(len(autumn), Duration::hours(25));
    assert_eq!(
        rule.start_of(autumn),
        Utc.with_ymd_and_hms(2026, 11, 1, 7, 0, 0).unwrap()
    );
}
