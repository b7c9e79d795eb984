//! Custom fields and the typed views: labels are recorded in `fields_seen` with the
//! narrowest type of their values, each custom field with values gets a typed view
//! column (fixed once added), a value that does not fit shows as NULL without failing
//! anything, and deleted rows are not in the views. End to end: a custom field added to
//! the emulator's portal in the middle of a backfill.

use std::time::Duration;

use serde_json::json;
use sqlx::Row;
use zoho_sync::loader::{view_name, FieldType, Loader};
use zoho_sync::store::RunKind;
use zoho_sync::zoho::{Format, Module, Record, RecordId};

use crate::loader_fixtures::{checkpoint_after, loader, page, record, stream};
use crate::support::database::TestDatabase;
use crate::support::emulator::{DEPARTMENT, PORTAL};
use crate::support::sync::{self, slow_emulator_with, wait_for, SyncSettings, SyncSetup};

/// A request with the given extra fields.
fn request_with(id: u64, extra: &[(&str, Option<&str>)]) -> Record {
    let id_text = id.to_string();
    let mut fields = vec![
        ("CASEID", Some(id_text.as_str())),
        ("Subject", Some("s")),
        ("Modified Time", Some("2015-03-02 10:00:00")),
    ];
    fields.extend_from_slice(extra);
    record(id, &fields)
}

async fn commit(loader: &Loader, records: &[Record]) {
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let cp = checkpoint_after(1, 1);
    loader
        .commit_page(&page(&key, run, records, &[], &cp))
        .await
        .unwrap();
}

/// The view's columns after the fixed and typed ones: name and type.
async fn custom_columns(loader: &Loader, module: Module) -> Vec<(String, String)> {
    let first_custom = 3
        + zoho_sync::loader::schema::mirror_table(module)
            .columns
            .len()
        + 1;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(view_name(module))
    .fetch_all(loader.pool())
    .await
    .unwrap();
    rows.into_iter().skip(first_custom).collect()
}

/// A row of the view: id, escalation_level, flag, ratio as text.
type ViewRow = (i64, Option<i64>, Option<bool>, Option<String>);

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn custom_fields_get_typed_view_columns_that_are_only_ever_appended() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    assert!(custom_columns(&loader, Module::Requests).await.is_empty());
    commit(
        &loader,
        &[
            request_with(
                1,
                &[
                    ("Escalation Level", Some("2")),
                    ("Go Live", Some("2020-01-31")),
                    ("Flag", None),
                    ("Status ", Some("x")),
                    ("Ratio", Some("1")),
                ],
            ),
            request_with(
                2,
                &[
                    ("Escalation Level", Some("-7")),
                    ("Go Live", None),
                    ("Flag", None),
                    ("Status ", None),
                    ("Ratio", Some("0.25")),
                ],
            ),
        ],
    )
    .await;
    let expected = [
        ("escalation_level", "bigint"),
        ("flag", "boolean"),
        ("go_live", "date"),
        ("ratio", "numeric"),
        ("status_2", "text"),
    ];
    // `Flag` has no value yet, so no type and no column.
    assert_eq!(
        custom_columns(&loader, Module::Requests).await,
        pairs(&[expected[0], expected[2], expected[3], expected[4]])
    );
    commit(
        &loader,
        &[request_with(
            3,
            &[("Flag", Some("TRUE")), ("Escalation Level", Some("lots"))],
        )],
    )
    .await;
    let columns = custom_columns(&loader, Module::Requests).await;
    assert_eq!(
        columns,
        pairs(&[
            expected[0],
            expected[2],
            expected[3],
            expected[4],
            expected[1]
        ]),
        "a new column is appended, an existing one keeps its type"
    );
    let rows: Vec<ViewRow> = sqlx::query_as(
        "SELECT id, escalation_level, flag, ratio::text FROM requests_view ORDER BY id",
    )
    .fetch_all(loader.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (1, Some(2), None, Some("1".into())),
            (2, Some(-7), None, Some("0.25".into())),
            (3, None, Some(true), None),
        ]
    );
    let seen = loader.fields_seen().await.unwrap();
    let level = seen.iter().find(|f| f.label == "Escalation Level").unwrap();
    assert_eq!(
        level.value_type,
        Some(FieldType::Text),
        "the values seen widen the type"
    );
    assert_eq!(
        level.column,
        Some(("escalation_level".into(), FieldType::BigInt))
    );
    let subject = seen.iter().find(|f| f.label == "Subject").unwrap();
    assert!(subject.standard && subject.column.is_none());
}

#[tokio::test]
async fn deleted_rows_are_not_in_the_view() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    commit(&loader, &[request_with(1, &[]), request_with(2, &[])]).await;
    loader
        .delete_records(
            &stream(Module::Requests),
            &[RecordId(2)],
            zoho_sync::store::DeleteMode::Mark,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM requests_view")
        .fetch_all(loader.pool())
        .await
        .unwrap();
    assert_eq!(ids, [1]);
}

