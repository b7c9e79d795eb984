//! `zoho-sync api deleterecords` reflects a confirmed delete in the mirror at once, with
//! no sweep: the row is marked (or removed with `hard_delete`) and the delete logged. A
//! database it cannot reach only earns a warning: the record is deleted all the same.

use std::collections::BTreeSet;

use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, loader, mirror, SyncSettings, SyncSetup};
use crate::sweep_deletes::{logged_deletes, marked_deleted};

fn delete_args(id: u64, extra: &[&'static str]) -> Vec<String> {
    ["api", "deleterecords", "--module", "requests", "--id"]
        .iter()
        .map(|s| s.to_string())
        .chain([id.to_string()])
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
}

#[tokio::test]
async fn a_delete_through_the_api_marks_the_mirror_row_at_once() {
    let emulator = emulator_with(&[(Module::Requests, 300)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    let ids: Vec<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    let loader = loader(&database).await;

    let args = delete_args(ids[10], &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    setup.run(&args).await.assert_success();
    assert_eq!(
        marked_deleted(&loader, Module::Requests).await,
        BTreeSet::from([ids[10]])
    );
    assert_eq!(
        logged_deletes(&loader, Module::Requests).await,
        BTreeSet::from([ids[10]])
    );

    // With hard_delete the row goes; a raw answer is decoded to confirm the delete.
    setup.edit_config(|text| {
        text.replacen(
            "schema = \"zoho\"",
            "schema = \"zoho\"\nhard_delete = true",
            1,
        )
    });
    let args = delete_args(ids[20], &["--output", "raw"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    setup.run(&args).await.assert_success();
    let mirrored = mirror(&loader, Module::Requests).await;
    assert!(!mirrored.contains_key(&ids[20]));
    assert!(mirrored.contains_key(&ids[10]), "the marked row stays");
    assert_eq!(
        logged_deletes(&loader, Module::Requests).await,
        BTreeSet::from([ids[10], ids[20]])
    );
}

#[tokio::test]
async fn a_delete_through_the_api_succeeds_with_a_warning_when_the_database_is_down() {
    let emulator = emulator_with(&[(Module::Requests, 50)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    setup.edit_config(|text| {
        text.replacen(&database.url, "postgres://postgres@127.0.0.1:1/none", 1)
    });
    let id = *emulator
        .snapshot(Module::Requests)
        .await
        .keys()
        .next()
        .expect("a record");

    let args = delete_args(id, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = setup.run(&args).await;
    run.assert_success();
    assert!(
        run.stderr.contains("the mirror could not be updated"),
        "{}",
        run.stderr
    );
    assert!(!emulator.snapshot(Module::Requests).await.contains_key(&id));
}
