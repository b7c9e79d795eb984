//! The legacy Zoho Support API as a source: `getrecords` of one window through the wire
//! client, in the portal's format and data time zone, or `getrecordsbyid` of one record.
//! A window past the end, or an id the portal no longer has (the "no data" answer), is an
//! empty page; every other failure keeps its class's meaning for
//! the fetcher (transient, quota, auth, permanent), and a refused token says how to get
//! a new one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Failure, Filter, Listing, Paging, Request, Row, Source, SourceError};
use crate::quota::DayRule;
use crate::stream::cursor::Window;
use crate::stream::Module as StreamModule;
use crate::zoho::client::{params, Client, GetRecords, SelectFields, MAX_WINDOW};
use crate::zoho::codec::Answer;
use crate::zoho::error::ErrorClass;
use crate::zoho::module::{Method, Module};
use crate::zoho::ZohoError;

/// One portal and department of the legacy API.
#[derive(Debug)]
pub struct SupportSource {
    client: Client,
    /// The portal's data time zone, in which `lastmodifiedtime` is written.
    zone: Tz,
    rule: DayRule,
}

impl SupportSource {
    pub fn new(client: Client, zone: Tz, rule: DayRule) -> SupportSource {
        SupportSource { client, zone, rule }
    }

    fn request(&self, module: Module, window: Window, filter: Filter) -> GetRecords {
        GetRecords {
            from_index: Some(window.from),
            to_index: Some(window.to),
            select: if filter.ids_only {
                SelectFields::Labels(vec![module.id_field().to_string()])
            } else {
                SelectFields::All
            },
            last_modified_time: filter
                .modified_after
                .map(|t| t.with_timezone(&self.zone).naive_local()),
            ..GetRecords::default()
        }
    }
}

#[async_trait]
impl Source for SupportSource {
    fn paging(&self, _module: StreamModule) -> Paging {
        Paging::Offset
    }

    fn page_rows(&self, _module: StreamModule) -> u32 {
        MAX_WINDOW
    }

    fn request_cost(&self, _request: &Request) -> u32 {
        1
    }

    fn day_rule(&self) -> DayRule {
        self.rule
    }

    fn list_method(&self) -> &'static str {
        Method::GetRecords.wire_name()
    }

    async fn list(&self, module: StreamModule, request: &Request) -> Listing {
        let Some(module) = module.support() else {
            return Listing::unsupported(request);
        };
        let (method, params) = match *request {
            Request::Window { window, filter } => (
                Method::GetRecords,
                self.request(module, window, filter).params(module),
            ),
            Request::ById { id } => (
                Method::GetRecordsById,
                params::by_id(module, id, &SelectFields::All),
            ),
            _ => return Listing::unsupported(request),
        };
        let params = match params {
            Ok(params) => params,
            Err(e) => {
                return Listing {
                    rows: Err(refused(e)),
                    server_time: None,
                    outcome: "bad-request",
                    credits_left: None,
                }
            }
        };
        let exchange = self.client.exchange(method, module, &params).await;
        let (rows, outcome) = match exchange.outcome {
            Ok(Answer::Records(rows)) => (Ok(rows.into_iter().map(Row::by_id).collect()), "ok"),
            Ok(_) => (
                Err(SourceError {
                    failure: Failure::Permanent,
                    detail: format!("{method} answered with a write acknowledgement"),
                }),
                ErrorClass::Server.as_str(),
            ),
            Err(e) if e.class() == ErrorClass::NoData => (Ok(Vec::new()), e.class().as_str()),
            Err(e) => {
                let class = e.class().as_str();
                (Err(refused(e)), class)
            }
        };
        Listing {
            rows,
            server_time: exchange.server_time,
            outcome,
            credits_left: None,
        }
    }

    async fn server_clock(&self) -> Option<DateTime<Utc>> {
        self.client.server_clock().await
    }
}

/// What a legacy error means for the fetcher, in words an operator can act on.
fn refused(e: ZohoError) -> SourceError {
    let failure = match e.class() {
        ErrorClass::Transient => Failure::Transient,
        ErrorClass::QuotaExhausted => Failure::QuotaExhausted,
        ErrorClass::Auth => Failure::Auth,
        _ => Failure::Permanent,
    };
    let detail = match failure {
        Failure::Auth => format!(
            "the authtoken was refused ({e}); generate a new one with `zoho-sync auth token`"
        ),
        _ => e.to_string(),
    };
    SourceError { failure, detail }
}
