//! Injected failures of the Desk API, for testing a client's resilience; scheduled and
//! rolled by the shared `FaultPlan` (the next N calls, or odds per call). Faults that
//! stand in for the server (HTTP 5xx, an HTML page, the two 429s) run nothing and cost
//! nothing, as any error costs nothing (D19); the others spoil the answer of a call that
//! ran and was charged, the way a lost or mangled answer does in real life.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::errors::DeskError;
use crate::emulator::faults::FaultKind;
use crate::zoho::module::Format;

/// One kind of injected Desk failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeskFault {
    /// 500 with the contract's INTERNAL_SERVER_ERROR body.
    Http500,
    Http502,
    Http503,
    /// The answer held back past the client's timeout.
    Delay,
    /// The valid answer cut in half.
    Truncated,
    /// The answer with its JSON syntax broken.
    Malformed,
    /// An HTML page with HTTP 200.
    Html,
    /// The valid answer as `application/octet-stream`.
    WrongContentType,
    /// The connection closed without an answer.
    Reset,
    /// A 429 TOO_MANY_REQUESTS whatever the concurrency.
    TooManyRequests,
    /// A 429 THRESHOLD_EXCEEDED whatever the credits, with `Retry-After` to the reset.
    ThresholdExceeded,
}

impl DeskFault {
    pub fn as_str(self) -> &'static str {
        match self {
            DeskFault::Http500 => "http500",
            DeskFault::Http502 => "http502",
            DeskFault::Http503 => "http503",
            DeskFault::Delay => "delay",
            DeskFault::Truncated => "truncated",
            DeskFault::Malformed => "malformed",
            DeskFault::Html => "html",
            DeskFault::WrongContentType => "wrong-content-type",
            DeskFault::Reset => "reset",
            DeskFault::TooManyRequests => "too-many-requests",
            DeskFault::ThresholdExceeded => "threshold-exceeded",
        }
    }

    /// Whether the fault answers instead of the server, so nothing runs.
    pub fn replaces_processing(self) -> bool {
        matches!(
            self,
            DeskFault::Http500
                | DeskFault::Http502
                | DeskFault::Http503
                | DeskFault::Html
                | DeskFault::TooManyRequests
                | DeskFault::ThresholdExceeded
        )
    }

    /// The legacy kind that spoils an answer the same way, for the spoilers.
    fn spoiler(self) -> Option<FaultKind> {
        match self {
            DeskFault::Truncated => Some(FaultKind::Truncated),
            DeskFault::Malformed => Some(FaultKind::Malformed),
            DeskFault::WrongContentType => Some(FaultKind::WrongContentType),
            DeskFault::Reset => Some(FaultKind::Reset),
            _ => None,
        }
    }

    /// The error a standing-in fault answers with, when it is a Desk error.
    pub fn as_error(self, retry_after_secs: u64) -> Option<DeskError> {
        match self {
            DeskFault::Http500 => Some(DeskError::Internal),
            DeskFault::TooManyRequests => Some(DeskError::TooManyRequests),
            DeskFault::ThresholdExceeded => Some(DeskError::ThresholdExceeded { retry_after_secs }),
            _ => None,
        }
    }
}

/// The answer of a standing-in fault that is not a Desk error (a gateway's page).
pub fn gateway_answer(kind: DeskFault) -> Response {
    let (status, content_type, body) = match kind {
        DeskFault::Http502 => (StatusCode::BAD_GATEWAY, "text/plain", "Bad Gateway"),
        DeskFault::Http503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "Service Unavailable",
        ),
        _ => (StatusCode::OK, "text/html;charset=UTF-8", HTML_PAGE),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Zoho Desk - Maintenance</title></head>\n<body><h1>We'll be back soon</h1></body></html>\n";

/// Spoils a served answer's body (the `Delay` is applied by the caller).
pub fn spoil(kind: DeskFault, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = match kind.spoiler() {
        Some(legacy) => crate::emulator::faults::spoil(legacy, Format::Json, body),
        None => Response::new(Body::from(body)),
    };
    if kind != DeskFault::Truncated && kind != DeskFault::Malformed {
        *response.status_mut() = status;
    }
    if kind != DeskFault::WrongContentType {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
    }
    response
}
