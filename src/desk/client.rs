//! The Zoho Desk client of one organisation: every call of `DeskRequest` sent with the
//! organisation's access token and `orgId` (D6, D7), its answer decoded at the edge into
//! a `Reply` (the value and the rate headers) or a classed `DeskError`. It never
//! retries on its own, never sleeps and never reserves credits: the caller prices a
//! request (`DeskRequest::cost`), reserves it, sends it, and retries only what is
//! `Transient` (`TOO_MANY_REQUESTS_RETRY` for the concurrency 429, D22). The one
//! exception is a token the API refused mid-run (401 `INVALID_OAUTH`): the client
//! replaces it once (one refresh among all callers, `TokenSource::replace`) and sends
//! the request once more, then fails with `Auth` (section 7). A refused request costs
//! nothing, so the retry needs no new reservation; and it is safe for a create, which a
//! 401 proves was not made.
//!
//! At most `concurrency` requests of a client and its clones are in flight at once
//! (D22: 2, below every edition's limit).

mod answer;
mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use url::Url;

pub use answer::{Answer, Lookup};

use crate::desk::bin::BinPage;
use crate::desk::error::{transport_class, ApiFailure, DeskError, ErrorClass, ErrorCode};
use crate::desk::module::DeskModule;
use crate::desk::record::{DeskId, Page, RecordOutcome};
use crate::desk::reply::Reply;
use crate::desk::request::{DeskRequest, SearchQuery, TimeRange};
use crate::desk::tokens::{AccessToken, TokenSource};
use crate::zoho::retry::RetryPolicy;

/// D22's retry of a concurrency 429: jittered backoff up to 8 s, 3 tries.
pub const TOO_MANY_REQUESTS_RETRY: RetryPolicy = RetryPolicy {
    max_retries: 3,
    initial_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(8),
};

/// Everything a `DeskClient` needs besides its tokens.
#[derive(Clone, Debug)]
pub struct DeskSettings {
    /// Scheme and host (and optional path prefix) of the Desk API: `https://desk.zoho.eu`.
    pub base_url: Url,
    /// The organisation's id: digits (D7; anything else is a 500 on every call).
    pub org_id: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Larger answers are refused (`TransportError::TooLarge`).
    pub max_body_bytes: usize,
    /// Requests in flight at once, across clones.
    pub concurrency: usize,
}

impl DeskSettings {
    /// The defaults: 30 s per request, 10 s to connect, 32 MiB answers, 2 in flight.
    pub fn new(base_url: Url, org_id: impl Into<String>) -> DeskSettings {
        DeskSettings {
            base_url,
            org_id: org_id.into(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 32 << 20,
            concurrency: 2,
        }
    }
}

/// A client of one organisation; clones share the connection pool, the tokens and the
/// in-flight limit.
#[derive(Clone, Debug)]
pub struct DeskClient {
    http: reqwest::Client,
    settings: DeskSettings,
    tokens: Arc<TokenSource>,
    in_flight: Arc<Semaphore>,
}

impl DeskClient {
    pub fn new(settings: DeskSettings, tokens: Arc<TokenSource>) -> Result<DeskClient, DeskError> {
        validate(&settings)?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            // A redirect could carry the Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("zoho-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                DeskError::Invalid(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        let in_flight = Arc::new(Semaphore::new(settings.concurrency));
        Ok(DeskClient {
            http,
            settings,
            tokens,
            in_flight,
        })
    }

    pub fn settings(&self) -> &DeskSettings {
        &self.settings
    }

    pub fn tokens(&self) -> &Arc<TokenSource> {
        &self.tokens
    }

    /// Sends one request (after `validate`); see the module's doc for the one retry.
    pub async fn send(&self, request: &DeskRequest) -> Result<Reply<Answer>, DeskError> {
        let (reply, _body) = self.send_keeping_body(request).await?;
        Ok(reply)
    }

