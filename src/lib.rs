//! zoho-sync mirrors a Zoho Support organisation into PostgreSQL inside the daily API
//! quota. The library holds every part; the `zoho-sync` binary only parses the command
//! line and maps outcomes to exit codes.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod emulator;
pub mod fetcher;
pub mod loader;
pub mod pipeline;
pub mod quota;
pub mod scheduler;
pub mod shutdown;
pub mod source;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod zoho;
