//! The HTTP face of the emulator: the record API route, the auth-token endpoint and the
//! admin API, plus `spawn` for tests and the `emulator` command. For the record API the
//! order is fixed: simulated latency, the fault dice, the token (invalid: 4834, never
//! charged), the quota charge (spent: 4421), then either the fault's stand-in answer or
//! the request itself. Selection and rendering run on the blocking pool, so a big page
//! never stalls the async workers; every request gets one span without the token.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::accounts::{properties_body, TokenRequest};
use super::activity::{LogEntry, Outcome};
use super::api::{self, Call, Failure};
use super::config::EmulatorConfig;
use super::desk::DeskOrgConfig;
use super::faults::{self, FaultKind};
use super::params::Params;
use super::render::{to_json, to_xml, Element};
use super::state::{lock, read, write, Emulator};
use super::{admin, desk, EmulatorError};
use crate::zoho::module::{Format, Method, Module};
use crate::zoho::secret::Secret;

/// Large enough for 100 rows of `xml`, small enough to refuse nonsense.
const BODY_LIMIT: usize = 16 << 20;
/// How long `shutdown` lets in-flight requests finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The routes of the emulator over its state.
pub fn router(emulator: Arc<Emulator>) -> Router {
    Router::new()
        .route(
            "/api/{format}/{module}/{method}",
            get(record_api).post(record_api),
        )
        .route("/apiauthtoken/nb/create", get(auth_token).post(auth_token))
        .route("/api/v1/{*path}", any(desk::http::api))
        .route("/oauth/v2/token", post(desk::http::token))
        .nest("/_emulator/desk", desk::admin::routes())
        .nest("/_emulator", admin::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&emulator),
            stamp_date,
        ))
        .with_state(emulator)
}

