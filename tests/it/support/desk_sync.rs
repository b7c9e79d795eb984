//! Running the real `zoho-sync` binary against the emulator's Zoho Desk side: a config
//! naming one Desk organisation (the emulator's, its URLs overriding the data centre's),
//! its self client's secret and refresh token in environment variables of the command
//! alone, and the mirror's Desk rows read back for comparisons with the emulator's
//! snapshots.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::process::Command;
use zoho_sync::desk::DeskModule;
use zoho_sync::emulator::desk::SelfClientConfig;
use zoho_sync::emulator::EmulatorConfig;
use zoho_sync::stream::StreamKey;

use super::database::TestDatabase;
use super::emulator::TestEmulator;
use super::sync::Outcome;

/// The emulator's demo organisation.
pub const ORG_ID: &str = "20000000001";

pub struct DeskSync {
    pub config_path: PathBuf,
    client: SelfClientConfig,
    _dir: tempfile::TempDir,
}

impl DeskSync {
    /// A config for the emulator's demo organisation, mirroring `modules`.
    pub fn new(emulator: &TestEmulator, database: &TestDatabase, modules: &[&str]) -> DeskSync {
        let base = emulator.running.base_url();
        DeskSync::for_server(&base, SelfClientConfig::demo(), database, modules)
    }

    /// A config for organisation `ORG_ID` of the Desk server at `base` (its Accounts too),
    /// whose self client is `client`.
    pub fn for_server(
        base: &str,
        client: SelfClientConfig,
        database: &TestDatabase,
        modules: &[&str],
    ) -> DeskSync {
        let dir = tempfile::tempdir().expect("temp dir");
        let modules: String = modules
            .iter()
            .map(|m| format!("{m} = {{ priority = 1 }}\n"))
            .collect();
        let base = base.trim_end_matches('/');
        let text = format!(
            r#"
[database]
url = "{db}"
schema = "zoho"
desk_schema = "zoho_desk"

[api]
timeout_secs = 10
max_clock_skew_secs = 0

[api.retry]
max_retries = 3
initial_delay_ms = 10
max_delay_ms = 50

[[organisations]]
name = "desk"
api = "desk"
dc = "us"
org_id = "{ORG_ID}"
client_id = "{client_id}"
client_secret_env = "ZS_TEST_DESK_SECRET"
refresh_token_env = "ZS_TEST_DESK_REFRESH"
edition = "free"
base_url = "{base}"
accounts_url = "{base}"

[organisations.modules]
{modules}"#,
            db = database.url,
            client_id = client.client_id,
        );
        let config_path = dir.path().join("sync.toml");
        std::fs::write(&config_path, text).expect("config file");
        DeskSync {
            config_path,
            client,
            _dir: dir,
        }
    }

    /// Rewrites the generated config.
    pub fn edit_config(&self, edit: impl FnOnce(&str) -> String) {
        let text = std::fs::read_to_string(&self.config_path).expect("config file");
        std::fs::write(&self.config_path, edit(&text)).expect("config file");
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zoho-sync"));
        command
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("ZS_TEST_DESK_SECRET", self.client.client_secret.expose())
            .env("ZS_TEST_DESK_REFRESH", self.client.refresh_token.expose())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        command
    }

    /// Runs a command to its end.
    pub async fn run(&self, args: &[&str]) -> Outcome {
        let output = self.command(args).output().await.expect("run zoho-sync");
        Outcome::from(output)
    }

    /// Starts a command in the background, its output discarded.
    pub fn start(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start zoho-sync")
    }
}

/// The mirror of one Desk module: id → the record as stored.
pub async fn desk_mirror(database: &TestDatabase, module: DeskModule) -> BTreeMap<i64, Value> {
    let loader = super::sync::loader(database).await;
    loader
        .desk_rows(&StreamKey::desk(ORG_ID, module))
        .await
        .expect("the Desk mirror")
}

/// The emulator's records of one Desk module: id → the object GET by id returns.
pub async fn desk_source(emulator: &TestEmulator, module: DeskModule) -> BTreeMap<i64, Value> {
    let snapshot = emulator
        .admin_get(&format!("desk/records/{ORG_ID}/{}", module.url_name()))
        .await;
    snapshot
        .as_object()
        .expect("a snapshot object")
        .iter()
        .map(|(id, record)| (id.parse().expect("a numeric id"), record.clone()))
        .collect()
}

/// An emulator whose demo Desk organisation holds `records` records per module, born now
/// (the newest modified a moment ago).
pub async fn desk_emulator(records: u64) -> TestEmulator {
    let mut config = EmulatorConfig::default().with_records(0);
    config.desk = config.desk.with_records(records);
    TestEmulator::start(config).await
}

/// Lets the search index show every write so far (D16: a pass reads up to its start less
/// ten minutes).
pub async fn past_the_index_lag(emulator: &TestEmulator) {
    emulator
        .admin_post("desk/clock", serde_json::json!({ "advance_secs": 11 * 60 }))
        .await;
}

/// Every source record is mirrored, its modification time as the source's.
pub async fn assert_mirror_equals_source(
    emulator: &TestEmulator,
    database: &TestDatabase,
    module: DeskModule,
) {
    let source = desk_source(emulator, module).await;
    let mirror = desk_mirror(database, module).await;
    let missing: Vec<_> = source
        .keys()
        .filter(|id| !mirror.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{module:?}: {} missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(
        mirror.len(),
        source.len(),
        "{module:?}: rows the source does not hold"
    );
    for (id, record) in &source {
        assert_eq!(
            mirror[id]["modifiedTime"], record["modifiedTime"],
            "{module:?} record {id}"
        );
    }
}

/// The credits the emulator charged the demo organisation, by day.
pub async fn charged(emulator: &TestEmulator) -> std::collections::BTreeMap<String, u64> {
    let counters = emulator.admin_get("desk/counters").await;
    let by_day = &counters["credits"][ORG_ID]["charged_by_day"];
    by_day
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(day, n)| (day.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The credits the ledger reserved, by day.
pub async fn reserved(database: &TestDatabase) -> std::collections::BTreeMap<String, u64> {
    let rows: Vec<(chrono::NaiveDate, i32)> =
        sqlx::query_as("SELECT day, used FROM zoho.quota_ledger ORDER BY day")
            .fetch_all(&database.pool)
            .await
            .expect("the ledger");
    rows.into_iter()
        .map(|(day, used)| (day.to_string(), u64::try_from(used).unwrap_or(0)))
        .collect()
}
