use super::*;
use crate::emulator::accounts::Caller;
use crate::emulator::config::EmulatorConfig;
use crate::emulator::render::{to_json, Content};
use crate::emulator::state::read;
use crate::zoho::codec::request_xml::encode;

fn emulator() -> Emulator {
    Emulator::build(&EmulatorConfig::default().with_records(30))
}

fn admin() -> Caller {
    Caller {
        portal: 0,
        admin: true,
        owner: "Alice Agent".into(),
    }
}

fn call(emulator: &Emulator, caller: &Caller, path: &str, query: &str) -> Reply {
    let mut parts = path.split('/').skip(3);
    let (module, method) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let params = Params::merge(
        Some(&format!("portal=demo&department=Support&{query}")),
        b"",
    );
    serve(
        emulator,
        caller,
        &Call {
            uri: path,
            module,
            method,
            params: &params,
        },
    )
}

fn json(reply: &Reply) -> String {
    String::from_utf8_lossy(&to_json(&reply.answer)).into_owned()
}

fn rows(reply: &Reply) -> usize {
    let Content::Children(result) = &reply.answer.content else {
        return 0;
    };
    let Some(Content::Children(keys)) = result.first().map(|r| &r.content) else {
        return 0;
    };
    match keys.first().map(|k| &k.content) {
        Some(Content::Children(rows)) => rows.len(),
        _ => 0,
    }
}

#[test]
fn a_window_past_the_end_is_no_data_and_a_wide_one_names_toindex() {
    let e = emulator();
    let past = call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "fromindex=31&toindex=40",
    );
    assert_eq!(past.outcome, Outcome::NoData);
    assert_eq!(
        json(&past),
        r#"{"response":{"uri":"/api/json/requests/getrecords","error":{"code":"4832","message":"There is no data to show"}}}"#
    );
    let wide = call(&e, &admin(), "/api/json/requests/getrecords", "toindex=201");
    assert_eq!(wide.outcome, Outcome::Error(4600));
    assert!(
        json(&wide).contains(r#"for the \"toindex\" parameter."#),
        "{}",
        json(&wide)
    );
    let last = call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "fromindex=21&toindex=40",
    );
    assert_eq!(rows(&last), 10);
}

