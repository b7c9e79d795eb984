//! Zoho Desk answers a faithful server never gives, from the scripted stand-in of
//! `support::desk`, through the real binary: undecodable records, a page out of order or
//! fuller than asked, stray keys, a lying `Date`, custom-field keys of any length and
//! number. Each ends in an exact mirror of every record that can be read (the others set
//! aside as dead letters and counted, the pass complete only when the server's rows ran
//! out), or in a loud failure that stores nothing of the page it refuses.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use zoho_sync::desk::DeskModule;
use zoho_sync::emulator::desk::SelfClientConfig;
use zoho_sync::stream::{PassKind, StreamKey};
use zoho_sync::zoho::Secret;

use crate::support::database::TestDatabase;
use crate::support::desk::{FakeDesk, Scripted, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN};
use crate::support::desk_sync::{desk_mirror, DeskSync, ORG_ID};

pub(crate) fn setup(desk: &FakeDesk, database: &TestDatabase) -> DeskSync {
    setup_of(desk, database, &["tickets"])
}

fn setup_of(desk: &FakeDesk, database: &TestDatabase, modules: &[&str]) -> DeskSync {
    let client = SelfClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        refresh_token: Secret::new(REFRESH_TOKEN),
    };
    DeskSync::for_server(desk.url.as_str(), client, database, modules)
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A ticket modified `seconds` after a fixed instant of 2024.
pub(crate) fn ticket(id: u64, seconds: i64) -> Value {
    let start = DateTime::parse_from_rfc3339("2024-03-01T00:00:00Z").unwrap();
    let at = start.with_timezone(&Utc) + TimeDelta::seconds(seconds);
    json!({
        "id": id.to_string(),
        "subject": format!("ticket {id}"),
        "modifiedTime": time(at),
        "createdTime": "2024-01-01T00:00:00.000Z",
    })
}

/// A search page of `rows`, priced as a search.
pub(crate) fn page(rows: &[Value]) -> Scripted {
    Scripted::json(200, &json!({ "data": rows }).to_string())
        .header("X-Rate-Limit-Request-Weight-v3", "3")
        .header("X-Rate-Limit-Remaining-v3", "4990")
}

async fn dead_letters(database: &TestDatabase) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM zoho.dead_letters")
        .fetch_one(&database.pool)
        .await
        .expect("dead letters")
}

#[tokio::test]
async fn undecodable_records_are_dead_letters_and_the_walk_reads_on_past_them() {
    let desk = FakeDesk::start().await;
    let database = TestDatabase::fresh().await;
    let mut first: Vec<Value> = (1..=100).map(|id| ticket(id, id as i64)).collect();
    first[49]["id"] = json!("not-a-number");
    first[69]["modifiedTime"] = json!("yesterday");
    // The next page starts on the first one's last instant: ticket 100 again, then more.
    let second: Vec<Value> = (100..=120).map(|id| ticket(id, id as i64)).collect();
    desk.script(page(&first));
    desk.script(page(&second));
    let setup = setup(&desk, &database);
    let outcome = setup.run(&["backfill"]).await;
    outcome.assert_success();
    assert!(outcome.stdout.contains("complete"), "{}", outcome.stdout);
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    assert_eq!(mirror.len(), 118);
    assert!(!mirror.contains_key(&50) && !mirror.contains_key(&70));
    assert_eq!(dead_letters(&database).await, 2);
}

#[tokio::test]
async fn a_page_out_of_time_order_or_fuller_than_asked_fails_loudly_and_stores_nothing() {
    let descending: Vec<Value> = (1..=5).map(|id| ticket(id, 100 - id as i64)).collect();
    let overfull: Vec<Value> = (1..=101).map(|id| ticket(id, id as i64)).collect();
    for (rows, says) in [
        (descending, "out of modification-time order"),
        (overfull, "101 rows for a page of 100"),
    ] {
        let desk = FakeDesk::start().await;
        let database = TestDatabase::fresh().await;
        desk.script(page(&rows));
        let outcome = setup(&desk, &database).run(&["backfill"]).await;
        assert_ne!(outcome.code, Some(0), "{}", outcome.stdout);
        assert!(
            outcome.stderr.contains(says) || outcome.stdout.contains(says),
            "{says}: {}\n{}",
            outcome.stdout,
            outcome.stderr
        );
        assert!(desk_mirror(&database, DeskModule::Tickets).await.is_empty());
    }
}

