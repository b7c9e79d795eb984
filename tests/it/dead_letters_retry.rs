//! `zoho-sync dead-letters --retry` against the hostile server: a backfill sets bad rows
//! aside, the server then serves some of them readable, keeps one bad and forgets
//! another, and the retry reads each record once by id inside the budget, loads what
//! decodes (with its change log entry) and clears its letters, keeps what is still bad,
//! clears what is gone (retiring its mirror row), and stops at the budget's edge.

use std::time::Duration;

use serde_json::Value as Json;
use zoho_sync::store::{Claim, Holder};
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::hostile::{plain_rows, HostileServer, Value};
use crate::support::sync::{loader, mirror, stream, SyncSettings, SyncSetup};

const TOKEN: &str = "hostile-token";

/// A value no decoder accepts (a byte that is not UTF-8), the row's id still readable.
fn broken() -> Value {
    Value::Raw(b"caf\xe9 au lait".to_vec())
}

/// 300 requests, those with ids 11, 21 and 31 served undecodable; backfilled.
async fn backfilled(database: &TestDatabase) -> (HostileServer, SyncSetup) {
    let mut rows = plain_rows(Module::Requests, 1, 300);
    for id in [11, 21, 31] {
        rows[id - 1].set("Subject", broken());
    }
    let server = HostileServer::start(Module::Requests, rows).await;
    let setup = SyncSetup::for_server(&server.base_url, TOKEN, database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    (server, setup)
}

/// The requests stream's letters as (letter id, record id).
async fn letters(database: &TestDatabase) -> Vec<(i64, Option<u64>)> {
    loader(database)
        .await
        .dead_letters(&stream(Module::Requests))
        .await
        .expect("dead letters")
        .into_iter()
        .map(|l| (l.id, l.record_id.map(|r| r.0)))
        .collect()
}

/// Stores a letter as a page would have (a second letter of a record, or one of a
/// mirrored record met bad later).
async fn add_letter(database: &TestDatabase, record_id: Option<u64>, raw: &str) {
    sqlx::query(
        "INSERT INTO zoho.dead_letters (portal, department, module, raw, error, record_id) \
         SELECT portal, department, module, $1, 'a bad row', $2::text::numeric \
         FROM zoho.dead_letters LIMIT 1",
    )
    .bind(raw)
    .bind(record_id.map(|r| r.to_string()))
    .execute(&database.pool)
    .await
    .expect("add a letter");
}

/// Requests reserved in the ledger, every day together.
async fn ledger_used(database: &TestDatabase) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(used), 0)::bigint FROM zoho.quota_ledger")
        .fetch_one(&database.pool)
        .await
        .expect("ledger")
}

/// The latest run: kind, outcome and requests.
async fn last_run(database: &TestDatabase) -> (i64, String, Option<String>, i64) {
    sqlx::query_as("SELECT id, kind, outcome, requests FROM zoho.runs ORDER BY id DESC LIMIT 1")
        .fetch_one(&database.pool)
        .await
        .expect("runs")
}

