//! Two `backfill` processes of one organisation at once: each works the streams the other
//! does not hold, together they never send more than the day's budget (the ledger counts
//! what the emulator charged), and the next days, told by the server's clock rather than
//! ours, finish the mirror. A process that finds its stream held says so, and by whom,
//! instead of claiming the backfill complete, and exits 3.

use std::time::Duration;

use chrono::TimeDelta;
use zoho_sync::quota::DayRule;
use zoho_sync::zoho::Module;

use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_now, loader, slow_emulator_with, stream, wait_for,
    Outcome, SyncSettings, SyncSetup,
};

const BUDGET: u32 = 30;
/// 3 × 13 requests: more than a day's budget.
const MODULES: [(Module, u64); 3] = [
    (Module::Requests, 2_500),
    (Module::Contacts, 2_500),
    (Module::Accounts, 2_500),
];

/// The requests a run's summary line reports.
fn requests_sent(stdout: &str) -> u64 {
    stdout
        .split(" requests)")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {stdout}"))
}

#[tokio::test]
async fn two_backfills_at_once_never_pass_the_budget_together() {
    // Slow enough answers that both processes are at work at once.
    let emulator = slow_emulator_with(&MODULES, 20).await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts", "accounts"],
        daily_limit: BUDGET,
        // Each process works one stream at a time and skips the one the other leases.
        concurrency: 1,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    // Both apply the migrations, plan and reserve at the same moment.
    let (first, second) = tokio::join!(setup.run(&["backfill"]), setup.run(&["backfill"]));
    for run in [&first, &second] {
        // 3: it found a stream the other one held, and left it to it.
        assert!(
            matches!(run.code, Some(0 | 3)),
            "stdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
    let (a, b) = (requests_sent(&first.stdout), requests_sent(&second.stdout));
    assert!(
        a > 0 && b > 0,
        "both processes should have sent requests: {a} and {b}"
    );

    let now = emulator_now(&emulator).await;
    let today = DayRule::Pacific.day_of(now);
    let ledger = loader(&database)
        .await
        .ledger_day("demo", today)
        .await
        .expect("ledger");
    let charged = emulator.quota_used().await;
    assert_eq!(charged, u64::from(ledger.used), "emulator vs ledger");
    assert!(ledger.used <= BUDGET, "{} requests today", ledger.used);

    let mut said = Vec::new();
    for _ in 0..3 {
        let resets_at = DayRule::Pacific.next_reset(emulator_now(&emulator).await);
        let next = resets_at + TimeDelta::minutes(1);
        emulator.set_clock(&next.to_rfc3339()).await;
        let run = setup.run(&["backfill"]).await;
        run.assert_success();
        assert!(emulator.quota_used().await <= u64::from(BUDGET));
        if run.stdout.contains("demo: complete") {
            assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;
            return;
        }
        said.push(run.stdout);
    }
    panic!(
        "the backfill did not complete in three more days:\n{}",
        said.join("\n")
    );
}

#[tokio::test]
async fn a_backfill_of_a_stream_another_process_works_says_by_whom_and_exits_3() {
    let emulator = slow_emulator_with(&[(Module::Requests, 6_000)], 30).await;
    let database = TestDatabase::fresh().await;
    let setup = SyncSetup::new(&emulator, &database, &SyncSettings::default());
    let first = setup.start(&["backfill"]);
    let mirror = loader(&database).await;
    wait_for(
        "the first backfill's first page",
        Duration::from_secs(10),
        || async {
            mirror
                .mirror_count(&stream(Module::Requests))
                .await
                .unwrap_or(0)
                > 0
        },
    )
    .await;
    let second = setup.run(&["backfill"]).await;
    assert_eq!(second.code, Some(3), "{}", second.stderr);
    let pid = first.id().expect("the first backfill runs");
    assert!(
        second
            .stdout
            .contains("1 of 1 passes left to the live processes that hold their streams")
            && second.stdout.contains(&format!(", pid {pid}, since "))
            && !second.stdout.contains("complete"),
        "{}",
        second.stdout
    );
    let first = Outcome::from(first.wait_with_output().await.expect("the first backfill"));
    first.assert_success();
    assert!(first.stdout.contains("demo: complete"), "{}", first.stdout);
    assert_mirror_equals_source(&emulator, &database, &[Module::Requests]).await;
}
