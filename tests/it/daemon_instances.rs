//! Three daemons on one database, as three replicas of a deployment: the stream leases
//! give each stream to one process at a time (no window of a stream is fetched twice,
//! but for the page in flight when one is killed), the ledger keeps their requests
//! together within the day's budget, and a daemon killed with SIGKILL in the middle of a
//! page leaves its stream to the others at once (its presence lock dies with it).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::TimeDelta;
use zoho_sync::loader::StreamLease;
use zoho_sync::quota::DayRule;
use zoho_sync::stream::{PassKind, StreamKey};
use zoho_sync::zoho::Module;

use crate::support::daemon::{configure, Daemon, DaemonSettings};
use crate::support::database::TestDatabase;
use crate::support::sync::{
    assert_mirror_equals_source, emulator_now, loader, request_log, slow_emulator_with, stream,
    wait_for, SyncSettings, SyncSetup,
};

const BUDGET: u32 = 30;
/// 4 × 11 requests: more than a day's budget.
const MODULES: [(Module, u64); 4] = [
    (Module::Requests, 2_000),
    (Module::Contacts, 2_000),
    (Module::Accounts, 2_000),
    (Module::Tasks, 2_000),
];
const LEASE_SECS: u64 = 3;

async fn backfills_complete(database: &TestDatabase) -> bool {
    let loader = loader(database).await;
    for (module, _) in MODULES {
        let done = loader
            .checkpoint(&stream(module), PassKind::Backfill)
            .await
            .is_ok_and(|c| c.completed_at.is_some() && !c.in_progress);
        if !done {
            return false;
        }
    }
    true
}

/// Backfill windows asked for more than once, per module.
async fn windows_asked_twice(
    emulator: &crate::support::emulator::TestEmulator,
) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut twice: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in request_log(emulator).await {
        if !entry["lastmodifiedtime"].is_null() {
            continue; // incremental passes ask for their first window every round
        }
        let module = entry["module"].as_str().unwrap_or_default().to_string();
        let from = entry["fromindex"].to_string();
        if !seen.entry(module.clone()).or_default().insert(from.clone()) {
            twice.entry(module).or_default().push(from);
        }
    }
    twice
}

#[tokio::test]
async fn three_daemons_share_the_streams_and_the_budget_and_survive_a_kill() {
    // Pages take a while: a kill lands in one, and the processes overlap.
    let emulator = slow_emulator_with(&MODULES, 100).await;
    emulator.set_clock("2027-06-01T17:00:00Z").await;
    let database = TestDatabase::fresh().await;
    let settings = SyncSettings {
        modules: vec!["requests", "contacts", "accounts", "tasks"],
        daily_limit: BUDGET,
        concurrency: 2,
        ..SyncSettings::default()
    };
    let setup = SyncSetup::new(&emulator, &database, &settings);
    configure(
        &setup,
        &DaemonSettings {
            pace: false,
            lease_secs: LEASE_SECS,
            ..DaemonSettings::default()
        },
    );
    let mut daemons: Vec<Daemon> = (0..3).map(|_| Daemon::start(&setup)).collect();
    let leases = loader(&database).await;

    // SIGKILL a daemon while it holds a stream and has a page in flight (whichever took
    // one first: which process wins a stream is a race).
    let holding = |holders: &[(StreamKey, String)]| {
        daemons
            .iter()
            .position(|d| holders.iter().any(|(_, holder)| d.holds(holder)))
    };
    wait_for(
        "a daemon to take a stream",
        Duration::from_secs(60),
        || async { holding(&leases.lease_holders().await.unwrap_or_default()).is_some() },
    )
    .await;
    let holders = leases.lease_holders().await.expect("leases");
    let victim = holding(&holders).expect("a daemon holds a stream");
    tokio::time::sleep(Duration::from_millis(250)).await;
    // The streams it held: read just before the kill and just after (its lease rows stay,
    // no longer live, until another daemon takes them over, which it may do at once).
    let victim_pid = daemons[victim].pid.to_string();
    let held_by_victim = |rows: Vec<StreamLease>| -> BTreeSet<StreamKey> {
        rows.into_iter()
            .filter(|lease| lease.holding.holder.split(':').nth(1) == Some(victim_pid.as_str()))
            .map(|lease| lease.stream)
            .collect()
    };
    let mut orphaned = held_by_victim(leases.leases().await.expect("leases"));
    daemons[victim].kill().await;
    orphaned.extend(held_by_victim(leases.leases().await.expect("leases")));
    assert!(
        !orphaned.is_empty(),
        "the killed daemon should have held a stream; its log:\n{}",
        daemons[victim].log()
    );
    // Out of the list of the living; kept until the end of the test.
    let _killed = daemons.remove(victim);

    // Together the two others spend the day's budget, not one request more.
    let now = emulator_now(&emulator).await;
    let today = DayRule::Pacific.day_of(now);
    wait_for(
        "the day's budget to be spent",
        Duration::from_secs(90),
        || async {
            leases
                .ledger_day("demo", today)
                .await
                .is_ok_and(|d| d.used >= BUDGET)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ledger = leases.ledger_day("demo", today).await.expect("ledger");
    assert_eq!(ledger.used, BUDGET, "the ledger's count for {today}");
    let charged = emulator.quota_used().await;
    assert!(
        charged <= u64::from(BUDGET),
        "the emulator charged {charged} requests on {today}"
    );

    // The next Pacific day finishes every stream, the orphaned ones included.
    let next = DayRule::Pacific.next_reset(now) + TimeDelta::minutes(1);
    emulator.set_clock(&next.to_rfc3339()).await;
    wait_for(
        "every backfill to complete",
        Duration::from_secs(90),
        || backfills_complete(&database),
    )
    .await;
    for daemon in &mut daemons {
        let status = daemon.stop(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
    }
    assert_mirror_equals_source(&emulator, &database, &MODULES.map(|(m, _)| m)).await;

    let twice = windows_asked_twice(&emulator).await;
    let orphaned_modules: BTreeSet<String> = orphaned
        .iter()
        .map(|s| s.module.key().to_string())
        .collect();
    // A killed holder loses at most the two pages a stream has in flight: the one being
    // committed and the next, fetched meanwhile.
    for (module, windows) in &twice {
        assert!(
            orphaned_modules.contains(module) && windows.len() <= 2,
            "{module}: windows fetched twice {windows:?} (killed daemon held {orphaned_modules:?})"
        );
    }
    for day in [today, DayRule::Pacific.day_of(next)] {
        let used = leases.ledger_day("demo", day).await.expect("ledger").used;
        assert!(used <= BUDGET, "{day}: {used} requests");
    }
}
