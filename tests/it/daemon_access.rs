//! Who may read the daemon's metrics and status page: off loopback the daemon refuses to start without a
//! bearer token (exit 2, naming `daemon.auth_token_env`); with one, `/metrics` and `/` answer
//! 401 to a request without it or with another, while `/healthz` and `/readyz` stay open
//! for probes, and the token never appears in the log.

use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::sync::{emulator_with, Outcome, SyncSettings, SyncSetup};

const TOKEN: &str = "metrics-bearer-7f3a9c1e5b";

#[tokio::test]
async fn a_daemon_listening_beyond_loopback_without_a_token_exits_2_naming_the_key() {
    let emulator = emulator_with(&[(Module::Requests, 10)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    configure(&setup, &DaemonSettings::default());
    let output = setup
        .command(&["daemon"])
        .env("ZOHO_SYNC__DAEMON__LISTEN", "0.0.0.0:0")
        .output()
        .await
        .expect("run the daemon");
    let outcome = Outcome::from(output);
    assert_eq!(outcome.code, Some(2), "{outcome:?}");
    assert!(
        outcome.stderr.contains("daemon.auth_token_env"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test]
async fn with_a_token_metrics_need_it_and_the_health_checks_do_not() {
    let emulator = emulator_with(&[(Module::Requests, 10)]).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    configure(&setup, &DaemonSettings::default());
    setup.edit_config(|text| {
        text.replace(
            "[daemon]\n",
            "[daemon]\nauth_token_env = \"ZS_TEST_METRICS_TOKEN\"\n",
        )
    });
    let mut daemon = Daemon::start_with(&setup, &[("ZS_TEST_METRICS_TOKEN", TOKEN)]);
    daemon.wait_ready().await;
    assert_eq!(daemon.get("/healthz").await.map(|(s, _)| s), Some(200));
    assert_eq!(daemon.get("/metrics").await.map(|(s, _)| s), Some(401));
    assert_eq!(
        daemon.get("/").await.map(|(s, _)| s),
        Some(401),
        "the status page"
    );
    let wrong = daemon
        .get_as("/metrics", Some("metrics-bearer-0000000000"))
        .await;
    assert_eq!(wrong.map(|(s, _)| s), Some(401));
    let (status, body) = daemon
        .get_as("/metrics", Some(TOKEN))
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("zoho_sync_auth_failures_total"), "{body}");
    daemon.stop(std::time::Duration::from_secs(15)).await;
    assert!(!daemon.log().contains(TOKEN), "the log holds the token");
}
