//! The wire client against the emulator: every method, every module, both formats.

use std::collections::BTreeMap;

use zoho_sync::zoho::client::{GetRecords, Search, SelectFields};
use zoho_sync::zoho::codec::RowOutcome;
use zoho_sync::zoho::{Format, Module, Record, RecordId};

use crate::support::emulator::TestEmulator;

const FORMATS: [Format; 2] = [Format::Xml, Format::Json];

fn records(rows: Vec<RowOutcome>) -> Vec<Record> {
    rows.into_iter()
        .map(|row| match row {
            RowOutcome::Ok(record) => record,
            RowOutcome::Bad(bad) => panic!("undecodable row: {} in {}", bad.error, bad.raw),
        })
        .collect()
}

fn as_map(record: &Record) -> BTreeMap<String, Option<String>> {
    record
        .fields
        .iter()
        .map(|f| {
            (
                f.label.to_string(),
                f.value.as_ref().map(ToString::to_string),
            )
        })
        .collect()
}

fn window(from: u32, to: u32) -> GetRecords {
    GetRecords {
        from_index: Some(from),
        to_index: Some(to),
        select: SelectFields::All,
        ..GetRecords::default()
    }
}

#[tokio::test]
async fn paging_through_every_module_in_both_formats_returns_the_source_exactly_once() {
    let emulator = TestEmulator::with_records(250).await;
    for module in Module::ALL {
        let source = emulator.snapshot(module).await;
        assert_eq!(source.len(), 250, "{module}");
        for format in FORMATS {
            let client = emulator.client(format);
            let mut seen = BTreeMap::new();
            let mut from = 1;
            loop {
                let page = records(
                    client
                        .get_records(module, &window(from, from + 199))
                        .await
                        .unwrap(),
                );
                if page.is_empty() {
                    break;
                }
                for record in &page {
                    let id = record.id.expect("every row carries its id").0;
                    assert!(
                        seen.insert(id, as_map(record)).is_none(),
                        "{module} {id} twice"
                    );
                }
                from += page.len() as u32;
            }
            assert_eq!(seen, source, "{module} in {format}");
        }
    }
}

#[tokio::test]
async fn rows_come_in_ascending_id_order_and_the_window_is_honoured() {
    let emulator = TestEmulator::with_records(50).await;
    let client = emulator.client(Format::Json);
    let page = records(
        client
            .get_records(Module::Requests, &window(11, 30))
            .await
            .unwrap(),
    );
    assert_eq!(page.len(), 20);
    let ids: Vec<u64> = page.iter().map(|r| r.id.unwrap().0).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    let all: Vec<u64> = emulator
        .snapshot(Module::Requests)
        .await
        .into_keys()
        .collect();
    assert_eq!(ids, all[10..30]);
}

#[tokio::test]
async fn getrecordsbyid_and_search_find_one_record_in_both_formats() {
    let emulator = TestEmulator::with_records(30).await;
    for module in Module::ALL {
        let source = emulator.snapshot(module).await;
        let (&id, fields) = source.iter().nth(7).unwrap();
        for format in FORMATS {
            let client = emulator.client(format);
            let found = client
                .get_record_by_id(module, RecordId(id), &SelectFields::All)
                .await
                .unwrap();
            let Some(RowOutcome::Ok(record)) = found else {
                panic!("{module} {id} not found in {format}")
            };
            assert_eq!(&as_map(&record), fields, "{module} in {format}");

            let search = Search {
                search_field: module.id_field().to_string(),
                search_value: id.to_string(),
                select: SelectFields::All,
                from_index: None,
                to_index: None,
                no_of_days: None,
            };
            let hits = records(client.search(module, &search).await.unwrap());
            assert_eq!(hits.len(), 1, "{module} search in {format}");
            assert_eq!(hits[0].id, Some(RecordId(id)));
        }
    }
}

