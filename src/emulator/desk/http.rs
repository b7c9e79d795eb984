//! The HTTP face of the Desk API (`/api/v1/...`) and of its token endpoint
//! (`/oauth/v2/token`). For the API the order is fixed: the token (401), the path (404,
//! 405), the token's scopes (403), the `orgId` header (D7: 500, 403), a place in the organisation's gate (429
//! TOO_MANY_REQUESTS, D21), simulated latency, the fault dice, then on the blocking pool
//! the parameters (422), the credits (429 THRESHOLD_EXCEEDED) and the call itself. Every
//! answer for a known organisation carries the two rate headers (D20), errors weighing 0.
//! Every call gets one span and one log entry; neither holds a token.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::activity::DeskLogEntry;
use super::api::{Call, Op, Reply};
use super::errors::DeskError;
use super::faults::{self, DeskFault};
use super::oauth::{Granted, TokenError, TokenRequest};
use super::params::Query;
use super::route::Endpoint;
use super::scopes::Scopes;
use crate::emulator::state::{lock, Emulator};
use crate::zoho::secret::Secret;

const WEIGHT: HeaderName = HeaderName::from_static("x-rate-limit-request-weight-v3");
const REMAINING: HeaderName = HeaderName::from_static("x-rate-limit-remaining-v3");
const JSON: &str = "application/json;charset=UTF-8";
/// The gateway the token replies name; clients must not route by it (D1).
const API_DOMAIN: &str = "https://www.zohoapis.com";

/// How one call ended, for the headers and the log.
struct Served {
    status: StatusCode,
    body: Option<Vec<u8>>,
    weight: u32,
    remaining: Option<u32>,
    retry_after: Option<u64>,
    outcome: String,
}

