//! A small stand-in for Zoho Desk and its Zoho Accounts, for the Desk client's wire
//! tests until the real Desk emulator lands: the token endpoint issues numbered access
//! tokens (and counts every grant), the API checks the `Authorization` header against
//! the tokens it issued (401 `INVALID_OAUTH` otherwise) and then answers what the test
//! scripted, or an empty list page priced by D19's tiers. Everything it saw is logged.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use url::Url;
use zoho_sync::desk::{
    Accounts, ClientCredentials, DeskClient, DeskSettings, TokenCache, TokenSource,
};
use zoho_sync::zoho::Secret;

pub const ORG_ID: &str = "20071234567";
pub const CLIENT_ID: &str = "1000.FAKECLIENT";
pub const CLIENT_SECRET: &str = "fake-client-secret-7f3a9e";
pub const REFRESH_TOKEN: &str = "1000.fake-refresh-9c2b4d";
pub const GRANT_CODE: &str = "1000.fake-grant-code-5e1";
/// Every access token issued starts so (then its number).
pub const ACCESS_PREFIX: &str = "1000.fake-access-";

/// One scripted API answer.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Scripted {
    pub fn json(status: u16, body: &str) -> Scripted {
        Scripted {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Scripted {
        self.headers.push((name, value.into()));
        self
    }
}

/// A request the API saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub org_id: Option<String>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    expires_in: AtomicU64,
    refresh_delay_ms: AtomicU64,
    grants: AtomicUsize,
    next_token: AtomicUsize,
    valid: Mutex<HashSet<String>>,
    token_reply: Mutex<Option<String>>,
    script: Mutex<VecDeque<Scripted>>,
    always: Mutex<Option<Scripted>>,
    log: Mutex<Vec<Seen>>,
}

pub struct FakeDesk {
    pub url: Url,
    pub state: Arc<State>,
}

impl FakeDesk {
    pub async fn start() -> FakeDesk {
        let state = Arc::new(State::default());
        state.expires_in.store(3600, Ordering::SeqCst);
        state.refresh_delay_ms.store(50, Ordering::SeqCst);
        let shared = state.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { answer(&state, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeDesk { url, state }
    }

    /// Successful grants made so far (refreshes and code exchanges).
    pub fn grants(&self) -> usize {
        self.state.grants.load(Ordering::SeqCst)
    }

    pub fn set_expires_in(&self, secs: u64) {
        self.state.expires_in.store(secs, Ordering::SeqCst);
    }

    /// Every token issued so far stops working (as when Zoho revokes them).
    pub fn revoke_tokens(&self) {
        self.state.valid.lock().unwrap().clear();
    }

    /// Answers every token request with this body (HTTP 200) instead of a token.
    pub fn token_reply(&self, body: &str) {
        *self.state.token_reply.lock().unwrap() = Some(body.to_string());
    }

    /// The next API request is answered with this (once).
    pub fn script(&self, answer: Scripted) {
        self.state.script.lock().unwrap().push_back(answer);
    }

    /// Every API request without a scripted answer is answered with this.
    pub fn always(&self, answer: Scripted) {
        *self.state.always.lock().unwrap() = Some(answer);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn tokens(&self, cache: Arc<dyn TokenCache>) -> Arc<TokenSource> {
        let accounts = Accounts::new(&self.url, None, Duration::from_secs(5)).unwrap();
        let credentials = ClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
        };
        Arc::new(TokenSource::new(
            ORG_ID,
            accounts,
            credentials,
            Secret::new(REFRESH_TOKEN),
            cache,
        ))
    }

    pub fn client(&self, tokens: Arc<TokenSource>) -> DeskClient {
        let mut settings = DeskSettings::new(self.url.clone(), ORG_ID);
        settings.concurrency = 32;
        settings.timeout = Duration::from_secs(2);
        DeskClient::new(settings, tokens).unwrap()
    }
}

async fn answer(
    state: &State,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    if uri.path() == "/oauth/v2/token" && method == Method::POST {
        return token(state, &text).await;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        authorization: header("authorization"),
        org_id: header("orgid"),
        body: text,
    };
    state.log.lock().unwrap().push(seen.clone());
    let token = seen
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Zoho-oauthtoken "));
    if !token.is_some_and(|t| state.valid.lock().unwrap().contains(t)) {
        return reply(Scripted::json(
            401,
            r#"{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}"#,
        ));
    }
    let scripted = state.script.lock().unwrap().pop_front();
    let scripted = scripted.or_else(|| state.always.lock().unwrap().clone());
    reply(scripted.unwrap_or_else(|| empty_page(&seen.query)))
}

/// An empty list page, weighed by D19's tiers from the query's `from`.
fn empty_page(query: &str) -> Scripted {
    let from: u64 = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "from")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let weight = match from {
        0..=2000 => 3,
        2001..=10_000 => 5,
        10_001..=50_000 => 10,
        50_001..=100_000 => 50,
        _ => 100,
    };
    Scripted::json(200, r#"{"data":[]}"#)
        .header("X-Rate-Limit-Request-Weight-v3", weight.to_string())
        .header("X-Rate-Limit-Remaining-v3", "4990")
}

fn reply(scripted: Scripted) -> Response {
    let status = StatusCode::from_u16(scripted.status).unwrap();
    let mut response = (status, scripted.body).into_response();
    for (name, value) in scripted.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn token(state: &State, form: &str) -> Response {
    let json = |body: String| reply(Scripted::json(200, &body));
    if let Some(body) = state.token_reply.lock().unwrap().clone() {
        return json(body);
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("client_id") != Some(CLIENT_ID) {
        return json(r#"{"error":"invalid_client"}"#.into());
    }
    if get("client_secret") != Some(CLIENT_SECRET) {
        return json(r#"{"error":"invalid_client_secret"}"#.into());
    }
    let exchange = match get("grant_type") {
        Some("refresh_token") if get("refresh_token") == Some(REFRESH_TOKEN) => false,
        Some("authorization_code") if get("code") == Some(GRANT_CODE) => true,
        _ => return json(r#"{"error":"invalid_code"}"#.into()),
    };
    // A refresh takes a moment, so that concurrent callers overlap.
    tokio::time::sleep(Duration::from_millis(
        state.refresh_delay_ms.load(Ordering::SeqCst),
    ))
    .await;
    let n = state.next_token.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("{ACCESS_PREFIX}{n}");
    state.valid.lock().unwrap().insert(access.clone());
    state.grants.fetch_add(1, Ordering::SeqCst);
    let refresh = if exchange {
        format!(r#","refresh_token":"{REFRESH_TOKEN}""#)
    } else {
        String::new()
    };
    let expires_in = state.expires_in.load(Ordering::SeqCst);
    json(format!(
        r#"{{"access_token":"{access}"{refresh},"api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":{expires_in}}}"#
    ))
}
