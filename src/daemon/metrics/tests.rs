//! The exposition as a scraper reads it, without a daemon or a database: the documented
//! names, help texts and types, escaping by the crate, and the lag in the server's clock.

use std::sync::atomic::Ordering;

use chrono::TimeDelta;

use super::*;
use crate::config::BUILT_IN;
use crate::zoho::module::Module;

/// The built-in configuration with its one organisation renamed.
fn telemetry_of(org: &str) -> Telemetry {
    let name = toml::Value::String(org.to_string());
    let text = BUILT_IN.replace("name = \"demo\"", &format!("name = {name}"));
    let config = Config::from_toml(&text, []).expect("the built-in configuration");
    Telemetry::new(&config)
}

fn render(telemetry: &Telemetry) -> String {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(telemetry.render())
}

#[test]
fn before_any_work_only_the_zeroes_of_each_organisation_are_reported() {
    let text = render(&telemetry_of("demo"));
    for line in [
        "# HELP zoho_sync_auth_failures_total Rounds stopped by a refused authtoken.",
        "# TYPE zoho_sync_auth_failures_total counter",
        "zoho_sync_auth_failures_total{organisation=\"demo\"} 0",
        "# TYPE zoho_sync_round_duration_seconds histogram",
        "zoho_sync_round_duration_seconds_count{organisation=\"demo\"} 0",
        "zoho_sync_pages_total{organisation=\"demo\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    for absent in [
        "zoho_sync_requests_total",
        "zoho_sync_quota_used",
        "zoho_sync_lag_seconds",
    ] {
        assert!(!text.contains(absent), "{absent} in:\n{text}");
    }
}

#[test]
fn the_exposition_keeps_the_documented_names_help_and_types() {
    let telemetry = telemetry_of("demo");
    let progress = telemetry.progress("demo");
    progress.count_outcome("getrecords", "ok");
    progress.count_outcome("getrecords", "ok");
    progress.count_outcome("getrecords", "no-data");
    progress.records.store(1500, Ordering::Relaxed);
    progress.pages.store(8, Ordering::Relaxed);
    progress.retries.store(1, Ordering::Relaxed);
    telemetry.auth_failed("demo");
    telemetry.round_finished("demo", Duration::from_millis(2500));
    telemetry.round_finished("demo", Duration::from_millis(500));
    telemetry.set_quota("demo", 9, 231);
    let text = render(&telemetry);
    let expected = [
        "# HELP zoho_sync_auth_failures_total Rounds stopped by a refused authtoken.",
        "# TYPE zoho_sync_auth_failures_total counter",
        "zoho_sync_auth_failures_total{organisation=\"demo\"} 1",
        "# HELP zoho_sync_round_duration_seconds Duration of the daemon's rounds.",
        "# TYPE zoho_sync_round_duration_seconds histogram",
        "zoho_sync_round_duration_seconds_bucket{organisation=\"demo\",le=\"1\"} 1",
        "zoho_sync_round_duration_seconds_bucket{organisation=\"demo\",le=\"5\"} 2",
        "zoho_sync_round_duration_seconds_bucket{organisation=\"demo\",le=\"+Inf\"} 2",
        "zoho_sync_round_duration_seconds_sum{organisation=\"demo\"} 3.0",
        "zoho_sync_round_duration_seconds_count{organisation=\"demo\"} 2",
        "# HELP zoho_sync_quota_used Requests the ledger counts today.",
        "# TYPE zoho_sync_quota_used gauge",
        "zoho_sync_quota_used{organisation=\"demo\"} 9",
        "# HELP zoho_sync_quota_left Requests left of today's budget.",
        "# TYPE zoho_sync_quota_left gauge",
        "zoho_sync_quota_left{organisation=\"demo\"} 231",
        "# HELP zoho_sync_requests_total API requests sent, by method and outcome.",
        "# TYPE zoho_sync_requests_total counter",
        "zoho_sync_requests_total{organisation=\"demo\",method=\"getrecords\",outcome=\"no-data\"} 1",
        "zoho_sync_requests_total{organisation=\"demo\",method=\"getrecords\",outcome=\"ok\"} 2",
        "# HELP zoho_sync_records_loaded_total Records committed to the mirror.",
        "# TYPE zoho_sync_records_loaded_total counter",
        "zoho_sync_records_loaded_total{organisation=\"demo\"} 1500",
        "# HELP zoho_sync_pages_total Pages committed.",
        "# TYPE zoho_sync_pages_total counter",
        "zoho_sync_pages_total{organisation=\"demo\"} 8",
        "# HELP zoho_sync_dead_letters_total Rows set aside as dead letters.",
        "# TYPE zoho_sync_dead_letters_total counter",
        "zoho_sync_dead_letters_total{organisation=\"demo\"} 0",
        "# HELP zoho_sync_retries_total Requests retried after a transient failure.",
        "# TYPE zoho_sync_retries_total counter",
        "zoho_sync_retries_total{organisation=\"demo\"} 1",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    for line in expected {
        let found = lines[at..].iter().position(|l| *l == line);
        let found = found.unwrap_or_else(|| panic!("no {line:?} in order in:\n{text}"));
        at += found + 1;
    }
}

#[test]
fn label_values_are_escaped_by_the_crate() {
    let telemetry = telemetry_of("say \"hi\" \\ there\nnow");
    let text = render(&telemetry);
    let sample = "zoho_sync_pages_total{organisation=\"say \\\"hi\\\" \\\\ there\\nnow\"} 0";
    assert!(text.lines().any(|l| l == sample), "{text}");
}

#[test]
fn the_lag_is_measured_in_the_server_clock_and_left_out_when_unread() {
    let telemetry = telemetry_of("demo");
    // The server's clock runs a day ahead of ours; its newest row is an hour old.
    let server_now = Utc::now() + TimeDelta::days(1);
    telemetry.set_server_clock("demo", server_now);
    let stream = StreamKey {
        portal: "demo".into(),
        department: "Support".into(),
        module: Module::Contacts.into(),
    };
    let newest = [(stream, server_now - TimeDelta::hours(1))];
    telemetry.fill_lag(Some(&newest));
    let mut encoded = String::new();
    prometheus_text::encode(&mut encoded, &telemetry.registry).unwrap();
    let prefix =
        "zoho_sync_lag_seconds{portal=\"demo\",department=\"Support\",module=\"contacts\"} ";
    let lag: f64 = encoded
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no lag in:\n{encoded}"))
        .parse()
        .unwrap();
    assert!((3600.0..3660.0).contains(&lag), "{lag}");

    telemetry.fill_lag(None);
    let mut encoded = String::new();
    prometheus_text::encode(&mut encoded, &telemetry.registry).unwrap();
    assert!(!encoded.contains("zoho_sync_lag_seconds"), "{encoded}");
}
