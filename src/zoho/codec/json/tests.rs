use super::*;

/// The decoder with strays dropped (the tests of strays look at them).
fn decode(module: Module, body: &[u8]) -> Result<Answer, DecodeError> {
    super::decode(module, body, &crate::zoho::codec::Strays::default())
}
use crate::zoho::codec::RowOutcome;
use crate::zoho::module::Format;
use crate::zoho::record::{Field, Record, RecordId};

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

const GETRECORDS: &str = r#"{"response":{"uri":"/api/json/requests/getrecords","result":{"Cases":{"row":[
 {"no":"1","fl":[{"val":"CASEID","content":"2000000012001"},
                 {"val":"Subject","content":"Printer is on fire"},
                 {"val":"Email","content":"null"}]},
 {"no":"2","fl":{"val":"CASEID","content":"2000000012002"}}]}}}}"#;

#[test]
fn the_contract_records_example_decodes_with_ids_and_null_as_absent() {
    let rows = records(decode(Module::Requests, GETRECORDS.as_bytes()).unwrap());
    let first = ok_record(&rows[0]);
    assert_eq!(first.id, Some(RecordId(2000000012001)));
    assert_eq!(
        first.fields[2],
        Field {
            label: "Email".into(),
            value: None
        }
    );
    assert_eq!(first.get("Subject"), Some("Printer is on fire"));
    assert_eq!(ok_record(&rows[1]).id, Some(RecordId(2000000012002)));
}

#[test]
fn a_single_row_object_and_keys_in_any_case_are_accepted() {
    let body = r#"{"RESPONSE":{"Result":{"cases":{"ROW":{"No":"1","FL":{"VAL":"caseid","Content":"9"}}}}}}"#;
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(ok_record(&rows[0]).id, Some(RecordId(9)));
}

#[test]
fn escaped_strings_decode_to_their_text() {
    let body = r#"{"response":{"result":{"Cases":{"row":{"no":"1","fl":[{"val":"A\tB","content":"\u0001\"\\ é"}]}}}}}"#;
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    assert_eq!(ok_record(&rows[0]).get("A\tB"), Some("\u{1}\"\\ é"));
}

#[test]
fn a_bad_row_is_kept_as_served_without_its_position_and_the_page_survives() {
    let body = r#"{"response":{"result":{"Cases":{"row":[{"no":"1","fl":{"val":"CASEID","content":5}},{"no":"2","fl":{"val":"CASEID","content":"x"}},{"no":"3","fl":{"val":"CASEID","content":"3"}}]}}}}"#;
    let rows = records(decode(Module::Requests, body.as_bytes()).unwrap());
    match (&rows[0], &rows[1]) {
        (RowOutcome::Bad(a), RowOutcome::Bad(b)) => {
            assert_eq!(a.raw, r#"{"fl":{"val":"CASEID","content":5}}"#);
            assert!(b.error.contains("CASEID"), "{}", b.error);
        }
        other => panic!("expected two bad rows, got {other:?}"),
    }
    assert_eq!(ok_record(&rows[2]).id, Some(RecordId(3)));
}

#[test]
fn the_error_code_may_be_a_string_or_a_number() {
    for body in [
        r#"{"response":{"uri":"/api/json/requests/getrecords","error":{"code":"4834","message":"Invalid Ticket Id"}}}"#,
        r#"{"response":{"error":{"message":"Invalid Ticket Id","code":4834}}}"#,
    ] {
        assert_eq!(
            decode(Module::Requests, body.as_bytes()).unwrap(),
            Answer::Error(ApiError {
                code: ApiCode::InvalidTicket,
                message: "Invalid Ticket Id".into()
            })
        );
    }
}

#[test]
fn the_add_acknowledgement_gives_code_message_and_ids() {
    let body = r#"{"response":{"uri":"/api/json/requests/addrecords","result":{"responsecode":"2001",
 "responsedata":{"Cases":{"fl":[{"val":"message","content":"Record(s) added successfully"}],
                          "record":[{"id":"2000000012002"},{"id":"2000000012003"}]}}}}}"#;
    assert_eq!(
        decode(Module::Requests, body.as_bytes()).unwrap(),
        Answer::Written(Written {
            responsecode: Some(2001),
            message: Some("Record(s) added successfully".into()),
            ids: vec![RecordId(2000000012002), RecordId(2000000012003)],
        })
    );
}

