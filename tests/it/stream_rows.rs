//! The live row count `stream_stats` keeps per stream, which the status page and `status`
//! show: after every kind of commit that changes which rows are live (a backfill, an
//! incremental pass with creates, changes and deletions, a sweep that marks or removes
//! rows, a delete through the API, a row read again after its deletion, a Desk sync with
//! recycle-bin deletions, restores and a reconciliation) it equals the stream's rows not
//! marked deleted, counted in the mirror table; and migration 0022 (legacy tables) or the
//! first use by this version (Desk tables) counts a mirror made before the counts were
//! kept.

use std::borrow::Cow;

use sqlx::PgPool;
use zoho_sync::desk::DeskModule;
use zoho_sync::loader::schema::mirror_table;
use zoho_sync::loader::Loader;
use zoho_sync::store::{DeleteMode, RunKind};
use zoho_sync::stream::StreamKey;
use zoho_sync::zoho::{Module, RecordId, Secret};

use crate::loader_fixtures::{checkpoint_after, page, request, SCHEMA};
use crate::support::database::TestDatabase;
use crate::support::desk_sync::{
    assert_mirror_equals_source, desk_emulator, past_the_index_lag, DeskSync, ORG_ID,
};
use crate::support::sync::stream;
use crate::sweep_deletes::{backfilled, churn_deletes};

/// The count `stream_stats` keeps for a stream (none kept reads as 0).
async fn kept(pool: &PgPool, key: &StreamKey) -> i64 {
    let kept: Option<i64> = sqlx::query_scalar(
        "SELECT live_rows FROM zoho.stream_stats \
         WHERE portal = $1 AND department = $2 AND module = $3",
    )
    .bind(&key.portal)
    .bind(&key.department)
    .bind(key.module.key())
    .fetch_optional(pool)
    .await
    .expect("stream_stats");
    kept.unwrap_or(0)
}

/// The stream's live rows as its mirror table holds them.
async fn counted(pool: &PgPool, key: &StreamKey) -> i64 {
    let sql = match key.module.desk() {
        Some(module) => format!(
            "SELECT count(*) FROM zoho_desk.{} WHERE org_id = $1::text::bigint \
             AND _deleted_at IS NULL AND $2 = ''",
            module.name()
        ),
        None => format!(
            "SELECT count(*) FROM zoho.{} WHERE portal = $1 AND department = $2 \
             AND _deleted_at IS NULL",
            mirror_table(key.module.support().expect("a legacy module")).name
        ),
    };
    sqlx::query_scalar(&sql)
        .bind(&key.portal)
        .bind(&key.department)
        .fetch_one(pool)
        .await
        .expect("a count of the mirror")
}

/// Asserts the kept count is the mirror's; returns it.
pub(crate) async fn assert_kept_count_is_exact(pool: &PgPool, key: &StreamKey, when: &str) -> i64 {
    let live = counted(pool, key).await;
    assert_eq!(kept(pool, key).await, live, "{key} {when}");
    live
}

