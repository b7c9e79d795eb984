//! `commit_page` against a real PostgreSQL: idempotent upserts, updates, time zones,
//! unparsable values, dead letters, atomicity with the checkpoint, and a fixed number of
//! statements per page whatever its size.

use std::time::Duration;

use chrono::{DateTime, Utc};
use zoho_sync::store::{PageCommit, PageStats, RunKind, StoreError};
use zoho_sync::stream::{Checkpoint, PassKind};
use zoho_sync::zoho::codec::BadRow;
use zoho_sync::zoho::{Module, Record};

use crate::loader_fixtures::{at, checkpoint_after, loader, page, record, request, stream};
use crate::support::database::TestDatabase;
use crate::support::sync::wait_for;

async fn synced_at(db: &zoho_sync::loader::Loader, id: i64) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT _synced_at FROM requests WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await
        .expect("the row exists")
}

#[tokio::test]
async fn committing_the_same_page_twice_inserts_once_and_then_changes_nothing() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records = vec![
        request(11, "Cannot log in", "2015-03-02 10:00:00"),
        request(12, "Printer on fire", "2015-03-02 11:00:00"),
        request(13, "Refund", "2015-03-02 12:00:00"),
    ];
    let cp = checkpoint_after(3, 13);
    let first = loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    assert_eq!(
        first,
        PageStats {
            inserted: 3,
            ..PageStats::default()
        }
    );
    let before = synced_at(&loader, 12).await;

    let mut again = page(&key, run, &records, &[], &cp);
    again.synced_at = at("2024-06-01T00:00:00Z");
    let second = loader.commit_page(&again).await.unwrap();
    assert_eq!(
        second,
        PageStats {
            unchanged: 3,
            ..PageStats::default()
        }
    );
    assert_eq!(synced_at(&loader, 12).await, before, "_synced_at is kept");
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 3);
    assert_eq!(
        loader.checkpoint(&key, PassKind::Backfill).await.unwrap(),
        cp
    );
}

#[tokio::test]
async fn a_changed_record_is_rewritten_with_its_typed_columns() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Sync, "demo").await.unwrap();
    let cp = checkpoint_after(2, 2);
    let records = vec![
        request(1, "Old subject", "2015-03-02 10:00:00"),
        request(2, "Same", "2015-03-02 10:00:00"),
    ];
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    let changed = vec![
        request(1, "New subject", "2015-03-05 09:30:00"),
        request(2, "Same", "2015-03-02 10:00:00"),
    ];
    let mut later = page(&key, run, &changed, &[], &cp);
    later.synced_at = at("2024-02-01T00:00:00Z");
    let stats = loader.commit_page(&later).await.unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (0, 1, 1));
    let (subject, modified): (String, DateTime<Utc>) =
        sqlx::query_as("SELECT subject, modified_time FROM requests WHERE id = 1")
            .fetch_one(loader.pool())
            .await
            .unwrap();
    assert_eq!(subject, "New subject");
    assert_eq!(modified, at("2015-03-05T09:30:00Z"));
    assert_eq!(synced_at(&loader, 1).await, at("2024-02-01T00:00:00Z"));
    assert_eq!(synced_at(&loader, 2).await, at("2024-01-01T00:00:00Z"));
}

#[tokio::test]
async fn date_times_are_read_in_the_portal_zone() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Tasks);
    let run = loader.start_run(RunKind::Sync, "demo").await.unwrap();
    let records = vec![record(
        7,
        &[
            ("ACTIVITYID", Some("7")),
            ("Subject", Some("Call back")),
            ("Due Date", Some("07/01/2015 12:00:00")),
            ("Modified Time", Some("2015-03-03 04:05:06")),
        ],
    )];
    let cp = checkpoint_after(1, 7);
    let mut commit = page(&key, run, &records, &[], &cp);
    commit.zone = chrono_tz::America::Los_Angeles;
    loader.commit_page(&commit).await.unwrap();
    let (due, modified): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT due_date, modified_time FROM tasks WHERE id = 7")
            .fetch_one(loader.pool())
            .await
            .unwrap();
    assert_eq!(due, at("2015-07-01T19:00:00Z"), "PDT is UTC-7");
    assert_eq!(modified, at("2015-03-03T12:05:06Z"), "PST is UTC-8");
}

