//! The record and page decoders against hostile bodies: wrong types, missing fields,
//! huge values, bytes that are not UTF-8. One bad record never costs its page.

use super::*;
use serde_json::json;

fn ok(outcome: &RecordOutcome) -> &DeskRecord {
    match outcome {
        RecordOutcome::Ok(r) => r,
        RecordOutcome::Bad(b) => panic!("expected a record, got {b:?}"),
    }
}

fn bad(outcome: &RecordOutcome) -> &BadRecord {
    match outcome {
        RecordOutcome::Bad(b) => b,
        RecordOutcome::Ok(r) => panic!("expected a bad record, got {r:?}"),
    }
}

#[test]
fn a_search_page_keeps_each_object_whole_with_its_checked_id_and_times() {
    let body = br#"{"data":[{"id":"734812000004128045","subject":"x","cf":{"cf_a":null},
        "createdTime":"2026-03-02T08:14:55.000Z","modifiedTime":"2026-03-04T16:41:07.000Z",
        "isSpam":"false"}],"count":1}"#;
    let page = decode_page(body).unwrap();
    assert_eq!(page.count, Some(1));
    let r = ok(&page.records[0]);
    assert_eq!(r.id.get(), 734812000004128045);
    assert_eq!(
        r.modified_time.map(format_time).as_deref(),
        Some("2026-03-04T16:41:07.000Z")
    );
    assert_eq!(r.object["cf"], json!({"cf_a": null}));
    assert_eq!(r.text("subject"), Some("x"));
    assert_eq!(r.flag("isSpam"), Some(false));
}

