//! Commits sent while the one before them is still committing (`commit_in_order`),
//! against a real PostgreSQL: a commit waits, inside the database, for the one it follows
//! and is stored after it; it writes nothing (no row, no change, no checkpoint, no
//! count) when that one is not stored, and is stored when sent again once it is.

use std::sync::Arc;
use std::time::Duration;

use zoho_sync::loader::Loader;
use zoho_sync::store::{CommitOrder, Ordered, RunKind};
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::record::RecordId;
use zoho_sync::zoho::{Module, Record};

use crate::loader_fixtures::{checkpoint_after, loader, page, request, stream};
use crate::support::database::TestDatabase;
use crate::support::sync::wait_for;

fn requests(ids: std::ops::RangeInclusive<u64>) -> Vec<Record> {
    ids.map(|id| request(id, "ticket", "2015-03-02 10:00:00"))
        .collect()
}

async fn count(loader: &Loader, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(loader.pool())
        .await
        .expect("a count")
}

/// Mirror rows, change-log entries, and the run's pages.
async fn figures(loader: &Loader) -> (i64, i64, i64) {
    (
        count(loader, "SELECT count(*) FROM requests").await,
        count(loader, "SELECT count(*) FROM change_log").await,
        count(loader, "SELECT coalesce(sum(pages), 0)::bigint FROM runs").await,
    )
}

#[tokio::test]
async fn a_commit_behind_one_not_stored_writes_nothing_and_is_stored_once_that_one_is() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let (first, second) = (requests(1..=200), requests(200..=399));
    let (cp1, cp2) = (checkpoint_after(200, 200), checkpoint_after(399, 399));
    let stored = loader
        .commit_in_order(
            &[page(&key, run, &first, &[], &cp1)],
            CommitOrder {
                token: 1,
                after: None,
                shared: None,
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(stored, Ordered::Stored(s) if s.inserted == 200),
        "{stored:?}"
    );

    // Behind a commit (token 2) that never reached the database.
    let later = [page(&key, run, &second, &[], &cp2)];
    let behind = CommitOrder {
        token: 3,
        after: Some(2),
        shared: None,
    };
    assert_eq!(
        loader.commit_in_order(&later, behind).await.unwrap(),
        Ordered::Behind
    );
    assert_eq!(figures(&loader).await, (200, 200, 1));
    let saved = loader.checkpoint(&key, PassKind::Backfill).await.unwrap();
    assert_eq!(saved, cp1);

    // Sent again after the commit that is stored (token 1), leaving out the row the two
    // pages share.
    let again = CommitOrder {
        token: 3,
        after: Some(1),
        shared: Some(RecordId(200)),
    };
    let stored = loader.commit_in_order(&later, again).await.unwrap();
    assert!(
        matches!(stored, Ordered::Stored(s) if (s.inserted, s.unchanged) == (199, 1)),
        "{stored:?}"
    );
    assert_eq!(figures(&loader).await, (399, 399, 2));
    let saved = loader.checkpoint(&key, PassKind::Backfill).await.unwrap();
    assert_eq!(saved, cp2);
}

/// Holds what a commit still under way holds (its mark, the advisory lock of token 2, and
/// the stream's checkpoint row), sends a commit behind token 2, waits until it waits,
/// then ends the holder: with token 2 written (`store`) or rolled back. How the commit
/// sent behind it ended.
async fn behind_a_commit_under_way(store: bool) -> (Ordered, (i64, i64, i64)) {
    let db = TestDatabase::fresh().await;
    let loader = Arc::new(loader(&db).await);
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let first = requests(1..=200);
    let cp1 = checkpoint_after(200, 200);
    let order = CommitOrder {
        token: 1,
        after: None,
        shared: None,
    };
    let page1 = [page(&key, run, &first, &[], &cp1)];
    loader.commit_in_order(&page1, order).await.unwrap();

    let mut holder = loader.pool().begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(0, 2)")
        .execute(&mut *holder)
        .await
        .unwrap();
    sqlx::query("UPDATE checkpoints SET commit_token = 2")
        .execute(&mut *holder)
        .await
        .unwrap();
    let sender = Arc::clone(&loader);
    let sent = tokio::spawn(async move {
        let key = stream(Module::Requests);
        let second = requests(200..=399);
        let cp2 = checkpoint_after(399, 399);
        let order = CommitOrder {
            token: 3,
            after: Some(2),
            shared: Some(RecordId(200)),
        };
        let page2 = [page(&key, run, &second, &[], &cp2)];
        sender.commit_in_order(&page2, order).await
    });
    wait_for(
        "the commit waiting on the checkpoint row",
        Duration::from_secs(10),
        || async {
            count(
                &loader,
                "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await
                == 1
        },
    )
    .await;
    // Waiting, it has stored nothing yet.
    assert_eq!(figures(&loader).await, (200, 200, 1));
    match store {
        true => holder.commit().await.unwrap(),
        false => holder.rollback().await.unwrap(),
    }
    let ended = sent.await.unwrap().unwrap();
    (ended, figures(&loader).await)
}

#[tokio::test]
async fn a_commit_sent_while_the_one_before_commits_waits_for_it_and_is_stored_after_it() {
    let (ended, figures) = behind_a_commit_under_way(true).await;
    assert!(
        matches!(ended, Ordered::Stored(s) if s.inserted == 199),
        "{ended:?}"
    );
    assert_eq!(figures, (399, 399, 2));
}

#[tokio::test]
async fn a_commit_sent_while_the_one_before_fails_waits_for_it_and_writes_nothing() {
    let (ended, figures) = behind_a_commit_under_way(false).await;
    assert_eq!(ended, Ordered::Behind);
    assert_eq!(figures, (200, 200, 1));
}