#[tokio::test]
async fn stray_keys_in_the_answer_and_its_records_are_kept_or_ignored_never_fatal() {
    let desk = FakeDesk::start().await;
    let database = TestDatabase::fresh().await;
    let mut rows: Vec<Value> = (1..=3).map(|id| ticket(id, id as i64)).collect();
    rows[1]["somethingNew"] = json!({ "nested": [1, 2, 3] });
    let body = json!({ "data": rows, "info": { "count": 3 }, "nextPage": null });
    desk.script(
        Scripted::json(200, &body.to_string())
            .header("X-Rate-Limit-Request-Weight-v3", "3")
            .header("X-Rate-Limit-Remaining-v3", "4990"),
    );
    setup(&desk, &database)
        .run(&["backfill"])
        .await
        .assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    assert_eq!(mirror.len(), 3);
    assert_eq!(mirror[&2]["somethingNew"], json!({ "nested": [1, 2, 3] }));
}

#[tokio::test]
async fn a_date_years_ahead_moves_neither_the_credit_day_nor_the_next_range() {
    let desk = FakeDesk::start().await;
    let database = TestDatabase::fresh().await;
    let lie = "Tue, 01 Jul 2031 12:00:00 GMT";
    desk.always(page(&[]).header("Date", lie));
    desk.script(page(&[ticket(1, 1), ticket(2, 2)]).header("Date", lie));
    // The default bound: a reading our clock contradicts by more than 15 minutes is not
    // believed.
    let setup = setup(&desk, &database);
    setup.edit_config(|text| text.replace("max_clock_skew_secs = 0", "max_clock_skew_secs = 900"));
    setup.run(&["backfill"]).await.assert_success();
    // A change of twenty minutes ago, served under the same lie: inside the next range.
    let mut recent = ticket(3, 0);
    recent["modifiedTime"] = json!(time(Utc::now() - TimeDelta::minutes(20)));
    desk.script(page(&[recent]).header("Date", lie));
    setup.run(&["sync"]).await.assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    assert_eq!(mirror.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
    let key = StreamKey::desk(ORG_ID, DeskModule::Tickets);
    let loader = crate::support::sync::loader(&database).await;
    let incremental = loader
        .checkpoint(&key, PassKind::Incremental)
        .await
        .unwrap();
    let hi = incremental.seek.expect("the walk's range").hi;
    assert!(hi < Utc::now(), "the range ends at the lie: {hi}");
    // Every credit was counted on today's credit day (UTC), none on the lie's.
    let days: Vec<chrono::NaiveDate> =
        sqlx::query_scalar("SELECT DISTINCT day FROM zoho.quota_ledger")
            .fetch_all(&database.pool)
            .await
            .unwrap();
    assert_eq!(days, [Utc::now().date_naive()]);
}

#[tokio::test]
async fn custom_field_keys_of_any_length_and_number_load_and_the_view_keeps_what_fits() {
    let desk = FakeDesk::start().await;
    let database = TestDatabase::fresh().await;
    let long_key = format!("cf_{}", "x".repeat(3_000));
    let mut cf = serde_json::Map::new();
    cf.insert(long_key.clone(), json!("42"));
    for n in 0..1_700 {
        cf.insert(format!("cf_field_{n}"), json!(format!("value {n}")));
    }
    let rows: Vec<Value> = (1..=3)
        .map(|id| {
            let mut row = ticket(id, id as i64);
            row["cf"] = Value::Object(cf.clone());
            row
        })
        .collect();
    desk.script(page(&rows));
    let setup = setup(&desk, &database);
    setup.run(&["backfill"]).await.assert_success();
    let mirror = desk_mirror(&database, DeskModule::Tickets).await;
    assert_eq!(mirror[&1]["cf"][&long_key], json!("42"));
    let columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns \
         WHERE table_schema = 'zoho_desk' AND table_name = 'tickets_view'",
    )
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!(
        columns, 1_600,
        "a view holds as many columns as PostgreSQL allows"
    );
    let status = setup.run(&["status"]).await;
    status.assert_success();
    assert!(
        status.stdout.contains("have no view column"),
        "{}",
        status.stdout
    );
}
