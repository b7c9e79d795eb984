//! A server whose `Date` lies: years ahead then back, or flipping between days. With the
//! default bound, no watermark and no quota day moves on a reading our clock contradicts:
//! the changes made before the lying instant still reach the mirror, and every request
//! is counted on today's quota day.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::America::Los_Angeles;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::Module;

use crate::hostile_rows::assert_mirror_matches;
use crate::support::database::TestDatabase;
use crate::support::hostile::{plain_rows, HostileServer, Value};
use crate::support::sync::{loader, stream, SyncSettings, SyncSetup};

fn setup(server: &HostileServer, database: &TestDatabase) -> SyncSetup {
    let settings = SyncSettings {
        max_clock_skew_secs: None,
        ..SyncSettings::default()
    };
    SyncSetup::for_server(&server.base_url, "hostile-token", database, &settings)
}

/// The quota ledger's days and counts.
async fn ledger(database: &TestDatabase) -> Vec<(NaiveDate, i32)> {
    sqlx::query_as("SELECT day, used FROM zoho.quota_ledger ORDER BY day")
        .fetch_all(&database.pool)
        .await
        .expect("the ledger")
}

fn pacific_today() -> NaiveDate {
    Utc::now().with_timezone(&Los_Angeles).date_naive()
}

#[tokio::test]
async fn a_date_years_ahead_moves_neither_the_watermark_nor_the_quota_day() {
    let server = HostileServer::start(Module::Requests, plain_rows(Module::Requests, 1, 300)).await;
    let database = TestDatabase::fresh().await;
    let setup = setup(&server, &database);
    setup.run(&["backfill"]).await.assert_success();

    // The next answer (and the clock probe) say it is three years later; then the truth.
    let lie_at = server.requests();
    server.edit(|s| {
        s.date = Box::new(move |n| {
            Some(Utc::now() + TimeDelta::days(if n == lie_at { 3 * 365 } else { 0 }))
        });
    });
    let outcome = setup.run(&["sync"]).await;
    outcome.assert_success();
    assert!(
        outcome.stderr.contains("contradicts our clock"),
        "a warning says the Date was not believed:\n{}",
        outcome.stderr
    );
    let checkpoint = loader(&database)
        .await
        .checkpoint(&stream(Module::Requests), PassKind::Incremental)
        .await
        .expect("checkpoint");
    let watermark = checkpoint.watermark.expect("a watermark");
    assert!(
        watermark <= Utc::now(),
        "the watermark moved to {watermark}"
    );

    // A change made now, before the lying instant, reaches the mirror.
    let now = Utc::now().naive_utc() - TimeDelta::seconds(1);
    server.edit(|s| {
        s.rows[42].set("Subject", Value::Text("changed after the lie".into()));
        s.rows[42].set(
            "Modified Time",
            Value::Text(now.format("%Y-%m-%d %H:%M:%S").to_string()),
        );
        s.rows[42].modified = now;
    });
    setup.run(&["sync"]).await.assert_success();
    assert_mirror_matches(&server, &database).await;
    let days: Vec<NaiveDate> = ledger(&database).await.iter().map(|(d, _)| *d).collect();
    assert_eq!(days, [pacific_today()], "every request counted today");
}

#[tokio::test]
async fn dates_that_flip_between_days_leave_every_request_on_today() {
    let server =
        HostileServer::start(Module::Requests, plain_rows(Module::Requests, 1, 1000)).await;
    server.edit(|s| {
        s.date = Box::new(|n| {
            let day = if n % 2 == 0 { 1 } else { -1 };
            Some(Utc::now() + TimeDelta::days(day))
        });
        s.probe_date = Box::new(|_| Some(Utc::now() - TimeDelta::days(1)));
    });
    let database = TestDatabase::fresh().await;
    setup(&server, &database)
        .run(&["backfill"])
        .await
        .assert_success();
    assert_mirror_matches(&server, &database).await;
    let ledger = ledger(&database).await;
    let served = i32::try_from(server.requests()).expect("a count");
    assert_eq!(ledger, [(pacific_today(), served)]);
    let started: Option<DateTime<Utc>> = loader(&database)
        .await
        .checkpoint(&stream(Module::Requests), PassKind::Backfill)
        .await
        .expect("checkpoint")
        .pass_started_at;
    assert!(started.is_some_and(|t| t <= Utc::now()), "{started:?}");
}
