//! The classifier: by `errorCode` first, then status, then what the request was.

use super::*;

const GET: Operation = Operation::List;
const BY_ID: Operation = Operation::ById;
const CREATE: Operation = Operation::Create;

fn class(status: u16, code: &str, operation: Operation) -> ErrorClass {
    classify(status, Some(&ErrorCode::parse(code)), operation, None)
}

#[test]
fn every_contract_code_round_trips_in_any_case_and_unknown_codes_are_kept_cut() {
    for (name, code) in CODES.iter() {
        assert_eq!(&ErrorCode::parse(name), code);
        assert_eq!(ErrorCode::parse(&name.to_ascii_lowercase()).as_str(), *name);
    }
    let long = format!("NEW_{}\n", "X".repeat(1000));
    let ErrorCode::Other(kept) = ErrorCode::parse(&long) else {
        panic!()
    };
    assert!(kept.chars().count() <= 64 && !kept.contains('\n'));
}

#[test]
fn the_two_429s_are_told_apart_by_their_code_not_their_status() {
    assert_eq!(class(429, "TOO_MANY_REQUESTS", GET), ErrorClass::Transient);
    assert_eq!(
        class(429, "THRESHOLD_EXCEEDED", GET),
        ErrorClass::QuotaExhausted
    );
    assert_eq!(
        class(429, "THRESHOLD_EXCEEDED", CREATE),
        ErrorClass::QuotaExhausted
    );
    let wait = Some(Duration::from_secs(60));
    assert_eq!(classify(429, None, GET, wait), ErrorClass::QuotaExhausted);
    assert_eq!(classify(429, None, GET, None), ErrorClass::Transient);
}

#[test]
fn auth_codes_are_auth_whatever_their_status() {
    for code in [
        "INVALID_OAUTH",
        "UNAUTHORIZED",
        "SCOPE_MISMATCH",
        "OAUTH_ORG_MISMATCH",
    ] {
        for status in [200, 401, 403, 500] {
            assert_eq!(
                class(status, code, GET),
                ErrorClass::Auth,
                "{code} {status}"
            );
        }
    }
    assert_eq!(classify(401, None, GET, None), ErrorClass::Auth);
}

#[test]
fn forbidden_and_not_found_mean_not_visible_only_for_a_get_by_id() {
    assert_eq!(class(403, "FORBIDDEN", BY_ID), ErrorClass::NotVisible);
    assert_eq!(class(404, "URL_NOT_FOUND", BY_ID), ErrorClass::NotVisible);
    assert_eq!(classify(404, None, BY_ID, None), ErrorClass::NotVisible);
    assert_eq!(class(403, "FORBIDDEN", GET), ErrorClass::Permanent);
    assert_eq!(class(404, "URL_NOT_FOUND", GET), ErrorClass::Permanent);
}

#[test]
fn server_faults_are_transient_for_reads_and_ambiguous_for_writes() {
    assert_eq!(
        class(500, "INTERNAL_SERVER_ERROR", GET),
        ErrorClass::Transient
    );
    assert_eq!(
        class(500, "INTERNAL_SERVER_ERROR", CREATE),
        ErrorClass::Ambiguous
    );
    assert_eq!(classify(502, None, GET, None), ErrorClass::Transient);
    assert_eq!(
        classify(503, None, Operation::Trash, None),
        ErrorClass::Ambiguous
    );
    assert_eq!(
        classify(503, None, Operation::Update, None),
        ErrorClass::Ambiguous
    );
}

#[test]
fn validation_errors_and_unknown_codes_below_500_are_permanent() {
    for code in [
        "UNPROCESSABLE_ENTITY",
        "INVALID_DATA",
        "LICENSE_ACCESS_LIMITED",
        "SOMETHING_NEW",
    ] {
        assert_eq!(class(422, code, GET), ErrorClass::Permanent, "{code}");
        assert_eq!(class(422, code, CREATE), ErrorClass::Permanent, "{code}");
    }
    assert_eq!(class(200, "SOMETHING_NEW", GET), ErrorClass::Permanent);
    assert_eq!(class(503, "SOMETHING_NEW", GET), ErrorClass::Transient);
    assert_eq!(classify(400, None, GET, None), ErrorClass::Permanent);
}

#[test]
fn a_write_that_may_have_reached_the_server_is_never_transient() {
    let sent = [
        TransportError::Timeout { secs: 30 },
        TransportError::ConnectionLost {
            detail: "reset".into(),
        },
        TransportError::HttpStatus { status: 502 },
        TransportError::EmptyBody,
    ];
    for error in &sent {
        assert_eq!(
            transport_class(error, CREATE),
            ErrorClass::Ambiguous,
            "{error}"
        );
        assert_eq!(
            transport_class(error, GET),
            ErrorClass::Transient,
            "{error}"
        );
    }
    let refused = TransportError::Connect {
        host: "h".into(),
        detail: "refused".into(),
    };
    assert_eq!(transport_class(&refused, CREATE), ErrorClass::Transient);
    let cut = DecodeError::Truncated {
        format: "json",
        at: 3,
    };
    assert_eq!(decode_class(&cut, CREATE), ErrorClass::Ambiguous);
    assert_eq!(decode_class(&cut, GET), ErrorClass::Transient);
}

#[test]
fn only_transient_is_retryable() {
    let all = [
        ErrorClass::Transient,
        ErrorClass::QuotaExhausted,
        ErrorClass::Auth,
        ErrorClass::NotVisible,
        ErrorClass::Ambiguous,
        ErrorClass::Permanent,
    ];
    let retryable: Vec<_> = all.into_iter().filter(|c| c.is_retryable()).collect();
    assert_eq!(retryable, [ErrorClass::Transient]);
}
