//! The daemon's adaptive schedule end to end: with no schedule of their own, modules are
//! polled as often as their learned change rates deserve. Changes made at the source
//! reach the mirror without a fire of the cron schedule (hourly in the emulator's clock,
//! which the test never moves), the rates the passes learn are kept in `stream_rates`,
//! the busier module gets the shorter interval, and `plan`, `status` and `/metrics` show
//! the schedule the daemon follows.

use std::time::Duration;

use chrono::{DateTime, Utc};

use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::prometheus::Exposition;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, wait_for, SyncSettings, SyncSetup,
};

const MODULES: [(Module, u64); 2] = [(Module::Requests, 300), (Module::Contacts, 300)];

/// `stream_rates`' changes per module, as the daemon learned them.
async fn learned(database: &TestDatabase) -> Vec<(String, f64)> {
    sqlx::query_as("SELECT module, changes FROM zoho.stream_rates ORDER BY module")
        .fetch_all(&database.pool)
        .await
        .expect("stream_rates")
}

/// Whether an incremental pass of `module` completed after `since`.
async fn passed_since(database: &TestDatabase, module: &str, since: DateTime<Utc>) -> bool {
    let completed: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT completed_at FROM zoho.checkpoints WHERE module = $1 AND kind = 'incremental'",
    )
    .bind(module)
    .fetch_optional(&database.pool)
    .await
    .expect("checkpoints")
    .flatten();
    completed.is_some_and(|at| at > since)
}

#[tokio::test]
async fn modules_are_polled_by_their_learned_change_rates_and_the_schedule_is_shown() {
    let emulator = emulator_with(&MODULES).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        daily_limit: 200_000,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    configure(
        &setup,
        &DaemonSettings {
            // Hourly in the emulator's clock, which stands still: only the backfills'
            // first round fires; every incremental pass is the adaptive schedule's.
            schedule: "0 0 * * * *",
            pace: false,
            polling: "adaptive",
            min_interval_secs: 1,
            ..DaemonSettings::default()
        },
    );
    setup.edit_config(|text| text.replace("[daemon]\n", "[daemon]\nmax_interval_secs = 3\n"));
    setup.run(&["backfill"]).await.assert_success();
    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;

    // Requests change between passes; contacts never do.
    wait_for(
        "both modules' rates learned, requests' from its changes",
        Duration::from_secs(60),
        || async {
            emulator
                .admin_post(
                    "churn",
                    serde_json::json!({ "module": "requests", "modifies": 5 }),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let rates = learned(&database).await;
            rates.len() == 2 && rates.iter().any(|(m, c)| m == "requests" && *c >= 20.0)
        },
    )
    .await;
    let churned = Utc::now();
    wait_for(
        "a pass of each module after the last change",
        Duration::from_secs(30),
        || async {
            passed_since(&database, "requests", churned).await
                && passed_since(&database, "contacts", churned).await
        },
    )
    .await;
    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;

    let (_, body) = daemon.get("/metrics").await.expect("/metrics answers");
    let metrics = Exposition::parse(&body).unwrap_or_else(|e| panic!("{e}\nin:\n{body}"));
    let of = |family: &str, module: &str| {
        metrics.value(family, &[("organisation", "demo"), ("module", module)])
    };
    let rate = |m| of("zoho_sync_change_rate_per_day", m);
    assert!(rate("requests") > rate("contacts"), "{body}");
    let passes = |m| of("zoho_sync_planned_passes_per_day", m);
    assert!(passes("requests") > passes("contacts"), "{body}");
    assert!(of("zoho_sync_lag_estimate_seconds", "requests") >= 0.0);
    assert!(of("zoho_sync_next_pass_due_timestamp_seconds", "contacts") > 1.0e9);

    let plan = setup.run(&["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("adaptive polling"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("EXPECTED STALENESS"),
        "{}",
        plan.stdout
    );
    let status = setup.run(&["status"]).await;
    status.assert_success();
    assert!(status.stdout.contains("NEXT PASS DUE"), "{}", status.stdout);
    let json = setup.run(&["status", "--json"]).await;
    json.assert_success();
    let report: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("JSON");
    let schedule = &report["schedule"][0];
    assert_eq!(schedule["organisation"], "demo", "{report}");
    let planned = |m: &str| {
        schedule["modules"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["module"] == m))
            .unwrap_or_else(|| panic!("{m} in {report}"))
            .clone()
    };
    let (requests, contacts) = (planned("requests"), planned("contacts"));
    assert!(
        requests["passes_per_day"].as_f64() > contacts["passes_per_day"].as_f64(),
        "{report}"
    );
    assert!(contacts["next_due_at"].is_string(), "{report}");
    daemon.stop(Duration::from_secs(15)).await;
}