impl Served {
    fn error(error: &DeskError, remaining: Option<u32>) -> Served {
        let retry_after = match error {
            DeskError::ThresholdExceeded { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        Served {
            status: error.status(),
            body: Some(error.body()),
            weight: 0,
            remaining,
            retry_after,
            outcome: error.code().to_string(),
        }
    }
}

/// Any method on `/api/v1/{*path}`.
pub async fn api(
    State(emulator): State<Arc<Emulator>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path()
        .strip_prefix("/api/v1/")
        .unwrap_or_default()
        .to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let endpoint = Endpoint::parse(&method, &path);
    let name = endpoint
        .as_ref()
        .map_or_else(|_| "unknown".to_string(), |e| e.name());
    let span = tracing::info_span!("desk", %method, endpoint = %name, org = tracing::field::Empty, status = tracing::field::Empty);
    async move {
        let now = emulator.clock.now();
        let org = caller(&emulator, &headers, now);
        let (served, spoiler, org_at) = match org {
            Err(error) => (Served::error(&error, None), None, None),
            Ok((at, scopes)) => {
                let endpoint = endpoint.and_then(|e| {
                    if scopes.allow(e) {
                        Ok(e)
                    } else {
                        Err(DeskError::ScopeMismatch)
                    }
                });
                let (served, spoiler) =
                    admitted(&emulator, at, endpoint, &headers, query.clone(), body).await;
                (served, spoiler, Some(at))
            }
        };
        let org_id = org_at
            .and_then(|at| emulator.desk.orgs.get(at))
            .map(|o| o.org_id().to_string());
        tracing::Span::current().record("org", org_id.as_deref().unwrap_or("-"));
        tracing::Span::current().record("status", served.status.as_u16());
        emulator.desk.activity.record(DeskLogEntry {
            seq: 0,
            at: now,
            method: method.to_string(),
            path: uri.path().to_string(),
            query,
            endpoint: name,
            org_id,
            status: served.status.as_u16(),
            outcome: spoiler.map_or_else(
                || served.outcome.clone(),
                |k| format!("fault-{}", k.as_str()),
            ),
            weight: served.weight,
        });
        respond(&emulator, served, spoiler).await
    }
    .instrument(span)
    .await
}

/// The organisation (index) of the call's access token, and the token's scopes.
fn caller(
    emulator: &Emulator,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(usize, Scopes), DeskError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(DeskError::Unauthorized)?;
    let text = value.to_str().map_err(|_| DeskError::InvalidOauth)?;
    let token = text
        .strip_prefix("Zoho-oauthtoken ")
        .or_else(|| text.strip_prefix("Bearer "))
        .ok_or(DeskError::InvalidOauth)?;
    lock(&emulator.desk.oauth)
        .caller(token.trim(), now)
        .ok_or(DeskError::InvalidOauth)
}

/// A call with a valid token: path, org id, gate, latency, faults, then the call.
async fn admitted(
    emulator: &Arc<Emulator>,
    at: usize,
    endpoint: Result<Endpoint, DeskError>,
    headers: &HeaderMap,
    query: String,
    body: Bytes,
) -> (Served, Option<DeskFault>) {
    let Some(org) = emulator.desk.orgs.get(at) else {
        return (Served::error(&DeskError::Internal, None), None);
    };
    let remaining = || Some(org.credits.remaining(emulator.clock.now()));
    let checked = endpoint.and_then(|e| org_header(org, e, headers).map(|()| e));
    let endpoint = match checked {
        Ok(endpoint) => endpoint,
        Err(error) => return (Served::error(&error, remaining()), None),
    };
    let Some(_pass) = org.gate.enter() else {
        return (
            Served::error(&DeskError::TooManyRequests, remaining()),
            None,
        );
    };
    let latency = *lock(&emulator.desk.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = lock(&emulator.desk.faults).roll();
    if let Some(kind) = fault.filter(|k| k.replaces_processing()) {
        let retry = org.credits.retry_after_secs(emulator.clock.now());
        let served = match kind.as_error(retry) {
            Some(error) => Served::error(&error, remaining()),
            // A gateway's page: its status for the log, its body made by `respond`.
            None => Served {
                status: faults::gateway_answer(kind).status(),
                body: None,
                weight: 0,
                remaining: None,
                retry_after: None,
                outcome: String::new(),
            },
        };
        return (served, Some(kind));
    }
    let worker = Arc::clone(emulator);
    let served =
        tokio::task::spawn_blocking(move || serve(&worker, at, endpoint, &query, &body)).await;
    let served = served.unwrap_or_else(|_| Served::error(&DeskError::Internal, remaining()));
    (served, fault)
}

/// D7: no header means the token's organisation; not digits, a 500; another org, a 403.
fn org_header(
    org: &super::org::DeskOrg,
    endpoint: Endpoint,
    headers: &HeaderMap,
) -> Result<(), DeskError> {
    if endpoint == Endpoint::Organizations {
        return Ok(());
    }
    let Some(value) = headers.get("orgid") else {
        return Ok(());
    };
    let text = value.to_str().map_err(|_| DeskError::Internal)?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DeskError::Internal);
    }
    if org.is(text) {
        Ok(())
    } else {
        Err(DeskError::OrgMismatch)
    }
}

/// Decodes, prices, reserves and runs one call (blocking: selection can scan a store).
fn serve(emulator: &Emulator, at: usize, endpoint: Endpoint, query: &str, body: &[u8]) -> Served {
    let desk = &emulator.desk;
    let Some(org) = desk.orgs.get(at) else {
        return Served::error(&DeskError::Internal, None);
    };
    let now = emulator.clock.now();
    org.catch_up(desk.seed, now);
    let query = Query::parse(Some(query));
    let call = Call {
        desk,
        org,
        endpoint,
        query: &query,
        body,
        now,
    };
    let op = match Op::decode(&call) {
        Ok(op) => op,
        Err(error) => return Served::error(&error, Some(org.credits.remaining(now))),
    };
    let cost = op.cost();
    let left = match org.credits.reserve(cost, now) {
        Ok(left) => left,
        Err(spent) => {
            let error = DeskError::ThresholdExceeded {
                retry_after_secs: spent.retry_after_secs,
            };
            return Served::error(&error, Some(org.credits.remaining(now)));
        }
    };
    match op.run(&call) {
        Ok(Reply { status, body }) => Served {
            outcome: if body.is_some() {
                "ok".into()
            } else {
                "no-content".into()
            },
            status,
            body,
            weight: cost,
            remaining: Some(left),
            retry_after: None,
        },
        Err(error) => {
            let left = org.credits.refund(cost, now);
            Served::error(&error, Some(left))
        }
    }
}

async fn respond(emulator: &Emulator, served: Served, fault: Option<DeskFault>) -> Response {
    if let Some(kind) = fault.filter(|k| k.replaces_processing() && k.as_error(0).is_none()) {
        return faults::gateway_answer(kind);
    }
    let mut response = match (fault, served.body) {
        (Some(DeskFault::Delay), body) => {
            let delay = lock(&emulator.desk.faults).delay();
            tokio::time::sleep(delay).await;
            plain(served.status, body)
        }
        (Some(kind), Some(body)) if !kind.replaces_processing() => {
            faults::spoil(kind, served.status, body)
        }
        (_, body) => plain(served.status, body),
    };
    let headers = response.headers_mut();
    if let Some(remaining) = served.remaining {
        headers.insert(WEIGHT, HeaderValue::from(served.weight));
        headers.insert(REMAINING, HeaderValue::from(remaining));
    }
    if let Some(secs) = served.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn plain(status: StatusCode, body: Option<Vec<u8>>) -> Response {
    let has_body = body.is_some();
    let mut response = Response::new(body.map_or_else(Body::empty, Body::from));
    *response.status_mut() = status;
    if has_body {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    }
    response
}

/// `POST /oauth/v2/token`: the refresh and authorization-code grants (D2-D5), parameters
/// from the form body or the query string; every answer is HTTP 200.
pub async fn token(
    State(emulator): State<Arc<Emulator>>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let request = token_request(uri.query(), &body);
    let now = emulator.clock.now();
    let outcome = lock(&emulator.desk.oauth).token(&request, now);
    let label = match &outcome {
        Ok(Granted {
            refresh_token: Some(_),
            ..
        }) => "exchanged",
        Ok(_) => "refreshed",
        Err(error) => error.as_str(),
    };
    emulator.desk.activity.token(label);
    tracing::info!(result = label, "desk token requested");
    let mut response = Response::new(Body::from(token_body(&outcome)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

fn token_request(query: Option<&str>, body: &[u8]) -> TokenRequest {
    let mut request = TokenRequest::default();
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .chain(url::form_urlencoded::parse(body));
    for (name, value) in pairs {
        let value = value.into_owned();
        match name.as_ref() {
            "grant_type" => request.grant_type = Some(value),
            "client_id" => request.client_id = Some(value),
            "client_secret" => request.client_secret = Some(Secret::new(value)),
            "refresh_token" => request.refresh_token = Some(Secret::new(value)),
            "code" => request.code = Some(Secret::new(value)),
            _ => {}
        }
    }
    request
}

/// The reply's exact text, keys in the contract's order (D3, D4).
pub fn token_body(outcome: &Result<Granted, TokenError>) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    match outcome {
        Ok(granted) => {
            let refresh = granted
                .refresh_token
                .as_ref()
                .map(|t| format!(r#""refresh_token":{},"#, quote(t.expose())))
                .unwrap_or_default();
            format!(
                r#"{{"access_token":{},{refresh}"api_domain":"{API_DOMAIN}","token_type":"Bearer","expires_in":{}}}"#,
                quote(granted.access_token.expose()),
                super::oauth::ACCESS_LIFETIME_SECS
            )
        }
        Err(TokenError::Throttled) => r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#.to_string(),
        Err(error) => format!(r#"{{"error":"{}"}}"#, error.as_str()),
    }
}
