//! The change log as a warehouse reads it: every insert, update and delete the loader
//! applies is logged once, in the page's transaction, and nothing is logged for a record
//! read again unchanged. Consumers of `zoho-sync changes` that start from 0, or stop at a
//! mid-point and resume from the sequence number they were given, rebuild exactly the
//! live rows of the mirror, while records are created, modified and deleted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use zoho_sync::loader::{ChangeOp, Loader};
use zoho_sync::store::{DeleteMode, RunKind};
use zoho_sync::zoho::{Module, RecordId};

use crate::loader_fixtures::{checkpoint_after, loader, page, request, stream};
use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::sync::{self, emulator_with, slow_emulator_with, SyncSettings, SyncSetup};

/// A consumer's copy: (module, portal, department, record id) → fields.
type Copy = BTreeMap<(String, String, String, String), Value>;

/// One change of `zoho-sync changes`, whichever the format.
struct Line {
    key: (String, String, String, String),
    op: String,
    fields: Value,
}

/// Applies the changes of a `changes` output to `copy`; returns the `last_seq` it ended with.
fn apply(copy: &mut Copy, lines: Vec<Line>, last_seq: i64) -> i64 {
    for line in lines {
        match (line.op.as_str(), line.fields) {
            ("delete", _) => {
                copy.remove(&line.key);
            }
            // Gone from the mirror since: a later delete in the log removes it.
            (_, Value::Null) => {}
            (_, fields) => {
                copy.insert(line.key, fields);
            }
        }
    }
    last_seq
}

fn parse_ndjson(stdout: &str) -> (Vec<Line>, i64) {
    let mut values: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let last = values.pop().expect("a final line");
    let last_seq = last["last_seq"]
        .as_i64()
        .expect("the final line is last_seq");
    let lines = values
        .into_iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().expect(k).to_string();
            Line {
                key: (
                    text("module"),
                    text("portal"),
                    text("department"),
                    text("record_id"),
                ),
                op: text("op"),
                fields: v["fields"].clone(),
            }
        })
        .collect();
    (lines, last_seq)
}

/// Splits an RFC 4180 line (the tests' values hold no line breaks).
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

fn parse_csv(stdout: &str) -> (Vec<Line>, i64) {
    let mut rows = stdout.lines();
    assert_eq!(
        rows.next(),
        Some("seq,portal,department,module,record_id,op,modified_time,synced_at,run_id,fields")
    );
    let (mut lines, mut last_seq) = (Vec::new(), None);
    for row in rows {
        if let Some(seq) = row.strip_prefix("# last_seq=") {
            last_seq = Some(seq.parse().expect("a sequence number"));
            continue;
        }
        let c = csv_cells(row);
        assert_eq!(c.len(), 10, "{row}");
        let fields = if c[9].is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&c[9]).unwrap()
        };
        lines.push(Line {
            key: (c[3].clone(), c[1].clone(), c[2].clone(), c[4].clone()),
            op: c[5].clone(),
            fields,
        });
    }
    (lines, last_seq.expect("a trailer"))
}

/// Runs `changes` and applies it; returns the sequence number to resume from.
async fn consume(setup: &SyncSetup, copy: &mut Copy, since: i64, format: &str) -> i64 {
    let since_text = since.to_string();
    let out = setup
        .run(&["changes", "--since", &since_text, "--format", format])
        .await;
    out.assert_success();
    let (lines, last_seq) = match format {
        "csv" => parse_csv(&out.stdout),
        _ => parse_ndjson(&out.stdout),
    };
    assert!(last_seq >= since);
    apply(copy, lines, last_seq)
}

/// The live rows of the mirror, as a consumer's copy.
async fn live_mirror(database: &TestDatabase, modules: &[Module]) -> Copy {
    let mut copy = Copy::new();
    for module in modules {
        let sql = format!(
            "SELECT portal, department, id::text, fields FROM zoho.{} WHERE _deleted_at IS NULL",
            module.url_name()
        );
        let rows: Vec<(String, String, String, Value)> = sqlx::query_as(&sql)
            .fetch_all(&database.pool)
            .await
            .unwrap();
        for (portal, department, id, fields) in rows {
            copy.insert(
                (module.url_name().to_string(), portal, department, id),
                fields,
            );
        }
    }
    copy
}

fn churn(emulator: Arc<TestEmulator>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            for module in ["requests", "contacts"] {
                emulator
                    .admin_post(
                        "churn",
                        json!({ "module": module, "mode": "now",
                                "creates": 3, "modifies": 8, "deletes": 1 }),
                    )
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    })
}

/// Deletes a few mirrored requests the way sweeps and `api deleterecords` do, one marked
/// and one removed, so the log carries deletes whatever the syncs found.
async fn delete_some(loader: &Loader, skip: usize) {
    let key = stream(Module::Requests);
    let rows = loader.mirror_rows(&key).await.unwrap();
    let mut ids = rows.iter().skip(skip).step_by(97).map(|r| r.id);
    let now = chrono::Utc::now();
    for mode in [DeleteMode::Mark, DeleteMode::Remove] {
        if let Some(id) = ids.next() {
            loader.delete_records(&key, &[id], mode, now).await.unwrap();
        }
    }
}

