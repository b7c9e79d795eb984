use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// The legacy API's page size.
const PAGE_ROWS: u32 = 200;

/// Serves `window` of the set in the set's order, as the API would.
fn serve(set: &[u64], window: Window) -> Vec<Option<RecordId>> {
    let from = (window.from - 1) as usize;
    set.iter()
        .skip(from)
        .take(window.len() as usize)
        .map(|&id| Some(RecordId(id)))
        .collect()
}

/// Runs a whole pass; `between` may change the set before each request. Returns the ids
/// of the pages accepted (every row of them is stored) and the number of requests.
fn run_pass(
    set: &mut Vec<u64>,
    mut between: impl FnMut(&mut Vec<u64>, u32),
) -> (BTreeSet<u64>, u32) {
    let mut cursor = Cursor::START;
    let mut seen = BTreeSet::new();
    let mut requests = 0;
    loop {
        between(set, requests);
        let window = cursor.window(PAGE_ROWS);
        let ids = serve(set, window);
        requests += 1;
        assert!(requests < 100_000, "the pass does not end");
        match cursor
            .step(window, &ids)
            .expect("a page the cursor can judge")
        {
            Step::Advance { cursor: next, done } => {
                seen.extend(ids.iter().flatten().map(|id| id.0));
                cursor = next;
                if done {
                    return (seen, requests);
                }
            }
            Step::StepBack { cursor: back } => cursor = back,
        }
    }
}

fn min_requests(n: u32) -> u32 {
    n / PAGE_ROWS + 1
}

#[test]
fn a_still_set_is_read_once_in_one_request_per_199_rows_and_within_one_percent_from_19800_rows() {
    for n in [
        0u32, 1, 199, 200, 201, 398, 399, 400, 10_000, 19_800, 39_999, 100_000, 199_999,
    ] {
        let mut set: Vec<u64> = (1..=u64::from(n)).map(|i| i * 10).collect();
        let (seen, requests) = run_pass(&mut set, |_, _| {});
        assert_eq!(seen.len() as u32, n);
        let minimum = min_requests(n);
        // Each page brings 199 new rows (one is the anchor).
        assert!(
            requests <= n / (PAGE_ROWS - 1) + 1,
            "{n} rows took {requests} requests"
        );
        if n >= 19_800 {
            let bound = (f64::from(minimum) * 1.01).floor() as u32;
            assert!(
                requests <= bound,
                "{n} rows took {requests}, minimum {minimum}"
            );
        }
    }
}

#[test]
fn up_to_39800_rows_cost_exactly_the_minimum() {
    for n in [1u32, 200, 5_000, 39_800] {
        let mut set: Vec<u64> = (1..=u64::from(n)).collect();
        let (_, requests) = run_pass(&mut set, |_, _| {});
        assert_eq!(requests, min_requests(n), "{n}");
    }
}

#[test]
fn deleting_rows_behind_the_cursor_steps_back_instead_of_skipping() {
    let mut set: Vec<u64> = (1..=1_000).collect();
    let (seen, _) = run_pass(&mut set, |set, request| {
        if request == 3 {
            // Rows far behind the cursor vanish: every later window slides forward.
            set.drain(0..150);
        }
    });
    let survivors: BTreeSet<u64> = set.iter().copied().collect();
    assert!(survivors.is_subset(&seen));
}

#[test]
fn steady_deletions_before_the_cursor_cost_at_most_three_times_the_minimum() {
    // The oldest row vanishes before every request, as on a portal that purges old
    // records while a pass runs.
    let mut set: Vec<u64> = (1..=6_000).collect();
    let (seen, requests) = run_pass(&mut set, |set, _| {
        if !set.is_empty() {
            set.remove(0);
        }
    });
    let survivors: BTreeSet<u64> = set.iter().copied().collect();
    assert!(survivors.is_subset(&seen));
    assert!(
        requests <= 3 * min_requests(6_000),
        "{requests} requests, minimum {}",
        min_requests(6_000)
    );
}

#[test]
fn the_first_window_never_needs_an_anchor() {
    assert_eq!(Cursor::START.window(PAGE_ROWS), Window { from: 1, to: 200 });
    let after = Cursor {
        next: 201,
        last_id: Some(RecordId(7)),
        order: Order::Ascending,
    };
    assert_eq!(after.window(PAGE_ROWS), Window { from: 200, to: 399 });
    assert_eq!(
        after.window(PAGE_ROWS).next(),
        Window { from: 399, to: 598 }
    );
}

