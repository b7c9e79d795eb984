//! The status page as a person sees it: headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs when missing; without it this test fails, it never skips) loads
//! `/` from a daemon that has synced the emulator, and the page it renders holds the
//! quota chart and the stream table with the right figures. A screenshot is saved under
//! `target/` for a person to look at.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;
use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, SyncSettings, SyncSetup};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs headless Chromium on `url` with `args` (a profile of its own, so that tests
/// running side by side do not share one); its standard output.
async fn chromium(profile: &Path, url: &str, args: &[&str]) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's `chromium` (.ci/run does)"
    );
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("chromium finished within a minute")
        .expect("chromium ran");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn headless_chromium_renders_the_status_page_with_the_chart_and_the_streams() {
    let emulator = emulator_with(&[(Module::Requests, 650), (Module::Contacts, 120)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        daily_limit: 60,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    // No round while the page is read (once a year, on 1 January): the figures checked
    // are the backfill's, not a race with the daemon's first round.
    let daemon_settings = DaemonSettings {
        schedule: "0 0 0 1 1 *",
        ..DaemonSettings::default()
    };
    configure(&setup, &daemon_settings);
    setup.run(&["backfill"]).await.assert_success();
    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;
    let url = format!("http://{}/", daemon.listen);
    let profile = tempfile::tempdir().expect("a profile directory");

    let dom = chromium(profile.path(), &url, &["--dump-dom"]).await;
    for part in [
        "<svg class=\"quota\"",
        "<polyline class=\"spent\"",
        "demo/Support/requests",
        "demo/Support/contacts",
        "of 60 requests used",
        "Latest runs",
    ] {
        assert!(
            dom.contains(part),
            "no `{part}` in the rendered page:\n{dom}"
        );
    }
    // 650 and 120 records: 4 and 1 requests, spent before the page was read.
    assert!(dom.contains("<b>5</b> of 60"), "{dom}");
    // Each stream's rows, exactly.
    for rows in [650, 120] {
        assert!(
            dom.contains(&format!("<td class=\"num\">{rows}</td>")),
            "no {rows} rows in the rendered page:\n{dom}"
        );
    }

    let shot: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        profile.path(),
        &url,
        &[
            "--window-size=1000,1100",
            &format!("--screenshot={}", shot.display()),
        ],
    )
    .await;
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG: {}", shot.display());
    daemon.stop(Duration::from_secs(15)).await;
}