#[tokio::test]
async fn consumers_from_zero_and_from_a_mid_point_rebuild_the_mirror_under_churn() {
    let modules = [Module::Requests, Module::Contacts];
    let records = [(Module::Requests, 1_500), (Module::Contacts, 600)];
    let emulator = Arc::new(slow_emulator_with(&records, 10).await);
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let loader = sync::loader(&database).await;
    let stop = Arc::new(AtomicBool::new(false));
    let churning = churn(Arc::clone(&emulator), Arc::clone(&stop));

    setup.run(&["backfill"]).await.assert_success();
    delete_some(&loader, 5).await;
    let mut resumed = Copy::new();
    let mid = consume(&setup, &mut resumed, 0, "csv").await;
    assert!(mid > 0);
    for _ in 0..2 {
        setup.run(&["sync"]).await.assert_success();
        delete_some(&loader, 11).await;
    }
    stop.store(true, Ordering::Relaxed);
    churning.await.unwrap();
    setup.run(&["sync"]).await.assert_success();

    let end = consume(&setup, &mut resumed, mid, "csv").await;
    let mut from_zero = Copy::new();
    let end_from_zero = consume(&setup, &mut from_zero, 0, "ndjson").await;
    assert_eq!(end, end_from_zero);
    assert!(end > mid);

    let mirror = live_mirror(&database, &modules).await;
    assert!(mirror.len() > 2_000, "{} live rows", mirror.len());
    assert!(
        from_zero == mirror,
        "the copy from 0 differs from the mirror"
    );
    assert!(
        resumed == mirror,
        "the resumed copy differs from the mirror"
    );
    let ops: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT op FROM zoho.change_log ORDER BY op")
            .fetch_all(&database.pool)
            .await
            .unwrap();
    assert_eq!(ops, ["delete", "insert", "update"]);

    // Nothing new: only the sequence number to resume from.
    let idle = setup
        .run(&[
            "changes",
            "--since",
            &end.to_string(),
            "--module",
            "contacts",
        ])
        .await;
    idle.assert_success();
    assert_eq!(idle.stdout.trim(), json!({ "last_seq": end }).to_string());
}

#[tokio::test]
async fn reading_unchanged_records_again_logs_nothing() {
    let emulator = emulator_with(&[(Module::Requests, 450)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM zoho.change_log WHERE op = 'insert'")
            .fetch_one(&database.pool)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 450);
    let served = sync::getrecords_served(&emulator).await;
    // Forget every checkpoint: the next backfill reads the whole module again.
    sqlx::query("DELETE FROM zoho.checkpoints")
        .execute(&database.pool)
        .await
        .unwrap();
    setup.run(&["backfill"]).await.assert_success();
    assert!(
        sync::getrecords_served(&emulator).await >= served + 3,
        "nothing was re-read"
    );
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM zoho.change_log")
        .fetch_one(&database.pool)
        .await
        .unwrap();
    assert_eq!(logged, 450);
}

#[tokio::test]
async fn each_applied_change_is_logged_once_with_its_operation_and_modified_time() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let cp = checkpoint_after(2, 2);
    let first = [
        request(1, "a", "2015-03-02 10:00:00"),
        request(2, "b", "2015-03-02 10:00:00"),
    ];
    let changed = [
        request(1, "a", "2015-03-02 10:00:00"),
        request(2, "c", "2015-03-02 11:00:00"),
    ];
    for records in [&first[..], &first[..], &changed[..]] {
        loader
            .commit_page(&page(&key, run, records, &[], &cp))
            .await
            .unwrap();
    }
    loader
        .delete_records(&key, &[RecordId(1)], DeleteMode::Mark, chrono::Utc::now())
        .await
        .unwrap();
    // Read again after its deletion: it is live again.
    loader
        .commit_page(&page(&key, run, &changed, &[], &cp))
        .await
        .unwrap();
    let upto = loader.last_change_seq().await.unwrap();
    let changes = loader.changes_between(0, upto, None, 100).await.unwrap();
    let summary: Vec<(u64, ChangeOp, Option<String>)> = changes
        .iter()
        .map(|c| {
            let subject = c
                .fields
                .as_ref()
                .map(|f| f["Subject"].as_str().unwrap().to_string());
            (c.record_id.0, c.op, subject)
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, ChangeOp::Insert, Some("a".into())),
            (2, ChangeOp::Insert, Some("c".into())),
            (2, ChangeOp::Update, Some("c".into())),
            (1, ChangeOp::Delete, None),
            (1, ChangeOp::Insert, Some("a".into())),
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        changes[2].modified_time,
        Some(crate::loader_fixtures::at("2015-03-02T11:00:00Z"))
    );
    assert!(changes.iter().all(|c| c.stream == key));
    assert_eq!(changes[0].run_id, Some(run));
    let batch = loader
        .changes_between(changes[1].seq, upto, None, 2)
        .await
        .unwrap();
    assert_eq!(
        batch.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [changes[2].seq, changes[3].seq]
    );
    assert!(loader
        .changes_between(0, upto, Some(Module::Contacts.url_name()), 100)
        .await
        .unwrap()
        .is_empty());
}
