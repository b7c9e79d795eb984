//! Running the real `zoho-sync` binary against a test's emulator and database: a config
//! file written for the pair (the token in a file, never in the environment that tests
//! share), and helpers to run a command to its end or to start it and kill it.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use tokio::process::{Child, Command};

use super::database::TestDatabase;
use super::emulator::{TestEmulator, DEPARTMENT, PORTAL};

/// Knobs of the generated `sync.toml`.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    pub modules: Vec<&'static str>,
    pub daily_limit: u32,
    pub reserve: u32,
    pub format: &'static str,
    pub concurrency: usize,
    pub read_ahead: usize,
    pub max_retries: u32,
    /// `api.max_clock_skew_secs`: 0 (always believe the server) for the emulator, whose
    /// clock tests move on purpose; `None` keeps the default bound.
    pub max_clock_skew_secs: Option<u64>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            modules: vec!["requests"],
            daily_limit: 15_000,
            reserve: 0,
            format: "json",
            concurrency: 2,
            read_ahead: 0,
            max_retries: 3,
            max_clock_skew_secs: Some(0),
        }
    }
}

pub struct SyncSetup {
    pub config_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SyncSetup {
    pub fn new(
        emulator: &TestEmulator,
        database: &TestDatabase,
        settings: &SyncSettings,
    ) -> SyncSetup {
        let base_url = emulator.running.base_url();
        SyncSetup::for_server(&base_url, emulator.token().expose(), database, settings)
    }

    /// A setup against any server speaking the record API (a hostile one, say).
    pub fn for_server(
        base_url: &str,
        token: &str,
        database: &TestDatabase,
        settings: &SyncSettings,
    ) -> SyncSetup {
        let dir = tempfile::tempdir().expect("temp dir");
        let token_path = dir.path().join("token");
        std::fs::write(&token_path, token).expect("token file");
        let modules: String = settings
            .modules
            .iter()
            .map(|m| format!("{m} = {{ priority = 1 }}\n"))
            .collect();
        let text = format!(
            r#"
[database]
url = "{db}"
schema = "zoho"

[api]
base_url = "{base}"
accounts_url = "{base}"
timeout_secs = 10
concurrency = {concurrency}
read_ahead = {read_ahead}
backfill_read_ahead = {read_ahead}
{skew}

[api.retry]
max_retries = {retries}
initial_delay_ms = 10
max_delay_ms = 50

[[organisations]]
name = "demo"
portal = "{PORTAL}"
departments = ["{DEPARTMENT}"]
edition = "enterprise"
daily_limit = {limit}
reserve = {reserve}
authtoken_env = "ZOHO_SYNC_TEST_TOKEN_UNSET"
authtoken_file = "{token}"
format = "{format}"

[organisations.modules]
{modules}"#,
            db = database.url,
            base = base_url,
            concurrency = settings.concurrency,
            read_ahead = settings.read_ahead,
            skew = settings
                .max_clock_skew_secs
                .map_or(String::new(), |s| format!("max_clock_skew_secs = {s}")),
            retries = settings.max_retries,
            limit = settings.daily_limit,
            reserve = settings.reserve,
            token = token_path.display(),
            format = settings.format,
        );
        let config_path = dir.path().join("sync.toml");
        std::fs::write(&config_path, text).expect("config file");
        SyncSetup {
            config_path,
            _dir: dir,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zoho-sync"));
        command
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("ZOHO_AUTHTOKEN")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs a command to its end.
    pub async fn run(&self, args: &[&str]) -> Outcome {
        let output = self.command(args).output().await.expect("run zoho-sync");
        Outcome::from(output)
    }

    /// Starts a command in the background.
    pub fn start(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("start zoho-sync")
    }

    /// Starts a command in the background, its stderr (with `info` logs) in a file next
    /// to the config that a test can read while it runs (a pipe nobody reads would block
    /// it); returns the process and the file.
    pub fn start_logged(&self, args: &[&str]) -> (Child, PathBuf) {
        let log_path = self.config_path.with_file_name(format!(
            "{}-{}.log",
            args.join("-"),
            rand::random::<u32>()
        ));
        let log = std::fs::File::create(&log_path).expect("a log file");
        let child = self
            .command(args)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start zoho-sync");
        (child, log_path)
    }
}

/// How a command ended, with its output as text.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Opens the test database the way the binary does, to read the mirror.
pub async fn loader(database: &TestDatabase) -> zoho_sync::loader::Loader {
    zoho_sync::loader::Loader::connect(
        &zoho_sync::zoho::Secret::new(database.url.clone()),
        "zoho",
        4,
    )
    .await
    .expect("open the mirror")
}

pub fn stream(module: zoho_sync::zoho::Module) -> zoho_sync::stream::StreamKey {
    zoho_sync::stream::StreamKey {
        portal: PORTAL.into(),
        department: DEPARTMENT.into(),
        module: module.into(),
    }
}

/// The mirror of one module as id → fields.
pub async fn mirror(
    loader: &zoho_sync::loader::Loader,
    module: zoho_sync::zoho::Module,
) -> std::collections::BTreeMap<u64, std::collections::BTreeMap<String, Option<String>>> {
    loader
        .mirror_rows(&stream(module))
        .await
        .expect("mirror rows")
        .into_iter()
        .map(|row| (row.id.0, row.fields))
        .collect()
}

/// Requests the emulator served for `getrecords` (every outcome counts; none yet is 0,
/// as the counter appears with the first request).
pub async fn getrecords_served(emulator: &TestEmulator) -> u64 {
    let counters = emulator.admin_get("counters").await;
    match &counters["requests"]["by_method"]["getrecords"] {
        serde_json::Value::Null => 0,
        served => served
            .as_u64()
            .unwrap_or_else(|| panic!("a bad getrecords counter in {counters}")),
    }
}

impl SyncSetup {
    /// Replaces the authtoken in the token file the config names.
    pub fn set_token(&self, token: &str) {
        let path = self.config_path.with_file_name("token");
        std::fs::write(path, token).expect("token file");
    }

    /// Rewrites the generated config (for tests of bad settings).
    pub fn edit_config(&self, edit: impl FnOnce(&str) -> String) {
        let text = std::fs::read_to_string(&self.config_path).expect("config file");
        std::fs::write(&self.config_path, edit(&text)).expect("config file");
    }
}

/// An emulator whose demo portal holds these records and nothing else, on the edition
/// the generated config names (Enterprise: 15,000 requests a day).
pub async fn emulator_with(records: &[(zoho_sync::zoho::Module, u64)]) -> TestEmulator {
    let mut config = zoho_sync::emulator::config::EmulatorConfig::default().with_records(0);
    config.portals[0].edition = zoho_sync::quota::Edition::Enterprise;
    config.portals[0].licences = 100;
    for &(module, n) in records {
        config.portals[0].records.insert(module, n);
    }
    TestEmulator::start(config).await
}

/// `emulator_with`, every answer held back `millis`.
pub async fn slow_emulator_with(
    records: &[(zoho_sync::zoho::Module, u64)],
    millis: u64,
) -> TestEmulator {
    let emulator = emulator_with(records).await;
    emulator.set_latency(millis).await;
    emulator
}

/// Every module's mirror equals the source, field for field, with no row twice.
pub async fn assert_mirror_equals_source(
    emulator: &TestEmulator,
    database: &TestDatabase,
    modules: &[zoho_sync::zoho::Module],
) {
    let loader = loader(database).await;
    for &module in modules {
        let rows = loader
            .mirror_rows(&stream(module))
            .await
            .expect("mirror rows");
        let mirror = mirror(&loader, module).await;
        assert_eq!(
            rows.len(),
            mirror.len(),
            "{module}: a record is mirrored twice"
        );
        let source = emulator.snapshot(module).await;
        assert_eq!(mirror.len(), source.len(), "{module}: row counts differ");
        assert!(
            mirror == source,
            "{module}: the mirror differs from the source"
        );
    }
}

/// The emulator's whole request log, oldest first.
pub async fn request_log(emulator: &TestEmulator) -> Vec<serde_json::Value> {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = emulator
            .admin_get(&format!("log?after={after}&limit=1000"))
            .await;
        let page = page.as_array().cloned().expect("a log array");
        let Some(last) = page.last() else {
            return entries;
        };
        after = last["seq"].as_u64().expect("a log sequence number");
        entries.extend(page);
    }
}

/// The emulator's clock now.
pub async fn emulator_now(emulator: &TestEmulator) -> chrono::DateTime<chrono::Utc> {
    let clock = emulator.admin_get("clock").await;
    clock["now"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("no clock reading in {clock}"))
}

/// Polls `check` until it holds; fails the test with `what` after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

impl SyncSetup {
    /// Sets `database.lease_secs`: how long a stream stays leased to a live process that
    /// stopped renewing it (a dead one's streams are free at once).
    pub fn set_lease_secs(&self, secs: u64) {
        self.edit_config(|text| {
            text.replacen(
                "schema = \"zoho\"",
                &format!("schema = \"zoho\"\nlease_secs = {secs}"),
                1,
            )
        });
    }
}
