//! The integration tests: one binary, real servers. The client is pointed at the
//! emulator (never a mock of our code) and tests that need PostgreSQL get a fresh
//! database of their own from `support`.

mod auth_token;
mod chaos;
mod client_errors;
mod client_methods;
mod codec_roundtrip;
mod daemon_days;
mod daemon_instances;
mod daemon_metrics;
mod daemon_stop;
mod demo_command;
mod emulator_api;
mod emulator_auth;
mod emulator_churn;
mod emulator_client;
mod emulator_faults;
mod emulator_quota;
mod feed_changes;
mod feed_fields;
mod feed_view_quoting;
mod harness;
mod hostile_clock;
mod hostile_labels;
mod hostile_rows;
mod loader_control;
mod loader_fixtures;
mod loader_leases;
mod loader_mirror;
mod loader_schema;
mod loader_sql_quoting;
mod quota_day;
mod support;
mod sweep_api_delete;
mod sweep_deletes;
mod sweep_resume;
mod sync_backfill;
mod sync_churn;
mod sync_concurrent;
mod sync_failures;
mod sync_kill;
mod sync_quota_days;
mod sync_report;
mod sync_restart;
mod sync_slow_statements;
mod sync_stop;
