//! Injected failures of the record API, for testing a client's resilience: a queue of
//! faults for the next N requests (served first) and per-kind odds for every request,
//! rolled with dice seeded from the config seed. Gateway-style faults (HTTP 5xx, an HTML
//! page, API error 4500) stand in for the request: nothing is read or written. The others
//! spoil the answer of a request that was fully processed (a write happened), the way a
//! lost or mangled answer does in real life. Either way a faulted request with a valid
//! token is charged to the quota like any other.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::zoho::module::Format;

/// One kind of injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Http500,
    Http502,
    Http503,
    /// The answer is held back past the client's timeout.
    Delay,
    /// The valid answer cut in half.
    Truncated,
    /// The answer with its syntax broken.
    Malformed,
    /// An HTML error page with HTTP 200.
    Html,
    /// The valid answer as `application/octet-stream`.
    WrongContentType,
    /// API error 4500 in the requested format.
    Api4500,
    /// The connection is closed without an HTTP answer.
    Reset,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http500 => "http500",
            FaultKind::Http502 => "http502",
            FaultKind::Http503 => "http503",
            FaultKind::Delay => "delay",
            FaultKind::Truncated => "truncated",
            FaultKind::Malformed => "malformed",
            FaultKind::Html => "html",
            FaultKind::WrongContentType => "wrong-content-type",
            FaultKind::Api4500 => "api4500",
            FaultKind::Reset => "reset",
        }
    }

    /// Whether the fault stands in for the request, so nothing is processed.
    pub fn replaces_processing(self) -> bool {
        matches!(
            self,
            FaultKind::Http500
                | FaultKind::Http502
                | FaultKind::Http503
                | FaultKind::Html
                | FaultKind::Api4500
        )
    }
}

/// What the admin API shows of the plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FaultsView<K = FaultKind> {
    /// `(kind, remaining)` in the order they will strike.
    pub next: Vec<(K, u32)>,
    pub odds: Vec<(K, f64)>,
    pub delay_secs: f64,
}

/// The faults due to a set of requests; `K` is the API's own kinds of fault (the legacy
/// API's `FaultKind`, or the Desk API's).
#[derive(Debug)]
pub struct FaultPlan<K = FaultKind> {
    queue: VecDeque<(K, u32)>,
    odds: Vec<(K, f64)>,
    rng: StdRng,
    delay: Duration,
}

impl<K: Copy + PartialEq> FaultPlan<K> {
    pub fn new(seed: u64, delay: Duration) -> FaultPlan<K> {
        FaultPlan {
            queue: VecDeque::new(),
            odds: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            delay,
        }
    }

    /// The fault for the request arriving now, if any.
    pub fn roll(&mut self) -> Option<K> {
        if let Some((kind, left)) = self.queue.front_mut() {
            let kind = *kind;
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.queue.pop_front();
            }
            return Some(kind);
        }
        let rng = &mut self.rng;
        self.odds
            .iter()
            .find(|(_, p)| rng.gen::<f64>() < *p)
            .map(|(kind, _)| *kind)
    }

    /// Faults the next `count` requests (after those already queued).
    pub fn schedule(&mut self, kind: K, count: u32) {
        if count > 0 {
            self.queue.push_back((kind, count));
        }
    }

    /// Faults every request with probability `p` (0 removes the kind).
    pub fn set_odds(&mut self, kind: K, p: f64) {
        self.odds.retain(|(k, _)| *k != kind);
        if p > 0.0 {
            self.odds.push((kind, p.min(1.0)));
        }
    }

    pub fn clear(&mut self) {
        self.queue.clear();
        self.odds.clear();
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    pub fn set_delay(&mut self, delay: Duration) {
        self.delay = delay;
    }

    pub fn view(&self) -> FaultsView<K> {
        FaultsView {
            next: self.queue.iter().copied().collect(),
            odds: self.odds.clone(),
            delay_secs: self.delay.as_secs_f64(),
        }
    }
}

/// The answer of a gateway-style fault (`Api4500` is rendered by the caller).
pub fn gateway_answer(kind: FaultKind) -> Response {
    let (status, content_type, body) = match kind {
        FaultKind::Http500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "Internal Server Error",
        ),
        FaultKind::Http502 => (StatusCode::BAD_GATEWAY, "text/plain", "Bad Gateway"),
        FaultKind::Http503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "Service Unavailable",
        ),
        _ => (StatusCode::OK, "text/html;charset=UTF-8", HTML_PAGE),
    };
    plain(status, content_type, Body::from(body))
}

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Zoho Support - Maintenance</title></head>\n<body><h1>We'll be back soon</h1><p>Zoho Support is undergoing scheduled maintenance.</p></body></html>\n";

