use super::*;

/// The decoder with strays dropped (the tests of strays look at them).
fn decode(module: Module, body: &[u8]) -> Result<Answer, DecodeError> {
    super::decode(module, body, &crate::zoho::codec::Strays::default())
}
use crate::zoho::module::Format;
use crate::zoho::record::Field;

fn field(label: &str, value: Option<&str>) -> Field {
    Field {
        label: label.into(),
        value: value.map(Into::into),
    }
}

fn records(answer: Answer) -> Vec<RowOutcome> {
    match answer {
        Answer::Records(rows) => rows,
        other => panic!("expected records, got {other:?}"),
    }
}

fn ok_record(row: &RowOutcome) -> &Record {
    match row {
        RowOutcome::Ok(record) => record,
        RowOutcome::Bad(bad) => panic!("bad row: {bad:?}"),
    }
}

const GETRECORDS: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
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

#[test]
fn the_contract_records_example_decodes_with_ids_and_null_as_absent() {
    let rows = records(decode(Module::Requests, GETRECORDS.as_bytes()).unwrap());
    assert_eq!(rows.len(), 2);
    let first = ok_record(&rows[0]);
    assert_eq!(first.id, Some(RecordId(2000000012001)));
    assert_eq!(
        first.fields,
        vec![
            field("CASEID", Some("2000000012001")),
            field("Subject", Some("Printer is on fire")),
            field("Email", None),
        ]
    );
    assert_eq!(ok_record(&rows[1]).id, Some(RecordId(2000000012002)));
}

#[test]
fn names_in_any_case_single_quotes_escaped_text_and_split_cdata_are_accepted() {
    let body = "<RESPONSE><Result><cases><ROW no='1'>\
        <FL VAL='CaseId'>7</FL>\
        <Fl val='A'>&lt;b&gt; &amp; &#x1;&#65;</Fl>\
        <fl val='B'><![CDATA[x]]]]><![CDATA[>y]]></fl>\
        <fl val='C'/>\
        </ROW></cases></Result></RESPONSE>";
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    let record = ok_record(&rows[0]);
    assert_eq!(record.id, Some(RecordId(7)));
    assert_eq!(record.get("A"), Some("<b> & \u{1}A"));
    assert_eq!(record.get("B"), Some("x]]>y"));
    assert_eq!(record.get("C"), Some(""));
}

#[test]
fn the_url_name_is_accepted_as_the_result_key() {
    let body = r#"<response><result><timeentry><row no="1"><fl val="TIME_ENTRY_ID">5</fl></row></timeentry></result></response>"#;
    let rows = records(decode(Module::TimeEntry, body.as_bytes()).unwrap());
    assert_eq!(ok_record(&rows[0]).id, Some(RecordId(5)));
}

