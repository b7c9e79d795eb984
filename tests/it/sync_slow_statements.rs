//! A database that keeps the sync waiting (here a lock another session holds) is reported
//! in one short warning: the kind of work, the first line of its statement at most, and
//! how long it took. sqlx used to print every slow statement whole at WARN, which is how
//! one misconfigured run wrote gigabytes of log; the full SQL never reaches the log now.

use std::time::Duration;

use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, wait_for, Outcome, SyncSettings, SyncSetup};

#[tokio::test]
async fn a_slow_page_commit_is_reported_once_without_its_statement() {
    let emulator = emulator_with(&[(Module::Requests, 600)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        concurrency: 1,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    setup.run(&["migrate"]).await.assert_success();

    // Every page's upsert appends to the change log: this lock holds the first page.
    let mut blocker = database.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE zoho.change_log IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .expect("lock the change log");
    let child = setup.start(&["backfill"]);
    wait_for(
        "a page commit waiting on the lock for 1.5 s",
        Duration::from_secs(30),
        || async {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND datname = current_database() AND now() - query_start > interval '1.5 s')",
            )
            .fetch_one(&database.pool)
            .await
            .expect("read pg_stat_activity")
        },
    )
    .await;
    blocker.rollback().await.expect("release the lock");
    let run = Outcome::from(child.wait_with_output().await.expect("the backfill ends"));
    run.assert_success();

    let reports: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("slow database work"))
        .collect();
    assert_eq!(reports.len(), 1, "one report expected:\n{}", run.stderr);
    assert!(reports[0].contains("page commit"), "{}", reports[0]);
    for statement_text in ["WITH retired", "INSERT INTO", "UNNEST", "slow statement"] {
        assert!(
            !run.stderr.contains(statement_text),
            "`{statement_text}` in the log:\n{}",
            run.stderr
        );
    }
}
