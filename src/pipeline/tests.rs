//! The pipeline against the in-memory source and store: no database, no server. Each
//! test drives one pass through what makes paging hard (windows read ahead, a set that
//! moves, a lost lease, a failed commit, a budget that runs out) and checks what was
//! stored and what was asked.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::fetcher::{Allowance, ServerClock, Shared};
use crate::quota::{Budget, DayRule};
use crate::source::memory::{MemoryRow, MemorySource};
use crate::source::Request;
use crate::store::memory::MemoryStore;
use crate::store::{Claim, Holder, Store};
use crate::stream::seek::{Leg, TimeOrder};
use crate::telemetry::Progress;
use crate::zoho::module::Module;
use crate::zoho::retry::RetryPolicy;

const ROWS_PER_PAGE: u32 = 50;

fn stream() -> StreamKey {
    StreamKey {
        portal: "p".into(),
        department: "d".into(),
        module: Module::Requests.into(),
    }
}

fn rows(ids: impl IntoIterator<Item = u64>) -> Vec<MemoryRow> {
    let at = Utc::now() - TimeDelta::days(1);
    ids.into_iter()
        .map(|id| MemoryRow::record(id, at))
        .collect()
}

/// A source of `n` rows with ids 1..=n, each request taking `latency`.
fn source(n: u64, latency: Duration) -> Arc<MemorySource> {
    let source = MemorySource::new(ROWS_PER_PAGE, latency);
    source.set_rows(Module::Requests, rows(1..=n));
    Arc::new(source)
}

pub(super) fn pipeline(
    source: &Arc<MemorySource>,
    store: &Arc<MemoryStore>,
    read_ahead: usize,
    per_day: u32,
) -> Pipeline {
    let store: Arc<dyn Store> = store.clone();
    let cancel = CancellationToken::new();
    let progress = Arc::new(Progress::default());
    let shared = Shared {
        store: Arc::clone(&store),
        clock: Arc::new(ServerClock::new(None)),
        cancel: cancel.clone(),
        progress: Arc::clone(&progress),
        allowance: Arc::new(Allowance::default()),
    };
    let budget = Budget {
        organisation: "o".into(),
        per_day,
        rule: DayRule::Pacific,
        reserve: 0,
    };
    let retry = RetryPolicy {
        max_retries: 2,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    };
    let source: Arc<dyn crate::source::Source> = source.clone();
    Pipeline {
        fetcher: Arc::new(Fetcher::new(source, budget, retry, shared)),
        store,
        read_ahead: ReadAhead {
            backfill: read_ahead,
            other: read_ahead,
        },
        cancel,
        progress,
        deletes: DeleteMode::Mark,
    }
}

/// Runs one backfill pass of `stream()` under a lease of this process.
async fn backfill(pipeline: &Pipeline, store: &MemoryStore) -> Result<PassEnd, PipelineError> {
    let claim = store
        .take_lease(&stream(), Holder::this_process(), Duration::from_secs(60))
        .await
        .expect("a lease");
    let Claim::Taken(lease) = claim else {
        panic!("the stream is held");
    };
    let pass = Pass {
        stream: &stream(),
        kind: PassKind::Backfill,
        zone: chrono_tz::UTC,
        run_id: 1,
        lease: Some(&lease),
        planned_at: Utc::now() - TimeDelta::seconds(1),
        changed: Default::default(),
    };
    pipeline.run_pass(&pass).await
}

fn stored(store: &MemoryStore) -> Vec<u64> {
    store.rows(&stream()).keys().map(|id| id.0).collect()
}

#[tokio::test]
async fn a_backfill_reads_every_row_in_one_request_per_page_less_the_anchor() {
    let source = source(1_000, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 0, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store), (1..=1_000).collect::<Vec<_>>());
    assert_eq!(
        source.requests().0,
        1_000 / u64::from(ROWS_PER_PAGE - 1) + 1
    );
}

#[tokio::test]
async fn read_ahead_keeps_windows_in_flight_and_asks_at_most_that_many_past_the_end() {
    let source = source(1_000, Duration::from_millis(5));
    let store = Arc::new(MemoryStore::new());
    store.set_commit_latency(Duration::from_millis(20));
    let end = backfill(&pipeline(&source, &store, 3, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store), (1..=1_000).collect::<Vec<_>>());
    assert!(source.most_in_flight() >= 2, "{}", source.most_in_flight());
    // A commit is sent while the one before it is under way.
    assert_eq!(store.most_commits_at_once(), 2);
    let minimum = 1_000 / u64::from(ROWS_PER_PAGE - 1) + 1;
    let (started, _) = source.requests();
    assert!(
        started <= minimum + 3,
        "{started} requests, minimum {minimum}"
    );
}

