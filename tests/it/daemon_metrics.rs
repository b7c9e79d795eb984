//! The daemon's endpoint as a monitoring system sees it: `/healthz` and `/readyz` answer
//! 200 once it runs against a reachable database, and `/metrics` is valid Prometheus text
//! whose numbers agree with what the emulator counted: requests by method and outcome,
//! today's quota used, pages and records committed.

use std::time::Duration;

use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::emulator::TestEmulator;
use crate::support::prometheus::Exposition;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, getrecords_served, SyncSettings, SyncSetup,
};

const MODULES: [(Module, u64); 2] = [(Module::Requests, 1_000), (Module::Contacts, 500)];
const BUDGET: u32 = 500;
const ORG: (&str, &str) = ("organisation", "demo");
/// Records modified in each module between the two rounds.
const CHANGED: u32 = 5;

const FAMILIES: [(&str, &str); 10] = [
    ("zoho_sync_requests_total", "counter"),
    ("zoho_sync_records_loaded_total", "counter"),
    ("zoho_sync_pages_total", "counter"),
    ("zoho_sync_dead_letters_total", "counter"),
    ("zoho_sync_retries_total", "counter"),
    ("zoho_sync_auth_failures_total", "counter"),
    ("zoho_sync_round_duration_seconds", "histogram"),
    ("zoho_sync_quota_used", "gauge"),
    ("zoho_sync_quota_left", "gauge"),
    ("zoho_sync_lag_seconds", "gauge"),
];

async fn scrape(daemon: &Daemon) -> Exposition {
    let (status, body) = daemon.get("/metrics").await.expect("/metrics answers");
    assert_eq!(status, 200, "{body}");
    Exposition::parse(&body).unwrap_or_else(|e| panic!("{e}\nin:\n{body}"))
}

fn rounds(metrics: &Exposition) -> f64 {
    metrics.value("zoho_sync_round_duration_seconds_count", &[ORG])
}

