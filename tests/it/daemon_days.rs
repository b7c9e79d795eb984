//! The daemon over several emulated Pacific days: its schedule fires in the emulator's
//! clock, which the test moves an hour at a time while records are created, modified and
//! deleted. Each day's requests stay within the budget, pacing leaves part of it for the
//! day's last hours (and the daemon uses it there), and once the churn stops a round
//! brings the mirror level with the source.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::America::Los_Angeles;
use serde_json::json;
use zoho_sync::quota::DayRule;
use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{
    emulator_now, emulator_with, loader, mirror, request_log, SyncSettings, SyncSetup,
};

const BUDGET: u32 = 24;
/// 26 requests of backfill (more with the data set moving): into the second day.
const RECORDS: u64 = 5_000;
/// 00:10 PDT on Tuesday 2027-06-01.
const START: &str = "2027-06-01T07:10:00Z";
/// Emulated hours the test lets pass: two whole days and the start of a third.
const HOURS: u32 = 50;
/// The evening: from this Pacific hour on, the day's budget must still be partly there.
const EVENING: u32 = 20;

fn pacific_hour(at: DateTime<Utc>) -> u32 {
    at.with_timezone(&Los_Angeles).hour()
}

/// The emulator's request log as (emulated time, Pacific day).
async fn served(emulator: &TestEmulator) -> Vec<(DateTime<Utc>, NaiveDate)> {
    request_log(emulator)
        .await
        .iter()
        .map(|entry| {
            let at: DateTime<Utc> =
                serde_json::from_value(entry["at"].clone()).expect("a log time");
            (at, DayRule::Pacific.day_of(at))
        })
        .collect()
}

/// One emulated hour: churn, then the clock moves on; in the evening, the test also
/// waits for the daemon to have sent a request in this evening (it should have budget).
async fn hour(emulator: &TestEmulator, daemon: &Daemon) {
    emulator
        .admin_post(
            "churn",
            json!({ "module": "requests", "creates": 3, "modifies": 6, "deletes": 1 }),
        )
        .await;
    emulator
        .admin_post("clock", json!({ "advance_secs": 3600 }))
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let now = emulator_now(emulator).await;
    if pacific_hour(now) == 23 {
        let day = DayRule::Pacific.day_of(now);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !served(emulator)
            .await
            .iter()
            .any(|(at, d)| *d == day && pacific_hour(*at) >= EVENING)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no request in the evening of {day}; daemon log:\n{}",
                daemon.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Every record of the source is mirrored with the same fields (deleted records may stay
/// in the mirror: the API never lists deletions).
async fn mirror_holds_the_source(emulator: &TestEmulator, database: &TestDatabase) -> bool {
    let mirrored = mirror(&loader(database).await, Module::Requests).await;
    let source = emulator.snapshot(Module::Requests).await;
    source
        .iter()
        .all(|(id, fields)| mirrored.get(id) == Some(fields))
}

#[tokio::test]
async fn days_of_rounds_under_churn_keep_the_mirror_level_within_each_days_budget() {
    let emulator = emulator_with(&[(Module::Requests, RECORDS)]).await;
    emulator.set_clock(START).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        daily_limit: BUDGET,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    // Every second of the emulator's clock: a round whenever the daemon looks.
    configure(&setup, &DaemonSettings::default());
    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;
    for _ in 0..HOURS {
        hour(&emulator, &daemon).await;
    }
    // The churn stops; the next rounds catch up with the last of it. (The waits' limits
    // are generous: the whole suite shares two cores; a pass never waits them out.)
    emulator
        .admin_post("clock", json!({ "advance_secs": 600 }))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !mirror_holds_the_source(&emulator, &database).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the mirror never caught up with the source; daemon log:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = daemon.stop(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());

    let log = served(&emulator).await;
    let mut per_day: BTreeMap<NaiveDate, (u32, u32)> = BTreeMap::new();
    for (at, day) in &log {
        let (before, evening) = per_day.entry(*day).or_default();
        if pacific_hour(*at) >= EVENING {
            *evening += 1;
        } else {
            *before += 1;
        }
    }
    let ledger: BTreeMap<NaiveDate, u32> = loader(&database)
        .await
        .ledger_days("demo")
        .await
        .expect("ledger")
        .into_iter()
        .map(|(day, used)| (day, used.used))
        .collect();
    let whole_days: Vec<NaiveDate> = per_day.keys().copied().take(2).collect();
    assert_eq!(whole_days.len(), 2, "{per_day:?}");
    for (day, (before, evening)) in &per_day {
        assert!(
            before + evening <= BUDGET,
            "{day}: {} requests served, budget {BUDGET}",
            before + evening
        );
        let counted = ledger.get(day).copied().unwrap_or(0);
        assert!(counted <= BUDGET, "{day}: the ledger counts {counted}");
        assert_eq!(before + evening, counted, "{day}: served vs reserved");
    }
    for day in whole_days {
        let (before, evening) = per_day[&day];
        assert!(
            before < BUDGET && evening > 0,
            "{day}: {before} requests before {EVENING}:00 Pacific and {evening} after"
        );
    }
}