#[tokio::test]
async fn a_backfill_that_fits_in_one_page_reads_nothing_ahead() {
    let source = source(u64::from(ROWS_PER_PAGE) - 1, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 3, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(source.requests().0, 1);
}

#[tokio::test]
async fn read_ahead_grows_with_full_pages_so_a_short_pass_asks_less_past_its_end() {
    // Two pages: the first full, so one window is read ahead, past the end.
    let source = source(u64::from(ROWS_PER_PAGE) + 5, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 3, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(source.requests().0, 3);
}

#[tokio::test]
async fn an_incremental_pass_reads_ahead_only_by_its_own_setting() {
    let source = source(1_000, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let mut pipeline = pipeline(&source, &store, 3, 1_000);
    pipeline.read_ahead.other = 0;
    run(&pipeline, &store, PassKind::Backfill).await.unwrap();
    // Every row changes after the backfill: the incremental pass reads them all again.
    let now = Utc::now();
    source.set_rows(
        Module::Requests,
        (1..=1_000).map(|id| MemoryRow::record(id, now)).collect(),
    );
    let before = source.requests().0;
    let end = run(&pipeline, &store, PassKind::Incremental).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let minimum = 1_000 / u64::from(ROWS_PER_PAGE - 1) + 1;
    assert_eq!(source.requests().0 - before, minimum);
}

#[tokio::test]
async fn windows_read_ahead_for_a_set_that_moved_are_dropped_and_nothing_is_skipped() {
    let source = source(1_000, Duration::from_millis(2));
    source.before_each_request(Box::new(|n, rows| {
        if n == 4 {
            rows.drain(0..30); // rows behind the cursor vanish: windows slide
        }
    }));
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 2, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let stored = stored(&store);
    for id in source.ids(Module::Requests) {
        assert!(stored.contains(&id.0), "row {id} was skipped");
    }
    // The windows read ahead past the move were dropped: the pass went back over them.
    let froms: Vec<u32> = source
        .requests_made()
        .iter()
        .filter_map(|(_, r)| match r {
            Request::Window { window, .. } => Some(window.from),
            _ => None,
        })
        .collect();
    let went_back = froms.windows(2).any(|pair| pair[1] < pair[0]);
    assert!(
        went_back,
        "the pass read again what it had read ahead: {froms:?}"
    );
}

#[tokio::test]
async fn rows_vanishing_before_the_cursor_step_it_back_and_every_survivor_is_read() {
    let source = source(600, Duration::ZERO);
    source.before_each_request(Box::new(|n, rows| {
        if n % 3 == 2 && rows.len() > 10 {
            rows.drain(0..10);
        }
    }));
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 0, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let stored = stored(&store);
    for id in source.ids(Module::Requests) {
        assert!(stored.contains(&id.0), "row {id} was skipped");
    }
}

#[tokio::test]
async fn a_lease_lost_mid_pass_fails_the_pass_and_stores_nothing_after_it() {
    let source = source(500, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let thief = Arc::clone(&store);
    source.before_each_request(Box::new(move |n, _| {
        if n == 2 {
            thief.hand_lease_to(&stream(), "another process");
        }
    }));
    let end = backfill(&pipeline(&source, &store, 0, 1_000), &store).await;
    assert!(
        matches!(end, Err(PipelineError::Store(StoreError::LeaseLost { .. }))),
        "{end:?}"
    );
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Backfill)
        .await
        .unwrap();
    assert!(stored(&store).len() <= 2 * ROWS_PER_PAGE as usize);
    assert_eq!(checkpoint.cursor.next, 1 + stored(&store).len() as u32);
}

#[tokio::test]
async fn a_failed_commit_ends_the_pass_and_abandons_the_page_fetched_ahead() {
    let source = source(500, Duration::from_millis(200));
    let store = Arc::new(MemoryStore::new());
    store.fail_commit(2);
    let end = backfill(&pipeline(&source, &store, 0, 1_000), &store).await;
    assert!(
        matches!(end, Err(PipelineError::Store(StoreError::Refused(_)))),
        "{end:?}"
    );
    // Page 3 was asked for while page 2 committed; the failure abandoned it unanswered.
    let (started, finished) = source.requests();
    assert_eq!((started, finished), (3, 2));
    assert_eq!(stored(&store).len(), ROWS_PER_PAGE as usize);
}

#[tokio::test]
async fn a_failed_commit_with_the_next_on_its_way_ends_the_pass_and_nothing_is_stored_after_it() {
    for failing in 1..=12 {
        let source = source(2_000, Duration::from_millis(1));
        let store = Arc::new(MemoryStore::new());
        store.fail_commit(failing);
        // Each commit takes long enough for the next batch to be sent behind it.
        store.set_commit_latency(Duration::from_millis(20));
        let end = backfill(&pipeline(&source, &store, 3, 1_000), &store).await;
        assert!(
            matches!(end, Err(PipelineError::Store(StoreError::Refused(_)))),
            "commit {failing}: {end:?}"
        );
        assert_eq!(store.most_commits_at_once(), 2, "commit {failing}");
        let checkpoint = store
            .checkpoint(&stream(), PassKind::Backfill)
            .await
            .unwrap();
        let rows = stored(&store);
        let kept = rows.len() as u64;
        assert_eq!(rows, (1..=kept).collect::<Vec<_>>(), "commit {failing}");
        assert_eq!(
            u64::from(checkpoint.cursor.next),
            1 + kept,
            "commit {failing}: the checkpoint is where the rows end"
        );
        // The next pass picks up from there and completes the mirror.
        let end = backfill(&pipeline(&source, &store, 3, 1_000), &store).await;
        assert_eq!(end.unwrap(), PassEnd::Completed, "commit {failing}");
        assert_eq!(stored(&store), (1..=2_000).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_budget_spent_mid_pass_pauses_it_where_it_stands_and_the_next_day_finishes_it() {
    let source = source(500, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 0, 3), &store).await;
    assert!(matches!(end, Ok(PassEnd::BudgetSpent { .. })), "{end:?}");
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Backfill)
        .await
        .unwrap();
    assert!(checkpoint.in_progress);
    assert_eq!(stored(&store).len(), 148, "three pages, less two anchors");
    // A day with room for the rest: the pass resumes from its checkpoint.
    let end = backfill(&pipeline(&source, &store, 0, 100), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store), (1..=500).collect::<Vec<_>>());
    assert_eq!(source.requests().0, 500 / u64::from(ROWS_PER_PAGE - 1) + 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_rows_that_fail_to_decode_still_count_as_served() {
    use crate::source::{Failure, SourceError};
    use crate::zoho::codec::{BadRow, RowOutcome};
    let source = source(120, Duration::ZERO);
    let mut served = rows(1..=120);
    served[ROWS_PER_PAGE as usize - 1].row = RowOutcome::Bad(BadRow {
        raw: "{}".into(),
        error: "unreadable".into(),
        id: None,
    });
    source.set_rows(Module::Requests, served);
    source.fail_next([SourceError {
        failure: Failure::Transient,
        detail: "a gateway hiccuped".into(),
    }]);
    let store = Arc::new(MemoryStore::new());
    let end = backfill(&pipeline(&source, &store, 0, 1_000), &store).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store).len(), 119);
    assert_eq!(store.dead_letters(&stream()).len(), 1);
}

/// `n` rows modified `per_second` to a second, the last ones an hour ago.
fn timed_rows(n: u64, per_second: u64) -> Vec<MemoryRow> {
    let start = Utc::now() - TimeDelta::hours(1) - TimeDelta::seconds((n / per_second) as i64);
    (1..=n)
        .map(|id| MemoryRow::record(id, start + TimeDelta::seconds((id / per_second) as i64)))
        .collect()
}

async fn run(
    pipeline: &Pipeline,
    store: &MemoryStore,
    kind: PassKind,
) -> Result<PassEnd, PipelineError> {
    run_planned(pipeline, store, kind, Utc::now() - TimeDelta::seconds(1)).await
}

/// `run`, for a pass planned at `planned_at` (a pass of the same kind completed since
/// is not run again).
async fn run_planned(
    pipeline: &Pipeline,
    store: &MemoryStore,
    kind: PassKind,
    planned_at: chrono::DateTime<Utc>,
) -> Result<PassEnd, PipelineError> {
    let Claim::Taken(lease) = store
        .take_lease(&stream(), Holder::this_process(), Duration::from_secs(60))
        .await
        .expect("a lease")
    else {
        panic!("the stream is held");
    };
    let pass = Pass {
        stream: &stream(),
        kind,
        zone: chrono_tz::UTC,
        run_id: 1,
        lease: Some(&lease),
        planned_at,
        changed: Default::default(),
    };
    pipeline.run_pass(&pass).await
}

#[tokio::test]
async fn a_walk_by_modification_time_reads_every_row_tie_groups_included() {
    let source = Arc::new(MemorySource::seeking(ROWS_PER_PAGE, Duration::ZERO));
    source.set_rows(Module::Requests, timed_rows(1_000, 120));
    let store = Arc::new(MemoryStore::new());
    let end = run(
        &pipeline(&source, &store, 0, 1_000),
        &store,
        PassKind::Backfill,
    )
    .await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store), (1..=1_000).collect::<Vec<_>>());
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Backfill)
        .await
        .unwrap();
    assert!(!checkpoint.in_progress);
    let hi = checkpoint.seek.expect("the walk's range").hi;
    assert!(hi < Utc::now() - TimeDelta::minutes(9), "{hi}");
}

