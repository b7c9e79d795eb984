//! zoho-sync mirrors a Zoho help desk into PostgreSQL inside the daily API quota. The
//! library holds every part; the `zoho-sync` binary only parses the command line and
//! maps outcomes to exit codes. The modules, in the order a record flows:
//!
//! - `zoho`: the legacy Zoho Support API's wire client: requests, answers decoded at the
//!   edge into checked types (records, bad rows, API errors), the auth token.
//! - `desk`: the Zoho Desk REST API's wire client: data centres, OAuth 2.0 with a token
//!   cache shared across processes (one refresh at a time), requests priced in credits
//!   before they are sent, answers decoded at the edge (whole JSON records, bad records
//!   set aside, rate headers) and errors classed by `errorCode`.
//! - `source`: the source seam: what the pipeline needs from an API (list a window of a
//!   module, what a request costs, how its days are counted). `source::support` is the
//!   legacy API behind it; `source::memory` serves the pipeline's tests.
//! - `fetcher`: one page from a source inside the budget: every request reserved in the
//!   store's ledger first, retried under the one retry policy, the server's clock read
//!   from its answers and not believed past a bound.
//! - `stream`: the words every layer speaks: a stream, the kinds of pass, the checkpoint,
//!   the paging cursor.
//! - `scheduler`: pure planning: which passes a round runs, what work costs, pacing.
//! - `pipeline`: the passes: pages fetched (and read ahead), judged by the cursor and
//!   committed in order with their checkpoints; rounds of an organisation under leases;
//!   sweeps that find deletions.
//! - `store`: the store seam: reservations, leases, page commits, checkpoints, runs.
//!   `store::memory` keeps its promises in memory for tests.
//! - `loader`: PostgreSQL, the production store, and all of its SQL: migrations, the
//!   mirror's bulk upserts, the change log, typed views, status queries.
//! - `feed`: the change log as NDJSON or CSV for a warehouse.
//! - `letters`: dead letters retried: their records read again by id inside the budget,
//!   under the streams' leases, and loaded, kept or retired.
//!
//! On top: `daemon` (the long-running service: rounds on schedules, pacing, health and
//! metrics over HTTP) and `cli` (the commands). Beside them: `config` (the checked
//! configuration), `quota` (Zoho's quota rules and an organisation's budget), `telemetry`
//! (logging, progress counters), `shutdown` (signals and the stop's grace) and `emulator`
//! (the emulator of the legacy API that ships with the product). Dependencies point down
//! this list: nothing below `cli` imports it, and nothing in the library exits the
//! process.

pub mod zoho;

pub mod desk;

pub mod source;

pub mod fetcher;

pub mod stream;

pub mod scheduler;

pub mod pipeline;

pub mod store;

pub mod loader;

pub mod feed;

pub mod letters;

pub mod daemon;

pub mod cli;

pub mod config;
pub mod emulator;
pub mod quota;
pub mod shutdown;
pub mod telemetry;
