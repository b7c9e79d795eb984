//! The status page as an operator opens it: the daemon serves it at `/` and
//! `status --html FILE` writes the same page once. After a backfill and a sync, it shows
//! the quota chart with the day's spending, the stream with its exact row count, its dead
//! letters and its backfill complete, and the latest runs with the process that ran them.

use std::time::Duration;

use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, SyncSettings, SyncSetup};

fn assert_page(html: &str) {
    for part in [
        "<!doctype html>",
        "<meta http-equiv=\"refresh\" content=\"30\">",
        "<svg class=\"quota\"",
        "<polyline class=\"spent\"",
        "demo/Support/requests",
        "complete",
        "Latest runs",
        "backfill",
        " pid ",
    ] {
        assert!(html.contains(part), "no `{part}` in:\n{html}");
    }
}

#[tokio::test]
async fn the_daemon_serves_the_status_page_and_status_writes_it_once() {
    let emulator = emulator_with(&[(Module::Requests, 450)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        daily_limit: 100,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    configure(&setup, &DaemonSettings::default());
    setup.run(&["backfill"]).await.assert_success();
    setup.run(&["sync"]).await.assert_success();

    let file = setup.config_path.with_file_name("status.html");
    let written = setup
        .run(&["status", "--html", file.to_str().expect("a path")])
        .await;
    written.assert_success();
    let html = std::fs::read_to_string(&file).expect("the page written");
    assert_page(&html);
    // The stream's live rows, exactly (kept as the pages committed).
    assert!(html.contains("<td class=\"num\">450</td>"), "{html}");
    // The requests of the backfill and the sync were recorded by the hour: the line of
    // units spent has risen from the day's start.
    let points = html
        .split("<polyline class=\"spent\" points=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the spent line");
    let y = |point: Option<&str>| -> f64 {
        point
            .and_then(|p| p.split(',').nth(1))
            .and_then(|y| y.parse().ok())
            .expect("a point")
    };
    let (first_y, last_y) = (
        y(points.split_whitespace().next()),
        y(points.split_whitespace().last()),
    );
    assert!(last_y < first_y, "the line did not rise: {points}");

    let mut daemon = Daemon::start(&setup);
    daemon.wait_ready().await;
    let (status, body) = daemon.get("/").await.expect("/ answers");
    assert_eq!(status, 200, "{body}");
    assert_page(&body);
    daemon.stop(Duration::from_secs(15)).await;
}
