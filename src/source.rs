//! The source seam: what the pipeline needs from an API it mirrors. A source lists one
//! window of a module's rows (every row, or the rows modified after a moment; every
//! field, or only the ids a sweep needs), says how many rows a request returns, what one
//! request costs against the daily budget and how that budget's days are counted, and
//! reads the server's clock at no cost. It never retries, reserves or sleeps: the fetcher
//! does that, the same way for every source. The legacy Zoho Support API is `support`;
//! `memory` serves rows from memory for the pipeline's tests.

pub mod memory;
pub mod support;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::quota::DayRule;
use crate::stream::cursor::Window;
use crate::zoho::codec::RowOutcome;
use crate::zoho::module::Module;

/// What a pass reads: the whole module or the rows modified after a moment, and every
/// field or only the ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub modified_after: Option<DateTime<Utc>>,
    /// Only the id field of each row (a sweep), instead of every field.
    pub ids_only: bool,
}

/// One request's answer.
#[derive(Debug)]
pub struct Listing {
    /// The window's rows in the order served (none past the end), or why there are none.
    pub rows: Result<Vec<RowOutcome>, SourceError>,
    /// The server's clock when it answered, if it said.
    pub server_time: Option<DateTime<Utc>>,
    /// How the request ended, for the request counters (`ok`, `no-data`, an error class).
    pub outcome: &'static str,
}

/// What a failed request means for the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try: the network, a gateway or the server hiccuped.
    Transient,
    /// The server says the day's quota is spent.
    QuotaExhausted,
    /// The credentials were refused: nothing works until they are replaced.
    Auth,
    /// Anything a retry will not mend.
    Permanent,
}

/// A failed request: what it means, and what went wrong in words for the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SourceError {
    pub failure: Failure,
    pub detail: String,
}

impl SourceError {
    pub fn is_retryable(&self) -> bool {
        self.failure == Failure::Transient
    }
}

/// An API the pipeline can mirror.
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// Rows one list request returns at most: the cursor's page size.
    fn page_rows(&self) -> u32;

    /// Budget units one list request costs.
    fn request_cost(&self) -> u32;

    /// How the daily budget's days are counted.
    fn day_rule(&self) -> DayRule;

    /// The name of the list request, for the request counters.
    fn list_method(&self) -> &'static str;

    /// One window (1-based positions) of `module`'s rows.
    async fn list(&self, module: Module, window: Window, filter: Filter) -> Listing;

    /// The server's clock, read at no cost to the budget; `None` if it cannot be read.
    async fn server_clock(&self) -> Option<DateTime<Utc>>;
}
