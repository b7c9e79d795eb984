//! Running `zoho-sync daemon` as the service would run: the real binary against a test's
//! emulator and database, its `[daemon]` settings appended to the generated config, each
//! process on a free loopback port of its own (so several can share one config) and its
//! log in a file next to the config (a pipe nobody reads would block it). Signals are
//! sent as an operator sends them, with `kill`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use super::sync::SyncSetup;

/// The `[daemon]` and `[database]` knobs the daemon tests turn.
#[derive(Clone, Debug)]
pub struct DaemonSettings {
    /// Cron with seconds, read in the emulator's clock.
    pub schedule: &'static str,
    pub pace: bool,
    pub lease_secs: u64,
    /// `daemon.polling`: the tests of rounds on a schedule poll `fixed`.
    pub polling: &'static str,
    /// `daemon.min_interval_secs`, for adaptive polling.
    pub min_interval_secs: u64,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            schedule: "*/1 * * * * *",
            pace: true,
            lease_secs: 120,
            polling: "fixed",
            min_interval_secs: 60,
        }
    }
}

/// Adds the daemon's settings to the config `setup` wrote.
pub fn configure(setup: &SyncSetup, settings: &DaemonSettings) {
    setup.set_lease_secs(settings.lease_secs);
    setup.edit_config(|text| {
        format!(
            "{text}\n[daemon]\nschedule = \"{}\"\nlisten = \"127.0.0.1:9\"\npace = {}\n\
             polling = \"{}\"\nmin_interval_secs = {}\n",
            settings.schedule, settings.pace, settings.polling, settings.min_interval_secs
        )
    });
}

/// A loopback address nothing listens on now.
pub fn free_address() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    probe.local_addr().expect("the free port")
}

/// One running `zoho-sync daemon`.
pub struct Daemon {
    child: Child,
    pub listen: SocketAddr,
    pub pid: u32,
    log_path: PathBuf,
    http: reqwest::Client,
}

impl Daemon {
    /// Starts a daemon on the setup's config, its endpoint on a free port.
    pub fn start(setup: &SyncSetup) -> Daemon {
        Daemon::start_with(setup, &[])
    }

    /// `start`, with these variables added to the daemon's environment.
    pub fn start_with(setup: &SyncSetup, env: &[(&str, &str)]) -> Daemon {
        let listen = free_address();
        let log_path = setup
            .config_path
            .with_file_name(format!("daemon-{}.log", listen.port()));
        let log = std::fs::File::create(&log_path).expect("daemon log file");
        let child = Command::new(env!("CARGO_BIN_EXE_zoho-sync"))
            .arg("--config")
            .arg(&setup.config_path)
            .arg("daemon")
            .env_remove("DATABASE_URL")
            .env_remove("ZOHO_AUTHTOKEN")
            .env("ZOHO_SYNC__DAEMON__LISTEN", listen.to_string())
            .env("RUST_LOG", "info,sqlx=warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("start zoho-sync daemon");
        let pid = child.id().expect("the daemon's pid");
        Daemon {
            child,
            listen,
            pid,
            log_path,
            http: reqwest::Client::new(),
        }
    }

    /// Whether a lease holder name (`host:pid:tag`) is this process.
    pub fn holds(&self, holder: &str) -> bool {
        holder.split(':').nth(1) == Some(self.pid.to_string().as_str())
    }

    /// Sends a signal by name (`TERM`, `KILL`, …).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {} failed", self.pid);
    }

    /// Waits for the process to end; `None` if it is still running after `limit`.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .map(|status| status.expect("reap the daemon"))
    }

    /// SIGKILL, then reaps the process.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("kill the daemon");
        self.wait(Duration::from_secs(5))
            .await
            .expect("a killed daemon ends");
    }

    /// SIGTERM, and the exit status within `limit` (panics with the log if it hangs).
    pub async fn stop(&mut self, limit: Duration) -> ExitStatus {
        self.signal("TERM");
        match self.wait(limit).await {
            Some(status) => status,
            None => panic!(
                "the daemon did not stop within {limit:?} of SIGTERM; its log:\n{}",
                self.log()
            ),
        }
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// GET on the daemon's endpoint: status and body (`None` while it does not answer).
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        self.get_as(path, None).await
    }

    /// `get`, with `Authorization: Bearer <token>` when a token is given.
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> Option<(u16, String)> {
        let mut request = self
            .http
            .get(format!("http://{}{path}", self.listen))
            .timeout(Duration::from_secs(5));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Waits until `/readyz` answers 200 (the database connected and migrated).
    pub async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some((200, _)) = self.get("/readyz").await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the daemon never became ready; its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
