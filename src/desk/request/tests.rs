//! Requests: their paths, queries and bodies as the contract writes them, the limits
//! checked before anything is sent, and the cost table of D19.

use super::*;
use chrono::TimeZone;

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, h, 0, 0).unwrap()
}

fn search(module: DeskModule, from: u32, limit: u32) -> DeskRequest {
    DeskRequest::Search {
        module,
        query: SearchQuery {
            range: TimeRange {
                field: TimeField::ModifiedTime,
                from: at(1),
                to: at(2),
            },
            pinned: None,
            sort_by: TimeField::ModifiedTime,
            from,
            limit,
        },
    }
}

fn ids(n: usize) -> Vec<DeskId> {
    (1..=n)
        .map(|i| DeskId::parse(&i.to_string()).unwrap())
        .collect()
}

#[test]
fn lists_and_searches_cost_by_their_offset_tier() {
    let table = [
        (0, 3),
        (1, 3),
        (2_000, 3),
        (2_001, 5),
        (10_000, 5),
        (10_001, 10),
        (50_000, 10),
        (50_001, 50),
        (100_000, 50),
        (100_001, 100),
        (u32::MAX, 100),
    ];
    for (from, cost) in table {
        let list = DeskRequest::List {
            module: DeskModule::Tickets,
            from,
            limit: 100,
        };
        assert_eq!(list.cost(), cost, "list from {from}");
        assert_eq!(offset_cost(from), cost);
    }
    assert_eq!(search(DeskModule::Tickets, 4900, 100).cost(), 5);
    assert_eq!(
        DeskRequest::RecycleBin {
            from: 0,
            limit: 100
        }
        .cost(),
        3
    );
}

#[test]
fn reads_by_id_and_writes_cost_one_and_trash_six_per_id() {
    let id = ids(1)[0];
    let body = Map::from_iter([("subject".to_string(), Value::from("x"))]);
    let module = DeskModule::Tickets;
    assert_eq!(DeskRequest::ById { module, id }.cost(), 1);
    assert_eq!(
        DeskRequest::Create {
            module,
            body: body.clone()
        }
        .cost(),
        1
    );
    assert_eq!(DeskRequest::Update { module, id, body }.cost(), 1);
    assert_eq!(
        DeskRequest::Trash {
            module,
            ids: ids(1)
        }
        .cost(),
        6
    );
    assert_eq!(
        DeskRequest::Trash {
            module,
            ids: ids(100)
        }
        .cost(),
        600
    );
}

#[test]
fn a_search_is_written_with_its_range_sort_and_zero_based_offset() {
    let request = search(DeskModule::Tickets, 0, 100);
    assert_eq!(request.describe(), "GET /tickets/search");
    assert_eq!(
        request.query(),
        [
            (
                "modifiedTimeRange",
                "2026-03-04T01:00:00.000Z,2026-03-04T02:00:00.000Z".to_string()
            ),
            ("sortBy", "modifiedTime".to_string()),
            ("from", "0".to_string()),
            ("limit", "100".to_string()),
        ]
    );
    assert!(request.validate().is_ok());
    assert!(request.sends_org_id());
    assert!(!DeskRequest::Organizations.sends_org_id());
}

#[test]
fn the_search_cap_of_five_thousand_results_is_checked_before_sending() {
    assert!(search(DeskModule::Tickets, 4900, 100).validate().is_ok());
    assert!(search(DeskModule::Tickets, 4901, 100).validate().is_err());
    assert!(search(DeskModule::Tickets, 4999, 1).validate().is_ok());
    assert!(search(DeskModule::Tickets, 5000, 1).validate().is_err());
    assert!(search(DeskModule::Tickets, u32::MAX, 100)
        .validate()
        .is_err());
    assert!(search(DeskModule::Contracts, 0, 50).validate().is_err());
    assert!(search(DeskModule::Tickets, 0, 0).validate().is_err());
    assert!(search(DeskModule::Tickets, 0, 101).validate().is_err());
}

#[test]
fn limits_follow_each_module_and_contracts_take_fifty() {
    let list = |module, limit| DeskRequest::List {
        module,
        from: 1,
        limit,
    };
    assert!(list(DeskModule::Contracts, 50).validate().is_ok());
    assert!(list(DeskModule::Contracts, 51).validate().is_err());
    assert!(list(DeskModule::Agents, 100).validate().is_ok());
    assert!(list(DeskModule::TimeEntries, 100).validate().is_err());
}

#[test]
fn trash_takes_one_to_a_hundred_ids_of_the_three_writable_modules() {
    let trash = |module, n| DeskRequest::Trash {
        module,
        ids: ids(n),
    };
    assert!(trash(DeskModule::Contacts, 100).validate().is_ok());
    assert!(trash(DeskModule::Contacts, 101).validate().is_err());
    assert!(trash(DeskModule::Contacts, 0).validate().is_err());
    assert!(trash(DeskModule::Tasks, 1).validate().is_err());
    let request = trash(DeskModule::Accounts, 2);
    assert_eq!(request.describe(), "POST /accounts/moveToTrash");
    assert_eq!(
        request.body().unwrap().to_string(),
        r#"{"accountIds":["1","2"]}"#
    );
}

#[test]
fn writes_need_a_writable_module_and_a_body() {
    let id = ids(1)[0];
    let update = DeskRequest::Update {
        module: DeskModule::Tickets,
        id,
        body: Map::new(),
    };
    assert!(update.validate().is_err());
    assert_eq!(update.method(), reqwest::Method::PATCH);
    assert_eq!(update.describe(), "PATCH /tickets/1");
    let create = DeskRequest::Create {
        module: DeskModule::Agents,
        body: Map::from_iter([("a".to_string(), Value::from(1))]),
    };
    assert!(create.validate().is_err());
}

#[test]
fn agent_time_entries_and_the_recycle_bin_carry_their_fixed_parameters() {
    let agent = ids(1)[0];
    let request = DeskRequest::AgentTimeEntries {
        agent,
        range: None,
        from: 0,
        limit: 100,
    };
    assert_eq!(request.describe(), "GET /agents/1/timeEntry");
    assert_eq!(request.query()[0], ("module", "tickets".to_string()));
    let bin = DeskRequest::RecycleBin {
        from: 0,
        limit: 100,
    };
    assert_eq!(bin.query()[0], ("sortBy", "-deletedTime".to_string()));
    assert_eq!(bin.scopes(), ["Desk.settings.READ"]);
}

#[test]
fn every_request_names_the_scopes_it_needs() {
    assert_eq!(
        search(DeskModule::Tickets, 0, 10).scopes(),
        ["Desk.tickets.READ", "Desk.search.READ"]
    );
    assert_eq!(
        DeskRequest::Trash {
            module: DeskModule::Tickets,
            ids: ids(1)
        }
        .scopes(),
        ["Desk.tickets.DELETE"]
    );
}
