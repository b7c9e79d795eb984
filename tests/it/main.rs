//! The integration tests: one binary, real servers. The client is pointed at the
//! emulator (never a mock of our code) and tests that need PostgreSQL get a fresh
//! database of their own from `support`.

mod auth_token;
mod client_errors;
mod client_methods;
mod codec_roundtrip;
mod emulator_api;
mod emulator_auth;
mod emulator_churn;
mod emulator_client;
mod emulator_faults;
mod emulator_quota;
mod harness;
mod loader_control;
mod loader_fixtures;
mod loader_leases;
mod loader_mirror;
mod loader_schema;
mod quota_day;
mod support;
mod sync_backfill;
mod sync_kill;
