use super::*;

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

fn row(fields: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    fields
        .iter()
        .map(|(l, v)| (l.to_string(), v.map(str::to_owned)))
        .collect()
}

fn two_cases() -> Element {
    records_answer(
        "/api/xml/requests/getrecords",
        Module::Requests,
        vec![
            row(&[
                ("CASEID", Some("2000000012001")),
                ("Subject", Some("Printer is on fire")),
                ("Email", None),
            ]),
            row(&[("CASEID", Some("2000000012002"))]),
        ],
    )
}

#[test]
fn records_render_as_the_contract_xml_with_values_in_cdata() {
    let expected = r#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/api/xml/requests/getrecords">
<result>
<Cases>
<row no="1">
<fl val="CASEID"><![CDATA[2000000012001]]></fl>
<fl val="Subject"><![CDATA[Printer is on fire]]></fl>
<fl val="Email"><![CDATA[null]]></fl>
</row>
<row no="2">
<fl val="CASEID"><![CDATA[2000000012002]]></fl>
</row>
</Cases>
</result>
</response>
"#;
    assert_eq!(text(to_xml(&two_cases())), expected);
}

#[test]
fn records_render_as_compact_json_with_arrays_for_repeated_elements() {
    let expected = concat!(
        r#"{"response":{"uri":"/api/xml/requests/getrecords","result":{"Cases":{"row":["#,
        r#"{"no":"1","fl":[{"val":"CASEID","content":"2000000012001"},"#,
        r#"{"val":"Subject","content":"Printer is on fire"},"#,
        r#"{"val":"Email","content":"null"}]},"#,
        r#"{"no":"2","fl":{"val":"CASEID","content":"2000000012002"}}]}}}}"#
    );
    assert_eq!(text(to_json(&two_cases())), expected);
}

#[test]
fn a_single_row_is_rendered_as_an_object_in_json() {
    let answer = records_answer(
        "/api/json/requests/getrecordsbyid",
        Module::Requests,
        vec![row(&[("CASEID", Some("1")), ("Subject", Some("x"))])],
    );
    assert_eq!(
        text(to_json(&answer)),
        r#"{"response":{"uri":"/api/json/requests/getrecordsbyid","result":{"Cases":{"row":{"no":"1","fl":[{"val":"CASEID","content":"1"},{"val":"Subject","content":"x"}]}}}}}"#
    );
}

#[test]
fn the_add_acknowledgement_matches_the_contract_in_both_formats() {
    let xml = written_answer(
        "/api/xml/requests/addrecords",
        Module::Requests,
        Some(2001),
        "Record(s) added successfully",
        &[2000000012002],
    );
    let expected = r#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/api/xml/requests/addrecords">
<result>
<responsecode>2001</responsecode>
<responsedata>
<Cases>
<fl val="message">Record(s) added successfully</fl>
<record id="2000000012002"/>
</Cases>
</responsedata>
</result>
</response>
"#;
    assert_eq!(text(to_xml(&xml)), expected);
    let json = written_answer(
        "/api/json/requests/addrecords",
        Module::Requests,
        Some(2001),
        "Record(s) added successfully",
        &[2000000012002],
    );
    assert_eq!(
        text(to_json(&json)),
        r#"{"response":{"uri":"/api/json/requests/addrecords","result":{"responsecode":"2001","responsedata":{"Cases":{"fl":[{"val":"message","content":"Record(s) added successfully"}],"record":{"id":"2000000012002"}}}}}}"#
    );
}

#[test]
fn the_update_acknowledgement_has_no_responsecode() {
    let json = written_answer(
        "/api/json/requests/updaterecords",
        Module::Requests,
        None,
        "Record(s) updated successfully",
        &[2000000012001],
    );
    assert_eq!(
        text(to_json(&json)),
        r#"{"response":{"uri":"/api/json/requests/updaterecords","result":{"responsedata":{"Cases":{"fl":[{"val":"message","content":"Record(s) updated successfully"}],"record":{"id":"2000000012001"}}}}}}"#
    );
}