#[test]
fn checks_run_in_contract_order() {
    let e = emulator();
    let user = Caller {
        admin: false,
        ..admin()
    };
    let path = "/api/json/nope/nomethod";
    let other_portal = Params::merge(Some("portal=acme&department=Support"), b"");
    let reply = serve(
        &e,
        &admin(),
        &Call {
            uri: path,
            module: "nope",
            method: "x",
            params: &other_portal,
        },
    );
    assert!(json(&reply).contains(r#"\"portal\""#));
    let reply = call(
        &e,
        &user,
        "/api/json/requests/getrecords",
        "department=Sales",
    );
    assert!(json(&reply).contains(r#"\"department\""#));
    assert_eq!(call(&e, &user, path, "").outcome, Outcome::Error(4001));
    assert!(json(&call(&e, &admin(), path, "")).contains(r#"\"module\""#));
    assert!(json(&call(&e, &admin(), "/api/json/cases/nomethod", "")).contains(r#"\"method\""#));
}

#[test]
fn selectfields_keeps_the_id_first_and_newformat_1_drops_empty_fields() {
    let e = emulator();
    let reply = call(
        &e,
        &admin(),
        "/api/json/Cases/getrecords",
        "selectfields=requests(subject)&toindex=1",
    );
    assert_eq!(rows(&reply), 1);
    let text = json(&reply);
    assert!(
        text.contains(r#""fl":[{"val":"CASEID","content":""#)
            && text.contains(r#"{"val":"Subject","content":"#),
        "{text}"
    );
    assert!(!text.contains("Email"));
    let bad = call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "selectfields=requests(Nope)",
    );
    assert!(json(&bad).contains(r#"\"selectfields\""#));
    let all = json(&call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "toindex=30",
    ));
    let compact = json(&call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "toindex=30&newformat=1",
    ));
    assert!(all.contains(r#""content":"null""#) && !compact.contains(r#""content":"null""#));
}

#[test]
fn writes_add_update_and_delete_records() {
    let e = emulator();
    let xml = encode(
        Module::Tasks,
        &[vec![("subject".into(), Some("Call back".into()))]],
    );
    let query = |extra: &str| {
        format!(
            "{extra}&xml={}",
            url::form_urlencoded::byte_serialize(xml.as_bytes()).collect::<String>()
        )
    };
    let added = call(&e, &admin(), "/api/json/tasks/addrecords", &query(""));
    let text = json(&added);
    assert!(text.starts_with(r#"{"response":{"uri":"/api/json/tasks/addrecords","result":{"responsecode":"2001","responsedata":{"Tasks":{"fl":[{"val":"message","content":"Record(s) added successfully"}],"record":{"id":""#), "{text}");
    let slot = e.portals[0].departments[0].slot(Module::Tasks).unwrap();
    let id = read(&slot.store)
        .rows()
        .last()
        .map(|r| r.id)
        .unwrap_or_default();
    assert_eq!(read(&slot.store).len(), 31);
    let updated = call(
        &e,
        &admin(),
        "/api/json/tasks/updaterecords",
        &query(&format!("id={id}")),
    );
    assert_eq!(updated.outcome, Outcome::Ok);
    let missing = call(
        &e,
        &admin(),
        "/api/json/tasks/updaterecords",
        &query("id=1"),
    );
    assert_eq!(missing.outcome, Outcome::Error(4103));
    assert_eq!(
        call(
            &e,
            &admin(),
            "/api/json/tasks/deleterecords",
            &format!("id={id}")
        )
        .outcome,
        Outcome::Ok
    );
    assert_eq!(
        call(
            &e,
            &admin(),
            "/api/json/tasks/deleterecords",
            &format!("id={id}")
        )
        .outcome,
        Outcome::Error(4103)
    );
    let by_id = call(
        &e,
        &admin(),
        "/api/json/tasks/getrecordsbyid",
        &format!("id={id}"),
    );
    assert_eq!(by_id.outcome, Outcome::NoData);
}

#[test]
fn bad_add_payloads_get_their_codes() {
    let e = emulator();
    let add = |xml: &str| {
        let xml: String = url::form_urlencoded::byte_serialize(xml.as_bytes()).collect();
        call(
            &e,
            &admin(),
            "/api/xml/requests/addrecords",
            &format!("xml={xml}"),
        )
        .outcome
    };
    assert_eq!(
        add("<requests><row no=\"1\"><fl val=\"Email\">a@b</fl></row></requests>"),
        Outcome::Error(4401)
    );
    assert_eq!(
        add("<requests><row no=\"1\"><fl val=\"Subject\">x</fl></row"),
        Outcome::Error(4835)
    );
    let many: Vec<_> = (0..101)
        .map(|_| vec![("Subject".to_string(), Some("x".to_string()))])
        .collect();
    assert_eq!(add(&encode(Module::Requests, &many)), Outcome::Error(4600));
    let slot = e.portals[0].departments[0].slot(Module::Requests).unwrap();
    assert_eq!(read(&slot.store).len(), 30);
}

#[test]
fn search_and_myrecords_filter_rows() {
    let e = emulator();
    let slot = e.portals[0].departments[0].slot(Module::Requests).unwrap();
    let first = read(&slot.store).rows().next().unwrap();
    let reply = call(
        &e,
        &admin(),
        "/api/json/requests/searchrecords",
        &format!("searchfield=caseid&searchvalue={}", first.id),
    );
    assert_eq!(rows(&reply), 1);
    assert!(json(&reply).contains(r#""row":{"no":"1""#));
    let unknown = call(
        &e,
        &admin(),
        "/api/json/requests/getrecordsbysearch",
        "searchfield=Nope&searchvalue=x",
    );
    assert!(json(&unknown).contains(r#"\"searchfield\""#));
    let mine = call(
        &e,
        &admin(),
        "/api/json/requests/getrecords",
        "myrecords=true&toindex=30",
    );
    let all = call(&e, &admin(), "/api/json/requests/getrecords", "toindex=30");
    assert!(rows(&mine) < rows(&all));
}
