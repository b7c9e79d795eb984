//! The API's decisions without HTTP: paging and prices (D9, D19), the ticket list's sort
//! enum and projections (D11, D14), the search cap, creates and their validation,
//! moveToTrash all or nothing, the bin.

use super::*;
use crate::emulator::desk::config::DeskConfig;
use crate::emulator::desk::module::DeskModule;
use axum::http::Method;
use serde_json::{json, Value};

fn desk(records: u64) -> Desk {
    let now = DateTime::from_timestamp(1_772_600_000, 0).unwrap_or_default();
    Desk::build(
        &DeskConfig::default().with_records(records),
        0,
        10,
        std::time::Duration::ZERO,
        now,
    )
}

/// Runs one call as the HTTP layer would after admission; the body as JSON.
fn call(
    desk: &Desk,
    method: Method,
    path: &str,
    query: &str,
    body: &str,
) -> Result<(u32, Option<Value>), DeskError> {
    let org = desk.orgs.first().ok_or(DeskError::Internal)?;
    let endpoint = Endpoint::parse(&method, path)?;
    let query = Query::parse(Some(query));
    let now = DateTime::from_timestamp(1_772_600_100, 0).unwrap_or_default();
    let call = Call {
        desk,
        org,
        endpoint,
        query: &query,
        body: body.as_bytes(),
        now,
    };
    let op = Op::decode(&call)?;
    let cost = op.cost();
    let reply = op.run(&call)?;
    Ok((
        cost,
        reply.body.and_then(|b| serde_json::from_slice(&b).ok()),
    ))
}

fn get(desk: &Desk, path: &str, query: &str) -> Result<(u32, Option<Value>), DeskError> {
    call(desk, Method::GET, path, query, "")
}

#[test]
fn lists_are_one_based_and_cost_by_their_from() {
    let desk = desk(30);
    let first = get(&desk, "tickets", "from=0&limit=2").map(|(_, b)| b);
    let again = get(&desk, "tickets", "from=1&limit=2").map(|(_, b)| b);
    assert_eq!(first, again);
    let (cost, body) = get(&desk, "contacts", "from=2001&limit=5").unwrap_or_default();
    assert_eq!(
        (cost, body),
        (5, None),
        "past the end: 204, charged as a list"
    );
    assert_eq!(
        get(&desk, "tickets", "from=29&limit=5")
            .map(|(_, b)| b.map(|v| v["data"].as_array().map(Vec::len))),
        Ok(Some(Some(2)))
    );
}

#[test]
fn the_ticket_list_refuses_modified_time_as_a_sort_and_unknown_fields_with_a_500() {
    let desk = desk(5);
    assert_eq!(
        get(&desk, "tickets", "sortBy=modifiedTime"),
        Err(DeskError::InvalidValue("sortBy".into()))
    );
    assert_eq!(
        get(&desk, "tickets", "fields=subject,colour"),
        Err(DeskError::Internal)
    );
    let (_, body) = get(&desk, "tickets", "fields=subject,status&limit=1").unwrap_or_default();
    let row = body.map(|b| b["data"][0].clone()).unwrap_or_default();
    let keys: Vec<&str> = row
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, vec!["id", "status", "subject"]);
    let many = vec!["subject"; 31].join(",");
    assert_eq!(
        get(&desk, "tickets", &format!("fields={many}")),
        Err(DeskError::InvalidValue("fields".into()))
    );
}

#[test]
fn a_search_window_may_not_reach_past_five_thousand() {
    let desk = desk(5);
    assert_eq!(
        get(&desk, "tickets/search", "from=4900&limit=100").map(|(c, _)| c),
        Ok(5)
    );
    assert_eq!(
        get(&desk, "tickets/search", "from=4901&limit=100"),
        Err(DeskError::SearchCap)
    );
    assert_eq!(
        get(&desk, "tickets/search", "from=4999"),
        Err(DeskError::SearchCap)
    );
    assert_eq!(
        get(&desk, "tickets/search", "from=5000&limit=1"),
        Err(DeskError::OutOfRange {
            field: "from".into(),
            range: "0-4999".into()
        })
    );
    assert_eq!(
        get(&desk, "contacts/search", "searchStr=abc"),
        Err(DeskError::ExtraParam("searchStr".into()))
    );
    assert_eq!(
        get(&desk, "contacts/search", "lastName=ab"),
        Err(DeskError::TooShort("lastName".into()))
    );
}

