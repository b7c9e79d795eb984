//! A Zoho Desk backfill killed with SIGKILL at random instants and restarted at once ends
//! with the mirror equal to the source, and fetches again at most the page in flight of
//! each stream at each kill: a walk by modification time commits its state with every
//! page, so a restart resumes inside the range, even inside a tie group.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zoho_sync::desk::DeskModule;
use zoho_sync::scheduler::estimate::CostModel;

use crate::support::database::TestDatabase;
use crate::support::desk_sync::{
    assert_mirror_equals_source, charged, desk_emulator, past_the_index_lag, reserved, DeskSync,
};
use crate::support::emulator::TestEmulator;

const RECORDS: u64 = 1_500;
const KILLS: u64 = 10;
/// Pages a kill can cost: two streams at once, one page each (a walk reads no page ahead).
const IN_FLIGHT: u64 = 2;

/// Searches the emulator served.
async fn searches(emulator: &TestEmulator) -> u64 {
    let counters = emulator.admin_get("desk/counters").await;
    let by_endpoint = &counters["requests"]["by_endpoint"];
    ["tickets.search", "contacts.search"]
        .iter()
        .map(|e| by_endpoint[*e].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn a_desk_backfill_killed_10_times_and_restarted_at_once_ends_exact() {
    let emulator = desk_emulator(RECORDS).await;
    emulator
        .admin_post("desk/latency", serde_json::json!({ "millis": 15 }))
        .await;
    let database = TestDatabase::fresh().await;
    let setup = DeskSync::new(&emulator, &database, &["tickets", "contacts"]);
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    for kill in 0..KILLS {
        let before = searches(&emulator).await;
        let mut child = setup.start(&["backfill"]);
        // Some pages in, then a moment shorter than a request: during a page or a commit.
        let pages = rng.gen_range(0..=3);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while searches(&emulator).await < before + pages {
            assert!(
                child.try_wait().expect("the backfill").is_none(),
                "seed {seed}: the backfill ended before kill {kill}"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "seed {seed}: no progress"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..20))).await;
        child.start_kill().expect("kill the backfill");
        child.wait().await.expect("reap the backfill");
    }
    setup.run(&["backfill"]).await.assert_success();
    let backfill_searches = searches(&emulator).await;
    past_the_index_lag(&emulator).await;
    setup.run(&["sync"]).await.assert_success();
    for module in [DeskModule::Tickets, DeskModule::Contacts] {
        assert_mirror_equals_source(&emulator, &database, module).await;
    }
    let minimum = 2 * CostModel::DESK.pass(RECORDS) / CostModel::DESK.request_cost;
    assert!(
        backfill_searches <= minimum + KILLS * IN_FLIGHT,
        "seed {seed}: {backfill_searches} searches, at most {minimum} + {} expected",
        KILLS * IN_FLIGHT
    );
    // Every request was reserved before it was sent; a kill may leave one unsent.
    let (reserved, charged) = (reserved(&database).await, charged(&emulator).await);
    let total = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    assert!(
        total(&charged) <= total(&reserved),
        "seed {seed}: reserved {reserved:?}, charged {charged:?}"
    );
}
