//! The harness shared by the integration tests: a fresh database per test and an
//! in-process emulator per test, plus waiting on conditions instead of sleeping.

pub mod database;
