//! Every error class and every fault the emulator can inject reaches the client as its
//! typed error; transient ones succeed after a retry.

use std::time::Duration;

use zoho_sync::emulator::config::{EmulatorConfig, UserConfig};
use zoho_sync::zoho::client::{Client, GetRecords, Search, SelectFields};
use zoho_sync::zoho::error::{DecodeError, TransportError};
use zoho_sync::zoho::{ApiCode, ErrorClass, Format, Module, RecordId, Secret, ZohoError};

use crate::support::emulator::TestEmulator;

const FORMATS: [Format; 2] = [Format::Xml, Format::Json];

fn first_page() -> GetRecords {
    GetRecords {
        from_index: Some(1),
        to_index: Some(10),
        ..GetRecords::default()
    }
}

fn client_with_token(emulator: &TestEmulator, format: Format, token: &str) -> Client {
    let mut settings = emulator.settings(format);
    settings.authtoken = Secret::new(token);
    Client::new(settings).unwrap()
}

#[tokio::test]
async fn an_invalid_token_is_an_auth_error_that_costs_no_quota() {
    let emulator = TestEmulator::with_records(5).await;
    for format in FORMATS {
        let client = client_with_token(&emulator, format, "0123456789abcdef0123456789abcdef");
        let err = client
            .get_records(Module::Requests, &first_page())
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ApiCode::InvalidTicket), "{err}");
        assert_eq!(err.class(), ErrorClass::Auth);
        assert!(!err.to_string().contains("0123456789abcdef"), "{err}");
    }
    assert_eq!(emulator.quota_used().await, 0);
}

#[tokio::test]
async fn a_non_admin_token_is_a_permission_error() {
    let mut config = EmulatorConfig::default().with_records(5);
    let mut agent = UserConfig::new("agent@demo.example", "agent-password");
    agent
        .tokens
        .push(Secret::new("feedfacefeedfacefeedfacefeedface"));
    config.portals[0].users.push(agent);
    let emulator = TestEmulator::start(config).await;
    for format in FORMATS {
        let client = client_with_token(&emulator, format, "feedfacefeedfacefeedfacefeedface");
        let err = client
            .get_records(Module::Requests, &first_page())
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ApiCode::NoPermission), "{err}");
        assert_eq!(err.class(), ErrorClass::Permission);
    }
}

#[tokio::test]
async fn wrong_requests_are_bad_request_errors_naming_the_problem() {
    let emulator = TestEmulator::with_records(5).await;
    for format in FORMATS {
        let client = emulator.client(format);
        let search = Search {
            search_field: "No Such Field".into(),
            search_value: "x".into(),
            ..Search::default()
        };
        let err = client.search(Module::Requests, &search).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::BadRequest, "{err}");

        let rows = vec![vec![(
            "Description".to_string(),
            Some("no subject".to_string()),
        )]];
        let err = client
            .add_records(Module::Requests, &rows)
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ApiCode::MandatoryMissing), "{err}");
        assert_eq!(err.class(), ErrorClass::BadRequest);

        let mut settings = emulator.settings(format);
        settings.department = "Nowhere".into();
        let err = Client::new(settings)
            .unwrap()
            .get_records(Module::Requests, &first_page())
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ApiCode::BadParameter), "{err}");
        assert!(err.to_string().contains("department"), "{err}");
    }
}

#[tokio::test]
async fn updating_or_deleting_a_missing_record_is_no_data() {
    let emulator = TestEmulator::with_records(5).await;
    for format in FORMATS {
        let client = emulator.client(format);
        let fields = [("Subject".to_string(), Some("x".to_string()))];
        let err = client
            .update_record(Module::Requests, RecordId(1), &fields)
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ApiCode::NoSuchRecord), "{err}");
        assert_eq!(err.class(), ErrorClass::NoData);
        let err = client
            .delete_record(Module::Requests, RecordId(1))
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::NoData, "{err}");
    }
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_refused_as_a_server_error() {
    let emulator = TestEmulator::with_records(200).await;
    let mut settings = emulator.settings(Format::Json);
    settings.max_body_bytes = 4096;
    let client = Client::new(settings).unwrap();
    let request = GetRecords {
        from_index: Some(1),
        to_index: Some(200),
        select: SelectFields::All,
        ..GetRecords::default()
    };
    let err = client
        .get_records(Module::Requests, &request)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZohoError::Transport(TransportError::TooLarge { .. })),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Server);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_connect_error() {
    let emulator = TestEmulator::with_records(1).await;
    let mut settings = emulator.settings(Format::Json);
    settings.base_url = "http://127.0.0.1:9".parse().unwrap();
    settings.retry.max_retries = 0;
    let err = Client::new(settings)
        .unwrap()
        .get_records(Module::Requests, &first_page())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZohoError::Transport(TransportError::Connect { .. })),
        "{err}"
    );
    assert!(err.is_retryable());
}

/// Every fault kind, what it must turn into without retries.
fn expect_fault(kind: &str, err: &ZohoError) {
    let ok = match kind {
        "http500" => matches!(
            err,
            ZohoError::Transport(TransportError::HttpStatus { status: 500 })
        ),
        "http502" => matches!(
            err,
            ZohoError::Transport(TransportError::HttpStatus { status: 502 })
        ),
        "http503" => matches!(
            err,
            ZohoError::Transport(TransportError::HttpStatus { status: 503 })
        ),
        "delay" => matches!(err, ZohoError::Transport(TransportError::Timeout { .. })),
        "truncated" => matches!(err, ZohoError::Decode(DecodeError::Truncated { .. })),
        "malformed" => matches!(err, ZohoError::Decode(DecodeError::Malformed { .. })),
        "html" => matches!(err, ZohoError::Transport(TransportError::HtmlPage { .. })),
        "wrong-content-type" => {
            matches!(
                err,
                ZohoError::Transport(TransportError::UnexpectedContentType { .. })
            )
        }
        "api4500" => err.api_code() == Some(ApiCode::Internal),
        "reset" => matches!(
            err,
            ZohoError::Transport(
                TransportError::ConnectionLost { .. } | TransportError::Connect { .. }
            )
        ),
        other => panic!("unknown fault {other}"),
    };
    assert!(ok, "fault {kind} gave {err:?}");
    assert_eq!(err.class(), ErrorClass::Transient, "fault {kind}");
}

const FAULTS: [&str; 10] = [
    "http500",
    "http502",
    "http503",
    "delay",
    "truncated",
    "malformed",
    "html",
    "wrong-content-type",
    "api4500",
    "reset",
];

#[tokio::test]
async fn every_fault_gives_its_typed_transient_error_and_succeeds_after_a_retry() {
    let emulator = TestEmulator::with_records(20).await;
    emulator
        .admin_post("faults", serde_json::json!({ "delay_secs": 2.0 }))
        .await;
    for format in FORMATS {
        let mut settings = emulator.settings(format);
        settings.timeout = Duration::from_millis(700);
        settings.retry.max_retries = 0;
        let once = Client::new(settings.clone()).unwrap();
        settings.retry.max_retries = 2;
        let retrying = Client::new(settings).unwrap();
        for kind in FAULTS {
            emulator.fault_next(kind, 1).await;
            let err = once
                .get_records(Module::Requests, &first_page())
                .await
                .unwrap_err();
            expect_fault(kind, &err);

            emulator.fault_next(kind, 1).await;
            let before = retrying.retries();
            let page = retrying.get_records(Module::Requests, &first_page()).await;
            assert_eq!(page.map(|p| p.len()).ok(), Some(10), "{kind} in {format}");
            assert_eq!(retrying.retries(), before + 1, "{kind} in {format}");
        }
    }
}
