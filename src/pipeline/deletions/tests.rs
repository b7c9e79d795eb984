//! The walk of the deletions against the in-memory source and store: how far it reads,
//! and that rows leaving the bin ahead of it never make it skip one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::desk::DeskModule;
use crate::source::memory::MemorySource;
use crate::store::memory::MemoryStore;
use crate::store::Store;

const PORTAL: &str = "20000000001";
const PAGE: u32 = 50;

fn tickets() -> Module {
    Module::Desk(DeskModule::Tickets)
}

/// `n` deletions of tickets, newest first, one a minute back from `newest`.
fn bin(n: i64, newest: DateTime<Utc>) -> Vec<Tombstone> {
    (0..n)
        .map(|i| Tombstone {
            module: Some(tickets()),
            kind: "Tickets".into(),
            id: 1_000 + i,
            deleted_at: newest - TimeDelta::minutes(i),
        })
        .collect()
}

fn walk(mirror_empty: bool) -> DeletionWalk<'static> {
    const MODULES: &[Module] = &[Module::Desk(DeskModule::Tickets)];
    DeletionWalk {
        portal: PORTAL,
        run_id: 1,
        modules: MODULES,
        mirror_empty,
    }
}

fn setup(deletions: Vec<Tombstone>) -> (Arc<MemorySource>, Arc<MemoryStore>, Pipeline) {
    let source = Arc::new(MemorySource::seeking(PAGE, Duration::ZERO));
    source.set_deletions(deletions);
    let store = Arc::new(MemoryStore::new());
    let pipeline = crate::pipeline::tests::pipeline(&source, &store, 0, 1_000);
    (source, store, pipeline)
}

fn applied(store: &MemoryStore) -> Vec<i64> {
    store.deletions(PORTAL).keys().map(|(_, id)| *id).collect()
}

#[tokio::test]
async fn the_first_walk_of_an_organisation_never_synced_reads_nothing_and_sets_the_cursor() {
    let (source, store, pipeline) = setup(bin(10, Utc::now()));
    let end = pipeline.walk_deletions(&walk(true)).await.unwrap();
    assert_eq!(end, PassEnd::Completed);
    assert_eq!(source.requests().0, 0);
    assert!(applied(&store).is_empty());
    assert!(store.deletions_cursor(PORTAL).await.unwrap().is_some());
}

#[tokio::test]
async fn a_walk_with_no_cursor_applies_the_whole_bin_in_overlapping_pages() {
    let (source, store, pipeline) = setup(bin(250, Utc::now()));
    let end = pipeline.walk_deletions(&walk(false)).await.unwrap();
    assert_eq!(end, PassEnd::Completed);
    assert_eq!(applied(&store), (1_000..1_250).collect::<Vec<_>>());
    // Pages from 0, 49, 98, 147, 196, 245 (the last one short).
    assert_eq!(source.requests().0, 6);
}

#[tokio::test]
async fn a_walk_reads_down_to_an_hour_before_the_last_walks_start() {
    let now = Utc::now();
    let (source, store, pipeline) = setup(Vec::new());
    pipeline.walk_deletions(&walk(true)).await.unwrap();
    // Ten deletions since the cursor, then two days of older ones.
    let mut deletions = bin(10, now + TimeDelta::minutes(30));
    deletions.extend(bin(200, now - TimeDelta::days(2)).into_iter().map(|mut t| {
        t.id += 10_000;
        t
    }));
    source.set_deletions(deletions);
    pipeline.walk_deletions(&walk(false)).await.unwrap();
    assert_eq!(source.requests().0, 1, "one page reaches the old deletions");
    assert!((1_000..1_010).all(|id| applied(&store).contains(&id)));
}

#[tokio::test]
async fn rows_leaving_the_bin_ahead_of_the_walk_restart_it_and_none_is_skipped() {
    let (source, store, pipeline) = setup(bin(250, Utc::now()));
    // Before the second request, a record on the first page is restored: every row after
    // it moves up one place, and the second page no longer starts on the first's last.
    source.before_each_bin_request(Box::new(|n, bin| {
        if n == 1 {
            bin.remove(10);
        }
    }));
    let end = pipeline.walk_deletions(&walk(false)).await.unwrap();
    assert_eq!(end, PassEnd::Completed);
    let expected: Vec<i64> = (1_000..1_250).collect();
    assert_eq!(
        applied(&store),
        expected,
        "the restored one was applied before it left"
    );
    assert!(source.requests().0 > 6, "the walk started over");
}

#[tokio::test]
async fn deletions_of_modules_not_mirrored_are_skipped() {
    let mut deletions = bin(3, Utc::now());
    deletions[1].module = Some(Module::Desk(DeskModule::Contacts));
    deletions[2].module = None;
    deletions[2].kind = "Attachments".into();
    let (_, store, pipeline) = setup(deletions);
    pipeline.walk_deletions(&walk(false)).await.unwrap();
    assert_eq!(applied(&store), [1_000]);
}