#[tokio::test]
async fn a_missing_id_is_none_and_a_search_without_match_is_empty() {
    let emulator = TestEmulator::with_records(10).await;
    for format in FORMATS {
        let client = emulator.client(format);
        let missing = client
            .get_record_by_id(Module::Contacts, RecordId(1), &SelectFields::Default)
            .await
            .unwrap();
        assert_eq!(missing, None);
        let search = Search {
            search_field: "Subject".into(),
            search_value: "no subject reads like this \u{2603}".into(),
            select: SelectFields::Default,
            from_index: None,
            to_index: None,
            no_of_days: None,
        };
        assert!(client
            .search(Module::Requests, &search)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn selectfields_returns_the_id_and_the_named_fields_only() {
    let emulator = TestEmulator::with_records(5).await;
    for format in FORMATS {
        let client = emulator.client(format);
        let request = GetRecords {
            select: SelectFields::Labels(vec!["subject".into(), "Status".into()]),
            ..window(1, 5)
        };
        let page = records(
            client
                .get_records(Module::Requests, &request)
                .await
                .unwrap(),
        );
        assert_eq!(page.len(), 5);
        for record in page {
            let labels: Vec<&str> = record.fields.iter().map(|f| f.label.as_str()).collect();
            assert_eq!(labels.len(), 3, "{labels:?}");
            assert!(record.id.is_some());
            assert!(labels.iter().any(|l| l.eq_ignore_ascii_case("subject")));
        }
    }
}

#[tokio::test]
async fn lastmodifiedtime_returns_only_records_modified_strictly_after_it() {
    let emulator = TestEmulator::with_records(300).await;
    let source = emulator.snapshot(Module::Tasks).await;
    let mut times: Vec<String> = source
        .values()
        .filter_map(|f| f.get("Modified Time").cloned().flatten())
        .collect();
    times.sort();
    let since = times[times.len() / 2].clone();
    let expected = times.iter().filter(|t| **t > since).count();
    for format in FORMATS {
        let client = emulator.client(format);
        let request = GetRecords {
            last_modified_time: Some(
                chrono::NaiveDateTime::parse_from_str(&since, "%Y-%m-%d %H:%M:%S").unwrap(),
            ),
            ..window(1, 200)
        };
        let page = records(client.get_records(Module::Tasks, &request).await.unwrap());
        assert_eq!(page.len(), expected, "{format}");
        assert!(page
            .iter()
            .all(|r| r.get("Modified Time").unwrap() > since.as_str()));
    }
}

/// The mandatory field of each module, which an add must carry.
fn mandatory(module: Module) -> &'static str {
    match module {
        Module::Requests | Module::Tasks => "Subject",
        Module::Contacts => "Last Name",
        Module::Accounts => "Account Name",
        Module::Products => "Product Name",
        Module::Contracts => "Contract Name",
        Module::Solutions => "Title",
        Module::TimeEntry => "Hours Spent",
    }
}

#[tokio::test]
async fn add_update_and_delete_work_for_every_module_in_both_formats() {
    let emulator = TestEmulator::with_records(3).await;
    for module in Module::ALL {
        for format in FORMATS {
            let client = emulator.client(format);
            let label = mandatory(module).to_string();
            let rows = vec![
                vec![(label.clone(), Some("7".to_string()))],
                vec![(label.clone(), Some("8 <&> ]]> \"é\"".to_string()))],
            ];
            let added = client.add_records(module, &rows).await.unwrap();
            assert_eq!(added.responsecode, Some(2001), "{module} {format}");
            assert_eq!(added.ids.len(), 2, "{module} {format}");
            let id = added.ids[1];

            let fetched = client
                .get_record_by_id(module, id, &SelectFields::All)
                .await
                .unwrap();
            let Some(RowOutcome::Ok(record)) = fetched else {
                panic!("added record missing")
            };
            assert_eq!(
                record.get(&label),
                Some("8 <&> ]]> \"é\""),
                "{module} {format}"
            );

            let updated = client
                .update_record(module, id, &[(label.clone(), Some("9".to_string()))])
                .await
                .unwrap();
            assert!(updated.message.unwrap_or_default().contains("updated"));
            let fetched = client
                .get_record_by_id(module, id, &SelectFields::All)
                .await
                .unwrap();
            let Some(RowOutcome::Ok(record)) = fetched else {
                panic!("updated record missing")
            };
            assert_eq!(record.get(&label), Some("9"));

            client.delete_record(module, id).await.unwrap();
            let gone = client
                .get_record_by_id(module, id, &SelectFields::All)
                .await
                .unwrap();
            assert_eq!(gone, None, "{module} {format}");
        }
    }
}
