//! `status` and `plan` after a backfill the budget stopped part-way: `status --json`
//! shows the rows, where the backfill stands and the day's quota; `plan` has a line for
//! every configured stream. Neither sends a request.

use serde_json::Value;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, getrecords_served, SyncSettings, SyncSetup};

const BUDGET: u32 = 5;

#[tokio::test]
async fn status_and_plan_describe_a_backfill_stopped_by_the_budget() {
    let emulator = emulator_with(&[(Module::Requests, 3_000), (Module::Contacts, 500)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        daily_limit: BUDGET,
        concurrency: 1,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    let run = setup.run(&["backfill"]).await;
    run.assert_success();
    assert!(run.stdout.contains("budget is spent"), "{}", run.stdout);
    let served = getrecords_served(&emulator).await;
    assert_eq!(served, u64::from(BUDGET));

    let status = setup.run(&["status", "--json"]).await;
    status.assert_success();
    let report: Value = serde_json::from_str(status.stdout.trim())
        .unwrap_or_else(|e| panic!("status --json is not JSON ({e}):\n{}", status.stdout));
    let streams = report["streams"].as_array().expect("streams");
    let rows: i64 = streams.iter().filter_map(|s| s["rows"].as_i64()).sum();
    // The first page brings 200 rows, each later one 199 new ones.
    assert_eq!(rows, 200 + 199 * (i64::from(BUDGET) - 1), "{report}");
    let in_progress: Vec<&Value> = streams
        .iter()
        .filter(|s| {
            s["backfill"]
                .as_str()
                .is_some_and(|b| b.starts_with("at row"))
        })
        .collect();
    assert_eq!(in_progress.len(), 1, "{report}");
    let at_row = format!(
        "at row {}",
        in_progress[0]["rows"].as_i64().unwrap_or(0) + 1
    );
    assert_eq!(in_progress[0]["backfill"], at_row.as_str(), "{report}");
    let quota = &report["quota"][0];
    assert_eq!(quota["organisation"], "demo");
    assert_eq!(quota["used_today"], BUDGET, "{report}");
    assert_eq!(quota["left_today"], 0, "{report}");
    assert!(quota["resets_at"].is_string(), "{report}");

    let plan = setup.run(&["plan"]).await;
    plan.assert_success();
    for module in ["requests", "contacts"] {
        let name = format!("demo/Support/{module}");
        let lines = plan.stdout.lines().filter(|l| l.contains(&name)).count();
        assert_eq!(lines, 1, "{name} in:\n{}", plan.stdout);
    }
    assert_eq!(getrecords_served(&emulator).await, served);
}