/// The change log's operations on one record, in order, with their run.
async fn logged(database: &TestDatabase, id: i64) -> Vec<(String, Option<i64>)> {
    sqlx::query_as(
        "SELECT op, run_id FROM zoho.change_log WHERE module = 'requests' AND record_id = $1 \
         ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&database.pool)
    .await
    .expect("change log")
}

#[tokio::test]
async fn a_retry_loads_what_decodes_keeps_what_is_still_bad_and_clears_what_is_gone() {
    let database = TestDatabase::fresh().await;
    let (server, setup) = backfilled(&database).await;
    let before: Vec<u64> = letters(&database)
        .await
        .iter()
        .filter_map(|l| l.1)
        .collect();
    assert_eq!(
        before,
        [11, 21, 31],
        "the backfill set the three bad rows aside"
    );
    // A second letter of record 11, a letter of the mirrored record 40 and one without id.
    add_letter(&database, Some(11), "another bad version of 11").await;
    add_letter(&database, Some(40), "a bad version of 40").await;
    add_letter(&database, None, "a row without an id").await;
    assert!(mirror(&loader(&database).await, Module::Requests)
        .await
        .contains_key(&40));
    // 11 decodes now, 21 is still bad, 31 and 40 are gone from the source.
    server.edit(|script| {
        script.rows[10].set("Subject", Value::Text("fixed at the source".into()));
        script
            .rows
            .retain(|r| !matches!(r.id_text(Module::Requests).as_deref(), Some("31" | "40")));
    });
    let used = ledger_used(&database).await;

    let retry = setup
        .run(&["dead-letters", "--retry", "--format", "ndjson"])
        .await;
    retry.assert_success();

    let outcomes: Vec<(Option<u64>, String)> = retry
        .stdout
        .lines()
        .map(|line| {
            let line: Json = serde_json::from_str(line).expect("an NDJSON line");
            let outcome = line["outcome"].as_str().expect("an outcome").to_string();
            (line["record_id"].as_u64(), outcome)
        })
        .collect();
    let expected = [
        (Some(11), "loaded"),
        (Some(21), "still_bad"),
        (Some(31), "gone"),
        (Some(11), "loaded"),
        (Some(40), "gone"),
        (None, "no_id"),
    ];
    let expected: Vec<(Option<u64>, String)> = expected
        .iter()
        .map(|(id, o)| (*id, o.to_string()))
        .collect();
    assert_eq!(outcomes, expected, "stderr:\n{}", retry.stderr);
    assert!(
        retry.stderr.contains("1 letters are still bad"),
        "{}",
        retry.stderr
    );

    // One request per distinct id, each reserved in the ledger.
    let asked = server.asked_by_id();
    assert_eq!(asked, ["11", "21", "31", "40"]);
    assert_eq!(ledger_used(&database).await - used, 4);
    // The rows loaded and retired moved the stream's kept count with them.
    let key = stream(Module::Requests);
    crate::stream_rows::assert_kept_count_is_exact(&database.pool, &key, "after the retry").await;
    let (run_id, kind, outcome, requests) = last_run(&database).await;
    assert_eq!(
        (kind.as_str(), outcome.as_deref(), requests),
        ("retry", Some("completed"), 4)
    );
    // The status page's latest runs show it, with its requests.
    let page = setup.config_path.with_file_name("status.html");
    let page_arg = page.to_str().expect("a UTF-8 path");
    setup
        .run(&["status", "--html", page_arg])
        .await
        .assert_success();
    let html = std::fs::read_to_string(&page).expect("the status page");
    let row = format!("<tr><td>#{run_id}</td><td>demo</td><td>retry</td>");
    let at = html.find(&row).expect("the retry run in the status page");
    let shown = &html[at..at + html[at..].find("</tr>").expect("the row's end")];
    // A page a record read, and a request each.
    let counts = r#"<td class="num">4</td><td class="num">4</td>"#;
    assert!(shown.contains(counts), "{shown}");

    let left: Vec<Option<u64>> = letters(&database).await.iter().map(|l| l.1).collect();
    assert_eq!(
        left,
        [Some(21), None],
        "only the still bad and the id-less stay"
    );
    let mirrored = mirror(&loader(&database).await, Module::Requests).await;
    assert_eq!(
        mirrored[&11].get("Subject").cloned().flatten().as_deref(),
        Some("fixed at the source")
    );
    assert!(!mirrored.contains_key(&21) && !mirrored.contains_key(&31));
    assert_eq!(
        logged(&database, 11).await,
        [("insert".to_string(), Some(run_id))]
    );
    let deleted = loader(&database)
        .await
        .deleted_ids(&stream(Module::Requests))
        .await
        .expect("deleted ids");
    assert_eq!(deleted.iter().map(|r| r.0).collect::<Vec<_>>(), [40]);
    assert_eq!(
        logged(&database, 40).await.last().cloned(),
        Some(("delete".into(), Some(run_id)))
    );
}

#[tokio::test]
async fn a_budget_too_small_stops_the_retry_with_exit_4_and_spends_nothing_beyond_it() {
    let database = TestDatabase::fresh().await;
    let (server, _) = backfilled(&database).await;
    server.edit(|script| {
        for row in &mut script.rows {
            row.set("Subject", Value::Text("readable now".into()));
        }
    });
    // Room for exactly one more request today.
    let used = ledger_used(&database).await;
    let settings = SyncSettings {
        daily_limit: u32::try_from(used + 1).expect("a small count"),
        ..SyncSettings::default()
    };
    let setup = SyncSetup::for_server(&server.base_url, TOKEN, &database, &settings);

    let retry = setup.run(&["dead-letters", "--retry"]).await;

    assert_eq!(
        retry.code,
        Some(4),
        "stdout:\n{}\nstderr:\n{}",
        retry.stdout,
        retry.stderr
    );
    assert!(
        retry.stderr.contains("2 letters untried"),
        "{}",
        retry.stderr
    );
    assert!(
        retry.stdout.contains("today's budget is spent; resets"),
        "{}",
        retry.stdout
    );
    assert_eq!(ledger_used(&database).await, used + 1);
    assert_eq!(
        server.asked_by_id(),
        ["11"],
        "the oldest letter's record only"
    );
    let left: Vec<Option<u64>> = letters(&database).await.iter().map(|l| l.1).collect();
    assert_eq!(left, [Some(21), Some(31)]);
    let (_, kind, outcome, requests) = last_run(&database).await;
    assert_eq!(
        (kind.as_str(), outcome.as_deref(), requests),
        ("retry", Some("quota_spent"), 1)
    );
}

#[tokio::test]
async fn a_stream_a_live_process_holds_is_left_to_it_with_exit_3_and_no_request() {
    let database = TestDatabase::fresh().await;
    let (server, setup) = backfilled(&database).await;
    let holder = loader(&database).await;
    let claim = holder
        .take_lease(
            &stream(Module::Requests),
            Holder::this_process(),
            Duration::from_secs(60),
        )
        .await
        .expect("take the lease");
    assert!(matches!(claim, Claim::Taken(_)), "{claim:?}");
    let used = ledger_used(&database).await;

    let retry = setup.run(&["dead-letters", "--retry"]).await;

    assert_eq!(
        retry.code,
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        retry.stdout,
        retry.stderr
    );
    assert!(retry.stdout.contains("held by"), "{}", retry.stdout);
    assert!(server.asked_by_id().is_empty());
    assert_eq!(ledger_used(&database).await, used);
    assert_eq!(letters(&database).await.len(), 3);
}

/// Zoho Desk: a letter's record is read by a GET of its id, priced and reserved as one
/// credit; one that decodes now is loaded, one no longer visible (D18) is cleared.
#[tokio::test]
async fn a_desk_retry_reads_each_record_by_a_get_of_its_id() {
    use crate::desk_hostile::{page, setup, ticket};
    use crate::support::desk::{FakeDesk, Scripted};
    use crate::support::desk_sync::desk_mirror;
    use zoho_sync::desk::DeskModule;

    let desk = FakeDesk::start().await;
    let database = TestDatabase::fresh().await;
    let mut first: Vec<Json> = (1..=100).map(|id| ticket(id, id as i64)).collect();
    first[69]["modifiedTime"] = Json::from("yesterday");
    first[79]["modifiedTime"] = Json::from("yesterday");
    desk.script(page(&first));
    let setup = setup(&desk, &database);
    setup.run(&["backfill"]).await.assert_success();
    let ids: Vec<Option<String>> =
        sqlx::query_scalar("SELECT record_id::text FROM zoho.dead_letters ORDER BY id")
            .fetch_all(&database.pool)
            .await
            .expect("letters");
    assert_eq!(ids, [Some("70".to_string()), Some("80".to_string())]);
    let used = ledger_used(&database).await;
    desk.script(Scripted::json(200, &ticket(70, 70).to_string()));
    desk.script(Scripted::json(
        403,
        r#"{"errorCode":"FORBIDDEN","message":"You are not authorized to access this resource."}"#,
    ));

    let retry = setup.run(&["dead-letters", "--retry"]).await;

    retry.assert_success();
    let gets: Vec<String> = desk
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/tickets/70") || s.path.ends_with("/tickets/80"))
        .map(|s| s.path)
        .collect();
    assert_eq!(gets, ["/api/v1/tickets/70", "/api/v1/tickets/80"]);
    assert_eq!(ledger_used(&database).await - used, 2, "a credit a GET");
    assert!(desk_mirror(&database, DeskModule::Tickets)
        .await
        .contains_key(&70));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM zoho.dead_letters")
        .fetch_one(&database.pool)
        .await
        .expect("letters");
    assert_eq!(left, 0, "{}", retry.stdout);
}
