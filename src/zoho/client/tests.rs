use super::*;

pub(super) fn settings(base: &str) -> ClientSettings {
    ClientSettings {
        base_url: Url::parse(base).unwrap(),
        format: Format::Json,
        portal: "acmehelp".into(),
        department: "First Line".into(),
        authtoken: Secret::new("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        max_body_bytes: 1 << 20,
        retry: RetryPolicy::never(),
    }
}

#[test]
fn the_url_keeps_the_base_path_and_carries_no_parameter() {
    let client = Client::new(settings("http://h:1/prefix/?authtoken=x")).unwrap();
    let url = client.url(Method::Search, Module::TimeEntry);
    assert_eq!(
        url.as_str(),
        "http://h:1/prefix/api/json/timeentry/getrecordsbysearch"
    );
}

#[test]
fn the_form_carries_the_common_parameters_first_url_encoded() {
    let client = Client::new(settings("https://support.zoho.com")).unwrap();
    let form = client.form(&[("selectfields", "Cases(Subject,Contact Name)".into())]);
    assert_eq!(
        form,
        "authtoken=0f1e2d3c4b5a69788796a5b4c3d2e1f0&portal=acmehelp&department=First+Line\
         &scope=supportapi&selectfields=Cases%28Subject%2CContact+Name%29"
    );
}

#[test]
fn settings_without_a_portal_or_token_are_refused() {
    let mut s = settings("https://support.zoho.com");
    s.authtoken = Secret::new("");
    assert!(matches!(Client::new(s), Err(ZohoError::Invalid(_))));
    let mut s = settings("https://support.zoho.com");
    s.portal = " ".into();
    assert!(matches!(Client::new(s), Err(ZohoError::Invalid(_))));
}

#[test]
fn request_futures_can_be_spawned_on_a_multi_threaded_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let client = Client::new(settings("https://support.zoho.com")).unwrap();
    let request = GetRecords::default();
    assert_send(&client.get_records(Module::Requests, &request));
    assert_send(&client.delete_record(Module::Requests, RecordId(1)));
}

#[test]
fn adds_are_retried_only_when_the_server_cannot_have_acted() {
    let lost = ZohoError::Transport(TransportError::ConnectionLost { detail: "x".into() });
    let refused = ZohoError::Transport(TransportError::Connect {
        host: "h".into(),
        detail: "refused".into(),
    });
    assert!(may_retry(Method::GetRecords, &lost));
    assert!(!may_retry(Method::AddRecords, &lost));
    assert!(may_retry(Method::AddRecords, &refused));
}