/// The `rows` `status --json` shows for the stream.
fn status_rows(status_json: &str, key: &StreamKey) -> Option<i64> {
    let status: serde_json::Value = serde_json::from_str(status_json.trim()).expect("JSON");
    status["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .find(|s| s["portal"] == key.portal.as_str() && s["module"] == key.module.key())
        .and_then(|s| s["rows"].as_i64())
}

#[tokio::test]
async fn the_kept_count_follows_a_backfill_an_incremental_pass_and_a_sweep_that_marks() {
    let (emulator, database, setup) = backfilled(600).await;
    let key = stream(Module::Requests);
    let pool = &database.pool;
    assert_eq!(
        assert_kept_count_is_exact(pool, &key, "after the backfill").await,
        600
    );
    emulator
        .admin_post(
            "churn",
            serde_json::json!({ "module": "requests", "mode": "now", "creates": 20, "modifies": 15 }),
        )
        .await;
    let deleted = churn_deletes(&emulator, Module::Requests, 9).await;

    // The clock stands a week on: the incremental pass brings the creates and changes,
    // the sweep due marks the nine deleted.
    setup.run(&["sync"]).await.assert_success();

    let live = assert_kept_count_is_exact(pool, &key, "after the sync").await;
    assert_eq!(live, 600 + 20 - 9);
    // Rows were marked, not removed (a deleted record may be one created since, never
    // mirrored).
    let marked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM zoho.requests WHERE _deleted_at IS NOT NULL")
            .fetch_one(pool)
            .await
            .expect("marked rows");
    assert!(marked > 0 && marked <= deleted.len() as i64, "{marked}");
    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    assert_eq!(
        status_rows(&status.stdout, &key),
        Some(live),
        "{}",
        status.stdout
    );
    let file = setup.config_path.with_file_name("status.html");
    let path = file.to_str().expect("a path");
    setup
        .run(&["status", "--html", path])
        .await
        .assert_success();
    let html = std::fs::read_to_string(&file).expect("the page");
    assert!(
        html.contains(&format!("<td class=\"num\">{live}</td>")),
        "{html}"
    );
}

#[tokio::test]
async fn with_hard_delete_a_sweep_takes_the_rows_it_removes_off_the_kept_count() {
    let (emulator, database, setup) = backfilled(500).await;
    setup.edit_config(|text| {
        text.replacen(
            "schema = \"zoho\"",
            "schema = \"zoho\"\nhard_delete = true",
            1,
        )
    });
    churn_deletes(&emulator, Module::Requests, 5).await;

    setup.run(&["sync"]).await.assert_success();

    let key = stream(Module::Requests);
    let live = assert_kept_count_is_exact(&database.pool, &key, "after the sweep").await;
    assert_eq!(live, 495);
}

/// A loader on a fresh database and one `requests` page of ids 1..=3 committed.
async fn three_rows(db: &TestDatabase) -> (Loader, StreamKey, Vec<zoho_sync::zoho::Record>) {
    let loader = crate::loader_fixtures::loader(db).await;
    let key = crate::loader_fixtures::stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records: Vec<_> = (1..=3)
        .map(|id| request(id, "First", "2015-03-02 10:00:00"))
        .collect();
    let cp = checkpoint_after(3, 3);
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    (loader, key, records)
}

/// The stream's row of `stream_stats`: its count and the transaction that last wrote it.
async fn stats_row(pool: &PgPool, key: &StreamKey) -> (i64, String) {
    sqlx::query_as(
        "SELECT live_rows, xmin::text FROM zoho.stream_stats \
         WHERE portal = $1 AND department = $2 AND module = $3",
    )
    .bind(&key.portal)
    .bind(&key.department)
    .bind(key.module.key())
    .fetch_one(pool)
    .await
    .expect("the stream's stats")
}

#[tokio::test]
async fn a_row_deleted_through_the_api_and_read_again_counts_again_and_a_reread_writes_nothing() {
    let db = TestDatabase::fresh().await;
    let (loader, key, records) = three_rows(&db).await;
    let pool = loader.pool();
    let (live, written_by) = stats_row(pool, &key).await;
    assert_eq!(live, 3);
    // The same page again changes nothing: the stream's row is not even rewritten.
    let run = loader.start_run(RunKind::Sync, "demo").await.unwrap();
    let cp = checkpoint_after(3, 3);
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    assert_eq!(stats_row(pool, &key).await, (3, written_by));

    let at = crate::loader_fixtures::at("2024-01-02T00:00:00Z");
    let gone = loader
        .delete_records(&key, &[RecordId(2)], DeleteMode::Mark, at)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(
        assert_kept_count_is_exact(pool, &key, "after a mark").await,
        2
    );
    // Marked again, or removed once marked: it was no longer live.
    loader
        .delete_records(&key, &[RecordId(2)], DeleteMode::Mark, at)
        .await
        .unwrap();
    assert_eq!(
        assert_kept_count_is_exact(pool, &key, "marked twice").await,
        2
    );

    // Read again, unchanged: the row is live again.
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    assert_eq!(assert_kept_count_is_exact(pool, &key, "revived").await, 3);

    loader
        .delete_records(&key, &[RecordId(1), RecordId(3)], DeleteMode::Mark, at)
        .await
        .unwrap();
    loader
        .delete_records(&key, &[RecordId(1), RecordId(2)], DeleteMode::Remove, at)
        .await
        .unwrap();
    // 1 was marked (uncounted then), 2 live and removed, 3 marked: none live.
    assert_eq!(assert_kept_count_is_exact(pool, &key, "removed").await, 0);
}

#[tokio::test]
async fn departments_sharing_a_table_keep_a_count_each() {
    let db = TestDatabase::fresh().await;
    let (loader, support, _) = three_rows(&db).await;
    let sales = StreamKey {
        department: "Sales".into(),
        ..support.clone()
    };
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records: Vec<_> = (10..15)
        .map(|id| request(id, "Sales", "2015-03-02 10:00:00"))
        .collect();
    let cp = checkpoint_after(5, 14);
    loader
        .commit_page(&page(&sales, run, &records, &[], &cp))
        .await
        .unwrap();
    let pool = loader.pool();
    assert_eq!(
        assert_kept_count_is_exact(pool, &support, "support").await,
        3
    );
    assert_eq!(assert_kept_count_is_exact(pool, &sales, "sales").await, 5);
    let statuses = loader.status().await.unwrap();
    let rows: Vec<(String, i64)> = statuses
        .iter()
        .map(|s| (s.stream.department.clone(), s.rows))
        .collect();
    assert_eq!(rows, [("Sales".into(), 5), ("Support".into(), 3)]);
}

#[tokio::test]
async fn a_desk_sync_with_recycle_bin_deletions_restores_and_a_reconciliation_keeps_exact_counts() {
    let emulator = desk_emulator(150).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts"]);
    setup.edit_config(|text| {
        text.replace(
            "edition = \"free\"",
            "edition = \"free\"\nsweep_every_days = 1",
        )
    });
    setup.run(&["backfill"]).await.assert_success();
    let keys = [DeskModule::Tickets, DeskModule::Contacts].map(|m| StreamKey::desk(ORG_ID, m));
    let pool = &database.pool;
    for key in &keys {
        // The records modified within the search index's lag wait for the next pass.
        let live = assert_kept_count_is_exact(pool, key, "after the backfill").await;
        assert!(live > 140, "{live}");
    }
    let churns = [
        vec![serde_json::json!({ "trashes": 12, "updates": 8, "creates": 6 })],
        vec![serde_json::json!({ "restores": 5, "trashes": 3 })],
        // Tickets purged from the bin before a walk saw them: only the reconciliation
        // finds them.
        vec![
            serde_json::json!({ "module": "tickets", "trashes": 4 }),
            serde_json::json!({ "module": "tickets", "purges": 4 }),
        ],
    ];
    for (round, orders) in churns.into_iter().enumerate() {
        for order in orders {
            emulator.admin_post("desk/churn", order).await;
        }
        past_the_index_lag(&emulator).await;
        if round == 2 {
            // A day on: the daily reconciliation is due.
            emulator
                .admin_post(
                    "desk/clock",
                    serde_json::json!({ "advance_secs": 86_400 + 60 }),
                )
                .await;
        }
        setup.run(&["sync"]).await.assert_success();
        assert_mirror_equals_source(&emulator, &database, DeskModule::Tickets).await;
        for key in &keys {
            assert_kept_count_is_exact(pool, key, &format!("after round {round}")).await;
        }
    }
    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    for key in &keys {
        assert_eq!(
            status_rows(&status.stdout, key),
            Some(counted(pool, key).await),
            "{}",
            status.stdout
        );
    }
}

#[tokio::test]
async fn a_desk_table_made_before_the_counts_were_kept_is_counted_by_the_next_command() {
    let emulator = desk_emulator(40).await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets"]);
    setup.run(&["backfill"]).await.assert_success();
    emulator
        .admin_post("desk/churn", serde_json::json!({ "trashes": 6 }))
        .await;
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    // As a mirror made by an earlier version: no Desk count, none recorded as taken.
    sqlx::raw_sql(
        "DELETE FROM zoho.desk_rows_counted; \
         UPDATE zoho.stream_stats SET live_rows = 0 WHERE department = ''",
    )
    .execute(&database.pool)
    .await
    .expect("forget the Desk counts");

    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();

    let key = StreamKey::desk(ORG_ID, DeskModule::Tickets);
    let live = assert_kept_count_is_exact(&database.pool, &key, "after status").await;
    assert_eq!(live, 34);
    assert_eq!(
        status_rows(&status.stdout, &key),
        Some(34),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn migration_0022_counts_a_mirror_made_before_it() {
    let db = TestDatabase::fresh().await;
    sqlx::raw_sql(&format!("CREATE SCHEMA {SCHEMA}"))
        .execute(&db.pool)
        .await
        .expect("the schema");
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < 22)
            .cloned()
            .collect(),
    );
    let mut conn = db.pool.acquire().await.expect("a connection");
    sqlx::raw_sql(&format!("SET search_path TO {SCHEMA}"))
        .execute(&mut *conn)
        .await
        .expect("search_path");
    before
        .run(&mut *conn)
        .await
        .expect("the earlier migrations");
    // Two departments share the table; one row without a Modified Time, two marked.
    sqlx::raw_sql(
        "INSERT INTO requests (portal, department, id, fields, _synced_at, modified_time, _deleted_at) \
         SELECT 'demo', 'Support', g, '{}', now(), \
           CASE WHEN g = 1 THEN NULL ELSE now() END, CASE WHEN g <= 3 AND g > 1 THEN now() END \
         FROM generate_series(1, 10) AS g; \
         INSERT INTO requests (portal, department, id, fields, _synced_at, modified_time) \
         SELECT 'demo', 'Sales', g, '{}', now(), NULL FROM generate_series(1, 4) AS g;",
    )
    .execute(&mut *conn)
    .await
    .expect("a mirror made before 0022");
    drop(conn);

    let loader = Loader::connect(&Secret::new(db.url.clone()), SCHEMA, 2)
        .await
        .expect("the loader migrates");

    let rows: Vec<(String, i64)> = loader
        .stream_stats()
        .await
        .unwrap()
        .into_iter()
        .map(|(key, stats)| (key.department, stats.live_rows))
        .collect();
    assert_eq!(rows, [("Sales".into(), 4), ("Support".into(), 8)]);
    // The Support stream's newest Modified Time is filled too; the Sales stream has none:
    // no lag to report, and no error either.
    let newest = loader.newest_modified().await.unwrap();
    assert_eq!(newest.len(), 1, "{newest:?}");
}