/// Emulated hours go by until the daemon's hourly schedule has fired `n` rounds.
async fn run_rounds(emulator: &TestEmulator, daemon: &Daemon, n: f64) {
    for _ in 0..5 {
        emulator
            .admin_post("clock", serde_json::json!({ "advance_secs": 3600 }))
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
        while tokio::time::Instant::now() < deadline {
            if rounds(&scrape(daemon).await) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!(
        "the daemon ran fewer than {n} rounds; its log:\n{}",
        daemon.log()
    );
}

/// Scrapes until two scrapes in a row agree (no round between them), ignoring what is
/// read from the clock.
async fn settled(daemon: &Daemon) -> Exposition {
    let steady = |m: &Exposition| {
        m.samples
            .iter()
            .filter(|s| !s.name.starts_with("zoho_sync_lag_seconds"))
            .map(|s| (s.name.clone(), format!("{:?}", s.labels), s.value.to_bits()))
            .collect::<Vec<_>>()
    };
    let mut last = scrape(daemon).await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = scrape(daemon).await;
        if steady(&now) == steady(&last) {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn metrics_are_valid_prometheus_text_and_agree_with_the_emulator() {
    let emulator = emulator_with(&MODULES).await;
    emulator.set_clock("2027-06-01T17:30:00Z").await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        daily_limit: BUDGET,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    configure(
        &setup,
        &DaemonSettings {
            // Hourly in the emulator's clock: the test decides when rounds run, so the
            // numbers hold still while it reads them.
            schedule: "0 0 * * * *",
            pace: false,
            ..DaemonSettings::default()
        },
    );
    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;
    assert_eq!(
        daemon.get("/healthz").await.map(|(s, _)| s),
        Some(200),
        "/healthz"
    );
    // Backfills in the first round; records modified in the emulator's "now"; an
    // incremental pass of each stream in the second round.
    run_rounds(&emulator, &daemon, 1.0).await;
    emulator
        .admin_post("churn", serde_json::json!({ "modifies": CHANGED }))
        .await;
    run_rounds(&emulator, &daemon, 2.0).await;
    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;

    let metrics = settled(&daemon).await;
    for (family, kind) in FAMILIES {
        assert_eq!(metrics.kind(family), Some(kind), "{family}");
        assert!(
            metrics.families[family].help.is_some(),
            "{family} has no HELP"
        );
    }
    let counters = emulator.admin_get("counters").await;
    let served = |outcome: &str| {
        counters["requests"]["by_outcome"][outcome]
            .as_u64()
            .unwrap_or(0)
    };
    let getrecords = getrecords_served(&emulator).await as f64;
    assert_eq!(
        metrics.sum("zoho_sync_requests_total", &[ORG, ("method", "getrecords")]),
        getrecords
    );
    assert_eq!(
        metrics.sum("zoho_sync_requests_total", &[]),
        counters["requests"]["total"].as_u64().unwrap_or(0) as f64,
        "requests by any method"
    );
    for outcome in ["ok", "no-data"] {
        assert_eq!(
            metrics.sum("zoho_sync_requests_total", &[("outcome", outcome)]),
            served(outcome) as f64,
            "outcome {outcome}"
        );
    }
    let used = emulator.quota_used().await as f64;
    assert_eq!(metrics.value("zoho_sync_quota_used", &[ORG]), used);
    assert_eq!(
        metrics.value("zoho_sync_quota_left", &[ORG]),
        f64::from(BUDGET) - used
    );
    // Every page served was committed; every record once, and the changed ones again.
    assert_eq!(metrics.value("zoho_sync_pages_total", &[ORG]), getrecords);
    let records: u64 = MODULES.iter().map(|(_, n)| n).sum();
    let loaded = metrics.value("zoho_sync_records_loaded_total", &[ORG]);
    let reloaded = loaded - records as f64;
    assert!(
        (1.0..=f64::from(CHANGED) * 2.0).contains(&reloaded),
        "{loaded} records loaded"
    );
    for quiet in [
        "zoho_sync_dead_letters_total",
        "zoho_sync_retries_total",
        "zoho_sync_auth_failures_total",
    ] {
        assert_eq!(metrics.value(quiet, &[ORG]), 0.0, "{quiet}");
    }
    assert!(rounds(&metrics) >= 2.0);
    assert!(metrics.value("zoho_sync_round_duration_seconds_sum", &[ORG]) > 0.0);
    assert_eq!(
        metrics.value(
            "zoho_sync_round_duration_seconds_bucket",
            &[ORG, ("le", "+Inf")]
        ),
        rounds(&metrics),
        "every round falls in the last bucket"
    );
    for (module, _) in MODULES {
        let lag = metrics.value(
            "zoho_sync_lag_seconds",
            &[
                ("portal", "demo"),
                ("department", "Support"),
                ("module", module.url_name()),
            ],
        );
        // Measured in the emulator's clock, months ahead of ours: the newest rows were
        // modified an emulated hour before the last round.
        assert!((0.0..7_200.0).contains(&lag), "lag of {module}: {lag} s");
    }
    assert_eq!(daemon.get("/readyz").await.map(|(s, _)| s), Some(200));
    let status = daemon.stop(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}; log:\n{}", daemon.log());
}

/// The mirror tables, locked against every reader by the returned transaction.
async fn lock_the_mirror(database: &TestDatabase) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = database.pool.begin().await.expect("begin");
    let tables: Vec<String> = zoho_sync::loader::schema::mirror_tables()
        .map(|t| format!("zoho.{}", t.name))
        .collect();
    sqlx::query(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        tables.join(", ")
    ))
    .execute(&mut *tx)
    .await
    .expect("lock the mirror tables");
    tx
}

/// The lag the daemon should report for the requests stream now: the emulator's clock
/// less the newest Modified Time in the mirror.
async fn expected_lag(emulator: &TestEmulator, database: &TestDatabase) -> f64 {
    let clock = emulator.admin_get("clock").await;
    let now: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(clock["now"].clone()).expect("the emulator's clock");
    let newest: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT max(modified_time) FROM zoho.requests")
            .fetch_one(&database.pool)
            .await
            .expect("the newest modified time");
    (now - newest).num_milliseconds() as f64 / 1000.0
}

const REQUESTS: [(&str, &str); 3] = [
    ("portal", "demo"),
    ("department", "Support"),
    ("module", "requests"),
];

#[tokio::test]
async fn scrapes_never_touch_the_mirror_tables_and_the_lag_follows_the_pages() {
    let emulator = emulator_with(&[(Module::Requests, 500)]).await;
    emulator.set_clock("2027-06-01T17:30:00Z").await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let schedule = DaemonSettings {
        schedule: "0 0 * * * *",
        pace: false,
        ..DaemonSettings::default()
    };
    configure(&setup, &schedule);
    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;
    run_rounds(&emulator, &daemon, 1.0).await;
    let lag = settled(&daemon)
        .await
        .value("zoho_sync_lag_seconds", &REQUESTS);
    assert!((lag - expected_lag(&emulator, &database).await).abs() < 10.0);

    // A scrape that read a mirror table would wait behind these locks.
    let locks = lock_the_mirror(&database).await;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        let metrics = scrape(&daemon).await;
        assert!(metrics.value("zoho_sync_lag_seconds", &REQUESTS) > 0.0);
        assert_eq!(daemon.get("/readyz").await.map(|(s, _)| s), Some(200));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a scrape and a readiness check took {:?}",
            started.elapsed()
        );
    }
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(&database.pool)
    .await
    .expect("read pg_stat_activity");
    assert_eq!(waiting, 0, "a statement of a scrape waits on the mirror");
    locks.rollback().await.expect("release the mirror");

    // Newer rows committed by the next round move the figure with them.
    emulator
        .admin_post("churn", serde_json::json!({ "modifies": CHANGED }))
        .await;
    run_rounds(&emulator, &daemon, 2.0).await;
    let after = settled(&daemon)
        .await
        .value("zoho_sync_lag_seconds", &REQUESTS);
    let expected = expected_lag(&emulator, &database).await;
    assert!(
        (after - expected).abs() < 10.0,
        "lag {after} s, expected {expected} s"
    );
    assert!(
        after < 7_200.0,
        "the modified rows are an emulated hour old: {after} s"
    );
    let status = daemon.stop(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}; log:\n{}", daemon.log());
}
