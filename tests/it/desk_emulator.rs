//! The Desk side of the emulator over HTTP: OAuth, the API's rules of section 0 (D1-D25)
//! and the admin API, each checked against the contract's exact bodies and headers. The
//! emulator runs in-process on a free port (the same server as the legacy API); tests set
//! its clock to a fixed instant and steer it through `/_emulator/desk/`.

mod api;
mod bin;
mod credits;
mod oauth;
mod records;

use std::net::SocketAddr;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use zoho_sync::emulator::desk::config::DeskConfig;
use zoho_sync::emulator::desk::{DeskOrgConfig, SelfClientConfig};
use zoho_sync::emulator::{spawn, EmulatorConfig, RunningEmulator};

/// The instant every test starts at: a Wednesday noon, UTC.
pub const NOON: &str = "2026-03-04T12:00:00Z";

pub struct Desk {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
    pub client: SelfClientConfig,
    pub org_id: String,
    /// An access token of the demo self client.
    pub token: String,
}

/// What came back over HTTP, body as text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `data` rows' values of `key`.
    pub fn column(&self, key: &str) -> Vec<String> {
        let json = self.json();
        let rows = json["data"].as_array().cloned().unwrap_or_default();
        rows.iter()
            .map(|r| r[key].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Desk {
    /// The demo organisation with `records` records per module, its clock at `NOON`.
    pub async fn start(records: u64) -> Desk {
        Desk::with(DeskConfig::default().with_records(records)).await
    }

    /// The demo organisation changed by `change`, 30 records per module.
    pub async fn with_org(change: impl FnOnce(&mut DeskOrgConfig)) -> Desk {
        let mut desk = DeskConfig::default().with_records(30);
        if let Some(org) = desk.organisations.first_mut() {
            change(org);
        }
        Desk::with(desk).await
    }

    pub async fn with(desk: DeskConfig) -> Desk {
        let mut config = EmulatorConfig::default().with_records(2);
        config.desk = desk;
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let running = spawn(config, listen).await.expect("the emulator starts");
        let org = running.desk_org().cloned().expect("a desk organisation");
        let mut desk = Desk {
            running,
            http: reqwest::Client::new(),
            client: org.self_client,
            org_id: org.org_id,
            token: String::new(),
        };
        desk.admin_post("clock", json!({ "set": NOON })).await;
        desk.token = desk.refresh().await["access_token"]
            .as_str()
            .expect("a token")
            .to_string();
        desk
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// The form a refresh sends (D2).
    pub fn refresh_form(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "refresh_token",
                self.client.refresh_token.expose().to_string(),
            ),
            ("client_id", self.client.client_id.clone()),
            (
                "client_secret",
                self.client.client_secret.expose().to_string(),
            ),
            ("grant_type", "refresh_token".to_string()),
        ]
    }

    /// A refresh of the demo self client, as JSON.
    pub async fn refresh(&self) -> Value {
        serde_json::from_str(&self.token_request(&self.refresh_form()).await.body).expect("JSON")
    }

    pub async fn token_request(&self, form: &[(&str, String)]) -> Answer {
        let sent = self
            .http
            .post(self.url("/oauth/v2/token"))
            .form(form)
            .send()
            .await;
        answer(sent.expect("the token endpoint answers")).await
    }

    /// A Desk call with the demo token and org id.
    pub async fn get(&self, path: &str, query: &str) -> Answer {
        self.call(Method::GET, path, query, None).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<Value>,
    ) -> Answer {
        let headers = [
            ("Authorization", format!("Zoho-oauthtoken {}", self.token)),
            ("orgId", self.org_id.clone()),
        ];
        self.raw(method, path, query, &headers, body).await
    }

    /// A Desk call with exactly these headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        query: &str,
        headers: &[(&str, String)],
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(
            method,
            format!("{}?{query}", self.url(&format!("/api/v1/{path}"))),
        );
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        answer(request.send().await.expect("the emulator answers")).await
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let sent = self
            .http
            .get(self.url(&format!("/_emulator/desk/{path}")))
            .send()
            .await;
        let answer = answer(sent.expect("admin answers")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer.json()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let url = self.url(&format!("/_emulator/desk/{path}"));
        let sent = self.http.post(url).body(body.to_string()).send().await;
        let answer = answer(sent.expect("admin answers")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer.json()
    }

    pub async fn advance(&self, secs: i64) {
        self.admin_post("clock", json!({ "advance_secs": secs }))
            .await;
    }

    /// Moves the clock (past the access token's hour, say) and takes a fresh token.
    pub async fn advance_and_refresh(&mut self, secs: i64) {
        self.advance(secs).await;
        let fresh = self.refresh().await;
        self.token = fresh["access_token"].as_str().expect("a token").to_string();
    }

    /// The ids of the live records of a module, from the snapshot.
    pub async fn ids(&self, module: &str) -> Vec<String> {
        let snapshot = self
            .admin_get(&format!("records/{}/{module}", self.org_id))
            .await;
        snapshot
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Credits charged today, by the admin counters.
    pub async fn credits_used(&self) -> u64 {
        let counters = self.admin_get("counters").await;
        counters["credits"][&self.org_id]["used"]
            .as_u64()
            .expect("credits used")
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a body");
    Answer {
        status,
        headers,
        body,
    }
}

/// The body of a contract error (section 7).
pub fn error(code: &str, message: &str) -> String {
    format!(r#"{{"errorCode":"{code}","message":"{message}"}}"#)
}