#[test]
fn a_list_page_has_no_count_and_a_page_without_data_is_a_shape_error() {
    let page = decode_page(br#"{"data":[]}"#).unwrap();
    assert_eq!(page, Page::default());
    for body in [
        &br#"{}"#[..],
        br#"{"data":null}"#,
        br#"{"data":{"id":"1"}}"#,
        b"[]",
    ] {
        let err = decode_page(body).unwrap_err();
        assert!(matches!(err, DecodeError::Shape { .. }), "{err:?}");
    }
}

#[test]
fn cut_and_garbled_bodies_are_truncated_or_malformed_never_a_panic() {
    assert!(matches!(
        decode_page(br#"{"data":[{"id":"1""#),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        decode_page(br#"{"data":[}"#),
        Err(DecodeError::Malformed { .. })
    ));
    assert!(decode_page(b"").is_err());
    assert!(decode_record(b"").is_err());
}

#[test]
fn counts_are_read_from_numbers_or_digit_strings_and_otherwise_left_unknown() {
    let count = |c: &str| {
        decode_page(format!(r#"{{"data":[],"count":{c}}}"#).as_bytes())
            .unwrap()
            .count
    };
    assert_eq!(count("7"), Some(7));
    assert_eq!(count(r#""12""#), Some(12));
    for hostile in ["-1", "1.5", "null", "true", r#""many""#, "1e400", "[1]"] {
        if let Ok(page) = decode_page(format!(r#"{{"data":[],"count":{hostile}}}"#).as_bytes()) {
            assert_eq!(page.count, None, "{hostile}");
        }
    }
}

#[test]
fn ids_are_digit_strings_or_tolerated_integers_and_nothing_else() {
    let id = |v: Value| DeskId::from_json(&v);
    assert_eq!(id(json!("42")).unwrap().get(), 42);
    assert_eq!(id(json!(42)).unwrap().get(), 42);
    assert_eq!(id(json!("9223372036854775807")).unwrap().get(), i64::MAX);
    for hostile in [
        json!("9223372036854775808"),
        json!("99999999999999999999999999"),
        json!(u64::MAX),
        json!(-1),
        json!("-1"),
        json!(" 1"),
        json!("1e3"),
        json!(1.5),
        json!(""),
        json!(null),
        json!(true),
        json!(["1"]),
        json!({"id": "1"}),
        json!("١٢"),
    ] {
        assert!(id(hostile.clone()).is_err(), "{hostile}");
    }
}

#[test]
fn times_are_read_in_the_wire_format_its_variants_and_epoch_millis() {
    let t = |v: Value| parse_time(&v).map(|t| t.map(format_time));
    let want = Ok(Some("2026-03-04T16:41:07.000Z".to_string()));
    assert_eq!(t(json!("2026-03-04T16:41:07.000Z")), want);
    assert_eq!(t(json!("2026-03-04T16:41:07Z")), want);
    assert_eq!(t(json!("2026-03-04T17:41:07+01:00")), want);
    assert_eq!(t(json!(1772642467000_i64)), want);
    assert_eq!(t(json!("1772642467000")), want);
    assert_eq!(t(json!(null)), Ok(None));
    assert_eq!(
        t(json!("2026-03-04T16:41:07.912Z")).unwrap().as_deref(),
        Some("2026-03-04T16:41:07.912Z")
    );
    for hostile in [
        json!("yesterday"),
        json!("2026-02-30T00:00:00.000Z"),
        json!(""),
        json!(1.5e300),
        json!(i64::MAX),
        json!(u64::MAX),
        json!("99999999999999999999999"),
        json!(true),
        json!({"t": 1}),
    ] {
        assert!(t(hostile.clone()).is_err(), "{hostile}");
    }
}

#[test]
fn a_record_without_an_id_or_with_a_bad_time_is_set_aside_with_the_rest_of_the_page_loaded() {
    let body = br#"{"data":[
        {"id":"1","modifiedTime":"2026-03-04T16:41:07.000Z"},
        {"subject":"no id"},
        {"id":"3","modifiedTime":"soon"},
        "not an object",
        {"id":"5","createdTime":1466514974000}
    ]}"#;
    let page = decode_page(body).unwrap();
    assert_eq!(page.records.len(), 5);
    assert_eq!(ok(&page.records[0]).id.get(), 1);
    assert!(bad(&page.records[1]).error.contains("id"));
    let late = bad(&page.records[2]);
    assert_eq!(late.id.map(DeskId::get), Some(3));
    assert!(late.error.contains("modifiedTime"), "{}", late.error);
    assert_eq!(late.raw, r#"{"id":"3","modifiedTime":"soon"}"#);
    assert!(bad(&page.records[3]).error.contains("string"));
    assert!(ok(&page.records[4]).created_time.is_some());
}

#[test]
fn bytes_that_are_not_utf8_set_aside_only_their_record() {
    let mut body = br#"{"data":[{"id":"1","subject":"fine"},{"id":"2","subject":"bad "#.to_vec();
    body.extend_from_slice(b"\xff\xfe");
    body.extend_from_slice(br#""},{"id":"3"}],"count":3}"#);
    let page = decode_page(&body).unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(ok(&page.records[0]).text("subject"), Some("fine"));
    let b = bad(&page.records[1]);
    assert!(b.error.contains("not UTF-8"), "{}", b.error);
    assert_eq!(b.id.map(DeskId::get), Some(2));
    assert_eq!(ok(&page.records[2]).id.get(), 3);
}

#[test]
fn a_lone_surrogate_escape_sets_aside_its_record_but_its_id_is_still_read() {
    let page = decode_page(br#"{"data":[{"id":"9","subject":"\ud800"},{"id":"10"}]}"#).unwrap();
    assert_eq!(bad(&page.records[0]).id.map(DeskId::get), Some(9));
    assert_eq!(ok(&page.records[1]).id.get(), 10);
}

#[test]
fn deep_nesting_and_huge_numbers_inside_a_record_never_panic() {
    let deep = format!(
        r#"{{"data":[{{"id":"1","x":{}1{}}}]}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let _ = decode_page(deep.as_bytes());
    let page = decode_page(
        br#"{"data":[{"id":"1","x":1e400},{"id":"2","n":123456789012345678901234567890}]}"#,
    );
    if let Ok(page) = page {
        assert!(matches!(page.records[0], RecordOutcome::Bad(_)));
    }
}

#[test]
fn booleans_are_read_from_booleans_and_their_strings_only() {
    assert_eq!(flag(&json!(true)), Some(true));
    assert_eq!(flag(&json!("TRUE")), Some(true));
    assert_eq!(flag(&json!(" false ")), Some(false));
    for other in [json!("yes"), json!(1), json!(null), json!([true])] {
        assert_eq!(flag(&other), None, "{other}");
    }
}

#[test]
fn a_bare_record_is_decoded_and_a_non_object_is_a_bad_record() {
    let r = decode_record(br#"{"id":"77","subject":"Printer offline"}"#).unwrap();
    assert_eq!(ok(&r).id.get(), 77);
    assert!(matches!(
        decode_record(b"[1,2]").unwrap(),
        RecordOutcome::Bad(_)
    ));
}

#[test]
fn messages_quote_at_most_a_short_cut_of_a_hostile_value() {
    let long = "x".repeat(100_000);
    let err = DeskId::from_json(&json!(long)).unwrap_err();
    assert!(err.len() < 200, "{}", err.len());
    let err = parse_time(&json!(long)).unwrap_err();
    assert!(err.len() < 200);
}
