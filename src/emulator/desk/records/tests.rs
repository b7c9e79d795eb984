//! Rendering: the D14 projections, string ids and counters, `.000Z` times, volatile values
//! redrawn only by a new version, written values and `cf` mirrored by label, references.

use super::*;
use crate::emulator::desk::facts::{agents, departments};

fn facts() -> OrgFacts {
    OrgFacts {
        seed: 1,
        ordinal: 0,
        org_id: "1".into(),
        portal: "demo".into(),
        agents: agents(1, 0, 3, "demo"),
        departments: departments(0, &["Support".into(), "Sales".into()]),
        initial: [20; 9],
        born: 1_772_600_000,
    }
}

fn entry(id: u64) -> Entry {
    Entry {
        id,
        created: 1_772_000_000,
        modified: 1_772_500_000,
        version: 0,
        number: 101,
    }
}

#[test]
fn a_ticket_list_row_omits_modified_time_description_and_cf_but_a_search_row_has_them() {
    let facts = facts();
    let e = entry(facts.initial_id(DeskModule::Tickets, 3));
    let record = Record {
        facts: &facts,
        module: DeskModule::Tickets,
        entry: &e,
        written: None,
    };
    let row = record.list_row();
    for hidden in ["modifiedTime", "description", "cf", "customFields"] {
        assert!(row.get(hidden).is_none(), "{hidden}");
    }
    let search = record.search_row();
    assert_eq!(
        search.get("modifiedTime"),
        Some(&json!("2026-03-03T01:06:40.000Z"))
    );
    assert!(search.get("cf").is_some_and(Value::is_object));
    assert!(search.get("department").is_some_and(Value::is_object));
    assert_eq!(search.0.first().map(|(k, _)| *k), Some("id"));
}

#[test]
fn ids_and_counters_are_strings_and_times_have_three_millisecond_digits() {
    let facts = facts();
    let e = entry(facts.initial_id(DeskModule::Tickets, 0));
    let full = Record {
        facts: &facts,
        module: DeskModule::Tickets,
        entry: &e,
        written: None,
    }
    .full();
    for key in [
        "id",
        "ticketNumber",
        "threadCount",
        "departmentId",
        "contactId",
    ] {
        assert!(full.get(key).is_some_and(Value::is_string), "{key}");
    }
    let created = full
        .get("createdTime")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert_eq!(time::parse(created), Some(e.created * 1000));
    assert!(full.get("isSpam").is_some_and(Value::is_boolean));
}

#[test]
fn the_same_record_renders_the_same_and_a_new_version_redraws_only_volatile_values() {
    let facts = facts();
    let e = entry(facts.initial_id(DeskModule::Tasks, 5));
    let render = |e: &Entry| {
        Record {
            facts: &facts,
            module: DeskModule::Tasks,
            entry: e,
            written: None,
        }
        .full()
    };
    assert_eq!(render(&e), render(&e));
    let changed: Vec<&str> = (1..20)
        .flat_map(|v| {
            let next = Entry { version: v, ..e };
            let (a, b) = (render(&e), render(&next));
            a.0.into_iter()
                .zip(b.0)
                .filter(|(x, y)| x != y)
                .map(|(x, _)| x.0)
                .collect::<Vec<_>>()
        })
        .collect();
    for stable in ["id", "createdTime", "creatorId", "departmentId"] {
        assert!(!changed.contains(&stable), "{stable} changed");
    }
    assert!(changed.contains(&"subject"));
}

#[test]
fn written_values_win_and_custom_fields_mirror_cf_by_label() {
    let facts = facts();
    let e = entry(facts.initial_id(DeskModule::Tickets, 1));
    let mut written = Written::new();
    written.insert("status".into(), json!("On Hold"));
    written.insert(
        "cf".into(),
        json!({"cf_order_number": "SO-1", "cf_region": null}),
    );
    let record = Record {
        facts: &facts,
        module: DeskModule::Tickets,
        entry: &e,
        written: Some(&written),
    };
    let full = record.full();
    assert_eq!(full.get("status"), Some(&json!("On Hold")));
    assert_eq!(full.get("statusType"), Some(&json!("On Hold")));
    assert_eq!(
        full.get("customFields"),
        Some(&json!({"Order Number": "SO-1", "Region": null}))
    );
}

#[test]
fn references_name_generated_records_of_their_module() {
    let facts = facts();
    for k in 0..20 {
        let e = entry(facts.initial_id(DeskModule::Tickets, k));
        let record = Record {
            facts: &facts,
            module: DeskModule::Tickets,
            entry: &e,
            written: None,
        };
        let contact = record.get("contactId");
        let id = contact
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_default();
        assert_eq!(facts.module_of(id), Some(DeskModule::Contacts));
        assert!((0..20).any(|j| facts.initial_id(DeskModule::Contacts, j) == id));
    }
}