#[test]
fn a_search_counts_every_match_and_a_search_by_id_costs_one() {
    let desk = desk(40);
    let range = "modifiedTimeRange=2000-01-01T00:00:00.000Z,2100-01-01T00:00:00.000Z";
    let (cost, body) = get(
        &desk,
        "accounts/search",
        &format!("{range}&sortBy=-modifiedTime&limit=3"),
    )
    .unwrap_or_default();
    let body = body.unwrap_or_default();
    assert_eq!((cost, body["count"].as_u64()), (3, Some(40)));
    let times: Vec<&str> = body["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|r| r["modifiedTime"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    let id = body["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (cost, body) = get(&desk, "accounts/search", &format!("id={id}")).unwrap_or_default();
    assert_eq!(
        (cost, body.map(|b| b["count"].clone())),
        (1, Some(json!(1)))
    );
    let empty = "modifiedTimeRange=2000-01-01T00:00:00.000Z,2000-01-01T00:00:00.000Z";
    assert_eq!(get(&desk, "tickets/search", empty), Ok((3, None)));
}

#[test]
fn a_ticket_create_needs_subject_department_and_a_contact_and_can_create_the_contact() {
    let desk = desk(3);
    let missing = call(&desk, Method::POST, "tickets", "", r#"{"subject":"x"}"#);
    let Err(DeskError::InvalidData(errors)) = missing else {
        panic!("{missing:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["/departmentId", "/contactId"]);
    let department = desk.orgs[0].facts.departments[0].id;
    let body = format!(
        r#"{{"subject":"Printer offline","departmentId":"{department}","contact":{{"lastName":"Kowalczyk","email":"marta@example.org"}}}}"#
    );
    let (cost, ticket) = call(&desk, Method::POST, "tickets", "", &body).unwrap_or_default();
    let ticket = ticket.unwrap_or_default();
    assert_eq!((cost, ticket["status"].as_str()), (1, Some("Open")));
    let contact = ticket["contactId"].as_str().unwrap_or_default();
    let (_, shown) = get(&desk, &format!("contacts/{contact}"), "").unwrap_or_default();
    assert_eq!(
        shown.map(|c| c["lastName"].clone()),
        Some(json!("Kowalczyk"))
    );
    let bad = call(
        &desk,
        Method::POST,
        "tickets",
        "",
        r#"{"subject":"x","colour":"red"}"#,
    );
    assert!(
        matches!(bad, Err(DeskError::InvalidData(e)) if e.iter().any(|e| e.field == "/colour"))
    );
    assert_eq!(
        call(&desk, Method::POST, "tickets", "", ""),
        Err(DeskError::EmptyPayload)
    );
    assert_eq!(
        call(&desk, Method::POST, "tickets", "", "[1]"),
        Err(DeskError::BadRequest)
    );
}

#[test]
fn move_to_trash_takes_live_ids_all_or_nothing_and_costs_six_each() {
    let desk = desk(5);
    let ids: Vec<String> = desk.orgs[0]
        .slot(DeskModule::Contacts)
        .map(|s| crate::emulator::state::read(&s.store).live_ids())
        .unwrap_or_default()
        .iter()
        .map(u64::to_string)
        .collect();
    let body = format!(r#"{{"contactIds":["{}","1"]}}"#, ids[0]);
    assert!(matches!(
        call(&desk, Method::POST, "contacts/moveToTrash", "", &body),
        Err(DeskError::InvalidData(_))
    ));
    let body = format!(r#"{{"contactIds":["{}","{}"]}}"#, ids[0], ids[1]);
    assert_eq!(
        call(&desk, Method::POST, "contacts/moveToTrash", "", &body),
        Ok((12, None))
    );
    assert_eq!(
        get(&desk, &format!("contacts/{}", ids[0]), ""),
        Err(DeskError::Forbidden)
    );
    let (cost, bin) = get(&desk, "recycleBin", "sortBy=-deletedTime").unwrap_or_default();
    assert_eq!(
        (cost, bin.map(|b| b["data"][0]["type"].clone())),
        (3, Some(json!("Contacts")))
    );
    let restore = format!(r#"{{"ids":["{}","9"]}}"#, ids[1]);
    let (_, results) =
        call(&desk, Method::POST, "recycleBin/restore", "", &restore).unwrap_or_default();
    let flags: Vec<Value> = results
        .map(|r| r["results"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .map(|r| r["success"].clone())
        .collect();
    assert_eq!(flags, vec![json!(true), json!(false)]);
    assert!(get(&desk, &format!("contacts/{}", ids[1]), "").is_ok());
}

#[test]
fn a_department_filter_finds_products_of_several_departments_and_tickets_of_one() {
    let desk = desk(8);
    let department = desk.orgs[0].facts.departments[0].id;
    let query = format!("departmentId={department}");
    let rows = |path: &str| {
        get(&desk, path, &query)
            .ok()
            .and_then(|(_, b)| b)
            .map_or(0, |b| b["data"].as_array().map_or(0, Vec::len))
    };
    assert_eq!(rows("products"), 8);
    assert_eq!(rows("tickets"), 8);
    assert_eq!(get(&desk, "tickets", "departmentId=1"), Ok((3, None)));
}
