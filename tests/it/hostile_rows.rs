//! Rows a faithful server never sends, from the hostile server: undecodable rows, bytes
//! that are not UTF-8, ids out of order, stray elements and keys. Each case ends in an
//! exact mirror of every row that can be read, the others set aside as dead letters and
//! counted, and a pass that is complete only when the server's rows ran out.

use zoho_sync::stream::PassKind;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::hostile::{plain_rows, HostileServer, Stray, Value};
use crate::support::sync::{loader, mirror, stream, Outcome, SyncSettings, SyncSetup};

const TOKEN: &str = "hostile-token";

async fn backfill(
    server: &HostileServer,
    database: &TestDatabase,
    format: &'static str,
) -> Outcome {
    let settings = SyncSettings {
        format,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::for_server(&server.base_url, TOKEN, database, &settings);
    setup.run(&["backfill"]).await
}

/// The mirror holds exactly the server's readable rows, field for field.
pub async fn assert_mirror_matches(server: &HostileServer, database: &TestDatabase) {
    let mirror = mirror(&loader(database).await, Module::Requests).await;
    let expected = server.expected();
    let missing: Vec<_> = expected
        .keys()
        .filter(|id| !mirror.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "ids missing from the mirror: {missing:?}"
    );
    assert_eq!(
        mirror.len(),
        expected.len(),
        "the mirror holds rows the server never served readably"
    );
    for (id, fields) in expected {
        for (label, value) in fields {
            assert_eq!(
                mirror[&id].get(&label).cloned().flatten().as_deref(),
                Some(value.as_str()),
                "record {id}, field {label}"
            );
        }
    }
}

async fn dead_letters(database: &TestDatabase) -> Vec<zoho_sync::loader::DeadLetter> {
    loader(database)
        .await
        .dead_letters(&stream(Module::Requests))
        .await
        .expect("dead letters")
}

async fn backfill_complete(database: &TestDatabase) -> bool {
    let checkpoint = loader(database)
        .await
        .checkpoint(&stream(Module::Requests), PassKind::Backfill)
        .await
        .expect("checkpoint");
    checkpoint.completed_at.is_some() && !checkpoint.in_progress
}

#[tokio::test]
async fn undecodable_rows_are_dead_letters_and_the_backfill_still_reads_every_page() {
    for format in ["json", "xml"] {
        let mut rows = plain_rows(Module::Requests, 1, 1000);
        // A lone surrogate escape in a value (JSON) or a reference to a surrogate (XML),
        // an id that is not a number and an id past 64 bits.
        let broken = if format == "json" {
            &b"x\\ud83dy"[..]
        } else {
            &b"]]>&#xD83D;<![CDATA["[..]
        };
        rows[10].set("Subject", Value::Raw(broken.to_vec()));
        rows[199].set("CASEID", Value::Text("12ab".into()));
        rows[450].set("CASEID", Value::Text("99999999999999999999999".into()));
        let server = HostileServer::start(Module::Requests, rows).await;
        let database = TestDatabase::fresh().await;
        backfill(&server, &database, format).await.assert_success();
        assert_mirror_matches(&server, &database).await;
        assert_eq!(dead_letters(&database).await.len(), 3, "{format}");
        assert!(backfill_complete(&database).await, "{format}");
    }
}

#[tokio::test]
async fn one_invalid_utf8_byte_sets_only_its_record_aside_in_json_and_xml() {
    for format in ["json", "xml"] {
        let mut rows = plain_rows(Module::Requests, 1, 300);
        rows[7].set("Subject", Value::Raw(b"caf\xe9 au lait".to_vec()));
        let server = HostileServer::start(Module::Requests, rows).await;
        let database = TestDatabase::fresh().await;
        backfill(&server, &database, format).await.assert_success();
        assert_mirror_matches(&server, &database).await;
        let letters = dead_letters(&database).await;
        assert_eq!(letters.len(), 1, "{format}: {letters:?}");
        assert!(
            letters[0].error.contains("UTF-8"),
            "{format}: {}",
            letters[0].error
        );
        assert!(backfill_complete(&database).await, "{format}");
    }
}

#[tokio::test]
async fn rows_served_in_descending_id_order_are_all_mirrored() {
    let mut rows = plain_rows(Module::Requests, 1, 650);
    rows.reverse();
    let server = HostileServer::start(Module::Requests, rows).await;
    let database = TestDatabase::fresh().await;
    backfill(&server, &database, "json").await.assert_success();
    assert_mirror_matches(&server, &database).await;
    assert!(backfill_complete(&database).await);
    // Read by anchors, at the cost of a still, ordered set: one request per 199 rows.
    assert_eq!(server.requests(), 650 / 199 + 1);
    assert!(server
        .windows()
        .iter()
        .all(|(from, to, _)| to - from == 199));
}

#[tokio::test]
async fn one_huge_id_on_an_early_page_does_not_hide_the_rows_after_it() {
    let mut rows = plain_rows(Module::Requests, 1, 1000);
    rows[150].set("CASEID", Value::Text("9000000000000000000".into()));
    let server = HostileServer::start(Module::Requests, rows).await;
    let database = TestDatabase::fresh().await;
    backfill(&server, &database, "xml").await.assert_success();
    assert_mirror_matches(&server, &database).await;
    assert!(backfill_complete(&database).await);
}

#[tokio::test]
async fn stray_elements_and_keys_are_ignored_with_one_warning_per_kind() {
    for stray in [Stray::AfterRecords, Stray::InResponse, Stray::InRow] {
        for format in ["json", "xml"] {
            let server =
                HostileServer::start(Module::Requests, plain_rows(Module::Requests, 1, 450)).await;
            server.edit(|s| s.stray = stray);
            let database = TestDatabase::fresh().await;
            let outcome = backfill(&server, &database, format).await;
            outcome.assert_success();
            assert_mirror_matches(&server, &database).await;
            assert!(
                dead_letters(&database).await.is_empty(),
                "{stray:?} {format}"
            );
            let warnings = outcome.stderr.matches("ignoring").count();
            assert_eq!(
                warnings, 1,
                "{stray:?} {format}: one warning per kind:\n{}",
                outcome.stderr
            );
        }
    }
}

#[tokio::test]
async fn a_page_of_more_rows_than_asked_for_fails_the_pass_loudly_and_stores_nothing_of_it() {
    let server = HostileServer::start(Module::Requests, plain_rows(Module::Requests, 1, 500)).await;
    server.edit(|s| s.overfill = 1);
    let database = TestDatabase::fresh().await;
    let outcome = backfill(&server, &database, "json").await;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("served 201 rows for a window of 200"),
        "{}",
        outcome.stderr
    );
    assert!(mirror(&loader(&database).await, Module::Requests)
        .await
        .is_empty());
    assert!(!backfill_complete(&database).await);
}