#[tokio::test]
async fn an_incremental_walk_reads_what_changed_since_the_backfills_range() {
    let source = Arc::new(MemorySource::seeking(ROWS_PER_PAGE, Duration::ZERO));
    source.set_rows(Module::Requests, timed_rows(300, 7));
    let store = Arc::new(MemoryStore::new());
    let pipeline = pipeline(&source, &store, 0, 1_000);
    run(&pipeline, &store, PassKind::Backfill).await.unwrap();
    let before = source.requests().0;
    // Rows 5 and 6 change a quarter of an hour ago (searchable: past the index lag).
    let changed = Utc::now() - TimeDelta::minutes(15);
    let mut rows = timed_rows(300, 7);
    for row in &mut rows[4..6] {
        *row = MemoryRow::record(row.row.id().unwrap().0, changed);
    }
    source.set_rows(Module::Requests, rows);
    let end = run(&pipeline, &store, PassKind::Incremental).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let asked = &source.requests_made()[before as usize..];
    let Request::Seek { range, .. } = asked[0].1 else {
        panic!("a seek request: {asked:?}");
    };
    assert!(range.lo <= changed && changed <= range.hi, "{range:?}");
    assert_eq!(asked.len(), 1, "one page holds the changes");
}

#[tokio::test]
async fn a_budget_spent_inside_a_tie_group_resumes_inside_it() {
    let source = Arc::new(MemorySource::seeking(ROWS_PER_PAGE, Duration::ZERO));
    source.set_rows(Module::Requests, timed_rows(400, 400));
    let store = Arc::new(MemoryStore::new());
    let end = run(&pipeline(&source, &store, 0, 3), &store, PassKind::Backfill).await;
    assert!(matches!(end, Ok(PassEnd::BudgetSpent { .. })), "{end:?}");
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Backfill)
        .await
        .unwrap();
    let tie = checkpoint
        .seek
        .and_then(|s| s.tie)
        .expect("inside the tie group");
    assert!(tie.from > 0, "{tie:?}");
    let end = run(
        &pipeline(&source, &store, 0, 100),
        &store,
        PassKind::Backfill,
    )
    .await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    assert_eq!(stored(&store), (1..=400).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_incremental_pass_walks_its_range_again_by_response_and_finds_a_reply_alone() {
    let source = Arc::new(MemorySource::seeking(ROWS_PER_PAGE, Duration::ZERO).with_responses());
    source.set_rows(Module::Requests, timed_rows(120, 7));
    let store = Arc::new(MemoryStore::new());
    let pipeline = pipeline(&source, &store, 0, 1_000);
    run(&pipeline, &store, PassKind::Backfill).await.unwrap();
    // Row 9 gets a customer's reply a quarter of an hour ago; its modification time stays.
    let replied = Utc::now() - TimeDelta::minutes(15);
    let mut rows = timed_rows(120, 7);
    rows[8] = rows[8].clone().responded_at(replied);
    source.set_rows(Module::Requests, rows);
    let before = source.requests().0;
    let end = run(&pipeline, &store, PassKind::Incremental).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let orders: Vec<TimeOrder> = source.requests_made()[before as usize..]
        .iter()
        .filter_map(|(_, r)| match r {
            Request::Seek { range, order } => {
                assert!(range.lo <= replied && replied <= range.hi, "{range:?}");
                Some(*order)
            }
            _ => None,
        })
        .collect();
    assert_eq!(orders, [TimeOrder::Modified, TimeOrder::Responded]);
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Incremental)
        .await
        .unwrap();
    assert_eq!(checkpoint.seek.map(|s| s.leg), Some(Leg::Responses));
    assert!(!checkpoint.in_progress);
}