#[tokio::test]
async fn the_views_guarded_casts_accept_exactly_the_values_whose_inferred_type_fits() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let values = [
        "true",
        "FALSE",
        "yes",
        "0",
        "42",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999",
        "+7",
        "3.25",
        "5.",
        ".5",
        ".",
        "-",
        "1e5",
        " 42",
        "2016-02-29",
        "2015-02-29",
        "02/29/2016",
        "13/01/2016",
        "0000-01-01",
        "9999-12-31",
        "2016-04-31",
        "1900-02-29",
        "2000-02-29",
        "2016-02-29 23:59:59",
        "02/29/2016 00:00:00",
        "2016-02-29 24:00:00",
        "2016-02-29 23:59:60",
        "2016-02-29T23:59:59",
        "2016-2-29",
        "",
        "text",
        "٣",
    ];
    let types = [
        FieldType::Boolean,
        FieldType::BigInt,
        FieldType::Numeric,
        FieldType::Date,
        FieldType::Timestamp,
    ];
    for value in values {
        for ty in types {
            let sql = format!("SELECT zoho_sync_{ty}($1)::text");
            let cast: Option<String> = sqlx::query_scalar(&sql)
                .bind(value)
                .fetch_one(loader.pool())
                .await
                .unwrap_or_else(|e| panic!("{ty}({value:?}) raised {e}"));
            let fits = FieldType::of(value).join(ty) == ty;
            assert_eq!(cast.is_some(), fits, "{ty}({value:?}) gave {cast:?}");
        }
    }
    let at: String = sqlx::query_scalar("SELECT zoho_sync_timestamp('02/29/2016 13:14:15')::text")
        .fetch_one(loader.pool())
        .await
        .unwrap();
    assert_eq!(at, "2016-02-29 13:14:15");
}

/// Rows of the mirror whose jsonb carries `label`, and how many of them the view shows
/// with a different value.
async fn carried_and_mismatched(database: &TestDatabase, label: &str, column: &str) -> (i64, i64) {
    let sql = format!(
        "SELECT count(*) FILTER (WHERE r.fields ? $1), \
         count(*) FILTER (WHERE (r.fields ->> $1) IS DISTINCT FROM v.{column}::text) \
         FROM zoho.requests r JOIN zoho.requests_view v USING (portal, department, id)"
    );
    let row = sqlx::query(&sql)
        .bind(label)
        .fetch_one(&database.pool)
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_custom_field_added_mid_backfill_reaches_the_jsonb_at_once_and_the_view_after_the_pass() {
    let emulator = slow_emulator_with(&[(Module::Requests, 1_000)], 40).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let mut backfill = setup.start(&["backfill"]);
    let loader = sync::loader(&database).await;
    wait_for("the first page", Duration::from_secs(30), || async {
        loader
            .mirror_count(&stream(Module::Requests))
            .await
            .unwrap_or(0)
            >= 200
    })
    .await;
    emulator
        .admin_post(
            "custom-fields",
            json!({ "portal": PORTAL, "department": DEPARTMENT, "module": "requests",
                    "field": { "label": "Escalation Level", "kind": "number" } }),
        )
        .await;
    let status = backfill.wait().await.expect("the backfill ends");
    assert!(status.success(), "the backfill failed");
    assert_eq!(
        custom_columns(&loader, Module::Requests).await,
        pairs(&[("escalation_level", "bigint")])
    );
    let (carried, mismatched) =
        carried_and_mismatched(&database, "Escalation Level", "escalation_level").await;
    assert!(
        carried > 0 && carried < 1_000,
        "{carried} rows carry the field"
    );
    assert_eq!(mismatched, 0, "the view shows every value of the jsonb");

    // A value of the wrong type is loaded, kept in the jsonb and NULL in the view.
    let id = *emulator
        .snapshot(Module::Requests)
        .await
        .keys()
        .next()
        .unwrap();
    emulator
        .client(Format::Json)
        .update_record(
            Module::Requests,
            RecordId(id),
            &[(
                "Escalation Level".to_string(),
                Some("very high".to_string()),
            )],
        )
        .await
        .expect("the update");
    setup.run(&["sync"]).await.assert_success();
    let (raw, typed): (Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT r.fields ->> 'Escalation Level', v.escalation_level \
         FROM zoho.requests r JOIN zoho.requests_view v USING (portal, department, id) \
         WHERE r.id = $1",
    )
    .bind(i64::try_from(id).unwrap())
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!((raw.as_deref(), typed), (Some("very high"), None));

    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let field = report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == "Escalation Level")
        .cloned()
        .unwrap();
    assert_eq!(field["type"], "text");
    assert_eq!(
        field["view_column"],
        json!({ "name": "escalation_level", "type": "bigint" })
    );
    assert!(field["first_seen_at"].is_string());
    let text = setup.run(&["status"]).await;
    assert!(text.stdout.contains("Escalation Level"), "{}", text.stdout);
}
