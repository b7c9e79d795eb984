//! The harness shared by the integration tests: a fresh database per test and an
//! in-process emulator per test.

pub mod daemon;
pub mod database;
pub mod emulator;
pub mod private_pg;
pub mod prometheus;
pub mod sync;