#[tokio::test]
async fn a_budget_spent_on_the_second_leg_resumes_on_it() {
    let source = Arc::new(MemorySource::seeking(ROWS_PER_PAGE, Duration::ZERO).with_responses());
    source.set_rows(Module::Requests, timed_rows(120, 7));
    let store = Arc::new(MemoryStore::new());
    run(
        &pipeline(&source, &store, 0, 1_000),
        &store,
        PassKind::Backfill,
    )
    .await
    .unwrap();
    let replied = Utc::now() - TimeDelta::minutes(15);
    let rows: Vec<MemoryRow> = timed_rows(120, 7)
        .into_iter()
        .map(|r| r.responded_at(replied))
        .collect();
    source.set_rows(Module::Requests, rows);
    // Room for one more request today: the walk by modification time, and no more.
    let room = u32::try_from(source.requests().0).unwrap() + 1;
    let spent = run(
        &pipeline(&source, &store, 0, room),
        &store,
        PassKind::Incremental,
    )
    .await;
    assert!(
        matches!(spent, Ok(PassEnd::BudgetSpent { .. })),
        "{spent:?}"
    );
    let end = run(
        &pipeline(&source, &store, 0, 1_000),
        &store,
        PassKind::Incremental,
    )
    .await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let checkpoint = store
        .checkpoint(&stream(), PassKind::Incremental)
        .await
        .unwrap();
    assert_eq!(checkpoint.seek.map(|s| s.leg), Some(Leg::Responses));
}

