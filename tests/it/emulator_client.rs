//! A thin HTTP driver for the emulator tests: an in-process emulator with few records,
//! raw record-API calls returning status, content type and body as text, and the admin
//! API as JSON. Nothing here interprets answers; the tests compare exact bodies.

use std::net::SocketAddr;

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use zoho_sync::emulator::{spawn, EmulatorConfig, RunningEmulator};

pub struct Emu {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
}

/// What came back over HTTP.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Emu {
    /// The default demo config with `records` records per module.
    pub async fn start(records: u64) -> Emu {
        Emu::with_config(EmulatorConfig::default().with_records(records)).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Emu {
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let running = spawn(config, listen).await.expect("the emulator starts");
        let token = running
            .token()
            .map(|t| t.expose().to_string())
            .unwrap_or_default();
        Emu {
            running,
            http: reqwest::Client::new(),
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// GET `path?{query}` as is.
    pub async fn get_raw(&self, path: &str, query: &str) -> Answer {
        let url = format!("{}?{query}", self.url(path));
        answer(
            self.http
                .get(url)
                .send()
                .await
                .expect("the emulator answers"),
        )
        .await
    }

    /// GET with the demo token, portal and department prepended to `query`.
    pub async fn get(&self, path: &str, query: &str) -> Answer {
        let query = format!(
            "authtoken={}&portal=demo&department=Support&{query}",
            self.token
        );
        self.get_raw(path, &query).await
    }

    /// A form POST with the demo token, portal and department plus `form`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut all = vec![
            ("authtoken", self.token.as_str()),
            ("portal", "demo"),
            ("department", "Support"),
        ];
        all.extend_from_slice(form);
        answer(
            self.http
                .post(self.url(path))
                .form(&all)
                .send()
                .await
                .expect("the emulator answers"),
        )
        .await
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        admin_json(self.http.get(self.url(path)).send().await).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let request = self
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/json");
        admin_json(request.body(body.to_string()).send().await).await
    }

    pub async fn set_clock(&self, rfc3339: &str) {
        self.admin_post("/_emulator/clock", serde_json::json!({ "set": rfc3339 }))
            .await;
    }

    /// How many requests the demo portal has been charged today.
    pub async fn quota_used(&self) -> u64 {
        let counters = self.admin_get("/_emulator/counters").await;
        counters["quota"]["demo"]["used"]
            .as_u64()
            .expect("a quota count")
    }
}

async fn admin_json(sent: reqwest::Result<reqwest::Response>) -> Value {
    let answer = answer(sent.expect("admin answers")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).expect("admin JSON")
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.text().await.expect("a body");
    Answer {
        status,
        content_type,
        body,
    }
}

/// The 4600 error body (JSON) naming `param`.
pub fn bad_param_json(uri: &str, param: &str) -> String {
    format!(
        r#"{{"response":{{"uri":"{uri}","error":{{"code":"4600","message":"Unable to process your request. Please verify if the name and value is appropriate for the \"{param}\" parameter."}}}}}}"#
    )
}

/// An error body (JSON) with `code` and `message`.
pub fn error_json(uri: &str, code: u32, message: &str) -> String {
    format!(r#"{{"response":{{"uri":"{uri}","error":{{"code":"{code}","message":"{message}"}}}}}}"#)
}
