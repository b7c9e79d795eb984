//! Answers interpreted without a server: hostile error bodies, errors hidden in HTTP
//! 200, empty answers of every kind of request.

use bytes::Bytes;

use super::*;
use crate::desk::module::DeskModule;
use crate::desk::record::DeskId;

fn raw(status: u16, body: &[u8]) -> RawReply {
    RawReply {
        meta: ReplyMeta {
            status,
            ..ReplyMeta::default()
        },
        bytes: Bytes::copy_from_slice(body),
    }
}

fn list() -> DeskRequest {
    DeskRequest::List {
        module: DeskModule::Tickets,
        from: 1,
        limit: 100,
    }
}

fn interpret_as(
    request: &DeskRequest,
    status: u16,
    body: &[u8],
) -> Result<Reply<Answer>, DeskError> {
    let token = Secret::new("1000.secret-access");
    let ctx = Context {
        request,
        org_id: "42",
        token: &token,
    };
    interpret(&ctx, raw(status, body))
}

fn api_failure(status: u16, body: &[u8]) -> ApiFailure {
    match interpret_as(&list(), status, body) {
        Err(DeskError::Api(failure)) => *failure,
        other => panic!("expected an API failure, got {other:?}"),
    }
}

#[test]
fn error_bodies_of_any_shape_give_a_code_when_they_have_one_and_never_panic() {
    assert_eq!(
        api_failure(422, br#"{"errorCode":422}"#).code,
        Some(ErrorCode::Other("422".into()))
    );
    let odd = api_failure(422, br#"{"errorCode":null,"message":5,"errors":"no"}"#);
    assert_eq!((odd.code, odd.message.as_str()), (None, ""));
    let fields = api_failure(422, br#"{"errorCode":"INVALID_DATA","errors":[1,{"fieldName":7},{"fieldName":"/subject","errorType":"invalid","errorMessage":"too long"}]}"#);
    assert!(
        fields.message.contains("/subject invalid: too long"),
        "{}",
        fields.message
    );
    for body in [&b""[..], b"\xff\xfe\x00", b"<html>", b"[]", b"null"] {
        let f = api_failure(400, body);
        assert_eq!((f.code, f.class), (None, ErrorClass::Permanent));
    }
}

#[test]
fn a_huge_message_with_control_characters_and_the_token_is_cut_cleaned_and_scrubbed() {
    let body = format!(
        r#"{{"errorCode":"UNPROCESSABLE_ENTITY","message":"1000.secret-access\u001b[31m{}"}}"#,
        "x".repeat(1_000_000)
    );
    let f = api_failure(422, body.as_bytes());
    assert!(f.message.chars().count() <= 300);
    assert!(
        f.message.starts_with("***") && !f.message.contains('\u{1b}'),
        "{}",
        &f.message[..20]
    );
    assert!(!f.to_string().contains("secret-access"));
}

#[test]
fn errors_hidden_in_http_200_are_failures_but_records_holding_an_error_code_key_are_not() {
    assert_eq!(
        api_failure(200, br#"{"errorCode":"TOO_MANY_REQUESTS"}"#).class,
        ErrorClass::Transient
    );
    let page = interpret_as(&list(), 200, br#"{"data":[],"errorCode":"X"}"#).unwrap();
    assert!(matches!(page.value, Answer::Page(_)));
    let by_id = DeskRequest::ById {
        module: DeskModule::Tickets,
        id: DeskId::parse("5").unwrap(),
    };
    let record = interpret_as(&by_id, 200, br#"{"id":"5","errorCode":"kept as a field"}"#).unwrap();
    assert!(matches!(
        record.value,
        Answer::Lookup(Lookup::Found(RecordOutcome::Ok(_)))
    ));
}

#[test]
fn empty_answers_mean_nothing_found_except_for_a_create_which_is_ambiguous() {
    let by_id = DeskRequest::ById {
        module: DeskModule::Tickets,
        id: DeskId::parse("5").unwrap(),
    };
    assert!(
        matches!(interpret_as(&list(), 204, b"").unwrap().value, Answer::Page(p) if p.records.is_empty())
    );
    assert!(matches!(
        interpret_as(&list(), 200, b"  \n").unwrap().value,
        Answer::Page(_)
    ));
    assert_eq!(
        interpret_as(&by_id, 204, b"").unwrap().value,
        Answer::Lookup(Lookup::NotVisible)
    );
    let create = DeskRequest::Create {
        module: DeskModule::Tickets,
        body: serde_json::Map::from_iter([("subject".to_string(), Value::from("x"))]),
    };
    let error = interpret_as(&create, 204, b"").unwrap_err();
    assert_eq!(error.class(), ErrorClass::Ambiguous);
}

#[test]
fn a_by_id_get_that_is_forbidden_or_missing_is_not_visible_whatever_its_body() {
    let by_id = DeskRequest::ById {
        module: DeskModule::Contacts,
        id: DeskId::parse("5").unwrap(),
    };
    for (status, body) in [
        (403, &br#"{"errorCode":"FORBIDDEN"}"#[..]),
        (404, b"<html>"),
        (404, b""),
    ] {
        let reply = interpret_as(&by_id, status, body).unwrap();
        assert_eq!(reply.value, Answer::Lookup(Lookup::NotVisible), "{status}");
    }
    let scope = interpret_as(&by_id, 403, br#"{"errorCode":"SCOPE_MISMATCH"}"#).unwrap_err();
    assert!(scope.to_string().contains("Desk.contacts.READ"), "{scope}");
}

#[test]
fn a_search_refusing_its_time_range_says_the_module_cannot_be_read_incrementally() {
    let at = chrono::DateTime::UNIX_EPOCH;
    let search = DeskRequest::Search {
        module: DeskModule::Products,
        query: crate::desk::SearchQuery {
            range: crate::desk::TimeRange {
                field: crate::desk::TimeField::ModifiedTime,
                from: at,
                to: at,
            },
            pinned: None,
            sort_by: crate::desk::TimeField::ModifiedTime,
            from: 0,
            limit: 100,
        },
    };
    let body = br#"{"errorCode":"UNPROCESSABLE_ENTITY","message":"Extra query parameter 'modifiedTimeRange' is present in the input."}"#;
    let Err(DeskError::Api(failure)) = interpret_as(&search, 422, body) else {
        panic!("an API failure");
    };
    let hint = failure.hint.expect("a hint");
    assert!(
        hint.contains("remove it from [organisations.modules]"),
        "{hint}"
    );
    assert_eq!(failure.class, ErrorClass::Permanent);
    let other = api_failure(422, body);
    assert!(other.hint.is_none(), "a list is not a search");
}