#[tokio::test]
async fn an_unparsable_value_is_null_in_its_column_and_kept_in_the_jsonb() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Sync, "demo").await.unwrap();
    let records = vec![record(
        5,
        &[
            ("CASEID", Some("5")),
            ("Modified Time", Some("the 3rd of March")),
            ("Request Id", Some("R-17")),
            ("Custom Score", Some("9.5")),
        ],
    )];
    let cp = checkpoint_after(1, 5);
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    let (modified, number, raw, custom): (Option<DateTime<Utc>>, Option<i64>, String, String) =
        sqlx::query_as(
            "SELECT modified_time, request_id, fields->>'Modified Time', fields->>'Custom Score' \
         FROM requests WHERE id = 5",
        )
        .fetch_one(loader.pool())
        .await
        .unwrap();
    assert_eq!((modified, number), (None, None));
    assert_eq!(raw, "the 3rd of March");
    assert_eq!(custom, "9.5");
    let rows = loader.mirror_rows(&key).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].fields.len(), 4);
    assert_eq!(rows[0].fields.get("Request Id"), Some(&Some("R-17".into())));
}

#[tokio::test]
async fn bad_rows_and_records_without_an_id_become_dead_letters_with_their_raw_text() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let no_id = Record {
        id: None,
        fields: record(0, &[("Subject", Some("orphan"))]).fields,
    };
    let records = vec![request(1, "Fine", "2015-03-02 10:00:00"), no_id];
    let bad = vec![BadRow {
        raw: r#"<row no="2"><fl val="CASEID">x1</fl></row>"#.into(),
        error: "field `CASEID` holds `x1`, which is not a record id".into(),
        id: None,
    }];
    let cp = checkpoint_after(3, 1);
    let stats = loader
        .commit_page(&page(&key, run, &records, &bad, &cp))
        .await
        .unwrap();
    assert_eq!((stats.inserted, stats.dead_letters), (1, 2));
    let letters = loader.dead_letters(&key).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].raw, bad[0].raw);
    assert_eq!(letters[0].error, bad[0].error);
    assert_eq!(letters[0].run_id, Some(run));
    assert!(letters[1].raw.contains("orphan"), "{}", letters[1].raw);
    assert_eq!(letters[1].error, "record has no id");
}

#[tokio::test]
async fn a_page_failing_at_its_checkpoint_leaves_neither_rows_nor_checkpoint() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    // The checkpoint is written after the rows and dead letters: failing it must undo them.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'checkpoint refused'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON checkpoints \
           FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(loader.pool())
    .await
    .unwrap();
    let records = vec![request(1, "Lost", "2015-03-02 10:00:00")];
    let bad = vec![BadRow {
        raw: "{}".into(),
        error: "no id".into(),
        id: None,
    }];
    let cp = checkpoint_after(2, 1);
    let error = loader
        .commit_page(&page(&key, run, &records, &bad, &cp))
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 0);
    assert!(loader.dead_letters(&key).await.unwrap().is_empty());
    assert_eq!(
        loader.checkpoint(&key, PassKind::Backfill).await.unwrap(),
        Checkpoint::default()
    );
    assert_eq!(loader.run(run).await.unwrap().map(|r| r.pages), Some(0));
}

#[tokio::test]
async fn a_page_of_an_unknown_run_is_refused_whole() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let records = vec![request(1, "Orphan run", "2015-03-02 10:00:00")];
    let cp = checkpoint_after(1, 1);
    let error = loader
        .commit_page(&page(&key, 999, &records, &[], &cp))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::UnknownRun(999)), "{error}");
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 0);
    assert_eq!(
        loader.checkpoint(&key, PassKind::Backfill).await.unwrap(),
        Checkpoint::default()
    );
}

#[tokio::test]
async fn a_record_repeated_in_a_page_is_stored_once_as_its_last_occurrence() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Sync, "demo").await.unwrap();
    let records = vec![
        request(4, "first", "2015-03-02 10:00:00"),
        request(4, "second", "2015-03-02 10:00:01"),
    ];
    let cp = checkpoint_after(2, 4);
    let stats = loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    assert_eq!((stats.inserted, stats.unchanged), (1, 0));
    let rows = loader.mirror_rows(&key).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].fields.get("Subject"), Some(&Some("second".into())));
}

