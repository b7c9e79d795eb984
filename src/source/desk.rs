//! Zoho Desk as a source: one organisation's modules read by search over ranges of
//! modification time (`GET /{module}/search?modifiedTimeRange=lo,hi&sortBy=modifiedTime`,
//! contract §4.4), and its deletions by pages of the recycle bin, newest first (§5),
//! through the Desk wire client and its token source; one record by a GET of its id (a
//! dead letter retried), a record no longer visible being no row. Each request is
//! priced in credits before it is sent (D19); every answer says how many credits are
//! left today (D20), which the fetcher holds against the organisation's reserve. A record
//! that cannot be decoded is a bad row with its id when readable; failures keep their
//! meaning for the fetcher (transient: `TOO_MANY_REQUESTS`, 5xx; quota: `THRESHOLD_EXCEEDED`;
//! auth: the credentials, with what to do).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Failure, Listing, Outcome, Paging, Request, Row, Source, SourceError, Tombstone};
use crate::config::{ApiConfig, DeskConfig};
use crate::desk::bin::BinOutcome;
use crate::desk::module::{IncrementalRead, MAX_LIMIT};
use crate::desk::record::{BadRecord, DeskId};
use crate::desk::request::{offset_cost, SINGLE_COST};
use crate::desk::DeskModule;
use crate::desk::{
    Accounts, ClientCredentials, DeskClient, DeskError, DeskSettings, ErrorClass, Lookup,
    RecordOutcome, Reply, SearchQuery, TimeField, TimeRange, TokenCache, TokenSource,
};
use crate::quota::DayRule;
use crate::stream::seek::{Mark, SeekRequest, TimeOrder};
use crate::stream::Module;
use crate::zoho::client::server_clock;
use crate::zoho::codec::BadRow;
use crate::zoho::record::RecordId;
use crate::zoho::secret::Secret;

/// One Zoho Desk organisation.
#[derive(Debug)]
pub struct DeskSource {
    client: DeskClient,
    rule: DayRule,
    /// For the clock probe: a `HEAD` of the Desk host, outside the API (no credits).
    probe: reqwest::Client,
    desk_url: url::Url,
    connect_timeout: std::time::Duration,
}

impl DeskSource {
    /// The organisation's source, its tokens cached in `cache` (shared by every process
    /// on the database, so refreshes stay single-flight across them).
    pub fn new(
        desk: &DeskConfig,
        api: &ApiConfig,
        rule: DayRule,
        secrets: (Secret, Secret),
        cache: Arc<dyn TokenCache>,
    ) -> Result<DeskSource, SourceError> {
        let client =
            organisation_client(desk, api, secrets, cache).map_err(|e| permanent(e.to_string()))?;
        let probe = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| permanent(format!("cannot build the HTTP client: {}", e.without_url())))?;
        Ok(DeskSource {
            client,
            rule,
            probe,
            desk_url: desk.desk_url.clone(),
            connect_timeout: api.connect_timeout,
        })
    }
}

/// The Desk client of one organisation, as every command builds it: its self client's
/// secrets, its tokens cached in `cache` (the database's, so refreshes stay single-flight
/// across processes), and the `[api]` timeouts and body cap.
pub fn organisation_client(
    desk: &DeskConfig,
    api: &ApiConfig,
    secrets: (Secret, Secret),
    cache: Arc<dyn TokenCache>,
) -> Result<DeskClient, DeskError> {
    let (client_secret, refresh_token) = secrets;
    let accounts = Accounts::new(&desk.accounts_url, Some(desk.dc), api.timeout)?;
    let credentials = ClientCredentials {
        client_id: desk.client_id.clone(),
        client_secret,
    };
    let tokens = TokenSource::new(&desk.org_id, accounts, credentials, refresh_token, cache);
    let mut settings = DeskSettings::new(desk.desk_url.clone(), desk.org_id.clone());
    settings.timeout = api.timeout;
    settings.connect_timeout = api.connect_timeout;
    settings.max_body_bytes = api.max_body_bytes;
    DeskClient::new(settings, Arc::new(tokens))
}

/// The search of a walk's range: by the walk's instant, ascending, from its offset; inside
/// a tie group past the search cap, by creation time among the rows of its instant.
fn query(range: SeekRequest, order: TimeOrder) -> SearchQuery {
    let (walk, pinned) = walk_of(range, order);
    SearchQuery {
        range: TimeRange {
            field: field(walk),
            from: range.lo,
            to: range.hi,
        },
        pinned: pinned.map(|at| TimeRange {
            field: field(order),
            from: at,
            to: at,
        }),
        sort_by: field(walk),
        from: range.from,
        limit: range.limit,
    }
}

