//! An emulator per test, on a free loopback port, with a client for its admin API and
//! wire clients configured against it. Tests steer time, faults and churn through the
//! admin API exactly as an operator would, and compare with its record snapshots.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use url::Url;
use zoho_sync::emulator::config::EmulatorConfig;
use zoho_sync::emulator::server::{spawn, RunningEmulator};
use zoho_sync::zoho::client::{Client, ClientSettings};
use zoho_sync::zoho::retry::RetryPolicy;
use zoho_sync::zoho::{Format, Module, Secret};

pub struct TestEmulator {
    pub running: RunningEmulator,
    http: reqwest::Client,
}

/// The demo portal, department and records per module used unless a test says otherwise.
pub const PORTAL: &str = "demo";
pub const DEPARTMENT: &str = "Support";

impl TestEmulator {
    pub async fn start(config: EmulatorConfig) -> TestEmulator {
        let running = spawn(config, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("the emulator starts");
        TestEmulator {
            running,
            http: reqwest::Client::new(),
        }
    }

    /// The default demo portal with `records` records per module.
    pub async fn with_records(records: u64) -> TestEmulator {
        TestEmulator::start(EmulatorConfig::default().with_records(records)).await
    }

    pub fn base_url(&self) -> Url {
        Url::parse(&self.running.base_url()).expect("base url")
    }

    pub fn token(&self) -> Secret {
        self.running.token().cloned().expect("the demo token")
    }

    /// Settings for the demo portal: fast retries so fault tests stay quick.
    pub fn settings(&self, format: Format) -> ClientSettings {
        ClientSettings {
            base_url: self.base_url(),
            format,
            portal: PORTAL.into(),
            department: DEPARTMENT.into(),
            authtoken: self.token(),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_body_bytes: 8 << 20,
            retry: RetryPolicy {
                max_retries: 3,
                initial_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
            },
        }
    }

    pub fn client(&self, format: Format) -> Client {
        Client::new(self.settings(format)).expect("client")
    }

    /// A client that never retries, to observe a single failure's typed error.
    pub fn client_without_retry(&self, format: Format) -> Client {
        let mut settings = self.settings(format);
        settings.retry.max_retries = 0;
        Client::new(settings).expect("client")
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let url = format!("{}/_emulator/{path}", self.running.base_url());
        let response = self.http.get(url).send().await.expect("admin GET");
        assert!(
            response.status().is_success(),
            "admin GET {path}: {}",
            response.status()
        );
        response.json().await.expect("admin JSON")
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/_emulator/{path}", self.running.base_url());
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("admin POST");
        let status = response.status();
        let value: Value = response.json().await.expect("admin JSON");
        assert!(status.is_success(), "admin POST {path}: {status} {value}");
        value
    }

    pub async fn set_clock(&self, rfc3339: &str) {
        self.admin_post("clock", json!({ "set": rfc3339 })).await;
    }

    /// Every answer is held back `millis` more (0: none), so that a kill or a signal lands
    /// inside a page, or several processes are at work at once.
    pub async fn set_latency(&self, millis: u64) {
        self.admin_post("latency", json!({ "millis": millis }))
            .await;
    }

    /// Faults the next `n` record-API requests with `kind`.
    pub async fn fault_next(&self, kind: &str, n: u32) {
        self.admin_post("faults", json!({ "kind": kind, "next": n }))
            .await;
    }

    /// Requests charged to the demo portal today.
    pub async fn quota_used(&self) -> u64 {
        let counters = self.admin_get("counters").await;
        counters["quota"][PORTAL]["used"]
            .as_u64()
            .expect("quota used")
    }

    /// The source's records of one module: id → label → value.
    pub async fn snapshot(
        &self,
        module: Module,
    ) -> BTreeMap<u64, BTreeMap<String, Option<String>>> {
        let rows = self
            .admin_get(&format!(
                "records/{PORTAL}/{DEPARTMENT}/{}",
                module.url_name()
            ))
            .await;
        rows.as_array()
            .expect("an array of records")
            .iter()
            .map(|row| {
                let id = row["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
                let fields = row["fields"]
                    .as_object()
                    .expect("fields")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                    .collect();
                (id, fields)
            })
            .collect()
    }
}