    /// `send`, also handing back the answer's body exactly as received (for a command
    /// that prints it raw).
    pub async fn send_keeping_body(
        &self,
        request: &DeskRequest,
    ) -> Result<(Reply<Answer>, Bytes), DeskError> {
        request.validate().map_err(DeskError::Invalid)?;
        let _slot = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| DeskError::Invalid("the client is closed".into()))?;
        let token = self.tokens.token().await?;
        match self.exchange(request, &token).await {
            Err(error) if token_refused(&error) => {
                tracing::info!(
                    request = %request.describe(), org_id = %self.settings.org_id,
                    "the access token was refused; replacing it and sending once more"
                );
                let token = self.tokens.replace(&token).await?;
                self.exchange(request, &token).await.map_err(refused_again)
            }
            outcome => outcome,
        }
    }

    /// `GET /{module}?from=&limit=` (1-based `from`).
    pub async fn list(
        &self,
        module: DeskModule,
        from: u32,
        limit: u32,
    ) -> Result<Reply<Page>, DeskError> {
        let reply = self
            .send(&DeskRequest::List {
                module,
                from,
                limit,
            })
            .await?;
        page(reply)
    }

    /// `GET /{module}/search` over a time range.
    pub async fn search(
        &self,
        module: DeskModule,
        query: SearchQuery,
    ) -> Result<Reply<Page>, DeskError> {
        page(self.send(&DeskRequest::Search { module, query }).await?)
    }

    /// `GET /{module}/{id}`: the record, or `Lookup::NotVisible` (D18).
    pub async fn get(&self, module: DeskModule, id: DeskId) -> Result<Reply<Lookup>, DeskError> {
        let reply = self.send(&DeskRequest::ById { module, id }).await?;
        match reply.value {
            Answer::Lookup(lookup) => Ok(Reply {
                value: lookup,
                meta: reply.meta,
            }),
            _ => Err(unexpected()),
        }
    }

    /// `POST /{module}`. Never retry an `Ambiguous` failure of it (D23).
    pub async fn create(
        &self,
        module: DeskModule,
        body: Map<String, Value>,
    ) -> Result<Reply<RecordOutcome>, DeskError> {
        record(self.send(&DeskRequest::Create { module, body }).await?)
    }

    /// `PATCH /{module}/{id}` with the fields to change.
    pub async fn update(
        &self,
        module: DeskModule,
        id: DeskId,
        body: Map<String, Value>,
    ) -> Result<Reply<RecordOutcome>, DeskError> {
        record(self.send(&DeskRequest::Update { module, id, body }).await?)
    }

    /// `POST /{module}/moveToTrash` of up to 100 ids.
    pub async fn move_to_trash(
        &self,
        module: DeskModule,
        ids: Vec<DeskId>,
    ) -> Result<Reply<()>, DeskError> {
        let reply = self.send(&DeskRequest::Trash { module, ids }).await?;
        Ok(reply.map(|_| ()))
    }

    /// `GET /organizations`: the organisations the token may use.
    pub async fn organizations(&self) -> Result<Reply<Page>, DeskError> {
        page(self.send(&DeskRequest::Organizations).await?)
    }

    /// `GET /recycleBin`, newest deletion first.
    pub async fn recycle_bin(&self, from: u32, limit: u32) -> Result<Reply<BinPage>, DeskError> {
        let reply = self.send(&DeskRequest::RecycleBin { from, limit }).await?;
        match reply.value {
            Answer::Bin(bin) => Ok(Reply {
                value: bin,
                meta: reply.meta,
            }),
            _ => Err(unexpected()),
        }
    }

    /// `GET /tickets/archivedTickets` of one department (D25).
    pub async fn archived_tickets(
        &self,
        department: DeskId,
        from: u32,
        limit: u32,
    ) -> Result<Reply<Page>, DeskError> {
        page(
            self.send(&DeskRequest::ArchivedTickets {
                department,
                from,
                limit,
            })
            .await?,
        )
    }

    /// `GET /agents/{agent}/timeEntry` of tickets, optionally within a time range.
    pub async fn agent_time_entries(
        &self,
        agent: DeskId,
        range: Option<TimeRange>,
        from: u32,
        limit: u32,
    ) -> Result<Reply<Page>, DeskError> {
        page(
            self.send(&DeskRequest::AgentTimeEntries {
                agent,
                range,
                from,
                limit,
            })
            .await?,
        )
    }