/// The order a request's rows come in (and are judged by), and the instant they share
/// when the request pages inside a tie group by creation time.
fn walk_of(range: SeekRequest, order: TimeOrder) -> (TimeOrder, Option<DateTime<Utc>>) {
    match range.within {
        Some(at) => (TimeOrder::Created, Some(at)),
        None => (order, None),
    }
}

fn field(order: TimeOrder) -> TimeField {
    match order {
        TimeOrder::Modified => TimeField::ModifiedTime,
        TimeOrder::Created => TimeField::CreatedTime,
        TimeOrder::Responded => TimeField::CustomerResponseTime,
    }
}

#[async_trait]
impl Source for DeskSource {
    fn paging(&self, module: Module) -> Paging {
        match module.desk().map(DeskModule::incremental) {
            // No time filter: the whole list, by offset windows, every pass (D15).
            Some(IncrementalRead::FullList) => Paging::Offset,
            Some(IncrementalRead::PerAgent) => Paging::PerAgent,
            _ => Paging::Seek,
        }
    }

    fn page_rows(&self, module: Module) -> u32 {
        module.desk().map_or(MAX_LIMIT, DeskModule::limit)
    }

    fn deletions_page_rows(&self) -> u32 {
        MAX_LIMIT
    }

    fn reads_responses(&self, module: Module) -> bool {
        module.desk() == Some(DeskModule::Tickets)
    }

    fn reads_archives(&self, module: Module) -> bool {
        module.desk() == Some(DeskModule::Tickets)
    }

    fn request_cost(&self, request: &Request) -> u32 {
        // Every read of the mirror is a list or a search, priced by its offset alone (D19).
        let from = match *request {
            Request::Seek { range, .. } | Request::AgentRows { range, .. } => range.from,
            Request::Window { window, .. } => window.from,
            Request::Deletions { from, .. }
            | Request::Agents { from, .. }
            | Request::Departments { from, .. }
            | Request::Archived { from, .. } => from,
            // A GET by id is priced alone, whatever the offset (D19).
            Request::ById { .. } => return SINGLE_COST,
        };
        offset_cost(from)
    }

    fn day_rule(&self) -> DayRule {
        self.rule
    }

    fn list_method(&self) -> &'static str {
        "search"
    }

    async fn list(&self, module: Module, request: &Request) -> Listing {
        let reply = match (module.desk(), *request) {
            (Some(module), Request::Seek { range, order }) => {
                let reply = self.client.search(module, query(range, order)).await;
                let (walk, _) = walk_of(range, order);
                let row = |record| row(record, walk);
                reply.map(|r| r.map(|page| page.records.into_iter().map(row).collect()))
            }
            // The whole list whatever the filter: this module has no time filter.
            (Some(module), Request::Window { window, .. }) => {
                let reply = self.client.list(module, window.from, window.len()).await;
                let row = |record| row(record, TimeOrder::Modified);
                reply.map(|r| r.map(|page| page.records.into_iter().map(row).collect()))
            }
            (_, Request::Agents { from, limit }) => {
                let reply = self.client.list(DeskModule::Agents, from, limit).await;
                let row = |record| row(record, TimeOrder::Modified);
                reply.map(|r| r.map(|page| page.records.into_iter().map(row).collect()))
            }
            (_, Request::Departments { from, limit }) => {
                let reply = self.client.list(DeskModule::Departments, from, limit).await;
                let row = |record| row(record, TimeOrder::Created);
                reply.map(|r| r.map(|page| page.records.into_iter().map(row).collect()))
            }
            (
                Some(DeskModule::Tickets),
                Request::Archived {
                    department,
                    from,
                    limit,
                },
            ) => {
                let Some(department) = DeskId::parse(&department.to_string()) else {
                    return Listing::unsupported(request);
                };
                let reply = self.client.archived_tickets(department, from, limit).await;
                let row = |record| row(record, TimeOrder::Created);
                reply.map(|r| r.map(|page| page.records.into_iter().map(row).collect()))
            }
            (Some(DeskModule::TimeEntries), Request::AgentRows { agent, range }) => {
                let Some(agent) = DeskId::parse(&agent.to_string()) else {
                    return Listing::unsupported(request);
                };
                let modified = TimeRange {
                    field: TimeField::ModifiedTime,
                    from: range.lo,
                    to: range.hi,
                };
                let reply = self
                    .client
                    .agent_time_entries(agent, Some(modified), range.from, range.limit)
                    .await;
                reply.map(|r| r.map(|page| page.records.into_iter().map(entry_row).collect()))
            }
            (Some(module), Request::ById { id }) => {
                let Some(id) = DeskId::parse(&id.0.to_string()) else {
                    return Listing::unsupported(request);
                };
                let reply = self.client.get(module, id).await;
                // Not visible (D18): trashed, purged or never ours; no row, as for an
                // empty page.
                reply.map(|r| {
                    r.map(|lookup| match lookup {
                        Lookup::Found(record) => vec![row(record, TimeOrder::Modified)],
                        Lookup::NotVisible => Vec::new(),
                    })
                })
            }
            _ => return Listing::unsupported(request),
        };
        listing(reply)
    }

    async fn deletions(&self, request: &Request) -> Listing {
        let Request::Deletions { from, limit } = *request else {
            return Listing::unsupported(request);
        };
        let reply = self.client.recycle_bin(from, limit).await;
        listing(reply.map(|r| r.map(|page| page.entries.into_iter().map(bin_row).collect())))
    }

    async fn server_clock(&self) -> Option<DateTime<Utc>> {
        // Outside `/api/v1`: the web server's `Date`, at no credit.
        server_clock(&self.probe, &self.desk_url, self.connect_timeout).await
    }
}

