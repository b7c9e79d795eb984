//! What every Desk answer carries besides its body, decoded at the edge: the status, the
//! credits the call cost and the credits left today (`X-Rate-Limit-Request-Weight-v3`,
//! `X-Rate-Limit-Remaining-v3`, D20), how long to wait (`Retry-After`, D21) and the
//! server's clock (`Date`). A header that is missing or unreadable is `None`, never an
//! error and never a guess: the caller's ledger falls back on its own count.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, DATE, RETRY_AFTER};

/// The credits this call was charged (D20).
pub const WEIGHT_HEADER: &str = "X-Rate-Limit-Request-Weight-v3";
/// The credits left today (D20).
pub const REMAINING_HEADER: &str = "X-Rate-Limit-Remaining-v3";

/// The longest wait a `Retry-After` is believed for: the credit day resets within a day
/// (two, to cover a day-long offset); a larger value is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(2 * 86_400);

/// The status and headers of one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyMeta {
    pub status: u16,
    /// Credits charged for this call.
    pub weight: Option<u32>,
    /// Credits left today; a negative value (an overdrawn day) reads as 0.
    pub remaining: Option<u64>,
    /// `Retry-After` in seconds or as an HTTP date, capped at `MAX_RETRY_AFTER`.
    pub retry_after: Option<Duration>,
    /// The server's clock from `Date`.
    pub server_time: Option<DateTime<Utc>>,
}

/// A decoded answer and its status and headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<T> {
    pub value: T,
    pub meta: ReplyMeta,
}

impl<T> Reply<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply {
            value: f(self.value),
            meta: self.meta,
        }
    }
}

impl ReplyMeta {
    pub fn from_headers(status: u16, headers: &HeaderMap) -> ReplyMeta {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let server_time = text(DATE.as_str())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|t| t.with_timezone(&Utc));
        ReplyMeta {
            status,
            weight: text(WEIGHT_HEADER)
                .and_then(credits)
                .and_then(|n| u32::try_from(n).ok()),
            remaining: text(REMAINING_HEADER).and_then(credits),
            retry_after: text(RETRY_AFTER.as_str()).and_then(|v| retry_after(v, server_time)),
            server_time,
        }
    }
}

/// A credit count: ASCII digits (a leading `-` reads as 0); anything else is unknown.
fn credits(text: &str) -> Option<u64> {
    if let Some(negative) = text.strip_prefix('-') {
        return digits(negative).map(|_| 0);
    }
    digits(text)
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Digits beyond u64 are a count larger than any day's pool: saturate.
    Some(text.parse().unwrap_or(u64::MAX))
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110), measured from the answer's
/// own `Date` when it has one (both are the server's clock), else from ours.
fn retry_after(text: &str, server_time: Option<DateTime<Utc>>) -> Option<Duration> {
    let wait = match digits(text) {
        Some(secs) => Duration::from_secs(secs),
        None => {
            let at = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
            let now = server_time.unwrap_or_else(Utc::now);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn meta(pairs: &[(&'static str, &[u8])]) -> ReplyMeta {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        ReplyMeta::from_headers(200, &headers)
    }

    #[test]
    fn the_rate_headers_retry_after_and_date_are_read_in_any_case() {
        let m = meta(&[
            ("x-rate-limit-request-weight-v3", b"3"),
            ("X-RATE-LIMIT-REMAINING-V3", b" 4997 "),
            ("retry-after", b"3600"),
            ("date", b"Mon, 30 Nov 2026 12:00:00 GMT"),
        ]);
        assert_eq!(m.weight, Some(3));
        assert_eq!(m.remaining, Some(4997));
        assert_eq!(m.retry_after, Some(Duration::from_secs(3600)));
        assert_eq!(
            m.server_time.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-30T12:00:00+00:00")
        );
    }

    #[test]
    fn absent_or_unreadable_headers_are_unknown_never_an_error() {
        assert_eq!(
            meta(&[]),
            ReplyMeta {
                status: 200,
                ..ReplyMeta::default()
            }
        );
        let m = meta(&[
            (WEIGHT_HEADER, b"three"),
            (REMAINING_HEADER, b"1.5"),
            ("retry-after", b"soon"),
            ("date", b"\xff\xfe"),
        ]);
        assert_eq!(
            (m.weight, m.remaining, m.retry_after, m.server_time),
            (None, None, None, None)
        );
    }

    #[test]
    fn huge_and_negative_counts_saturate_and_retry_after_is_capped() {
        let m = meta(&[
            (WEIGHT_HEADER, b"99999999999"),
            (REMAINING_HEADER, b"-12"),
            ("retry-after", b"99999999999999999999999"),
        ]);
        assert_eq!(m.weight, None);
        assert_eq!(m.remaining, Some(0));
        assert_eq!(m.retry_after, Some(MAX_RETRY_AFTER));
        let huge = meta(&[(REMAINING_HEADER, b"99999999999999999999999")]);
        assert_eq!(huge.remaining, Some(u64::MAX));
    }

    #[test]
    fn an_http_date_retry_after_counts_from_the_servers_own_date() {
        let m = meta(&[
            ("date", b"Mon, 30 Nov 2026 23:00:00 GMT"),
            ("retry-after", b"Tue, 01 Dec 2026 00:00:00 GMT"),
        ]);
        assert_eq!(m.retry_after, Some(Duration::from_secs(3600)));
        let past = meta(&[
            ("date", b"Mon, 30 Nov 2026 23:00:00 GMT"),
            ("retry-after", b"Mon, 30 Nov 2026 22:00:00 GMT"),
        ]);
        assert_eq!(past.retry_after, Some(Duration::ZERO));
    }
}