#[tokio::test]
async fn dead_letters_lists_what_was_set_aside_as_a_table_and_as_ndjson_with_the_raw_row() {
    let mut rows = plain_rows(Module::Requests, 1, 300);
    rows[20].set("CASEID", Value::Text("12ab".into()));
    rows[40].set("Subject", Value::Raw(b"x\\ud83dy".to_vec()));
    let server = HostileServer::start(Module::Requests, rows).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::for_server(&server.base_url, TOKEN, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();

    let table = setup.run(&["dead-letters"]).await;
    table.assert_success();
    assert!(table.stdout.contains("2 dead letters"), "{}", table.stdout);
    assert!(table.stdout.contains("not a record id"), "{}", table.stdout);

    let lines = setup
        .run(&["dead-letters", "--module", "requests", "--format", "ndjson"])
        .await;
    lines.assert_success();
    let letters: Vec<serde_json::Value> = lines
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(letters.len(), 2, "{}", lines.stdout);
    assert!(
        letters.iter().all(|l| l["module"] == "requests"),
        "{letters:?}"
    );
    assert!(
        letters
            .iter()
            .any(|l| l["raw"].as_str().is_some_and(|r| r.contains("12ab"))),
        "{letters:?}"
    );
    // The row whose id could be read names its record.
    assert!(
        letters.iter().any(|l| l["record_id"].is_u64()),
        "{letters:?}"
    );

    let none = setup.run(&["dead-letters", "--module", "contacts"]).await;
    none.assert_success();
    assert!(none.stdout.contains("0 dead letters"), "{}", none.stdout);
}