/// A record as the pipeline carries it, with the mark the walk judges it by.
fn row(record: RecordOutcome, order: TimeOrder) -> Row {
    match record {
        RecordOutcome::Ok(record) => Row {
            mark: Mark {
                at: match order {
                    TimeOrder::Modified => record.modified_time,
                    TimeOrder::Created => record.created_time,
                    TimeOrder::Responded => record.time("customerResponseTime"),
                },
                id: Some(RecordId(record.id.get().unsigned_abs())),
            },
            outcome: Outcome::Object(record),
        },
        RecordOutcome::Bad(bad) => bad_row(bad),
    }
}

/// A time entry, judged by its modification time, or its creation when the server gave
/// none (contract Q17).
fn entry_row(record: RecordOutcome) -> Row {
    let mut row = row(record, TimeOrder::Modified);
    if let (None, Outcome::Object(record)) = (row.mark.at, &row.outcome) {
        row.mark.at = record.created_time;
    }
    row
}

/// A row of the recycle bin, judged by its deletion time and id.
fn bin_row(entry: BinOutcome) -> Row {
    match entry {
        BinOutcome::Ok(entry) => Row {
            mark: Mark {
                at: Some(entry.deleted_time),
                id: Some(RecordId(entry.id.get().unsigned_abs())),
            },
            outcome: Outcome::Deleted(Tombstone {
                module: entry.module.map(Module::Desk),
                kind: entry.bin_type,
                id: entry.id.get(),
                deleted_at: entry.deleted_time,
            }),
        },
        BinOutcome::Bad(bad) => bad_row(bad),
    }
}

/// A row that could not be read, with its id when readable, for dead letters.
fn bad_row(bad: BadRecord) -> Row {
    let id = bad.id.map(|id| RecordId(id.get().unsigned_abs()));
    Row {
        mark: Mark { at: None, id },
        outcome: Outcome::Bad(BadRow {
            raw: bad.raw,
            error: bad.error,
            id,
        }),
    }
}

/// An answer as the fetcher takes it: the rows and what the server said of its clock and
/// credits, or the failure.
fn listing(reply: Result<Reply<Vec<Row>>, DeskError>) -> Listing {
    match reply {
        Ok(reply) => Listing {
            outcome: if reply.value.is_empty() {
                "no-data"
            } else {
                "ok"
            },
            rows: Ok(reply.value),
            server_time: reply.meta.server_time,
            credits_left: reply.meta.remaining,
        },
        Err(e) => Listing {
            outcome: class_name(e.class()),
            server_time: e.meta().and_then(|m| m.server_time),
            credits_left: e.meta().and_then(|m| m.remaining),
            rows: Err(refused(&e)),
        },
    }
}

/// What a Desk error means for the fetcher, in the client's words.
fn refused(e: &DeskError) -> SourceError {
    let failure = match e.class() {
        ErrorClass::Transient => Failure::Transient,
        ErrorClass::QuotaExhausted => Failure::QuotaExhausted,
        ErrorClass::Auth => Failure::Auth,
        _ => Failure::Permanent,
    };
    SourceError {
        failure,
        detail: e.to_string(),
    }
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Transient => "transient",
        ErrorClass::QuotaExhausted => "quota-exhausted",
        ErrorClass::Auth => "auth",
        ErrorClass::NotVisible => "not-visible",
        ErrorClass::Ambiguous => "ambiguous",
        ErrorClass::Permanent => "permanent",
    }
}

fn permanent(detail: String) -> SourceError {
    SourceError {
        failure: Failure::Permanent,
        detail,
    }
}
