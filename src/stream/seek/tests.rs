use std::collections::{BTreeMap, BTreeSet};

use chrono::{SubsecRound, TimeZone};
use proptest::prelude::*;

use super::*;

/// A model of Desk's search: rows of (id, modified second), a write visible to search
/// only `lag` after it was made, results sorted by time then id, offsets from 0.
struct Server {
    /// id → (modified, searchable from).
    rows: BTreeMap<u64, (DateTime<Utc>, DateTime<Utc>)>,
    /// id → created, for rows created before they were last modified.
    created: BTreeMap<u64, DateTime<Utc>>,
    now: DateTime<Utc>,
    lag: TimeDelta,
    next_id: u64,
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

impl Server {
    fn new(n: u64, per_second: u64, lag: TimeDelta) -> Server {
        let now = at(0);
        let rows = (1..=n)
            .map(|id| {
                let modified =
                    now - TimeDelta::days(3) + TimeDelta::seconds((id / per_second.max(1)) as i64);
                (id, (modified, modified))
            })
            .collect();
        Server {
            rows,
            created: BTreeMap::new(),
            now,
            lag,
            next_id: n + 1,
        }
    }

    fn created(&self, id: u64) -> DateTime<Utc> {
        self.created.get(&id).copied().unwrap_or(self.rows[&id].0)
    }

    fn search(&self, request: SeekRequest) -> Vec<Mark> {
        // Narrowed to one instant, the rows are walked by creation time.
        let key = |id: u64, m: DateTime<Utc>| match request.within {
            Some(_) => self.created(id),
            None => m,
        };
        let mut hits: Vec<(DateTime<Utc>, u64)> = self
            .rows
            .iter()
            .filter(|(_, (m, visible))| {
                *visible <= self.now && request.within.is_none_or(|w| *m == w)
            })
            .map(|(id, (m, _))| (key(*id, *m), *id))
            .filter(|(t, _)| *t >= request.lo && *t <= request.hi)
            .collect();
        hits.sort();
        hits.into_iter()
            .skip(request.from as usize)
            .take(request.limit as usize)
            .map(|(m, id)| Mark {
                at: Some(m),
                id: Some(RecordId(id)),
            })
            .collect()
    }

    fn write(&mut self, id: u64) {
        // Desk writes carry whole seconds (`.000Z`): writes in one second tie.
        let now = self.now.trunc_subsecs(0);
        self.rows.insert(id, (now, now + self.lag));
    }

