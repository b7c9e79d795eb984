//! A backfill larger than a day's budget, over several emulated Pacific days that include
//! a daylight-saving switch: each day's run stops cleanly at the budget (exit 0, the
//! Pacific moment it resumes), the next day's run continues, and in the end the mirror
//! equals the source while the ledger and the emulator agree on every day's count.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::America::Los_Angeles;
use zoho_sync::quota::DayRule;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_now, emulator_with, loader, request_log, SyncSettings,
    SyncSetup,
};

const BUDGET: u32 = 12;
/// 16 + 11 requests: two full days of 12 and a third.
const MODULES: [(Module, u64); 2] = [(Module::Requests, 3_000), (Module::Contacts, 2_000)];

/// Runs `backfill` once per emulated day from `start` until it completes; the days run.
async fn backfill_day_by_day(start: &str) -> Vec<NaiveDate> {
    let emulator = emulator_with(&MODULES).await;
    emulator.set_clock(start).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        daily_limit: BUDGET,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let mut days = Vec::new();
    loop {
        let now = emulator_now(&emulator).await;
        days.push(DayRule::Pacific.day_of(now));
        assert!(days.len() <= 4, "the backfill needs more than 3 days");
        let run = setup.run(&["backfill"]).await;
        run.assert_success();
        if run.stdout.contains("demo: complete") {
            break;
        }
        let resets_at = DayRule::Pacific.next_reset(now);
        assert_spent_until(&run.stdout, resets_at);
        assert_eq!(emulator.quota_used().await, u64::from(BUDGET));
        // Shortly after the next Pacific midnight.
        let next = resets_at + TimeDelta::minutes(2);
        emulator.set_clock(&next.to_rfc3339()).await;
    }
    assert_eq!(days.len(), 3, "{days:?}");
    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;
    assert_ledger_matches_the_emulator(&emulator, &database).await;
    days
}

fn assert_spent_until(stdout: &str, resets_at: DateTime<Utc>) {
    let pacific = resets_at
        .with_timezone(&Los_Angeles)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string();
    assert!(
        stdout.contains("budget is spent") && stdout.contains(&format!("({pacific} Pacific)")),
        "expected a stop until {pacific} Pacific:\n{stdout}"
    );
}

/// The ledger's count of every day equals the requests the emulator logged on that
/// Pacific day, and no day passes the budget.
async fn assert_ledger_matches_the_emulator(emulator: &TestEmulator, database: &TestDatabase) {
    let mut served: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for entry in request_log(emulator).await {
        let at: DateTime<Utc> = serde_json::from_value(entry["at"].clone()).expect("log time");
        *served.entry(DayRule::Pacific.day_of(at)).or_default() += 1;
    }
    let ledger: BTreeMap<NaiveDate, u32> = loader(database)
        .await
        .ledger_days("demo")
        .await
        .expect("ledger")
        .into_iter()
        .filter(|(_, day)| day.used > 0)
        .map(|(date, day)| (date, day.used))
        .collect();
    assert_eq!(ledger, served, "ledger days vs the emulator's log");
    assert!(served.values().all(|&n| n <= BUDGET), "{served:?}");
}

#[tokio::test]
async fn a_backfill_spanning_the_spring_switch_spends_each_pacific_day_exactly() {
    // 00:05 PST on Saturday 2027-03-13; the next day is 23 hours long.
    let days = backfill_day_by_day("2027-03-13T08:05:00Z").await;
    let date = |d| NaiveDate::from_ymd_opt(2027, 3, d).expect("a date");
    assert_eq!(days, [date(13), date(14), date(15)]);
}

#[tokio::test]
async fn a_backfill_spanning_the_autumn_switch_spends_each_pacific_day_exactly() {
    // 00:05 PDT on Saturday 2027-11-06; the next day is 25 hours long.
    let days = backfill_day_by_day("2027-11-06T07:05:00Z").await;
    let date = |d| NaiveDate::from_ymd_opt(2027, 11, d).expect("a date");
    assert_eq!(days, [date(6), date(7), date(8)]);
}
