//! One HTTP exchange and its classification: a form POST goes out, and what comes back is
//! either a body worth decoding or exactly one `TransportError`. Bodies are read chunk by
//! chunk and never buffered past the cap. Error text is built from reqwest errors stripped
//! of their URL and passed through `redact_url`, so no secret can reach a message.

use chrono::{DateTime, Utc};
use std::error::Error as _;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::zoho::error::TransportError;
use crate::zoho::module::Format;
use crate::zoho::secret::redact_url;

/// An answer as it arrived: status, content type and the whole (capped) body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBody {
    pub status: u16,
    pub content_type: Option<String>,
    /// The server's clock, from the `Date` header (the quota day is the server's day).
    pub server_time: Option<DateTime<Utc>>,
    pub bytes: Bytes,
}

/// Sends `form` (already `x-www-form-urlencoded`) to `url` and reads the answer whole.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    url: &Url,
    form: String,
    timeout: Duration,
    cap: usize,
) -> Result<RawBody, TransportError> {
    let host = url.host_str().unwrap_or("").to_string();
    let wrap = |e: reqwest::Error| classify(e, &host, timeout);
    let mut response = http
        .post(url.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
        .send()
        .await
        .map_err(wrap)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let server_time = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .map(|t| t.with_timezone(&Utc));
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(TransportError::TooLarge { cap_bytes: cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(wrap)? {
        if body.len() + chunk.len() > cap {
            return Err(TransportError::TooLarge { cap_bytes: cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawBody {
        status,
        content_type,
        server_time,
        bytes: Bytes::from(body),
    })
}

/// Refuses everything that is not an API answer in `format`: another status than 200, an
/// HTML page, an empty body, or a content type of another kind. A missing content type is
/// let through: the decoder is the judge of the bytes.
pub(crate) fn check_answer(format: Format, raw: &RawBody) -> Result<(), TransportError> {
    if raw.status != 200 {
        return Err(TransportError::HttpStatus { status: raw.status });
    }
    let essence = raw.content_type.as_deref().map(mime_essence);
    if essence.as_deref() == Some("text/html") || looks_like_html(&raw.bytes) {
        return Err(TransportError::HtmlPage { status: raw.status });
    }
    if raw.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TransportError::EmptyBody);
    }
    match essence {
        Some(e) if !accepts(format, &e) => Err(TransportError::UnexpectedContentType {
            content_type: raw.content_type.clone().unwrap_or_default(),
            expected: expected(format),
        }),
        _ => Ok(()),
    }
}

fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `text/plain` is accepted for both formats: servers of that era often sent it.
fn accepts(format: Format, essence: &str) -> bool {
    match format {
        Format::Xml => {
            matches!(essence, "text/xml" | "application/xml" | "text/plain")
                || essence.ends_with("+xml")
        }
        Format::Json => {
            matches!(
                essence,
                "application/json" | "text/json" | "text/javascript" | "text/plain"
            ) || essence.ends_with("+json")
        }
    }
}

fn expected(format: Format) -> &'static str {
    match format {
        Format::Xml => "text/xml or application/xml",
        Format::Json => "application/json or text/json",
    }
}

/// Whether a body opens like an HTML page (after a BOM and whitespace, any case).
pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(head) = start.and_then(|i| body.get(i..)) else {
        return false;
    };
    let prefix = |p: &[u8]| {
        head.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    prefix(b"<!doctype html") || prefix(b"<html")
}

/// Maps a reqwest failure onto the transport classes, with secret-free text.
pub(crate) fn classify(e: reqwest::Error, host: &str, timeout: Duration) -> TransportError {
    let e = e.without_url();
    if e.is_timeout() {
        let secs = timeout.as_millis().div_ceil(1000);
        return TransportError::Timeout {
            secs: u64::try_from(secs).unwrap_or(u64::MAX),
        };
    }
    let detail = redact_url(&chain_text(&e));
    if e.is_connect() {
        if is_tls(&e) {
            return TransportError::Tls {
                host: host.to_string(),
                detail,
            };
        }
        return TransportError::Connect {
            host: host.to_string(),
            detail,
        };
    }
    TransportError::ConnectionLost { detail }
}

/// A TLS failure (handshake, certificate) carries a `rustls::Error` in the chain, bare or
/// wrapped in `io::Error`s (tokio-rustls nests two); a TCP failure never does.
fn is_tls(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if is_rustls(s) {
            return true;
        }
        source = s.source();
    }
    false
}

fn is_rustls(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    // `io::Error::source` skips the error it wraps, so unwrap by hand.
    match e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => is_rustls(inner),
        None => false,
    }
}

/// The error and its causes, joined: reqwest's own text alone says only "error sending request".
fn chain_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> RawBody {
        RawBody {
            status,
            content_type: content_type.map(str::to_string),
            server_time: None,
            bytes: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn html_is_recognised_after_whitespace_in_any_case() {
        assert!(looks_like_html(b"  \r\n<!DOCTYPE HTML><html>"));
        assert!(looks_like_html(b"\xEF\xBB\xBF<Html lang=en>"));
        assert!(!looks_like_html(b"<response/>"));
        assert!(!looks_like_html(b"<ht"));
        assert!(!looks_like_html(b""));
    }

    #[test]
    fn an_html_page_is_refused_by_content_type_or_by_its_first_bytes() {
        let by_type = answer(200, Some("text/html; charset=UTF-8"), "oops");
        let by_body = answer(200, Some("application/json"), "<!doctype html>");
        for raw in [by_type, by_body] {
            assert!(matches!(
                check_answer(Format::Json, &raw),
                Err(TransportError::HtmlPage { status: 200 })
            ));
        }
    }

    #[test]
    fn a_status_other_than_200_is_refused_before_the_body_is_looked_at() {
        let raw = answer(503, Some("text/html"), "<html>");
        assert!(matches!(
            check_answer(Format::Xml, &raw),
            Err(TransportError::HttpStatus { status: 503 })
        ));
    }

    #[test]
    fn content_types_must_fit_the_requested_format() {
        let ok = [
            (Format::Xml, "text/xml;charset=UTF-8"),
            (Format::Xml, "Application/XML"),
            (Format::Json, "application/json;charset=UTF-8"),
            (Format::Json, "text/plain"),
        ];
        for (format, ct) in ok {
            assert!(
                check_answer(format, &answer(200, Some(ct), "{}")).is_ok(),
                "{ct}"
            );
        }
        let bad = [
            (Format::Xml, "application/json"),
            (Format::Json, "application/octet-stream"),
        ];
        for (format, ct) in bad {
            assert!(matches!(
                check_answer(format, &answer(200, Some(ct), "{}")),
                Err(TransportError::UnexpectedContentType { .. })
            ));
        }
        assert!(check_answer(Format::Json, &answer(200, None, "{}")).is_ok());
    }

    #[test]
    fn a_blank_body_is_an_empty_body() {
        let raw = answer(200, Some("application/json"), " \n");
        assert!(matches!(
            check_answer(Format::Json, &raw),
            Err(TransportError::EmptyBody)
        ));
    }
}
