//! Restarting at once: a `backfill` started right after another was killed with SIGKILL
//! continues at once, with the default `lease_secs`, because the killed process's
//! presence lock died with its session; a stream a live process really holds is left to
//! it, and the command says who holds it (host, pid, since when) and exits 3.

use std::time::{Duration, Instant};

use zoho_sync::store::{Claim, Holder};
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_with, loader, mirror, slow_emulator_with, stream,
    wait_for, SyncSettings, SyncSetup,
};

#[tokio::test]
async fn a_backfill_restarted_right_after_a_kill_9_continues_at_once_with_the_default_lease() {
    let emulator = slow_emulator_with(&[(Module::Requests, 6_000)], 20).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let loader = loader(&database).await;
    let key = stream(Module::Requests);

    let mut killed = setup.start(&["backfill"]);
    wait_for("some pages to commit", Duration::from_secs(30), || async {
        loader.mirror_count(&key).await.unwrap_or(0) >= 400
    })
    .await;
    killed.start_kill().expect("kill -9 the backfill");
    killed.wait().await.expect("reap the backfill");
    let before = loader.mirror_count(&key).await.expect("rows");
    // PostgreSQL ends the killed process's sessions (and drops its presence lock) as
    // each notices its client is gone, which can take a few milliseconds.
    wait_for(
        "the killed process's lease row to stay, unexpired but dead",
        Duration::from_secs(10),
        || async {
            let rows = loader.leases().await.expect("leases");
            rows.iter().any(|lease| lease.stream == key && !lease.live)
        },
    )
    .await;

    let restarted = Instant::now();
    let outcome = setup.run(&["backfill"]).await;
    outcome.assert_success();
    let output = format!("{}{}", outcome.stdout, outcome.stderr);
    assert!(outcome.stdout.contains("demo: complete"), "{output}");
    assert!(
        !output.contains("another process") && !output.contains("held by"),
        "{output}"
    );
    assert!(
        restarted.elapsed() < Duration::from_secs(60),
        "the restart took {:?}: it waited for the lease",
        restarted.elapsed()
    );
    assert!(loader.mirror_count(&key).await.expect("rows") > before);
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}

#[tokio::test]
async fn a_backfill_whose_stream_a_live_process_holds_exits_3_naming_its_host_pid_and_since() {
    let emulator = emulator_with(&[(Module::Requests, 1_000), (Module::Contacts, 1_000)]).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts"],
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    // Another live process: this one, its presence lock held by its loader.
    let holder = loader(&database).await;
    let busy = Holder {
        name: "busy-host:4242:0000cafe".into(),
        host: "busy-host".into(),
        pid: 4242,
    };
    let key = stream(Module::Requests);
    let Claim::Taken(lease) = holder
        .take_lease(&key, &busy, Duration::from_secs(120))
        .await
        .expect("take the lease")
    else {
        panic!("the stream was not free");
    };

    let outcome = setup.run(&["backfill"]).await;
    assert_eq!(
        outcome.code,
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        outcome.stdout,
        outcome.stderr
    );
    for text in [&outcome.stdout, &outcome.stderr] {
        assert!(
            text.contains("demo/Support/requests")
                && text.contains("host busy-host, pid 4242, since 20"),
            "{text}"
        );
    }
    // The rest ran: the stream nobody held is mirrored, the held one untouched.
    assert!(mirror(&holder, Module::Requests).await.is_empty());
    assert_mirror_equals_source(&emulator, &database, &[Module::Contacts]).await;

    holder.release_lease(&lease).await.expect("release");
    setup.run(&["backfill"]).await.assert_success();
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}
