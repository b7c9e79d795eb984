//! The emulator's record API over HTTP: every module in both formats, decoded by the real
//! client codec and compared with the emulator's own records, and the exact bodies of the
//! contract's errors.

use serde_json::Value;
use zoho_sync::zoho::codec::{decode, Answer, RowOutcome};
use zoho_sync::zoho::module::{Format, Module};

use crate::emulator_client::{bad_param_json, error_json, Emu};

/// The emulator's records of one module, as `(id, {label: value})`.
async fn snapshot(emu: &Emu, module: Module) -> Vec<(String, serde_json::Map<String, Value>)> {
    let path = format!("/_emulator/records/demo/Support/{}", module.url_name());
    let rows = emu.admin_get(&path).await;
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                r["fields"].as_object().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_default_portal_serves_every_module_in_both_formats() {
    let emu = Emu::start(25).await;
    for module in Module::ALL {
        let expected = snapshot(&emu, module).await;
        assert_eq!(expected.len(), 25);
        for format in [Format::Xml, Format::Json] {
            let path = format!("/api/{format}/{}/getrecords", module.url_name());
            let answer = emu.get(&path, "fromindex=1&toindex=25").await;
            assert_eq!(
                (answer.status, answer.content_type.as_str()),
                (200, format.content_type())
            );
            let decoded =
                decode(format, module, answer.body.as_bytes()).expect("a decodable answer");
            let Answer::Records(rows) = decoded else {
                panic!("{module} {format}: not records")
            };
            assert_eq!(rows.len(), 25, "{module} {format}");
            for (row, (id, fields)) in rows.iter().zip(&expected) {
                let RowOutcome::Ok(record) = row else {
                    panic!("{module} {format}: bad row {row:?}")
                };
                assert_eq!(
                    record.id.map(|i| i.to_string()).as_deref(),
                    Some(id.as_str())
                );
                assert_eq!(record.fields.len(), fields.len());
                for field in &record.fields {
                    assert_eq!(
                        field.value.as_deref(),
                        fields[field.label.as_str()].as_str(),
                        "{module} {format} {}",
                        field.label
                    );
                }
            }
        }
    }
    emu.running.shutdown().await.expect("a clean shutdown");
}

#[tokio::test]
async fn a_selected_row_has_the_exact_shape_of_the_contract_in_both_formats() {
    let emu = Emu::start(5).await;
    let records = snapshot(&emu, Module::Requests).await;
    let (id, fields) = &records[2];
    let subject = serde_json::to_string(&fields["Subject"]).expect("json text");
    let query = format!("id={id}&selectfields=Requests(subject)");
    let json = emu.get("/api/json/requests/getrecordsbyid", &query).await;
    let expected = format!(
        r#"{{"response":{{"uri":"/api/json/requests/getrecordsbyid","result":{{"Cases":{{"row":{{"no":"1","fl":[{{"val":"CASEID","content":"{id}"}},{{"val":"Subject","content":{subject}}}]}}}}}}}}}}"#
    );
    assert_eq!(json.body, expected);
    let xml = emu
        .get(
            "/api/xml/Cases/getrecordsbyid",
            &format!("id={id}&selectfields=cases(CaseId)"),
        )
        .await;
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response uri=\"/api/xml/Cases/getrecordsbyid\">\n<result>\n<Cases>\n<row no=\"1\">\n<fl val=\"CASEID\"><![CDATA[{id}]]></fl>\n</row>\n</Cases>\n</result>\n</response>\n"
    );
    assert_eq!(xml.body, expected);
}

#[tokio::test]
async fn an_unknown_token_is_4834_and_not_charged() {
    let emu = Emu::start(5).await;
    let uri = "/api/json/requests/getrecords";
    let answer = emu
        .get_raw(uri, "authtoken=0000&portal=demo&department=Support")
        .await;
    assert_eq!(answer.body, error_json(uri, 4834, "Invalid Ticket Id"));
    let missing = emu
        .get_raw("/api/xml/requests/getrecords", "portal=demo")
        .await;
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response uri=\"/api/xml/requests/getrecords\">\n<error>\n<code>4834</code>\n<message>Invalid Ticket Id</message>\n</error>\n</response>\n";
    assert_eq!((missing.status, missing.body.as_str()), (200, xml));
    assert_eq!(emu.quota_used().await, 0);
    emu.get(uri, "").await;
    assert_eq!(emu.quota_used().await, 1);
}

#[tokio::test]
async fn bad_parameters_name_the_parameter() {
    let emu = Emu::start(30).await;
    let uri = "/api/json/requests/getrecords";
    assert_eq!(
        emu.get(uri, "fromindex=1&toindex=201").await.body,
        bad_param_json(uri, "toindex")
    );
    assert_eq!(
        emu.get(uri, "lastmodifiedtime=yesterday").await.body,
        bad_param_json(uri, "lastmodifiedtime")
    );
    let other = emu
        .get_raw(
            uri,
            &format!("authtoken={}&portal=acme&department=Support", emu.token),
        )
        .await;
    assert_eq!(other.body, bad_param_json(uri, "portal"));
    let dept = emu
        .get_raw(
            uri,
            &format!("authtoken={}&portal=DEMO&department=Sales", emu.token),
        )
        .await;
    assert_eq!(dept.body, bad_param_json(uri, "department"));
    let method = "/api/json/requests/getrecordz";
    assert_eq!(
        emu.get(method, "").await.body,
        bad_param_json(method, "method")
    );
    // Every one of them was charged.
    assert_eq!(emu.quota_used().await, 5);
}