#[tokio::test]
async fn a_walk_per_agent_reads_an_agent_again_when_its_rows_move_and_skips_none() {
    let source = Arc::new(MemorySource::per_agent(ROWS_PER_PAGE, vec![1, 2]));
    let rows: Vec<MemoryRow> = timed_rows(250, 1)
        .into_iter()
        .map(|r| {
            let agent = if r.row.id().unwrap().0 <= 150 { 1 } else { 2 };
            r.of_agent(agent)
        })
        .collect();
    source.set_rows(Module::Requests, rows);
    // Before the third request (agent 1's second window), two of its early rows are
    // modified again: they leave the range and the rows after them shift down.
    source.before_each_request(Box::new(|n, rows: &mut Vec<MemoryRow>| {
        if n == 2 {
            rows.retain(|r| !matches!(r.row.id(), Some(id) if id.0 == 10 || id.0 == 11));
        }
    }));
    let store = Arc::new(MemoryStore::new());
    let end = run(
        &pipeline(&source, &store, 0, 1_000),
        &store,
        PassKind::Backfill,
    )
    .await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let stored = stored(&store);
    for id in source.ids(Module::Requests) {
        assert!(stored.contains(&id.0), "row {id} was skipped");
    }
    let agent_one_starts = source
        .requests_made()
        .iter()
        .filter(|(_, r)| matches!(r, Request::AgentRows { agent: 1, range } if range.from == 0))
        .count();
    assert_eq!(agent_one_starts, 2, "agent 1 is read again from its start");
}

#[tokio::test]
async fn an_incremental_pass_teaches_its_stream_the_changes_it_found_since_the_last_one() {
    let source = source(100, Duration::ZERO);
    let store = Arc::new(MemoryStore::new());
    let pipeline = pipeline(&source, &store, 0, 1_000);
    run(&pipeline, &store, PassKind::Backfill).await.unwrap();
    // The first incremental pass has no pass before it to measure from.
    run(&pipeline, &store, PassKind::Incremental).await.unwrap();
    assert!(store.change_rates("p").await.unwrap().is_empty());
    // 30 records created since.
    let now = Utc::now();
    let mut grown = rows(1..=100);
    grown.extend((101..=130).map(|id| MemoryRow::record(id, now)));
    source.set_rows(Module::Requests, grown);
    let end = run_planned(&pipeline, &store, PassKind::Incremental, Utc::now()).await;
    assert_eq!(end.unwrap(), PassEnd::Completed);
    let rates = store.change_rates("p").await.unwrap();
    assert_eq!(rates.len(), 1, "{rates:?}");
    assert_eq!(rates[0].0, stream());
    assert_eq!(rates[0].1.changes, 30.0, "{rates:?}");
}
