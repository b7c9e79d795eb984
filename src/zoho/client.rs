//! The HTTP client of the record API: one method per record method of the contract, each
//! a form POST to `{base}/api/{format}/{module}/{method}`. Every parameter, the authtoken
//! first, travels in the POST body, so no secret is ever part of a URL (and so of a log
//! line or an error). Transient failures are retried under the `RetryPolicy`; everything
//! else comes back at once as a classed `ZohoError`.

pub mod params;
mod transport;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

pub use params::{
    GetRecords, NewFormat, Params, Search, SelectFields, MAX_ADD_ROWS, MAX_WINDOW, TIME_FORMAT,
};
pub use transport::RawBody;
pub(crate) use transport::{classify as classify_transport, looks_like_html, post_form};

use crate::zoho::codec::{self, Answer, RowOutcome, Stray, Written};
use crate::zoho::error::{ApiCode, DecodeError, ErrorClass, TransportError, ZohoError};
use crate::zoho::module::{Format, Method, Module};
use crate::zoho::record::RecordId;
use crate::zoho::retry::{Backoff, RetryPolicy};
use crate::zoho::secret::{redact_url, Secret};

/// One request's answer and the server's time when it answered.
#[derive(Debug)]
pub struct Exchange {
    pub server_time: Option<chrono::DateTime<chrono::Utc>>,
    pub outcome: Result<Answer, ZohoError>,
}

/// Everything a `Client` needs to talk to one portal and department.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Scheme and host (and optional path prefix) of the API, e.g. `https://support.zoho.com`.
    pub base_url: Url,
    pub format: Format,
    pub portal: String,
    pub department: String,
    pub authtoken: Secret,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Answers larger than this are refused (`TransportError::TooLarge`).
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
}

/// A client of one portal and department. Clones share the connection pool, the retry
/// counter and the strays already warned of.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    settings: ClientSettings,
    retries: Arc<AtomicU64>,
    strays_seen: Arc<Mutex<HashSet<Stray>>>,
}