#[tokio::test]
async fn paging_past_the_end_is_4832_and_the_last_page_is_short() {
    let emu = Emu::start(30).await;
    let uri = "/api/json/contacts/getrecords";
    let last = emu.get(uri, "fromindex=21&toindex=220").await;
    let Ok(Answer::Records(rows)) = decode(Format::Json, Module::Contacts, last.body.as_bytes())
    else {
        panic!("{}", last.body)
    };
    assert_eq!(rows.len(), 10);
    let past = emu.get(uri, "fromindex=31&toindex=230").await;
    assert_eq!(past.body, error_json(uri, 4832, "There is no data to show"));
    let unknown = emu.get("/api/json/contacts/getrecordsbyid", "id=1").await;
    assert_eq!(
        unknown.body,
        error_json(
            "/api/json/contacts/getrecordsbyid",
            4832,
            "There is no data to show"
        )
    );
}

#[tokio::test]
async fn writes_answer_with_the_contract_layouts_and_their_errors() {
    let emu = Emu::start(5).await;
    let xml = "<tasks><row no=\"1\"><fl val=\"Subject\">Call back</fl></row><row no=\"2\"><fl val=\"subject\">Write up</fl></row></tasks>";
    let added = emu
        .post("/api/json/tasks/addrecords", &[("xml", xml)])
        .await;
    let Ok(Answer::Written(written)) = decode(Format::Json, Module::Tasks, added.body.as_bytes())
    else {
        panic!("{}", added.body)
    };
    assert_eq!((written.responsecode, written.ids.len()), (Some(2001), 2));
    let id = written.ids[1].to_string();
    let update = "<tasks><row no=\"1\"><fl val=\"Status\">Completed</fl></row></tasks>";
    let updated = emu
        .post(
            "/api/json/tasks/updaterecords",
            &[("id", &id), ("xml", update)],
        )
        .await;
    let expected = format!(
        r#"{{"response":{{"uri":"/api/json/tasks/updaterecords","result":{{"responsedata":{{"Tasks":{{"fl":[{{"val":"message","content":"Record(s) updated successfully"}}],"record":{{"id":"{id}"}}}}}}}}}}}}"#
    );
    assert_eq!(updated.body, expected);
    let records = snapshot(&emu, Module::Tasks).await;
    let (_, fields) = records
        .iter()
        .find(|(i, _)| *i == id)
        .expect("the added record");
    assert_eq!(
        (fields["Subject"].as_str(), fields["Status"].as_str()),
        (Some("Write up"), Some("Completed"))
    );
    let deleted = emu
        .post("/api/xml/tasks/deleterecords", &[("id", &id)])
        .await;
    let expected = format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response uri=\"/api/xml/tasks/deleterecords\">\n<result>\n<responsedata>\n<Tasks>\n<fl val=\"message\">Record(s) deleted successfully</fl>\n<record id=\"{id}\"/>\n</Tasks>\n</responsedata>\n</result>\n</response>\n");
    assert_eq!(deleted.body, expected);
    let uri = "/api/json/tasks/deleterecords";
    let again = emu.post(uri, &[("id", &id)]).await;
    assert_eq!(
        again.body,
        error_json(
            uri,
            4103,
            "No record available with the specified record ID."
        )
    );
    let uri = "/api/json/tasks/addrecords";
    let no_subject = emu
        .post(
            uri,
            &[(
                "xml",
                "<tasks><row no=\"1\"><fl val=\"Status\">Open</fl></row></tasks>",
            )],
        )
        .await;
    let message = "Unable to populate data, please check if mandatory value is entered correctly.";
    assert_eq!(no_subject.body, error_json(uri, 4401, message));
    let broken = emu
        .post(
            uri,
            &[(
                "xml",
                "<tasks><row no=\"1\"><fl val=\"Subject\">x</row></tasks>",
            )],
        )
        .await;
    assert_eq!(
        broken.body,
        error_json(uri, 4835, "Error while parsing the XML data")
    );
    assert_eq!(snapshot(&emu, Module::Tasks).await.len(), 6);
}

#[tokio::test]
async fn lastmodifiedtime_selects_records_modified_strictly_after_it() {
    let emu = Emu::start(20).await;
    emu.set_clock("2030-01-01T10:00:00Z").await;
    let xml = "<requests><row no=\"1\"><fl val=\"Subject\">Fresh</fl></row></requests>";
    emu.post("/api/json/requests/addrecords", &[("xml", xml)])
        .await;
    let uri = "/api/json/requests/getrecords";
    let after = emu.get(uri, "lastmodifiedtime=2030-01-01+09:59:59").await;
    let Ok(Answer::Records(rows)) = decode(Format::Json, Module::Requests, after.body.as_bytes())
    else {
        panic!("{}", after.body)
    };
    assert_eq!(rows.len(), 1);
    let none = emu.get(uri, "lastmodifiedtime=2030-01-01+10:00:05").await;
    assert_eq!(none.body, error_json(uri, 4832, "There is no data to show"));
}