/// Spoils the rendered `body` of a processed request (`Delay` is applied by the caller,
/// which then sends the body unchanged).
pub fn spoil(kind: FaultKind, format: Format, mut body: Vec<u8>) -> Response {
    match kind {
        FaultKind::Truncated => {
            body.truncate(body.len() / 2);
            plain(StatusCode::OK, format.content_type(), Body::from(body))
        }
        FaultKind::Malformed => plain(
            StatusCode::OK,
            format.content_type(),
            Body::from(break_syntax(format, body)),
        ),
        FaultKind::WrongContentType => {
            plain(StatusCode::OK, "application/octet-stream", Body::from(body))
        }
        FaultKind::Reset => reset(),
        _ => plain(StatusCode::OK, format.content_type(), Body::from(body)),
    }
}

/// A body that is certainly not well-formed: JSON loses its first `:`; XML gets a
/// mismatched end tag for its root.
fn break_syntax(format: Format, body: Vec<u8>) -> Vec<u8> {
    let (from, to): (&[u8], &[u8]) = match format {
        Format::Json => (b":", b""),
        Format::Xml => (b"</response>", b"</responze>"),
    };
    match body.windows(from.len()).position(|w| w == from) {
        Some(at) => {
            let mut out = Vec::with_capacity(body.len());
            out.extend_from_slice(body.get(..at).unwrap_or_default());
            out.extend_from_slice(to);
            out.extend_from_slice(body.get(at + from.len()..).unwrap_or_default());
            out
        }
        None => b"<<<".to_vec(),
    }
}

/// A body whose first read fails: hyper then drops the connection before anything of the
/// answer, status line included, was written.
fn reset() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "emulated connection reset",
        ))
    });
    plain(StatusCode::OK, "text/plain", Body::from_stream(failing))
}

fn plain(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

/// An admin order changing a fault plan (either emulator's, `K` its fault kinds): clear
/// it first, set the delay a `delay` fault holds an answer back, then fault the next `next`
/// requests with `kind`, or each at `probability`.
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultOrder<K> {
    /// Remove every scheduled fault and all odds first.
    pub clear: bool,
    pub kind: Option<K>,
    /// Fault the next N requests with `kind`.
    pub next: Option<u32>,
    /// Fault each request with `kind` at this probability (0 removes it).
    pub probability: Option<f64>,
    /// How long a `delay` fault holds its answer back.
    pub delay_secs: Option<f64>,
}

impl<K> Default for FaultOrder<K> {
    fn default() -> Self {
        FaultOrder {
            clear: false,
            kind: None,
            next: None,
            probability: None,
            delay_secs: None,
        }
    }
}

impl<K: Copy + PartialEq> FaultOrder<K> {
    /// Checks the order, then applies it to `plan`; nothing changes when it is refused.
    pub fn apply(self, plan: &mut FaultPlan<K>) -> Result<(), String> {
        let delay = match self.delay_secs {
            None => None,
            Some(secs) => Some(
                Duration::try_from_secs_f64(secs)
                    .map_err(|_| "delay_secs must be a non-negative number".to_string())?,
            ),
        };
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must lie between 0 and 1".into());
        }
        let fault = match (self.kind, self.next, self.probability) {
            (Some(kind), Some(n), None) => Some((kind, Some(n), None)),
            (Some(kind), None, Some(p)) => Some((kind, None, Some(p))),
            (None, None, None) => None,
            _ => return Err("give `kind` with exactly one of `next` or `probability`".into()),
        };
        if self.clear {
            plan.clear();
        }
        if let Some(delay) = delay {
            plan.set_delay(delay);
        }
        match fault {
            Some((kind, Some(n), _)) => plan.schedule(kind, n),
            Some((kind, _, Some(p))) => plan.set_odds(kind, p),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_strike_the_next_requests_in_order() {
        let mut plan = FaultPlan::new(1, Duration::from_secs(1));
        plan.schedule(FaultKind::Http503, 2);
        plan.schedule(FaultKind::Reset, 1);
        let rolls: Vec<_> = (0..4).map(|_| plan.roll()).collect();
        let expected = [
            Some(FaultKind::Http503),
            Some(FaultKind::Http503),
            Some(FaultKind::Reset),
            None,
        ];
        assert_eq!(rolls, expected);
    }

    #[test]
    fn odds_fault_about_that_share_of_requests() {
        let mut plan = FaultPlan::new(7, Duration::from_secs(1));
        plan.set_odds(FaultKind::Truncated, 0.25);
        let hits = (0..4000).filter(|_| plan.roll().is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
        plan.clear();
        assert!((0..100).all(|_| plan.roll().is_none()));
    }

    #[test]
    fn broken_syntax_no_longer_parses() {
        let json = br#"{"response":{"uri":"/x"}}"#.to_vec();
        let broken = break_syntax(Format::Json, json);
        assert!(serde_json::from_slice::<serde_json::Value>(&broken).is_err());
        let xml = b"<?xml version=\"1.0\"?>\n<response uri=\"/x\">\n</response>\n".to_vec();
        assert!(String::from_utf8_lossy(&break_syntax(Format::Xml, xml)).contains("</responze>"));
    }
}
