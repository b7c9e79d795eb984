//! `zoho-sync demo`, the first thing a newcomer runs: on a fresh database it serves its
//! own emulator, spends the small daily quota, moves the emulator's clock to the next
//! Pacific day when it runs out, and finishes with a complete mirror and exit code 0.

use std::process::Stdio;

use zoho_sync::emulator::config::DEFAULT_RECORDS;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{loader, stream, Outcome};

#[tokio::test]
async fn the_demo_runs_out_of_quota_goes_on_the_next_day_and_completes() {
    let database = TestDatabase::fresh().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zoho-sync"))
        .arg("demo")
        .env("DATABASE_URL", &database.url)
        .env_remove("ZOHO_AUTHTOKEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run the demo");
    let run = Outcome::from(output);
    run.assert_success();
    let out = &run.stdout;
    assert!(out.contains("The quota ran out"), "{out}");
    assert!(out.contains("== day 2"), "{out}");
    assert!(out.contains("demo: complete"), "{out}");
    // The last day's summary is the completion, after every quota stop.
    let complete = out.rfind("demo: complete").unwrap_or(0);
    let last_stop = out.rfind("The quota ran out").unwrap_or(0);
    assert!(last_stop < complete, "{out}");
    // The demo portal's whole mirror is in the database it was given.
    let mirrored = loader(&database)
        .await
        .mirror_count(&stream(Module::Requests))
        .await
        .expect("the requests mirror");
    assert_eq!(
        mirrored, DEFAULT_RECORDS as i64,
        "rows mirrored in {}",
        database.url
    );
}
