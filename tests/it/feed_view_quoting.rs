//! The typed views are built from labels the server chose, on a database whose defaults
//! we do not choose. With `standard_conforming_strings = off` a backslash escapes a quote
//! in an ordinary literal, so a label quoted by doubling its quotes alone could end its
//! literal and add SQL of its own to the view (here: a column reading `pg_authid`). Every
//! session of the loader is pinned to the standard setting, and the view's literals are
//! quoted by PostgreSQL, so such a label is just a label.

use sqlx::{Connection, PgConnection};
use zoho_sync::loader::sql::quote_ident;
use zoho_sync::loader::{view_name, Loader};
use zoho_sync::store::RunKind;
use zoho_sync::zoho::{Module, Record};

use crate::loader_fixtures::{checkpoint_after, loader, page, record, stream};
use crate::support::database::TestDatabase;

/// Ends its literal when backslashes escape quotes, reads the password hashes, and
/// comments out the rest of the view's query.
const INJECTING: &str = "\\' || (SELECT rolpassword FROM pg_authid LIMIT 1) AS \"x\" \
                         FROM requests WHERE _deleted_at IS NULL --";
/// Quotes, backslashes and a double quote, harmless but easy to get wrong.
const AWKWARD: &str = "C:\\temp\\'s \"notes\" \\";

fn request(id: u64, extra: &[(&str, &str)]) -> Record {
    let id_text = id.to_string();
    let mut fields = vec![
        ("CASEID", Some(id_text.as_str())),
        ("Subject", Some("s")),
        ("Modified Time", Some("2015-03-02 10:00:00")),
    ];
    fields.extend(extra.iter().map(|(label, value)| (*label, Some(*value))));
    record(id, &fields)
}

/// Sets a database default as an administrator would, before the loader connects.
async fn database_default(db: &TestDatabase, setting: &str) {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let name = quote_ident(&name).unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} SET {setting}"))
        .execute(&db.pool)
        .await
        .unwrap();
    let mut fresh = PgConnection::connect(&db.url).await.unwrap();
    let value: String = sqlx::query_scalar("SHOW standard_conforming_strings")
        .fetch_one(&mut fresh)
        .await
        .unwrap();
    assert_eq!(value, "off", "the database default applies to new sessions");
}

/// Commits one page of requests through the loader's normal path (`fields_seen`, then
/// the view refreshed for a new column).
async fn commit(loader: &Loader, records: &[Record]) {
    let key = stream(Module::Requests);
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let checkpoint = checkpoint_after(2, 2);
    loader
        .commit_page(&page(&key, run, records, &[], &checkpoint))
        .await
        .unwrap();
}

async fn column_of(loader: &Loader, label: &str) -> String {
    sqlx::query_scalar(
        "SELECT column_name FROM fields_seen WHERE module = 'requests' AND label = $1",
    )
    .bind(label)
    .fetch_one(loader.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_crafted_label_is_only_a_label_when_the_database_has_standard_conforming_strings_off() {
    let db = TestDatabase::fresh().await;
    database_default(&db, "standard_conforming_strings = off").await;
    let loader = loader(&db).await;
    let conforming: String = sqlx::query_scalar("SHOW standard_conforming_strings")
        .fetch_one(loader.pool())
        .await
        .unwrap();
    assert_eq!(conforming, "on", "the loader's sessions are pinned");
    let encoding: String = sqlx::query_scalar("SHOW client_encoding")
        .fetch_one(loader.pool())
        .await
        .unwrap();
    assert_eq!(encoding, "UTF8");

    // The crafted label alone first: nothing after it in the view's query to trip on.
    let first = [
        request(1, &[(INJECTING, "first")]),
        request(2, &[(INJECTING, "second")]),
    ];
    commit(&loader, &first).await;
    let view = view_name(Module::Requests);
    // PostgreSQL's own rendering of the view qualifies a column read from pg_authid; the
    // label, kept as a literal, says `rolpassword` alone.
    let definition: String = sqlx::query_scalar("SELECT pg_get_viewdef(to_regclass($1))")
        .bind(&view)
        .fetch_one(loader.pool())
        .await
        .unwrap();
    assert!(
        !definition.contains("pg_authid.rolpassword"),
        "the view reads pg_authid: {definition}"
    );

    let both = [
        request(1, &[(INJECTING, "first"), (AWKWARD, "a\\b'c")]),
        request(2, &[(INJECTING, "second"), (AWKWARD, "z")]),
    ];
    commit(&loader, &both).await;
    loader.refresh_views().await.unwrap();
    let injecting = column_of(&loader, INJECTING).await;
    let awkward = column_of(&loader, AWKWARD).await;
    let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, {}, {} FROM {view} ORDER BY id",
        quote_ident(&injecting).unwrap(),
        quote_ident(&awkward).unwrap()
    ))
    .fetch_all(loader.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (1, Some("first".into()), Some("a\\b'c".into())),
            (2, Some("second".into()), Some("z".into())),
        ]
    );
}
