//! The harness shared by the integration tests: a fresh database per test and an
//! in-process emulator per test, or a hostile server that misbehaves on purpose.

pub mod daemon;
pub mod database;
pub mod desk;
pub mod desk_sync;
pub mod emulator;
pub mod hostile;
pub mod private_pg;
pub mod prometheus;
pub mod sync;