/// Dates every answer by the emulated clock, as a real server dates answers by its own:
/// clients (the sync's incremental watermarks) read the server's time from this header.
async fn stamp_date(State(emulator): State<Arc<Emulator>>, mut response: Response) -> Response {
    let now = emulator.clock.now().format("%a, %d %b %Y %H:%M:%S GMT");
    if let Ok(value) = HeaderValue::from_str(&now.to_string()) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

/// A served emulator; dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    token: Option<Secret>,
    desk: Option<DeskOrgConfig>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Validates `config`, binds `listen` (port 0 picks a free port), generates the data and
/// serves it in the background.
pub async fn spawn(
    config: EmulatorConfig,
    listen: SocketAddr,
) -> Result<RunningEmulator, EmulatorError> {
    config.validate()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(EmulatorError::Serve)?;
    let token = config.demo_token().cloned();
    let desk = config.desk.organisations.first().cloned();
    let emulator = tokio::task::spawn_blocking(move || Emulator::build(&config))
        .await
        .map_err(|e| EmulatorError::Build(e.to_string()))?;
    let app = router(Arc::new(emulator));
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender means the handle is gone: stop as well.
                let _ = signal.await;
            })
            .await
    });
    tracing::info!(%addr, "emulator listening");
    Ok(RunningEmulator {
        addr,
        token,
        desk,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The first portal's admin token (the fixed demo token by default).
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// The first Desk organisation (the demo by default): its org id and self client.
    pub fn desk_org(&self) -> Option<&DeskOrgConfig> {
        self.desk.as_ref()
    }

    /// Stops accepting, lets in-flight requests finish briefly, then cuts them off.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(joined) => finished(joined),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }

    /// Serves until `signal` completes (then shuts down) or the server fails.
    pub async fn run_until(
        mut self,
        signal: impl Future<Output = ()>,
    ) -> Result<(), EmulatorError> {
        let Some(task) = self.task.as_mut() else {
            return Ok(());
        };
        tokio::select! {
            joined = task => {
                self.task = None;
                finished(joined)
            }
            () = signal => self.shutdown().await,
        }
    }
}

fn finished(
    joined: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), EmulatorError> {
    match joined {
        Ok(served) => served.map_err(EmulatorError::Serve),
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(EmulatorError::Build(e.to_string())),
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn record_api(
    State(emulator): State<Arc<Emulator>>,
    Path((format, module, method)): Path<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let params = Params::merge(uri.query(), &body);
    let span = tracing::info_span!(
        "api",
        method = %method,
        module = %module,
        portal = params.get("portal").unwrap_or_default(),
        outcome = tracing::field::Empty,
    );
    let request = ApiRequest {
        format: Format::parse(&format),
        format_text: format,
        module,
        method,
        path: uri.path().to_string(),
        params,
    };
    handle(emulator, request).instrument(span).await
}

/// One record-API request, owned so it can move to the blocking pool.
struct ApiRequest {
    /// `None` for an unknown format segment: answered (4600) in XML.
    format: Option<Format>,
    format_text: String,
    module: String,
    method: String,
    path: String,
    params: Params,
}

async fn handle(emulator: Arc<Emulator>, request: ApiRequest) -> Response {
    let latency = *lock(&emulator.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (fault, delay) = {
        let mut plan = lock(&emulator.faults);
        (plan.roll(), plan.delay())
    };
    let format = request.format.unwrap_or(Format::Xml);
    let worker = Arc::clone(&emulator);
    let served = tokio::task::spawn_blocking(move || {
        let (outcome, body, org) = serve_blocking(&worker, &request, fault);
        (outcome, body, org, request)
    })
    .await;
    let Ok((outcome, body, org, request)) = served else {
        return answer(
            format,
            to_body(format, &Failure::internal().reply("").answer),
        );
    };
    tracing::Span::current().record("outcome", tracing::field::display(outcome));
    record(&emulator, &request, outcome, org.as_deref());
    tracing::debug!(bytes = body.len(), "record request served");
    match (fault, body) {
        (Some(kind), _) if kind.replaces_processing() && kind != FaultKind::Api4500 => {
            faults::gateway_answer(kind)
        }
        (Some(FaultKind::Delay), body) => {
            tokio::time::sleep(delay).await;
            answer(format, body)
        }
        (Some(kind), body) if kind != FaultKind::Api4500 => faults::spoil(kind, format, body),
        (_, body) => answer(format, body),
    }
}

/// Admits, serves and renders; returns the outcome, the rendered answer and the name of
/// the token's portal.
fn serve_blocking(
    emulator: &Emulator,
    request: &ApiRequest,
    fault: Option<FaultKind>,
) -> (Outcome, Vec<u8>, Option<String>) {
    let format = request.format.unwrap_or(Format::Xml);
    let uri = request.path.as_str();
    let caller = request
        .params
        .get("authtoken")
        .and_then(|token| read(&emulator.accounts).caller(token));
    let org = caller
        .as_ref()
        .and_then(|c| emulator.portals.get(c.portal))
        .map(|p| p.name.clone());
    let admitted = match caller {
        None => Err(Failure::invalid_ticket()),
        Some(caller) => match emulator.portals.get(caller.portal) {
            Some(portal) if portal.quota.charge(emulator.clock.now()) => Ok(caller),
            _ => Err(Failure::quota_exceeded()),
        },
    };
    if let Some(kind) = fault.filter(|k| k.replaces_processing()) {
        let body = to_body(format, &Failure::internal().reply(uri).answer);
        return (Outcome::Fault(kind), body, org);
    }
    let reply = match (admitted, request.format) {
        (Err(failure), _) => failure.reply(uri),
        (Ok(_), None) => Failure::from(super::params::BadParam("format")).reply(uri),
        (Ok(caller), Some(_)) => {
            let call = Call {
                uri,
                module: &request.module,
                method: &request.method,
                params: &request.params,
            };
            api::serve(emulator, &caller, &call)
        }
    };
    let outcome = fault.map_or(reply.outcome, Outcome::Fault);
    (outcome, to_body(format, &reply.answer), org)
}

fn to_body(format: Format, answer: &Element) -> Vec<u8> {
    match format {
        Format::Xml => to_xml(answer),
        Format::Json => to_json(answer),
    }
}

fn answer(format: Format, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    response
}

fn record(emulator: &Emulator, request: &ApiRequest, outcome: Outcome, org: Option<&str>) {
    let param = |name: &str| request.params.get(name).map(str::to_string);
    let entry = LogEntry {
        seq: 0,
        at: emulator.clock.now(),
        format: request.format_text.to_lowercase(),
        // Aliases count under the wire name (`searchrecords` as `getrecordsbysearch`).
        method: Method::parse(&request.method).map_or_else(
            || request.method.to_lowercase(),
            |m| m.wire_name().to_string(),
        ),
        module: Module::parse(&request.module).map_or_else(
            || request.module.to_lowercase(),
            |m| m.url_name().to_string(),
        ),
        portal: param("portal"),
        department: param("department"),
        fromindex: param("fromindex"),
        toindex: param("toindex"),
        lastmodifiedtime: param("lastmodifiedtime"),
        outcome: outcome.to_string(),
    };
    emulator.activity.record(entry, org);
}

async fn auth_token(
    State(emulator): State<Arc<Emulator>>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let request = token_request(uri.query(), &body);
    let now = emulator.clock.now();
    let outcome = write(&emulator.accounts).create_token(&request);
    let cause = outcome.as_ref().err().map_or("none", |c| c.as_str());
    tracing::info!(ok = outcome.is_ok(), cause, "auth token requested");
    let mut response = Response::new(Body::from(properties_body(now, &outcome)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    response
}

/// The auth endpoint's parameters: upper-case names, matched exactly (contract 2.1).
fn token_request(query: Option<&str>, body: &[u8]) -> TokenRequest {
    let mut request = TokenRequest::default();
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .chain(url::form_urlencoded::parse(body));
    for (name, value) in pairs {
        let value = value.into_owned();
        match name.as_ref() {
            "SCOPE" => request.scope = Some(value),
            "EMAIL_ID" => request.email = Some(value),
            "PASSWORD" => request.password = Some(Secret::new(value)),
            "DISPLAY_NAME" => request.display_name = Some(value),
            _ => {}
        }
    }
    request
}

#[cfg(test)]
mod tests;
