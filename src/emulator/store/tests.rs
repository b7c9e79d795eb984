use super::*;
use chrono::TimeZone;

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 3, 3, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(super) fn spec(module: Module) -> StoreSpec {
    StoreSpec {
        seed: 42,
        module,
        portal: "acmehelp".to_string(),
        department: "Support Ü".to_string(),
        zone: chrono_tz::UTC,
        custom_fields: Vec::new(),
    }
}

pub(super) fn store(module: Module, count: u64) -> ModuleStore {
    ModuleStore::generate(spec(module), count, now())
}

pub(super) fn all(store: &ModuleStore) -> Vec<Row> {
    store.rows().collect()
}

pub(super) fn field<'r>(row: &'r Row, label: &str) -> Option<&'r str> {
    row.fields
        .iter()
        .find(|(l, _)| l == label)
        .and_then(|(_, v)| v.as_deref())
}

#[test]
fn the_same_seed_yields_the_same_rows_and_another_seed_other_rows() {
    for module in Module::ALL {
        assert_eq!(
            all(&store(module, 300)),
            all(&store(module, 300)),
            "{module}"
        );
        let other = ModuleStore::generate(
            StoreSpec {
                seed: 7,
                ..spec(module)
            },
            300,
            now(),
        );
        assert_ne!(all(&store(module, 300)), all(&other), "{module}");
    }
}

#[test]
fn a_million_records_generate_fast_in_compact_memory() {
    let started = std::time::Instant::now();
    let big = store(Module::Requests, 1_000_000);
    let took = started.elapsed();
    assert_eq!(big.len(), 1_000_000);
    let bytes = big.index.capacity() * std::mem::size_of::<Entry>();
    assert!(bytes <= 40 << 20, "index takes {bytes} bytes");
    let window = big
        .select(&Query::default(), 999_901, 1_000_100)
        .unwrap_or_default();
    assert_eq!(window.len(), 100);
    let scan = std::time::Instant::now();
    let recent = Query {
        modified_after: Some(now() - chrono::Duration::days(1)),
        ..Query::default()
    };
    let hits = big
        .select(&recent, 1, 200)
        .map(|rows| rows.len())
        .unwrap_or_default();
    let scanned = scan.elapsed();
    let search = std::time::Instant::now();
    let nothing = Query {
        search: Some(("Subject".to_string(), "no such subject".to_string())),
        ..Query::default()
    };
    assert_eq!(big.select(&nothing, 1, 200), Ok(vec![]));
    println!(
        "1M requests: generated in {took:?}, {} MiB index, modified-after scan {scanned:?} \
         ({hits} rows), full text search {:?}",
        bytes >> 20,
        search.elapsed()
    );
}

#[test]
fn rows_ascend_by_id_with_the_id_field_first_and_times_in_the_last_five_years() {
    let rows = all(&store(Module::Requests, 500));
    let oldest = (now() - chrono::Duration::days(5 * 366))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let newest = now().format("%Y-%m-%d %H:%M:%S").to_string();
    for pair in rows.windows(2) {
        assert!(pair[0].id < pair[1].id);
        let no = |r: &Row| field(r, "Request Id").and_then(|n| n.parse::<u32>().ok());
        assert!(no(&pair[0]) < no(&pair[1]));
    }
    for row in &rows {
        assert_eq!(row.fields.first().map(|(l, _)| l.as_str()), Some("CASEID"));
        assert_eq!(field(row, "CASEID"), Some(row.id.to_string().as_str()));
        let uri = format!("/support/acmehelp/ShowHomePage.do#Cases/dv/{}", row.id);
        assert_eq!(field(row, "URI"), Some(uri.as_str()));
        let (created, modified) = (field(row, "Created Time"), field(row, "Modified Time"));
        assert!(created.is_some_and(|c| c.len() == 19 && c > oldest.as_str()));
        assert!(created <= modified && modified <= Some(newest.as_str()));
    }
}

#[test]
fn the_window_is_one_based_inclusive_and_clipped_at_the_end() {
    let s = store(Module::Accounts, 50);
    let ids: Vec<u64> = s.rows().map(|r| r.id).collect();
    let window = |from, to| {
        s.select(&Query::default(), from, to)
            .map(|rows| rows.iter().map(|r| r.id).collect::<Vec<_>>())
    };
    assert_eq!(window(1, 20), Ok(ids[0..20].to_vec()));
    assert_eq!(window(41, 60), Ok(ids[40..50].to_vec()));
    assert_eq!(window(50, 50), Ok(vec![ids[49]]));
    assert_eq!(window(51, 70), Ok(vec![]));
    assert_eq!(window(0, 1), Ok(vec![ids[0]]));
    assert_eq!(window(5, 4), Ok(vec![]));
}

#[test]
fn labels_are_found_case_insensitively_and_get_returns_one_record() {
    let s = store(Module::TimeEntry, 10);
    assert_eq!(s.canonical_label(" hours SPENT "), Some("Hours Spent"));
    assert_eq!(s.canonical_label("Hours"), None);
    assert_eq!(
        s.labels().first().map(String::as_str),
        Some("TIME_ENTRY_ID")
    );
    let third = all(&s).swap_remove(2);
    assert_eq!(s.get(third.id), Some(third.clone()));
    assert_eq!(s.get(third.id + 1), None);
}
