//! The loader's control tables against a real PostgreSQL: the quota ledger under
//! concurrency, checkpoints, runs and their counters, status, migrations and schemas.

use chrono::NaiveDate;
use zoho_sync::loader::Loader;
use zoho_sync::store::{LedgerDay, RunKind, RunOutcome, StoreError};
use zoho_sync::stream::agents::AgentPlace;
use zoho_sync::stream::cursor::{Cursor, Order};
use zoho_sync::stream::seek::{Leg, Seek, Tie, Within};
use zoho_sync::stream::{Checkpoint, PassKind};
use zoho_sync::zoho::{Module, RecordId, Secret};

use crate::loader_fixtures::{at, checkpoint_after, loader, page, request, stream, SCHEMA};
use crate::support::database::TestDatabase;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 3, d).expect("a date")
}

#[tokio::test]
async fn eight_concurrent_tasks_reserve_exactly_the_budget() {
    let db = TestDatabase::fresh().await;
    // Two loaders (two pools) stand for two processes sharing the ledger.
    let loaders = [loader(&db).await, loader(&db).await];
    let budget = 37;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let loader = loaders[i % 2].clone();
            tokio::spawn(async move {
                let mut won = Vec::new();
                for _ in 0..10 {
                    if let Some(used) = loader.reserve("demo", day(3), 1, budget).await? {
                        won.push(used);
                    }
                }
                Ok::<_, StoreError>(won)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap().unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=budget).collect::<Vec<_>>());
    let ledger = loaders[0].ledger_day("demo", day(3)).await.unwrap();
    assert_eq!(
        ledger,
        LedgerDay {
            used: budget,
            spent: false
        }
    );
}

#[tokio::test]
async fn a_spent_day_takes_no_reservation_and_other_days_are_untouched() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    assert_eq!(
        loader.reserve("demo", day(3), 1, 10).await.unwrap(),
        Some(1)
    );
    loader.mark_day_spent("demo", day(3)).await.unwrap();
    assert_eq!(loader.reserve("demo", day(3), 1, 10).await.unwrap(), None);
    assert_eq!(
        loader.reserve("demo", day(4), 1, 10).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        loader.reserve("other", day(3), 1, 10).await.unwrap(),
        Some(1)
    );
    assert_eq!(loader.reserve("demo", day(5), 1, 0).await.unwrap(), None);
    assert_eq!(
        loader.ledger_days("demo").await.unwrap(),
        vec![
            (
                day(3),
                LedgerDay {
                    used: 1,
                    spent: true
                }
            ),
            (
                day(4),
                LedgerDay {
                    used: 1,
                    spent: false
                }
            ),
        ]
    );
    assert_eq!(
        loader.ledger_day("demo", day(9)).await.unwrap(),
        LedgerDay::default()
    );
}

#[tokio::test]
async fn a_reservation_moves_to_the_day_the_server_counted_it_on() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    loader.reserve("demo", day(3), 1, 10).await.unwrap();
    loader.reserve("demo", day(3), 1, 10).await.unwrap();
    loader
        .move_reservation("demo", day(3), day(4), 1)
        .await
        .unwrap();
    assert_eq!(loader.ledger_day("demo", day(3)).await.unwrap().used, 1);
    assert_eq!(loader.ledger_day("demo", day(4)).await.unwrap().used, 1);
}

#[tokio::test]
async fn a_checkpoint_reads_back_exactly_and_defaults_when_absent() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::TimeEntry);
    assert_eq!(
        loader
            .checkpoint(&key, PassKind::Incremental)
            .await
            .unwrap(),
        Checkpoint::default()
    );
    let cp = Checkpoint {
        cursor: Cursor {
            next: u32::MAX,
            last_id: Some(RecordId(u64::MAX)),
            order: Order::Unordered,
        },
        in_progress: false,
        watermark: Some(at("2015-03-03T04:05:06Z")),
        pass_started_at: Some(at("2015-03-03T05:00:00Z")),
        completed_at: Some(at("2015-03-03T06:00:00Z")),
        passes: 12,
        seek: Some(Seek {
            lo: at("2015-03-01T00:00:00Z"),
            hi: at("2015-03-03T04:50:00.123Z"),
            tie: Some(Tie {
                at: at("2015-03-02T10:11:12Z"),
                from: 199,
                last_id: Some(RecordId(7)),
            }),
            leg: Leg::Responses,
            agent: Some(AgentPlace {
                agent: 42,
                from: 99,
                anchor: Some(RecordId(5)),
            }),
            within: Some(Within {
                at: at("2015-03-02T10:11:12Z"),
                lo: at("2015-01-01T00:00:00Z"),
                tie: None,
            }),
        }),
    };
    loader
        .save_checkpoint(&key, PassKind::Incremental, &cp)
        .await
        .unwrap();
    assert_eq!(
        loader
            .checkpoint(&key, PassKind::Incremental)
            .await
            .unwrap(),
        cp
    );
    assert_eq!(
        loader.checkpoint(&key, PassKind::Backfill).await.unwrap(),
        Checkpoint::default()
    );
}