#[test]
fn the_delete_acknowledgement_matches_the_contract_xml() {
    let xml = written_answer(
        "/api/xml/requests/deleterecords",
        Module::Requests,
        None,
        "Record(s) deleted successfully",
        &[2000000012001],
    );
    let expected = r#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/api/xml/requests/deleterecords">
<result>
<responsedata>
<Cases>
<fl val="message">Record(s) deleted successfully</fl>
<record id="2000000012001"/>
</Cases>
</responsedata>
</result>
</response>
"#;
    assert_eq!(text(to_xml(&xml)), expected);
}

#[test]
fn several_new_ids_become_repeated_records_and_a_json_array() {
    let json = written_answer("/u", Module::TimeEntry, Some(2001), "ok", &[1, 2]);
    assert_eq!(
        text(to_json(&json)),
        r#"{"response":{"uri":"/u","result":{"responsecode":"2001","responsedata":{"TimeEntry":{"fl":[{"val":"message","content":"ok"}],"record":[{"id":"1"},{"id":"2"}]}}}}}"#
    );
}

#[test]
fn errors_match_the_contract_in_both_formats() {
    let expected_xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/api/xml/requests/getrecords">
<error>
<code>4834</code>
<message>Invalid Ticket Id</message>
</error>
</response>
"#;
    let xml = error_answer("/api/xml/requests/getrecords", 4834, "Invalid Ticket Id");
    assert_eq!(text(to_xml(&xml)), expected_xml);
    let json = error_answer("/api/json/requests/getrecords", 4834, "Invalid Ticket Id");
    assert_eq!(
        text(to_json(&json)),
        r#"{"response":{"uri":"/api/json/requests/getrecords","error":{"code":"4834","message":"Invalid Ticket Id"}}}"#
    );
    let no_data = error_answer(
        "/api/json/requests/getrecords",
        4832,
        "There is no data to show",
    );
    assert_eq!(
        text(to_json(&no_data)),
        r#"{"response":{"uri":"/api/json/requests/getrecords","error":{"code":"4832","message":"There is no data to show"}}}"#
    );
}

#[test]
fn the_4600_message_quotes_are_escaped_in_json_and_kept_in_xml() {
    let message = r#"Please verify the "toindex" parameter."#;
    let answer = error_answer("/u", 4600, message);
    assert!(text(to_xml(&answer)).contains(&format!("<message>{message}</message>")));
    assert!(
        text(to_json(&answer)).contains(r#""message":"Please verify the \"toindex\" parameter.""#)
    );
}

#[test]
fn awkward_values_use_split_cdata_or_character_references() {
    let answer = records_answer(
        "/u",
        Module::Accounts,
        vec![row(&[
            ("A", Some("x]]>y")),
            ("B", Some("bell\u{7}<&>")),
            ("C\"\n", Some("")),
        ])],
    );
    let xml = text(to_xml(&answer));
    assert!(
        xml.contains(r#"<fl val="A"><![CDATA[x]]]]><![CDATA[>y]]></fl>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<fl val="B">bell&#x7;&lt;&amp;&gt;</fl>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<fl val="C&quot;&#xA;"><![CDATA[]]></fl>"#),
        "{xml}"
    );
    let json = text(to_json(&answer));
    assert!(
        json.contains(r#"{"val":"B","content":"bell\u0007<&>"}"#),
        "{json}"
    );
    assert!(json.contains(r#"{"val":"C\"\n","content":""}"#), "{json}");
}

#[test]
fn an_element_with_only_text_and_no_attributes_is_a_plain_string_and_an_empty_one_too() {
    let root = Element::parent(
        "response",
        vec![
            Element::new("a", Content::Text("1".into())),
            Element::new("b", Content::Empty),
            Element::new("c", Content::Empty).with_attr("id", "3"),
        ],
    );
    assert_eq!(
        text(to_json(&root)),
        r#"{"response":{"a":"1","b":"","c":{"id":"3"}}}"#
    );
}