impl Client {
    pub fn new(settings: ClientSettings) -> Result<Client, ZohoError> {
        validate(&settings)?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            // A redirect could carry the form (and its authtoken) to another host, and
            // no API answer is a redirect: a 3xx is reported as an HTTP status.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("zoho-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ZohoError::Invalid(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(Client {
            http,
            settings,
            retries: Arc::new(AtomicU64::new(0)),
            strays_seen: Arc::default(),
        })
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// How many retries this client (and its clones) has made so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// `getrecords`; a window past the end (the no-data answer) is an empty page.
    pub async fn get_records(
        &self,
        module: Module,
        request: &GetRecords,
    ) -> Result<Vec<RowOutcome>, ZohoError> {
        let params = request.params(module)?;
        self.read(Method::GetRecords, module, &params).await
    }

    /// `getrecordsbyid`; a missing id is `None`.
    pub async fn get_record_by_id(
        &self,
        module: Module,
        id: RecordId,
        select: &SelectFields,
    ) -> Result<Option<RowOutcome>, ZohoError> {
        let params = params::by_id(module, id, select)?;
        let rows = self.read(Method::GetRecordsById, module, &params).await?;
        Ok(rows.into_iter().next())
    }

    /// `getrecordsbysearch`; no match is an empty list.
    pub async fn search(
        &self,
        module: Module,
        request: &Search,
    ) -> Result<Vec<RowOutcome>, ZohoError> {
        let params = request.params(module)?;
        self.read(Method::Search, module, &params).await
    }

    /// `addrecords` of 1 to `MAX_ADD_ROWS` rows of `(label, value)`.
    pub async fn add_records(
        &self,
        module: Module,
        rows: &[Vec<(String, Option<String>)>],
    ) -> Result<Written, ZohoError> {
        let params = params::add(module, rows)?;
        self.write(Method::AddRecords, module, &params).await
    }

    /// `updaterecords` of the given fields of one record.
    pub async fn update_record(
        &self,
        module: Module,
        id: RecordId,
        fields: &[(String, Option<String>)],
    ) -> Result<Written, ZohoError> {
        let params = params::update(module, id, fields)?;
        self.write(Method::UpdateRecords, module, &params).await
    }

    pub async fn delete_record(&self, module: Module, id: RecordId) -> Result<Written, ZohoError> {
        self.write(Method::DeleteRecords, module, &params::delete(id))
            .await
    }

    /// `send_once` under the retry policy. Only retryable errors are retried, and an
    /// addrecords only when the server cannot have acted on it (a retried add that did
    /// reach the server would create its rows twice).
    pub async fn call(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Result<Answer, ZohoError> {
        // The commands that call this directly stop at once on a signal: nothing here
        // to cut short.
        let never = tokio_util::sync::CancellationToken::new();
        let mut attempt = 0;
        loop {
            let error = match self.send_once(method, module, params).await {
                Err(e) if may_retry(method, &e) => e,
                outcome => return outcome,
            };
            attempt += 1;
            match self.settings.retry.backoff(attempt, &never).await {
                Backoff::Waited(delay) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        %method, %module, attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        class = %error.class(), error = %error,
                        "Zoho request failed; retried"
                    );
                }
                Backoff::Exhausted | Backoff::Stopped => return Err(error),
            }
        }
    }

    /// One HTTP exchange, decoded; an API error answer is `Err(ZohoError::Api)`.
    pub async fn send_once(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Result<Answer, ZohoError> {
        self.exchange(method, module, params).await.outcome
    }

    /// `send_once`, keeping the server's clock reading of the answer (when one arrived).
    pub async fn exchange(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Exchange {
        let format = self.settings.format;
        let raw = match self.raw(method, module, params).await {
            Ok(raw) => raw,
            Err(e) => {
                return Exchange {
                    server_time: None,
                    outcome: Err(e),
                }
            }
        };
        let outcome = match transport::check_answer(format, &raw) {
            Ok(()) => decode_aside(format, module, raw.bytes.clone()).await,
            Err(e) => Err(ZohoError::from(e)),
        };
        let outcome = outcome
            .map(|decoded| {
                self.warn_of_strays(method, module, &decoded.strays);
                decoded.answer
            })
            .and_then(|answer| match answer {
                Answer::Error(e) => Err(ZohoError::Api(e)),
                answer => Ok(answer),
            });
        Exchange {
            server_time: raw.server_time,
            outcome,
        }
    }

    /// Warns once per kind (place and name) of what the answers held beyond the contract:
    /// a server that adds a key to every answer must not add a log line to each.
    fn warn_of_strays(&self, method: Method, module: Module, strays: &[Stray]) {
        if strays.is_empty() {
            return;
        }
        let mut seen = self.strays_seen.lock().unwrap_or_else(|e| e.into_inner());
        for stray in strays {
            if seen.insert(stray.clone()) {
                tracing::warn!(
                    %method, %module, place = stray.place, name = %stray.name,
                    "ignoring an element or key the contract does not name (warned once)"
                );
            }
        }
    }

    /// One HTTP exchange, undecoded and unchecked but for the transport and the size cap
    /// (for `--output raw`, where a 500 page is worth seeing).
    pub async fn raw(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Result<RawBody, ZohoError> {
        let url = self.url(method, module);
        let started = Instant::now();
        let outcome = transport::post_form(
            &self.http,
            &url,
            self.form(params),
            self.settings.timeout,
            self.settings.max_body_bytes,
        )
        .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let url = redact_url(url.as_str());
        match &outcome {
            Ok(raw) => tracing::debug!(
                %method, %module, %url, status = raw.status, bytes = raw.bytes.len(), elapsed_ms,
                "Zoho request answered"
            ),
            Err(e) => tracing::debug!(
                %method, %module, %url, class = %e.class(), error = %e, elapsed_ms,
                "Zoho request failed"
            ),
        }
        Ok(outcome?)
    }

    /// The server's clock, from the `Date` header of a `HEAD` of the base URL: outside the
    /// API, so it costs no request of the quota. `None` if the server cannot be reached
    /// or sends no date.
    pub async fn server_clock(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        server_clock(
            &self.http,
            &self.settings.base_url,
            self.settings.connect_timeout,
        )
        .await
    }

    /// `{base}/api/{format}/{module}/{method}`, keeping any path prefix of the base.
    pub fn url(&self, method: Method, module: Module) -> Url {
        let mut url = self.settings.base_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "api",
                self.settings.format.url_name(),
                module.url_name(),
                method.wire_name(),
            ]);
        }
        url
    }

    /// The form body: the common parameters, then the method's.
    fn form(&self, params: &[(&'static str, String)]) -> String {
        let s = &self.settings;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("authtoken", s.authtoken.expose())
            .append_pair("portal", &s.portal)
            .append_pair("department", &s.department)
            .append_pair("scope", "supportapi");
        for (name, value) in params {
            form.append_pair(name, value);
        }
        form.finish()
    }

    async fn read(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Result<Vec<RowOutcome>, ZohoError> {
        match self.call(method, module, params).await {
            Ok(Answer::Records(rows)) => Ok(rows),
            Ok(_) => Err(self.wrong_shape("records")),
            Err(e) if e.class() == ErrorClass::NoData => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn write(
        &self,
        method: Method,
        module: Module,
        params: &[(&'static str, String)],
    ) -> Result<Written, ZohoError> {
        match self.call(method, module, params).await? {
            Answer::Written(written) => Ok(written),
            _ => Err(self.wrong_shape("a write acknowledgement")),
        }
    }

    fn wrong_shape(&self, expected: &str) -> ZohoError {
        ZohoError::Decode(DecodeError::Shape {
            format: self.settings.format.url_name(),
            detail: format!("expected {expected}, got another kind of answer"),
        })
    }
}

fn may_retry(method: Method, e: &ZohoError) -> bool {
    if method != Method::AddRecords {
        return e.is_retryable();
    }
    matches!(e, ZohoError::Transport(TransportError::Connect { .. }))
        || e.api_code() == Some(ApiCode::RateLimit)
}

fn validate(s: &ClientSettings) -> Result<(), ZohoError> {
    let invalid = |what: &str| Err(ZohoError::Invalid(what.to_string()));
    if !matches!(s.base_url.scheme(), "http" | "https") || s.base_url.cannot_be_a_base() {
        return invalid("the API base URL must be an http or https URL");
    }
    if s.portal.trim().is_empty() {
        return invalid("the portal name is empty");
    }
    if s.department.trim().is_empty() {
        return invalid("the department name is empty");
    }
    if s.authtoken.is_empty() {
        return invalid("the authtoken is empty");
    }
    if s.max_body_bytes == 0 {
        return invalid("the body size cap is zero");
    }
    Ok(())
}

/// `Client::server_clock` for callers without a client (no token needed): `status` reads
/// the server's quota day with it.
pub async fn server_clock(
    http: &reqwest::Client,
    base_url: &Url,
    timeout: Duration,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let response = http
        .head(base_url.clone())
        .timeout(timeout)
        .send()
        .await
        .ok()?;
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    chrono::DateTime::parse_from_rfc2822(date)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod wire_tests;

/// Decodes a body on the blocking pool. A page takes a millisecond or two of CPU to
/// decode, and on the async workers that would hold up every other task of the process:
/// the commits of pages already fetched most of all, each of whose round trips waited
/// for a worker to come free.
async fn decode_aside(
    format: Format,
    module: Module,
    bytes: bytes::Bytes,
) -> Result<codec::Decoded, ZohoError> {
    tokio::task::spawn_blocking(move || codec::decode_noting_strays(format, module, &bytes))
        .await
        .unwrap_or_else(|join| {
            Err(DecodeError::Shape {
                format: format.url_name(),
                detail: format!("the decoder failed: {join}"),
            })
        })
        .map_err(ZohoError::from)
}

#[cfg(test)]
mod tests;
