//! The store: a million records at once, tie groups in id order both ways, the index lag,
//! the bin's moves and its 60-day retention, updates that keep what they do not name.

use super::*;
use crate::emulator::desk::facts::{agents, departments};
use crate::emulator::desk::time::Range;
use chrono::TimeDelta;

pub(crate) fn facts(count: u64) -> Arc<OrgFacts> {
    Arc::new(OrgFacts {
        seed: 4,
        ordinal: 0,
        org_id: "1".into(),
        portal: "demo".into(),
        agents: agents(4, 0, 2, "demo"),
        departments: departments(0, &["Support".into()]),
        initial: [count; 9],
        born: 1_772_600_000,
    })
}

fn store(module: DeskModule, count: u64, lag: Duration) -> DeskStore {
    DeskStore::generate(facts(count), module, count, lag)
}

fn born() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_600_000, 0).unwrap_or_default()
}

fn ids(hits: &[Hit]) -> Vec<u64> {
    hits.iter().map(|h| h.entry.id).collect()
}

#[test]
fn a_million_records_are_generated_in_ascending_id_and_time_before_start() {
    let started = std::time::Instant::now();
    let s = store(DeskModule::Tickets, 1_000_000, Duration::ZERO);
    assert_eq!(s.len(), 1_000_000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let entries = &s.live.entries;
    assert!(entries
        .windows(2)
        .all(|w| w[0].id < w[1].id && w[0].created <= w[1].created));
    assert!(entries
        .iter()
        .all(|e| e.created <= e.modified && e.modified <= 1_772_600_000));
}

#[test]
fn records_sharing_one_second_sort_by_id_in_either_direction() {
    let mut s = store(DeskModule::Contacts, 300, Duration::ZERO);
    let now = born() + TimeDelta::seconds(10);
    let touched: Vec<u64> = s.live_ids().into_iter().step_by(2).take(120).collect();
    for id in &touched {
        assert!(s.touch(*id, now).is_ok());
    }
    let range = Range {
        from: now.timestamp_millis(),
        to: now.timestamp_millis(),
    };
    let filters = [Filter::Range {
        field: "modifiedTime",
        range,
    }];
    let asc = Sort {
        key: SortKey::Modified,
        descending: false,
    };
    let (first, count) = s.search(&filters, asc, 0, 100);
    let (second, _) = s.search(&filters, asc, 100, 100);
    assert_eq!(count, 120);
    let mut all = ids(&first);
    all.extend(ids(&second));
    assert_eq!(all, touched);
    let desc = Sort {
        key: SortKey::Modified,
        descending: true,
    };
    let (down, _) = s.search(&filters, desc, 0, 5);
    assert_eq!(ids(&down), touched[..5].to_vec());
}

#[test]
fn a_search_sees_a_write_only_after_the_index_lag() {
    let lag = Duration::from_secs(60);
    let mut s = store(DeskModule::Accounts, 10, lag);
    let now = born() + TimeDelta::seconds(5);
    let created = s.create(serde_json::Map::new(), now);
    let by_id = [Filter::Id(created.entry.id)];
    assert!(s.get(created.entry.id).is_some());
    assert_eq!(s.search(&by_id, Sort::BY_ID, 0, 10).1, 0);
    s.catch_up(now + TimeDelta::seconds(59));
    assert_eq!(s.search(&by_id, Sort::BY_ID, 0, 10).1, 0);
    s.catch_up(now + TimeDelta::seconds(60));
    assert_eq!(s.search(&by_id, Sort::BY_ID, 0, 10).1, 1);
    let later = now + TimeDelta::seconds(100);
    assert_eq!(s.trash(created.entry.id, 1, later), Ok(()));
    s.catch_up(later);
    assert_eq!(
        s.search(&by_id, Sort::BY_ID, 0, 10).1,
        1,
        "still indexed during the lag"
    );
    s.catch_up(later + TimeDelta::seconds(60));
    assert_eq!(s.search(&by_id, Sort::BY_ID, 0, 10).1, 0);
}

#[test]
fn trash_restore_and_purge_move_a_record_between_live_bin_and_gone() {
    let mut s = store(DeskModule::Tickets, 5, Duration::ZERO);
    let id = s.live_ids()[2];
    let now = born() + TimeDelta::seconds(30);
    assert_eq!(s.trash(id, 9, now), Ok(()));
    assert!(s.get(id).is_none() && s.len() == 4);
    assert_eq!(s.trash(id, 9, now), Err(StoreError::NotLive(id)));
    let restored = s.restore(id, now + TimeDelta::seconds(1));
    assert_eq!(restored.map(|h| h.entry.modified), Ok(now.timestamp() + 1));
    assert_eq!(s.trash(id, 9, now), Ok(()));
    assert_eq!(s.purge(id), Ok(()));
    assert_eq!(s.restore(id, now).err(), Some(StoreError::NotInBin(id)));
}

#[test]
fn the_bin_forgets_a_record_sixty_days_after_its_deletion() {
    let mut s = store(DeskModule::Contacts, 3, Duration::ZERO);
    let id = s.live_ids()[0];
    let now = born();
    assert_eq!(s.trash(id, 1, now), Ok(()));
    s.catch_up(now + TimeDelta::days(60));
    assert_eq!(s.trashed().count(), 1);
    s.catch_up(now + TimeDelta::days(60) + TimeDelta::seconds(1));
    assert_eq!(s.trashed().count(), 0);
}

#[test]
fn an_update_keeps_other_values_merges_cf_and_stamps_the_second() {
    let mut s = store(DeskModule::Tickets, 5, Duration::ZERO);
    let id = s.live_ids()[1];
    let facts = Arc::clone(s.facts());
    let before = s
        .get(id)
        .map(|h| h.record(&facts, DeskModule::Tickets).full())
        .unwrap_or_default();
    let mut patch = serde_json::Map::new();
    patch.insert("subject".into(), serde_json::json!("Changed"));
    patch.insert("cf".into(), serde_json::json!({"cf_region": "EMEA"}));
    let now = born() + TimeDelta::milliseconds(7_500);
    let after = s
        .update(id, patch, now)
        .map(|h| h.record(&facts, DeskModule::Tickets).full())
        .unwrap_or_default();
    for ((key, old), (_, new)) in before.0.iter().zip(&after.0) {
        match *key {
            "subject" => assert_eq!(new, &serde_json::json!("Changed")),
            "modifiedTime" => assert_eq!(new, &serde_json::json!("2026-03-04T04:53:27.000Z")),
            "cf" => {
                assert_eq!(new["cf_region"], serde_json::json!("EMEA"));
                assert_eq!(new["cf_order_number"], old["cf_order_number"]);
            }
            "customFields" | "closedTime" => {}
            _ => assert_eq!(old, new, "{key}"),
        }
    }
}