    /// One change: 0 modifies a row, 1 deletes one, 2 creates one, 3 lets a second pass.
    fn change(&mut self, kind: u8, pick: usize) {
        let ids: Vec<u64> = self.rows.keys().copied().collect();
        match kind {
            0 if !ids.is_empty() => self.write(ids[pick % ids.len()]),
            1 if !ids.is_empty() => {
                self.rows.remove(&ids[pick % ids.len()]);
            }
            2 => {
                let id = self.next_id;
                self.next_id += 1;
                self.write(id);
            }
            _ => self.now += TimeDelta::seconds(1),
        }
    }
}

/// What a pass read: id → modified.
type Read = BTreeMap<u64, DateTime<Utc>>;

/// Runs one pass from `lo`, applying `changes` (one before each request); returns what
/// it read and where the next pass starts.
fn pass(
    server: &mut Server,
    lo: DateTime<Utc>,
    limit: u32,
    changes: &mut impl Iterator<Item = (u8, usize)>,
) -> Result<(Read, DateTime<Utc>), SeekFault> {
    let mut seek = Seek::start(lo, server.now);
    let mut read = BTreeMap::new();
    for _ in 0..100_000 {
        if let Some((kind, pick)) = changes.next() {
            server.change(kind, pick);
        }
        server.now += TimeDelta::milliseconds(300);
        let page = server.search(seek.request(limit));
        for mark in &page {
            read.insert(mark.id.unwrap().0, mark.at.unwrap());
        }
        match seek.step(limit, &page, TimeOrder::Modified)? {
            SeekStep::More(next) => seek = next,
            SeekStep::Done => return Ok((read, Seek::next_lo(seek.hi))),
        }
    }
    panic!("the pass does not end");
}

#[test]
fn a_still_module_is_read_whole_from_the_beginning_of_time() {
    let mut server = Server::new(1_000, 3, TimeDelta::zero());
    server.now += TimeDelta::hours(1);
    let (read, _) = pass(&mut server, at(-10_000_000), 100, &mut std::iter::empty()).unwrap();
    assert_eq!(read.len(), 1_000);
}

#[test]
fn a_tie_group_larger_than_a_page_is_paged_inside_its_instant() {
    let mut server = Server::new(750, 750, TimeDelta::zero());
    server.now += TimeDelta::hours(1);
    let (read, _) = pass(&mut server, at(-10_000_000), 100, &mut std::iter::empty()).unwrap();
    assert_eq!(read.len(), 750);
}

#[test]
fn a_tie_group_past_the_search_cap_is_read_by_creation_time_inside_its_instant() {
    let mut server = Server::new(5_100, 10_000, TimeDelta::zero());
    for id in 1..=5_100 {
        let created = at(-1_000_000) + TimeDelta::seconds((id / 7) as i64);
        server.created.insert(id, created);
    }
    server.now += TimeDelta::hours(1);
    let (read, _) = pass(&mut server, at(-10_000_000), 100, &mut std::iter::empty()).unwrap();
    assert_eq!(read.len(), 5_100);
}

#[test]
fn a_tie_group_past_the_cap_created_in_one_instant_too_is_refused_not_read_in_part() {
    let mut server = Server::new(5_100, 10_000, TimeDelta::zero());
    server.now += TimeDelta::hours(1);
    let fault = pass(&mut server, at(-10_000_000), 100, &mut std::iter::empty()).unwrap_err();
    assert!(matches!(fault, SeekFault::TieTooLarge { .. }), "{fault}");
}

#[test]
fn rows_out_of_time_order_or_outside_the_range_are_refused() {
    let seek = Seek::start(at(0), at(100_000));
    let mark = |s| Mark {
        at: Some(at(s)),
        id: Some(RecordId(1)),
    };
    assert!(matches!(
        seek.step(10, &[mark(5), mark(3)], TimeOrder::Modified),
        Err(SeekFault::OutOfOrder { .. })
    ));
    assert!(matches!(
        seek.step(10, &[mark(-5)], TimeOrder::Modified),
        Err(SeekFault::OutOfRange { .. })
    ));
    assert!(matches!(
        seek.step(1, &[mark(5), mark(6)], TimeOrder::Modified),
        Err(SeekFault::Overfull { .. })
    ));
}

#[test]
fn a_write_is_read_by_a_pass_once_the_index_shows_it() {
    let mut server = Server::new(10, 1, TimeDelta::minutes(5));
    server.now += TimeDelta::hours(1);
    let (_, lo) = pass(&mut server, at(-10_000_000), 100, &mut std::iter::empty()).unwrap();
    server.write(3);
    server.now += INDEX_LAG + TimeDelta::seconds(1);
    let (read, _) = pass(&mut server, lo, 100, &mut std::iter::empty()).unwrap();
    assert!(read.contains_key(&3), "{read:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever is modified, deleted or created between two requests, every row left
    /// alone throughout a pass and modified within its range is read by it.
    #[test]
    fn every_row_left_alone_in_the_range_is_read_by_the_pass(
        n in 0u64..600,
        per_second in 1u64..40,
        limit in 5u32..60,
        changes in proptest::collection::vec((0u8..4, 0usize..10_000), 0..80),
    ) {
        let mut server = Server::new(n, per_second, TimeDelta::zero());
        server.now += TimeDelta::hours(1);
        let before = server.rows.clone();
        let hi = server.now - INDEX_LAG;
        let mut changes = changes.into_iter();
        let (read, _) = pass(&mut server, at(-10_000_000), limit, &mut changes).unwrap();
        for (id, (modified, _)) in &before {
            let untouched = server.rows.get(id).is_some_and(|(m, _)| m == modified);
            if untouched && *modified <= hi {
                prop_assert!(read.contains_key(id), "row {} was never read", id);
            }
        }
    }

    /// Passes after passes under churn, then a quiet spell and one more pass: the mirror
    /// holds every row with its latest modification, with the index lagging writes.
    #[test]
    fn passes_under_churn_then_one_quiet_pass_leave_the_mirror_equal_to_the_source(
        n in 0u64..300,
        per_second in 1u64..30,
        limit in 5u32..40,
        lag_secs in 0i64..600,
        rounds in proptest::collection::vec(
            proptest::collection::vec((0u8..4, 0usize..10_000), 0..30), 1..6),
    ) {
        let mut server = Server::new(n, per_second, TimeDelta::seconds(lag_secs));
        server.now += TimeDelta::hours(1);
        let mut mirror: BTreeMap<u64, DateTime<Utc>> = BTreeMap::new();
        let mut lo = at(-10_000_000);
        for round in rounds {
            let mut changes = round.into_iter();
            let (read, next) = pass(&mut server, lo, limit, &mut changes).unwrap();
            mirror.extend(read);
            lo = next;
            server.now += TimeDelta::minutes(7);
        }
        server.now += INDEX_LAG + TimeDelta::minutes(1);
        let (read, _) = pass(&mut server, lo, limit, &mut std::iter::empty()).unwrap();
        mirror.extend(read);
        let live: BTreeSet<u64> = server.rows.keys().copied().collect();
        for id in &live {
            prop_assert_eq!(mirror.get(id), Some(&server.rows[id].0), "row {}", id);
        }
    }
}

#[test]
fn a_walk_saved_before_there_were_two_legs_resumes_on_the_first() {
    let saved = r#"{"lo":"2026-01-01T00:00:00Z","hi":"2026-01-02T00:00:00Z","tie":null}"#;
    let seek: Seek = serde_json::from_str(saved).unwrap();
    assert_eq!(seek.leg, Leg::Modified);
    let second = seek.responses(at(0));
    assert_eq!(
        (second.leg, second.lo, second.hi),
        (Leg::Responses, at(0), seek.hi)
    );
    assert!(second.tie.is_none());
}