#[tokio::test]
async fn a_run_counts_its_pages_records_and_requests_and_records_its_end() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Daemon, "demo").await.unwrap();
    let first = vec![
        request(1, "a", "2015-03-02 10:00:00"),
        request(2, "b", "2015-03-02 10:00:00"),
    ];
    let second = vec![request(2, "b", "2015-03-02 10:00:00")];
    loader
        .commit_page(&page(&key, run, &first, &[], &checkpoint_after(2, 2)))
        .await
        .unwrap();
    loader
        .commit_page(&page(&key, run, &second, &[], &checkpoint_after(2, 2)))
        .await
        .unwrap();
    loader.add_run_requests(run, 3).await.unwrap();
    loader.add_run_requests(run, 2).await.unwrap();
    loader
        .finish_run(run, RunOutcome::QuotaSpent, Some("4421"))
        .await
        .unwrap();
    let summary = loader.run(run).await.unwrap().expect("the run");
    assert_eq!(
        (summary.pages, summary.records, summary.requests),
        (2, 3, 5)
    );
    assert_eq!(summary.kind, RunKind::Daemon);
    assert_eq!(summary.outcome, Some(RunOutcome::QuotaSpent));
    assert_eq!(summary.error.as_deref(), Some("4421"));
    assert!(summary.ended_at >= Some(summary.started_at));
    assert!(matches!(
        loader.finish_run(run + 1, RunOutcome::Failed, None).await,
        Err(StoreError::UnknownRun(_))
    ));
}

#[tokio::test]
async fn status_reports_rows_checkpoints_and_the_last_run_per_stream() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records = vec![
        request(1, "a", "2015-03-02 10:00:00"),
        request(2, "b", "2015-03-02 10:00:00"),
    ];
    let cp = checkpoint_after(2, 2);
    loader
        .commit_page(&page(&key, run, &records, &[], &cp))
        .await
        .unwrap();
    loader
        .finish_run(run, RunOutcome::Completed, None)
        .await
        .unwrap();
    let other = stream(Module::Accounts);
    loader
        .save_checkpoint(&other, PassKind::Incremental, &Checkpoint::default())
        .await
        .unwrap();

    let status = loader.status().await.unwrap();
    assert_eq!(status.len(), 2);
    let requests = status.iter().find(|s| s.stream == key).expect("requests");
    assert_eq!(requests.rows, 2);
    assert_eq!(requests.backfill.as_ref(), Some(&cp));
    assert_eq!(requests.incremental, None);
    let last = requests.last_run.as_ref().expect("a last run");
    assert_eq!((last.id, last.pages, last.records), (run, 1, 2));
    assert_eq!(last.outcome, Some(RunOutcome::Completed));
    let accounts = status.iter().find(|s| s.stream == other).expect("accounts");
    assert_eq!((accounts.rows, accounts.last_run.is_none()), (0, true));
}

#[tokio::test]
async fn migrating_again_and_connecting_concurrently_are_harmless() {
    let db = TestDatabase::fresh().await;
    let url = Secret::new(db.url.clone());
    let (a, b) = tokio::join!(
        Loader::connect(&url, SCHEMA, 2),
        Loader::connect(&url, SCHEMA, 2)
    );
    let (a, _b) = (a.unwrap(), b.unwrap());
    a.migrate().await.unwrap();
    a.migrate().await.unwrap();
    assert_eq!(a.reserve("demo", day(3), 1, 5).await.unwrap(), Some(1));
}

#[tokio::test]
async fn a_schema_other_than_public_holds_every_table_and_schemas_are_independent() {
    let db = TestDatabase::fresh().await;
    let url = Secret::new(db.url.clone());
    let mirror = Loader::connect(&url, "Mirror Test", 2).await.unwrap();
    let other = Loader::connect(&url, "other", 2).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'Mirror Test' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for table in [
        "checkpoints",
        "dead_letters",
        "quota_ledger",
        "requests",
        "runs",
        "timeentry",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    let in_public: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(in_public, 0);
    mirror.reserve("demo", day(3), 1, 5).await.unwrap();
    assert_eq!(other.ledger_day("demo", day(3)).await.unwrap().used, 0);
    assert_eq!(mirror.schema(), "Mirror Test");
}

#[tokio::test]
async fn a_refused_connection_is_retryable_and_never_shows_the_password() {
    let url = Secret::new("postgres://app:s3cret-pw@127.0.0.1:1/nowhere");
    let error = Loader::connect(&url, SCHEMA, 1).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("s3cret-pw"), "{text}");
    }
}