    /// One exchange with `token`, interpreted.
    async fn exchange(
        &self,
        request: &DeskRequest,
        token: &AccessToken,
    ) -> Result<(Reply<Answer>, Bytes), DeskError> {
        let url = http::url(&self.settings.base_url, request)
            .ok_or_else(|| DeskError::Invalid("the Desk base URL cannot take a path".into()))?;
        let authorization = http::authorization(&token.token).ok_or_else(|| {
            DeskError::Invalid("the access token cannot be sent in a header".into())
        })?;
        let started = Instant::now();
        let outcome = http::exchange(http::Call {
            http: &self.http,
            url,
            request,
            authorization,
            org_id: &self.settings.org_id,
            timeout: self.settings.timeout,
            cap: self.settings.max_body_bytes,
        })
        .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let raw = outcome.map_err(|error| {
            let class = transport_class(&error, request.operation());
            tracing::debug!(request = %request.describe(), %class, %error, elapsed_ms, "Desk request failed");
            DeskError::Transport { request: request.describe(), error, class }
        })?;
        let meta = &raw.meta;
        tracing::debug!(
            request = %request.describe(), status = meta.status, weight = meta.weight,
            remaining = meta.remaining, bytes = raw.bytes.len(), elapsed_ms,
            "Desk request answered"
        );
        let ctx = answer::Context {
            request,
            org_id: &self.settings.org_id,
            token: &token.token,
        };
        let body = raw.bytes.clone();
        answer::interpret(&ctx, raw).map(|reply| (reply, body))
    }
}

/// A refusal of the token itself: `INVALID_OAUTH` (whatever the status), or a 401 whose
/// code was lost.
fn token_refused(error: &DeskError) -> bool {
    matches!(error, DeskError::Api(failure) if refuses_token(failure))
}

fn refuses_token(failure: &ApiFailure) -> bool {
    match &failure.code {
        Some(code) => *code == ErrorCode::InvalidOauth,
        None => failure.status == 401,
    }
}

/// A token refused again right after it was replaced: the grant itself no longer works.
fn refused_again(error: DeskError) -> DeskError {
    match error {
        DeskError::Api(failure) if refuses_token(&failure) => {
            DeskError::Api(Box::new(ApiFailure {
                class: ErrorClass::Auth,
                hint: Some(
                    "a freshly refreshed token was refused too: the refresh token may be revoked or belong to another data centre or organisation; run `zoho-sync auth desk` again"
                        .into(),
                ),
                ..*failure
            }))
        }
        other => other,
    }
}

fn page(reply: Reply<Answer>) -> Result<Reply<Page>, DeskError> {
    match reply.value {
        Answer::Page(page) => Ok(Reply {
            value: page,
            meta: reply.meta,
        }),
        _ => Err(unexpected()),
    }
}

fn record(reply: Reply<Answer>) -> Result<Reply<RecordOutcome>, DeskError> {
    match reply.value {
        Answer::Record(record) => Ok(Reply {
            value: record,
            meta: reply.meta,
        }),
        _ => Err(unexpected()),
    }
}

/// `interpret` answers each operation with its own kind of answer.
fn unexpected() -> DeskError {
    DeskError::Invalid("the answer is not of the request's kind".into())
}

fn validate(s: &DeskSettings) -> Result<(), DeskError> {
    let invalid = |what: &str| Err(DeskError::Invalid(what.to_string()));
    if !matches!(s.base_url.scheme(), "http" | "https") || s.base_url.cannot_be_a_base() {
        return invalid("the Desk base URL must be an http or https URL");
    }
    let digits = !s.org_id.is_empty()
        && s.org_id.len() <= 19
        && s.org_id.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return invalid("the organisation id must be digits (GET /organizations lists them)");
    }
    if s.max_body_bytes == 0 || s.concurrency == 0 {
        return invalid("the body size cap and the concurrency must be above zero");
    }
    Ok(())
}