#[test]
fn rows_that_failed_to_decode_still_count_as_served() {
    let window = Cursor::START.window(PAGE_ROWS);
    let mut ids: Vec<Option<RecordId>> = (1..=200).map(|i| Some(RecordId(i))).collect();
    ids[17] = None;
    let Ok(Step::Advance { cursor, done }) = Cursor::START.step(window, &ids) else {
        panic!("the first page follows on");
    };
    assert!(!done, "a full page is not the last, whatever decoded");
    assert_eq!(cursor.next, 201);
    assert_eq!(cursor.last_id, Some(RecordId(200)));
}

#[test]
fn a_page_of_more_rows_than_asked_for_is_refused() {
    let ids: Vec<Option<RecordId>> = (1..=201).map(|i| Some(RecordId(i))).collect();
    assert_eq!(
        Cursor::START.step(Cursor::START.window(PAGE_ROWS), &ids),
        Err(PageFault::Overfull {
            served: 201,
            asked: 200
        })
    );
}

#[test]
fn a_descending_set_is_read_whole_by_its_anchors() {
    let mut set: Vec<u64> = (1..=1_000).rev().collect();
    let (seen, requests) = run_pass(&mut set, |_, _| {});
    assert_eq!(seen.len(), 1_000);
    assert_eq!(requests, 1_000 / (PAGE_ROWS - 1) + 1);
}

#[test]
fn one_huge_id_early_hides_none_of_the_rows_after_it() {
    let mut set: Vec<u64> = (1..=1_000).collect();
    set[150] = u64::MAX;
    let (seen, _) = run_pass(&mut set, |_, _| {});
    assert_eq!(seen.len(), 1_000);
}

#[test]
fn out_of_order_a_vanished_anchor_restarts_the_pass() {
    let mut set: Vec<u64> = (1..=1_000).rev().collect();
    let (seen, _) = run_pass(&mut set, |set, request| {
        if request == 2 {
            set.drain(0..30);
        }
    });
    let survivors: BTreeSet<u64> = set.iter().copied().collect();
    assert!(survivors.is_subset(&seen));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever is created, modified into the set or deleted between two requests, every
    /// row present for the whole pass is read.
    #[test]
    fn every_row_present_throughout_the_pass_is_read(
        start in 0usize..1_500,
        changes in proptest::collection::vec((0u8..3, 0u64..1_000_000, 0usize..2_000), 0..60),
    ) {
        let set: Vec<u64> = (0..start as u64).map(|i| i * 1_000 + 500).collect();
        let unread = first_unread(set, changes, |set, (kind, id, at)| match kind {
            0 if !set.is_empty() => Some(set.remove(at % set.len())),
            1 => {
                // A row entering the set anywhere (an incremental pass's filter).
                if let Err(pos) = set.binary_search(&id) {
                    set.insert(pos, id);
                }
                None
            }
            _ => {
                let next = set.last().copied().unwrap_or(0) + 1 + id % 7;
                set.push(next);
                None
            }
        });
        prop_assert!(unread.is_none(), "row {:?} was never read", unread);
    }

    /// The same, whatever order the server serves the ids in (shuffled at the start, then
    /// changed anywhere): the anchor proves each page, and a failed proof restarts.
    #[test]
    fn every_row_present_throughout_an_unordered_pass_is_read(
        start in 0usize..1_200,
        seed in 0u64..1_000,
        changes in proptest::collection::vec((0u8..2, 0u64..1_000_000, 0usize..2_000), 0..8),
    ) {
        let mut set: Vec<u64> = (0..start as u64).map(|i| (i * 7_919 + seed) % 1_000_003).collect();
        set.dedup();
        let unread = first_unread(set, changes, |set, (kind, id, at)| match kind {
            0 if !set.is_empty() => Some(set.remove(at % set.len())),
            _ => {
                set.insert(at % (set.len() + 1), 2_000_000 + id);
                None
            }
        });
        prop_assert!(unread.is_none(), "row {:?} was never read", unread);
    }
}

/// Runs a pass while `change` applies one change before each request (returning the id it
/// deleted, if any); the first row present throughout that the pass never read.
fn first_unread(
    mut set: Vec<u64>,
    changes: Vec<(u8, u64, usize)>,
    change: impl Fn(&mut Vec<u64>, (u8, u64, usize)) -> Option<u64>,
) -> Option<u64> {
    let original: BTreeSet<u64> = set.iter().copied().collect();
    let mut deleted = BTreeSet::new();
    let mut changes = changes.into_iter();
    let (seen, _) = run_pass(&mut set, |set, _| {
        if let Some(next) = changes.next() {
            deleted.extend(change(set, next));
        }
    });
    original
        .difference(&deleted)
        .find(|id| !seen.contains(id))
        .copied()
}
