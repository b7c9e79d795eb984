//! How the sync commands fail: one clear line on stderr, the documented exit code (2 for
//! a bad config, 1 at run time), and nothing committed lost: a run that fails part-way
//! leaves the mirror and checkpoint it had, and a later healthy run completes from them.

use std::time::Duration;

use serde_json::json;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, loader, slow_emulator_with, stream, wait_for,
    Outcome, SyncSettings, SyncSetup,
};

/// The stderr lines that report the failure (logs may come before them).
fn error_lines(outcome: &Outcome) -> Vec<&str> {
    outcome
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect()
}

fn assert_one_error_line(outcome: &Outcome, code: i32, needles: &[&str]) {
    assert_eq!(outcome.code, Some(code), "{outcome:?}");
    let lines = error_lines(outcome);
    assert_eq!(
        lines.len(),
        1,
        "one error line expected:\n{}",
        outcome.stderr
    );
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "`{needle}` missing from the error: {}",
            lines[0]
        );
    }
}

#[tokio::test]
async fn a_bad_config_exits_2_naming_the_key() {
    let emulator = emulator_with(&[(Module::Requests, 10)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| t.replace("edition = \"enterprise\"", "edition = \"platinum\""));
    let run = setup.run(&["backfill"]).await;
    assert_one_error_line(&run, 2, &["organisations[0].edition", "platinum"]);

    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| t.replace("concurrency =", "concurency ="));
    let run = setup.run(&["sync"]).await;
    assert_one_error_line(&run, 2, &["concurency"]);

    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| t.replace("\nread_ahead = 0", "\nread_ahead = 99"));
    let run = setup.run(&["sync"]).await;
    assert_one_error_line(&run, 2, &["api.read_ahead", "out of range"]);

    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| t.replace("[[organisations]]", "[[organisations]]\nlicences = 0"));
    let run = setup.run(&["sync"]).await;
    assert_one_error_line(&run, 2, &["organisations[0].licences"]);
    assert_eq!(emulator.quota_used().await, 0);
}

#[tokio::test]
async fn a_config_that_does_not_parse_never_echoes_the_database_password() {
    let emulator = emulator_with(&[(Module::Requests, 10)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| {
        let start = t.find("url = \"postgres").expect("the database url");
        let end = start + t[start..].find('\n').expect("end of line");
        // Unquoted: the parser stops on this very line.
        let url = "url = postgres://postgres:s3cr3t-pw@127.0.0.1:5432/zs";
        format!("{}{url}{}", &t[..start], &t[end..])
    });
    let run = setup.run(&["sync"]).await;
    assert_one_error_line(&run, 2, &["line"]);
    assert!(!run.stderr.contains("s3cr3t-pw"), "{}", run.stderr);

    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|t| {
        t.replacen(
            "url = \"postgres",
            "password = \"s3cr3t-pw\"\nurl = \"postgres",
            1,
        )
        .replace(
            "schema = \"zoho\"",
            "schema = [\"postgres://u:s3cr3t-pw@h/db\"]",
        )
    });
    let run = setup.run(&["sync"]).await;
    assert_one_error_line(&run, 2, &["database"]);
    assert!(!run.stderr.contains("s3cr3t-pw"), "{}", run.stderr);
    assert_eq!(emulator.quota_used().await, 0);
}

#[tokio::test]
async fn an_unreachable_database_exits_1_with_one_line() {
    let emulator = emulator_with(&[(Module::Requests, 10)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    setup.edit_config(|t| {
        let start = t.find("url = \"postgres").expect("the database url");
        let end = start + t[start..].find('\n').expect("end of line");
        let url = format!("url = \"postgres://postgres:secret-pw@127.0.0.1:{closed}/zs\"");
        format!("{}{url}{}", &t[..start], &t[end..])
    });
    let started = std::time::Instant::now();
    let run = setup.run(&["backfill"]).await;
    assert_one_error_line(&run, 1, &["database"]);
    assert!(!run.stderr.contains("secret-pw"), "{}", run.stderr);
    let line = error_lines(&run)[0];
    assert_eq!(line.matches("refused").count(), 1, "said twice: {line}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(emulator.quota_used().await, 0);
}

#[tokio::test]
async fn a_revoked_token_exits_1_saying_the_token_was_refused() {
    let emulator = emulator_with(&[(Module::Requests, 500)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.set_token("0123456789abcdef0123456789abcdef");
    let run = setup.run(&["backfill"]).await;
    assert_one_error_line(&run, 1, &["token was refused"]);
    assert!(!run.stderr.contains("0123456789abcdef"), "{}", run.stderr);
    let rows = loader(&database)
        .await
        .mirror_count(&stream(Module::Requests))
        .await;
    assert_eq!(rows.unwrap_or(0), 0);
}

#[tokio::test]
async fn a_server_that_keeps_failing_ends_the_run_and_loses_nothing() {
    let emulator = slow_emulator_with(&[(Module::Requests, 6_000)], 20).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let mirror = loader(&database).await;
    let key = stream(Module::Requests);

    // The server breaks down part-way through the backfill.
    let child = setup.start(&["backfill"]);
    wait_for("a few pages", Duration::from_secs(10), || async {
        mirror.mirror_count(&key).await.unwrap_or(0) >= 600
    })
    .await;
    emulator
        .admin_post("faults", json!({ "kind": "http500", "probability": 1.0 }))
        .await;
    let failed = Outcome::from(child.wait_with_output().await.expect("the backfill"));
    assert_one_error_line(&failed, 1, &["500"]);

    let rows = mirror.mirror_count(&key).await.expect("mirror count");
    let checkpoint = mirror
        .checkpoint(&key, PassKind::Backfill)
        .await
        .expect("checkpoint");
    assert!(checkpoint.in_progress, "{checkpoint:?}");
    assert_eq!(
        i64::from(checkpoint.cursor.next),
        rows + 1,
        "{checkpoint:?}"
    );
    assert!(rows < 6_000);

    // Still failing: the run gives up again after its retries, changing nothing.
    let again = setup.run(&["backfill"]).await;
    assert_one_error_line(&again, 1, &["500"]);
    assert_eq!(mirror.mirror_count(&key).await.expect("mirror count"), rows);

    emulator
        .admin_post("faults", json!({ "clear": true }))
        .await;
    emulator.set_latency(0).await;
    setup.run(&["backfill"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}
