//! Field labels of any length and number, from the hostile server: a 3,000-character
//! label and a module with 2,000 custom fields load like any other, the typed view holds
//! as many columns as PostgreSQL allows (1,600), and `status` says which fields have none.

use zoho_sync::loader::sql::quote_ident;
use zoho_sync::zoho::Module;

use crate::hostile_rows::assert_mirror_matches;
use crate::support::database::TestDatabase;
use crate::support::hostile::{plain_rows, HostileServer, Row, Value};
use crate::support::sync::{SyncSettings, SyncSetup};

/// Serves `rows`, backfills them into a fresh database and checks the mirror holds them;
/// the server keeps serving while the caller holds it.
async fn backfilled(rows: Vec<Row>) -> (HostileServer, TestDatabase, SyncSetup) {
    let server = HostileServer::start(Module::Requests, rows).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings::default();
    let setup = SyncSetup::for_server(&server.base_url, "hostile-token", &database, &settings);
    setup.run(&["backfill"]).await.assert_success();
    assert_mirror_matches(&server, &database).await;
    (server, database, setup)
}

/// Text that does not compress: PostgreSQL would otherwise shrink a long label below
/// its index's limit and hide the problem.
fn incompressible(len: usize) -> String {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect()
}

async fn view_columns(database: &TestDatabase) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = 'zoho' AND table_name = 'requests_view' ORDER BY ordinal_position",
    )
    .fetch_all(&database.pool)
    .await
    .expect("the view's columns")
}

#[tokio::test]
async fn a_label_of_3000_characters_loads_and_gets_a_view_column() {
    let label = format!("Note {}", incompressible(3_000));
    let mut rows = plain_rows(Module::Requests, 1, 250);
    for row in &mut rows {
        row.set(&label, Value::Text("long-labelled value".into()));
    }
    let (_server, database, setup) = backfilled(rows).await;
    let columns = view_columns(&database).await;
    let custom = columns
        .iter()
        .find(|c| c.starts_with("note_"))
        .unwrap_or_else(|| panic!("no column for the long label in {columns:?}"));
    assert!(custom.len() <= 63, "{custom}");
    let values: Vec<Option<String>> = sqlx::query_scalar(&format!(
        "SELECT {} FROM zoho.requests_view LIMIT 3",
        quote_ident(custom).unwrap()
    ))
    .fetch_all(&database.pool)
    .await
    .expect("the view reads");
    assert_eq!(values, vec![Some("long-labelled value".to_string()); 3]);
    // A second run over the same labels changes nothing and fails nothing.
    setup.run(&["sync"]).await.assert_success();
}

#[tokio::test]
async fn a_module_with_2000_custom_fields_loads_and_its_view_holds_what_postgresql_allows() {
    let mut rows = plain_rows(Module::Requests, 1, 12);
    for row in &mut rows {
        for i in 0..2_000 {
            row.set(&format!("Custom {i:04}"), Value::Text(format!("{i}")));
        }
    }
    let (_server, database, setup) = backfilled(rows).await;
    let columns = view_columns(&database).await;
    assert!(columns.len() <= 1_600, "{} columns", columns.len());
    assert!(
        columns.len() > 1_500,
        "the view holds as many columns as it can: {}",
        columns.len()
    );
    let status = setup.run(&["status"]).await;
    status.assert_success();
    assert!(
        status.stdout.contains("no view column"),
        "status says which fields stay in `fields` only:\n{}",
        status.stdout
    );
}