#[tokio::test]
async fn a_page_of_200_rows_their_changes_and_its_checkpoint_are_written_by_one_statement() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records: Vec<Record> = (1..=200)
        .map(|id| request(id, &format!("ticket {id}"), "2015-03-02 10:00:00"))
        .collect();
    let cp = checkpoint_after(200, 200);
    let stats = loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    assert_eq!(stats.inserted, 200);
    // A tuple's (xmin, cmin) names the transaction and the statement within it that wrote
    // it: one pair for all 200 rows, their change-log entries and the checkpoint is one
    // statement.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT xmin::text, cmin::text FROM requests \
         UNION SELECT DISTINCT xmin::text, cmin::text FROM change_log \
         UNION SELECT xmin::text, cmin::text FROM checkpoints",
    )
    .fetch_all(loader.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
}

#[tokio::test]
async fn a_table_loaded_with_ten_thousand_rows_gets_fresh_statistics_without_autovacuum() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    sqlx::query("ALTER TABLE requests SET (autovacuum_enabled = false)")
        .execute(loader.pool())
        .await
        .unwrap();
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    for first in (1..=10_000u64).step_by(200) {
        let records: Vec<Record> = (first..first + 200)
            .map(|id| request(id, "ticket", "2015-03-02 10:00:00"))
            .collect();
        let cp = checkpoint_after(u32::try_from(first + 199).unwrap(), first + 199);
        loader
            .commit_page(&page(&key, run, &records, &[], &cp))
            .await
            .unwrap();
    }
    wait_for(
        "the mirror table analysed",
        Duration::from_secs(60),
        || async {
            let analysed: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT last_analyze FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND relname = 'requests'",
            )
            .fetch_one(loader.pool())
            .await
            .unwrap();
            analysed.is_some()
        },
    )
    .await;
}

#[tokio::test]
async fn records_readied_ahead_are_used_only_for_the_page_they_were_readied_for() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let zone = chrono_tz::UTC;
    let readied_for = [request(1, "readied", "2015-03-02 10:00:00")];
    let other = [request(2, "other", "2015-03-02 10:00:00")];
    let prepared = loader
        .prepare_page(&key, &readied_for.iter().collect::<Vec<_>>(), zone)
        .expect("a legacy page is readied");
    // Readied for other records: ignored, the page's own are stored.
    let cp = checkpoint_after(1, 2);
    let commit = PageCommit {
        prepared: Some(&prepared),
        ..page(&key, run, &other, &[], &cp)
    };
    loader.commit_page(&commit).await.unwrap();
    // Readied for this page's records: stored as readied.
    let cp = checkpoint_after(2, 1);
    let commit = PageCommit {
        prepared: Some(&prepared),
        ..page(&key, run, &readied_for, &[], &cp)
    };
    loader.commit_page(&commit).await.unwrap();
    let rows = loader.mirror_rows(&key).await.unwrap();
    let subjects: Vec<_> = rows
        .iter()
        .map(|r| (r.id.0, r.fields["Subject"].clone()))
        .collect();
    assert_eq!(
        subjects,
        [
            (1, Some("readied".to_string())),
            (2, Some("other".to_string()))
        ]
    );
}

#[tokio::test]
async fn pages_committed_together_store_each_row_log_each_change_once_and_count_each_page() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    // Three anchored windows: each page starts on the last row of the one before.
    let windows = [1..=200u64, 200..=399, 399..=450];
    let pages: Vec<Vec<Record>> = windows
        .iter()
        .map(|ids| {
            ids.clone()
                .map(|id| request(id, "ticket", "2015-03-02 10:00:00"))
                .collect()
        })
        .collect();
    let checkpoints = [
        checkpoint_after(200, 200),
        checkpoint_after(399, 399),
        checkpoint_after(450, 450),
    ];
    let commits: Vec<PageCommit<'_>> = pages
        .iter()
        .zip(&checkpoints)
        .map(|(records, cp)| page(&key, run, records, &[], cp))
        .collect();
    let stats = loader.commit_pages(&commits).await.unwrap();
    assert_eq!((stats.inserted, stats.unchanged), (450, 2));
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 450);
    let changes = loader
        .changes_between(0, i64::MAX, None, 1_000)
        .await
        .unwrap();
    assert_eq!(changes.len(), 450, "one insert per record");
    let saved = loader.checkpoint(&key, PassKind::Backfill).await.unwrap();
    assert_eq!(saved, checkpoints[2]);
    let counted = loader.run(run).await.unwrap().unwrap();
    assert_eq!((counted.pages, counted.records), (3, 452));
}