#[test]
fn the_update_acknowledgement_has_no_responsecode() {
    let body = r#"{"response":{"uri":"/api/json/requests/updaterecords","result":{
 "responsedata":{"Cases":{"fl":[{"val":"message","content":"Record(s) updated successfully"}],
                          "record":{"id":"2000000012001"}}}}}}"#;
    assert_eq!(
        decode(Module::Requests, body.as_bytes()).unwrap(),
        Answer::Written(Written {
            responsecode: None,
            message: Some("Record(s) updated successfully".into()),
            ids: vec![RecordId(2000000012001)],
        })
    );
}

#[test]
fn a_body_cut_anywhere_is_truncated() {
    for cut in 0..GETRECORDS.len() {
        let result = decode(Module::Requests, &GETRECORDS.as_bytes()[..cut]);
        assert!(
            matches!(result, Err(DecodeError::Truncated { .. })),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn broken_syntax_is_malformed_with_a_byte_offset() {
    match decode(Module::Requests, b"{\"response\":\n{\"error\" x}}") {
        Err(DecodeError::Malformed { at, .. }) => assert_eq!(at, 22),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode(
            Module::Requests,
            br#"{"response":{"error":{"code":"1","message":"m"}}} trailing"#
        ),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn well_formed_bodies_of_the_wrong_shape_are_shape_errors() {
    let cases: &[&str] = &[
        "[]",
        r#"{"answer":{}}"#,
        r#"{"response":{}}"#,
        r#"{"response":{"result":{}}}"#,
        r#"{"response":{"result":{"Accounts":{"row":[]}}}}"#,
        r#"{"response":{"error":{"code":"x","message":"m"}}}"#,
        r#"{"response":{"error":{"code":"1"}}}"#,
        r#"{"response":{"error":{"code":"1","message":"m"},"result":{}}}"#,
        r#"{"response":{"result":{"Cases":{"row":"x"}}}}"#,
        r#"{"response":{"result":{"responsedata":{"record":{"id":"abc"}}}}}"#,
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
fn a_lone_surrogate_or_bytes_that_are_not_utf8_set_only_their_row_aside_keeping_its_id() {
    let surrogate = r#"{"response":{"result":{"Cases":{"row":[{"no":"1","fl":[{"val":"CASEID","content":"7"},{"val":"Subject","content":"a\ud83db"}]},{"no":"2","fl":{"val":"CASEID","content":"8"}}]}}}}"#;
    let mut not_utf8 = surrogate.replace(r"a\ud83db", "caf_").into_bytes();
    let at = not_utf8.iter().position(|b| *b == b'_').unwrap();
    not_utf8[at] = 0xE9;
    for body in [surrogate.as_bytes(), not_utf8.as_slice()] {
        let rows = records(decode(Module::Requests, body).unwrap());
        match &rows[0] {
            RowOutcome::Bad(bad) => assert_eq!(bad.id, Some(RecordId(7)), "{bad:?}"),
            other => panic!("expected a bad row, got {other:?}"),
        }
        assert_eq!(ok_record(&rows[1]).id, Some(RecordId(8)));
    }
    let rows = records(decode(Module::Requests, &not_utf8).unwrap());
    let RowOutcome::Bad(bad) = &rows[0] else {
        unreachable!()
    };
    assert!(bad.error.contains("not UTF-8"), "{}", bad.error);
}

#[test]
fn unknown_keys_are_skipped_and_noted_once_per_kind_while_known_shapes_are_checked() {
    let body = r#"{"response":{"uri":"u","node":1,"result":{"Cases":{"row":[{"no":"1","x":{},"fl":[{"val":"CASEID","content":"1","type":"n"}]},{"no":"2","x":[],"fl":{"val":"CASEID","content":"2"}}],"more":false},"nodata":""}}}"#;
    let decoded =
        crate::zoho::codec::decode_noting_strays(Format::Json, Module::Requests, body.as_bytes())
            .unwrap();
    let rows = records(decoded.answer);
    assert_eq!(ok_record(&rows[1]).id, Some(RecordId(2)));
    let names: Vec<_> = decoded.strays.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 5, "{:?}", decoded.strays);
    for name in ["node", "x", "type", "more", "nodata"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    // The contract's own keys keep their shapes: two results are still refused.
    let twice = r#"{"response":{"result":{"Cases":""},"result":{"Cases":""}}}"#;
    assert!(decode(Module::Requests, twice.as_bytes()).is_err());
}

#[test]
fn a_row_that_is_neither_an_array_nor_an_object_is_a_shape_error_naming_it() {
    for row in [r#""x""#, "7", "true", "null"] {
        let body = format!(r#"{{"response":{{"result":{{"Cases":{{"row":{row}}}}}}}}}"#);
        let error = decode(Module::Requests, body.as_bytes()).unwrap_err();
        assert!(
            error.to_string().contains("neither an object nor an array"),
            "{row}: {error}"
        );
    }
}
