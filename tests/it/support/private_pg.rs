//! A PostgreSQL server of the test's own (initdb in a temporary directory, a free port),
//! for the tests that stop or restart the database under a running sync without
//! disturbing the shared server the other tests use. Needs PostgreSQL's server binaries
//! (as on CI); when run as root they run as the `postgres` user, as PostgreSQL requires.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = server_binaries();
        let dir = tempfile::Builder::new()
            .prefix("zs-private-pg")
            .tempdir()
            .expect("a directory for the private PostgreSQL");
        hand_to_postgres(dir.path());
        let port = super::daemon::free_address().port();
        let data = dir.path().join("data");
        run_as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        let server = PrivatePostgres { dir, bin, port };
        server.pg_ctl("start");
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: connections are cut) and starts it again.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    /// Stops the server (fast shutdown): it refuses connections until `start`.
    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts the server `stop` stopped.
    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            self.port,
            self.dir.path().display()
        );
        run_as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                &data.display().to_string(),
                "-o",
                &options,
                "-m",
                "fast",
                "-w",
                "-l",
                &self.dir.path().join("log").display().to_string(),
                action,
            ],
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "stop"],
        )
        .output();
    }
}

fn server_binaries() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let version = std::fs::read_dir(root)
        .ok()
        .and_then(|entries| entries.filter_map(Result::ok).map(|e| e.path()).max())
        .unwrap_or_else(|| {
            panic!(
                "this test needs PostgreSQL's server binaries under {}",
                root.display()
            )
        });
    version.join("bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn hand_to_postgres(dir: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "cannot give {} to the postgres user",
            dir.display()
        );
    }
}

fn as_postgres(program: &Path, args: &[&str]) -> Command {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args);
    command
}

fn run_as_postgres(program: &Path, args: &[&str]) {
    let output = as_postgres(program, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
