//! The source seam: what the pipeline needs from an API it mirrors. A source says how it
//! pages (`Paging`): by offset windows over the whole module or the rows modified after a
//! moment (the legacy Zoho Support API), or by seeking through ranges of modification
//! time (Zoho Desk's search, `stream::seek`). It answers one `Request` of its kind with
//! the page's rows and, for each, the `Mark` the pipeline judges the page by (id, and
//! modification time when the walk needs it); it says how many rows a request returns,
//! what a request costs against the daily budget and how that budget's days are counted,
//! and reads the server's clock at no cost. It never retries, reserves or sleeps: the
//! fetcher does that, the same way for every source. A source also reads one record by
//! its id (`Request::ById`), for the retry of dead letters. The legacy API is `support`;
//! `memory` serves rows from memory for the pipeline's tests.

pub mod desk;
pub mod memory;
pub mod support;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::desk::record::DeskRecord;
use crate::quota::DayRule;
use crate::stream::cursor::Window;
use crate::stream::seek::{Mark, SeekRequest, TimeOrder};
use crate::stream::Module;
use crate::zoho::codec::{BadRow, RowOutcome};
use crate::zoho::record::{Record, RecordId};

/// What a pass reads: the whole module or the rows modified after a moment, and every
/// field or only the ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub modified_after: Option<DateTime<Utc>>,
    /// Only the id field of each row (a sweep), instead of every field.
    pub ids_only: bool,
}

/// How a source pages through a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Offset windows (`stream::cursor`): the next window is known before a page is read.
    Offset,
    /// Ranges of modification time (`stream::seek`): each page says where the next starts.
    Seek,
    /// Per agent, within a range of modification time (`stream::agents`): the agents
    /// listed, then each one's rows by offset windows.
    PerAgent,
}

/// One page to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A window of positions (1-based) of the rows the filter selects.
    Window { window: Window, filter: Filter },
    /// The rows whose instant (`order`: modification or creation) lies in a range, in
    /// that order, from an offset.
    Seek {
        range: SeekRequest,
        order: TimeOrder,
    },
    /// A page of the organisation's deletions, newest first, from a 0-based offset
    /// (Zoho Desk's recycle bin: every module at once).
    Deletions { from: u32, limit: u32 },
    /// A page of the organisation's agents, from a 1-based position.
    Agents { from: u32, limit: u32 },
    /// A window of one agent's rows modified within a range (`range.from`: 0-based).
    AgentRows { agent: u64, range: SeekRequest },
    /// A page of the organisation's departments, from a 1-based position.
    Departments { from: u32, limit: u32 },
    /// A page of one department's archived rows, from a 1-based position.
    Archived {
        department: u64,
        from: u32,
        limit: u32,
    },
    /// One record by its id (a dead letter retried): its row, or no row when the source
    /// no longer has it (deleted, or never visible to us).
    ById { id: RecordId },
}

/// One request's answer.
#[derive(Debug)]
pub struct Listing {
    /// The page's rows in the order served (none past the end), each with the mark the
    /// pipeline judges it by; or why there are none.
    pub rows: Result<Vec<Row>, SourceError>,
    /// The server's clock when it answered, if it said.
    pub server_time: Option<DateTime<Utc>>,
    /// How the request ended, for the request counters (`ok`, `no-data`, an error class).
    pub outcome: &'static str,
    /// Budget units the server says are left today, for sources that say (Zoho Desk's
    /// credits, shared with the organisation's other integrations).
    pub credits_left: Option<u64>,
}

impl Listing {
    /// The answer to a request the source does not make: a bug of ours.
    pub fn unsupported(request: &Request) -> Listing {
        Listing {
            rows: Err(SourceError::unsupported(request)),
            server_time: None,
            outcome: "bad-request",
            credits_left: None,
        }
    }
}

/// One served row: what the store keeps, and what the walk judges the page by.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub outcome: Outcome,
    pub mark: Mark,
}

/// A served row as decoded: a legacy record (labels and text values), a Desk record (the
/// object as received), a deletion (a row of the recycle bin), or a row that could not be
/// decoded, kept raw for dead letters.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Record(Record),
    Object(DeskRecord),
    Deleted(Tombstone),
    Bad(BadRow),
}

/// A record deleted at the source: which module's (`None` for a kind the contract does
/// not name, such as attachments), its id and when it was deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    pub module: Option<Module>,
    /// The kind as the server named it, for the log when it is not a module.
    pub kind: String,
    pub id: i64,
    pub deleted_at: DateTime<Utc>,
}

impl Row {
    /// A legacy row, judged by its id alone (offset paging).
    pub fn by_id(outcome: RowOutcome) -> Row {
        let mark = Mark {
            at: None,
            id: outcome.id(),
        };
        let outcome = match outcome {
            RowOutcome::Ok(record) => Outcome::Record(record),
            RowOutcome::Bad(bad) => Outcome::Bad(bad),
        };
        Row { outcome, mark }
    }

    /// The legacy record with an id this row holds, if it does: what a page stores.
    pub fn record(&self) -> Option<&Record> {
        match &self.outcome {
            Outcome::Record(record) if record.id.is_some() => Some(record),
            _ => None,
        }
    }
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

    /// The answer of a source to a request of the other paging kind: a bug of ours.
    pub fn unsupported(request: &Request) -> SourceError {
        SourceError {
            failure: Failure::Permanent,
            detail: format!("this source cannot answer {request:?}"),
        }
    }
}

/// An API the pipeline can mirror.
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// How the source pages a module; it answers requests of that kind only.
    fn paging(&self, module: Module) -> Paging;

    /// Rows one request of a module returns at most: the page size.
    fn page_rows(&self, module: Module) -> u32;

    /// Rows one page of the organisation's deletions holds at most.
    fn deletions_page_rows(&self) -> u32 {
        100
    }

    /// Whether an incremental pass of the module walks its range a second time, by the
    /// customer's last response (`TimeOrder::Responded`): Zoho Desk tickets, whose replies
    /// may not move their modification time (contract §4.3, hazard 5).
    fn reads_responses(&self, _module: Module) -> bool {
        false
    }

    /// Whether the module keeps rows apart, in per-department archives that neither its
    /// list nor its search shows (Zoho Desk tickets, D25): a reconciliation reads them
    /// too, or it would take them for deleted.
    fn reads_archives(&self, _module: Module) -> bool {
        false
    }

    /// Budget units `request` costs.
    fn request_cost(&self, request: &Request) -> u32;

    /// How the daily budget's days are counted.
    fn day_rule(&self) -> DayRule;

    /// The name of the list request, for the request counters.
    fn list_method(&self) -> &'static str;

    /// One page of `module`'s rows.
    async fn list(&self, module: Module, request: &Request) -> Listing;

    /// One page of the organisation's deletions (`Request::Deletions`), for sources that
    /// list them; the others answer that they cannot.
    async fn deletions(&self, request: &Request) -> Listing {
        Listing::unsupported(request)
    }

    /// The server's clock, read at no cost to the budget; `None` if it cannot be read.
    async fn server_clock(&self) -> Option<DateTime<Utc>>;
}
