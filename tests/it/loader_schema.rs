//! The static mirror schema against the migrated tables and against what the emulator
//! serves: every column of `schema.rs` exists with its type (and no other), every label
//! the emulator sends has a column, and every value it sends parses for its column.

use zoho_sync::emulator::config::EmulatorConfig;
use zoho_sync::loader::schema::{
    mirror_tables, ColumnType, DELETED_AT_COLUMN, FIELDS_COLUMN, FIXED_COLUMNS, SWEPT_AT_COLUMN,
    SYNCED_AT_COLUMN,
};
use zoho_sync::store::RunKind;
use zoho_sync::stream::PassKind;
use zoho_sync::zoho::client::GetRecords;
use zoho_sync::zoho::codec::RowOutcome;
use zoho_sync::zoho::{Format, Record};

use crate::loader_fixtures::{checkpoint_after, loader, stream};
use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;

#[tokio::test]
async fn the_static_schema_matches_the_migrated_tables_column_for_column() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    for table in mirror_tables() {
        let mut expected: Vec<(String, String)> = FIXED_COLUMNS
            .iter()
            .map(|(name, ty)| (name.to_string(), ty.data_type().to_string()))
            .chain(
                table
                    .columns
                    .iter()
                    .map(|c| (c.name.to_string(), c.ty.data_type().to_string())),
            )
            .collect();
        expected.push((FIELDS_COLUMN.into(), "jsonb".into()));
        expected.push((
            SYNCED_AT_COLUMN.into(),
            ColumnType::TimestampTz.data_type().into(),
        ));
        // Added by the warehouse-feed migration.
        expected.push((
            DELETED_AT_COLUMN.into(),
            ColumnType::TimestampTz.data_type().into(),
        ));
        // Added by the sweeps migration.
        expected.push((
            SWEPT_AT_COLUMN.into(),
            ColumnType::TimestampTz.data_type().into(),
        ));
        let actual: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table.name)
        .fetch_all(loader.pool())
        .await
        .unwrap();
        assert_eq!(actual, expected, "table {}", table.name);
    }
}

#[tokio::test]
async fn every_label_the_emulator_serves_has_a_column_and_every_value_parses() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let mut config = EmulatorConfig::default().with_records(40);
    let zone = chrono_tz::Asia::Kolkata;
    for portal in &mut config.portals {
        portal.zone = zone;
    }
    let emulator = TestEmulator::start(config).await;
    let client = emulator.client(Format::Json);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    for table in mirror_tables() {
        let module = table.module;
        let request = GetRecords {
            from_index: Some(1),
            to_index: Some(40),
            ..GetRecords::default()
        };
        let rows = client.get_records(module, &request).await.unwrap();
        let records: Vec<Record> = rows
            .into_iter()
            .map(|row| match row {
                RowOutcome::Ok(record) => record,
                RowOutcome::Bad(bad) => panic!("{module}: bad row {bad:?}"),
            })
            .collect();
        assert_eq!(records.len(), 40, "{module}");
        for label in records
            .iter()
            .flat_map(|r| r.fields.iter().map(|f| &f.label))
        {
            let mapped = label.eq_ignore_ascii_case(module.id_field())
                || table
                    .columns
                    .iter()
                    .any(|c| c.label.eq_ignore_ascii_case(label));
            assert!(mapped, "{module}: no column for `{label}`");
        }
        let key = stream(module);
        let cp = checkpoint_after(40, 40);
        let commit = zoho_sync::store::PageCommit {
            stream: &key,
            kind: PassKind::Backfill,
            run_id: run,
            records: &records,
            objects: &[],
            bad_rows: &[],
            checkpoint: &cp,
            zone,
            synced_at: chrono::Utc::now(),
            lease: None,
            deletes: zoho_sync::store::DeleteMode::Mark,
            prepared: None,
        };
        assert_eq!(loader.commit_page(&commit).await.unwrap().inserted, 40);

        let mirrored = loader.mirror_rows(&key).await.unwrap();
        for (row, source) in mirrored.iter().zip(&records) {
            assert_eq!(Some(row.id), source.id, "{module}");
            let fields: Vec<(String, Option<String>)> = source
                .fields
                .iter()
                .map(|f| {
                    (
                        f.label.to_string(),
                        f.value.as_ref().map(ToString::to_string),
                    )
                })
                .collect();
            let mut fields_sorted = fields.clone();
            fields_sorted.sort();
            let stored: Vec<(String, Option<String>)> = row.fields.clone().into_iter().collect();
            assert_eq!(stored, fields_sorted, "{module} {}", row.id);
        }
        for column in table.columns {
            let sql = format!(
                "SELECT count(*) FROM {} WHERE {} IS NULL AND fields->>$1 IS NOT NULL",
                table.name, column.name
            );
            let lost: i64 = sqlx::query_scalar(&sql)
                .bind(column.label)
                .fetch_one(loader.pool())
                .await
                .unwrap();
            assert_eq!(lost, 0, "{module}: `{}` did not parse", column.label);
        }
    }
    let created: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT created_time FROM accounts ORDER BY id LIMIT 1")
            .fetch_one(loader.pool())
            .await
            .unwrap();
    let text: String =
        sqlx::query_scalar("SELECT fields->>'Created Time' FROM accounts ORDER BY id LIMIT 1")
            .fetch_one(loader.pool())
            .await
            .unwrap();
    let wire = created
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(
        wire, text,
        "created_time is the wire time read in the portal zone"
    );
}