#[test]
fn a_row_with_a_bad_id_is_kept_raw_without_its_position_and_the_page_survives() {
    let body = r#"<response><result><Cases><row no="1"><fl val="CASEID">x1</fl></row><row no="2"><fl val="CASEID">2</fl></row></Cases></result></response>"#;
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    match &rows[0] {
        RowOutcome::Bad(bad) => {
            assert_eq!(bad.raw, r#"<row><fl val="CASEID">x1</fl></row>"#);
            assert!(bad.error.contains("CASEID"), "{}", bad.error);
        }
        other => panic!("expected a bad row, got {other:?}"),
    }
    assert_eq!(ok_record(&rows[1]).id, Some(RecordId(2)));
}

#[test]
fn an_fl_without_val_makes_only_its_row_bad() {
    let body =
        r#"<response><result><Cases><row no="1"><fl>1</fl></row></Cases></result></response>"#;
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    assert!(matches!(&rows[0], RowOutcome::Bad(bad) if bad.error.contains("val")));
}

#[test]
fn the_contract_error_example_decodes_to_an_api_error() {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response uri=\"/api/xml/requests/getrecords\">\n<error>\n<code>4834</code>\n<message>Invalid Ticket Id</message>\n</error>\n</response>\n";
    let answer = decode(Module::Requests, body.as_bytes()).unwrap();
    assert_eq!(
        answer,
        Answer::Error(ApiError {
            code: ApiCode::InvalidTicket,
            message: "Invalid Ticket Id".into()
        })
    );
    let one_line = r#"<response uri="/api/xml/requests/getrecords"><error><code>4832</code><message>There is no data to show</message></error></response>"#;
    assert!(matches!(
        decode(Module::Requests, one_line.as_bytes()).unwrap(),
        Answer::Error(ApiError {
            code: ApiCode::NoData,
            ..
        })
    ));
}

#[test]
fn the_add_acknowledgement_gives_code_message_and_ids_in_order() {
    let body = r#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/api/xml/requests/addrecords">
<result>
<responsecode>2001</responsecode>
<responsedata>
<Cases>
<fl val="message">Record(s) added successfully</fl>
<record id="2000000012002"/>
<record id="2000000012003"/>
</Cases>
</responsedata>
</result>
</response>"#;
    let answer = decode(Module::Requests, body.as_bytes()).unwrap();
    assert_eq!(
        answer,
        Answer::Written(Written {
            responsecode: Some(2001),
            message: Some("Record(s) added successfully".into()),
            ids: vec![RecordId(2000000012002), RecordId(2000000012003)],
        })
    );
}

#[test]
fn ids_are_also_found_in_id_labelled_fields_at_any_depth() {
    let body = r#"<response><result><responsedata><recorddetail><FL val="Id">11</FL><FL val="Created Time">x</FL><deeper><fl val="CASEID">12</fl></deeper></recorddetail></responsedata></result></response>"#;
    let answer = decode(Module::Requests, body.as_bytes()).unwrap();
    assert_eq!(
        answer,
        Answer::Written(Written {
            responsecode: None,
            message: None,
            ids: vec![RecordId(11), RecordId(12)],
        })
    );
}

#[test]
fn a_body_cut_anywhere_is_truncated() {
    for cut in 0..GETRECORDS.trim_end().len() {
        let result = decode(Module::Requests, &GETRECORDS.as_bytes()[..cut]);
        assert!(
            matches!(result, Err(DecodeError::Truncated { .. })),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn broken_syntax_is_malformed_with_an_offset() {
    let body = b"<response><result><Cases></Casez></result></response>";
    match decode(Module::Requests, body) {
        Err(DecodeError::Malformed { at, .. }) => assert_eq!(at, 25),
        other => panic!("{other:?}"),
    }
    let bad_entity = b"<response><error><code>1</code><message>&nbsp;</message></error></response>";
    assert!(matches!(
        decode(Module::Requests, bad_entity),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn well_formed_bodies_of_the_wrong_shape_are_shape_errors() {
    let cases: &[&str] = &[
        "<html><body>Bad gateway</body></html>",
        "<response/>",
        "<response></response>",
        "<response><result/></response>",
        "<response><result><Accounts/></result></response>",
        "<response><error><code>x</code><message>m</message></error></response>",
        "<response><error><code>1</code></error></response>",
        "<response><error><code>1</code><message>m</message></error><result/></response>",
        "<response><result><Cases/></result></response><response/>",
        "<response>text<result><Cases/></result></response>",
    ];
    for body in cases {
        let result = decode(Module::Requests, body.as_bytes());
        assert!(
            matches!(result, Err(DecodeError::Shape { .. })),
            "{body}: {result:?}"
        );
    }
}

#[test]
fn an_empty_module_element_is_an_empty_page() {
    let body = "<response><result><Cases>\n</Cases></result></response>";
    assert_eq!(
        records(decode(Module::Requests, body.as_bytes()).unwrap()),
        vec![]
    );
}

#[test]
fn unknown_elements_are_skipped_and_noted_once_per_kind_while_known_shapes_are_checked() {
    let body = r#"<response><node/><result><Cases><row no="1"><x/><fl val="CASEID">1</fl></row><row no="2"><x>y</x><fl val="CASEID">2</fl></row><item><z/></item></Cases><nodata/></result></response>"#;
    let decoded =
        crate::zoho::codec::decode_noting_strays(Format::Xml, Module::Requests, body.as_bytes())
            .unwrap();
    let rows = records(decoded.answer);
    assert_eq!(rows.len(), 2);
    assert_eq!(ok_record(&rows[1]).id, Some(RecordId(2)));
    let names: Vec<_> = decoded.strays.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{:?}", decoded.strays);
    for name in ["node", "x", "item", "nodata"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

#[test]
fn bytes_that_are_not_utf8_or_a_bad_reference_set_only_their_row_aside() {
    for value in [&b"caf\xe9"[..], b"a &bogus; b", b"&#xD800;"] {
        let mut body =
            br#"<response><result><Cases><row no="1"><fl val="CASEID">7</fl><fl val="Subject">"#
                .to_vec();
        body.extend_from_slice(value);
        body.extend_from_slice(
            br#"</fl></row><row no="2"><fl val="CASEID">8</fl></row></Cases></result></response>"#,
        );
        let rows = records(decode(Module::Requests, &body).unwrap());
        match &rows[0] {
            RowOutcome::Bad(bad) => assert_eq!(bad.id, Some(RecordId(7)), "{bad:?}"),
            other => panic!("expected a bad row, got {other:?}"),
        }
        assert_eq!(ok_record(&rows[1]).id, Some(RecordId(8)));
    }
}
