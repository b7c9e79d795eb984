//! Token replies checked at the edge: errors with HTTP 200, throttles, missing or
//! hostile fields; no secret in any error or `Debug` output.

use super::*;

fn reply(body: &str) -> Result<TokenReply, TokenError> {
    decode_reply(200, body.as_bytes(), GrantKind::Refresh, "1000.ABC")
}

#[test]
fn a_success_needs_an_access_token_and_a_lifetime_and_logs_only_the_api_domain() {
    let r = reply(
        r#"{"access_token":"1000.2d44.fac6","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#,
    )
    .unwrap();
    assert_eq!(r.access_token.expose(), "1000.2d44.fac6");
    assert_eq!(r.expires_in, Duration::from_secs(3600));
    assert_eq!(r.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
    assert!(r.refresh_token.is_none() && r.scope.is_none());
}

#[test]
fn the_lifetime_is_read_from_expires_in_sec_strings_and_milliseconds() {
    let lifetime =
        |field: &str| reply(&format!(r#"{{"access_token":"t",{field}}}"#)).map(|r| r.expires_in);
    assert_eq!(
        lifetime(r#""expires_in_sec":3600"#).unwrap(),
        Duration::from_secs(3600)
    );
    assert_eq!(
        lifetime(r#""expires_in":"3600""#).unwrap(),
        Duration::from_secs(3600)
    );
    assert_eq!(
        lifetime(r#""expires_in":3600000"#).unwrap(),
        Duration::from_secs(3600)
    );
    for hostile in [
        r#""expires_in":0"#,
        r#""expires_in":-5"#,
        r#""expires_in":1.5"#,
        r#""expires_in":18446744073709551615"#,
        r#""expires_in":1e300"#,
        r#""expires_in":null"#,
        r#""expires_in":"soon""#,
        r#""other":1"#,
    ] {
        assert!(
            matches!(lifetime(hostile), Err(TokenError::Malformed(_))),
            "{hostile}"
        );
    }
}

#[test]
fn an_unusable_access_token_is_malformed() {
    let long = "a".repeat(5000);
    for token in [
        "\"\"",
        "null",
        "42",
        "\"has space\"",
        "\"line\\nbreak\"",
        &format!("\"{long}\""),
    ] {
        let body = format!(r#"{{"access_token":{token},"expires_in":3600}}"#);
        assert!(
            matches!(reply(&body), Err(TokenError::Malformed(_))),
            "{token}"
        );
    }
}

#[test]
fn errors_with_http_200_say_what_to_do() {
    let refresh = reply(r#"{"error":"invalid_code"}"#).unwrap_err();
    assert!(matches!(refresh, TokenError::RefreshTokenRefused));
    assert!(refresh.to_string().contains("generate a new grant code"));
    let code = decode_reply(
        200,
        br#"{"error":"invalid_code"}"#,
        GrantKind::AuthorizationCode,
        "c",
    )
    .unwrap_err();
    assert!(matches!(code, TokenError::GrantCodeRefused));
    let client = reply(r#"{"error":"invalid_client"}"#).unwrap_err();
    let text = client.to_string();
    assert!(
        text.contains("1000.ABC")
            && text.contains("client id and secret")
            && text.contains("data centre"),
        "{text}"
    );
    let secret = reply(r#"{"error":"invalid_client_secret"}"#).unwrap_err();
    assert!(secret.to_string().contains("check the client secret"));
    for e in [&refresh, &code, &client, &secret] {
        assert_eq!(e.class(), ErrorClass::Auth, "{e}");
    }
}

#[test]
fn the_access_denied_throttle_is_retryable() {
    let throttle = reply(r#"{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied","status":"failure"}"#).unwrap_err();
    assert!(matches!(throttle, TokenError::Throttled));
    assert_eq!(throttle.class(), ErrorClass::Transient);
    assert!(matches!(
        reply(r#"{"error":"access_denied"}"#),
        Err(TokenError::Throttled)
    ));
}

#[test]
fn an_error_field_wins_over_a_token_and_over_the_status() {
    let both = reply(r#"{"error":"invalid_client","access_token":"t","expires_in":3600}"#);
    assert!(matches!(both, Err(TokenError::InvalidClient { .. })));
    let on_400 = decode_reply(
        400,
        br#"{"error":"invalid_client_secret"}"#,
        GrantKind::Refresh,
        "c",
    );
    assert!(matches!(
        on_400,
        Err(TokenError::InvalidClientSecret { .. })
    ));
}

#[test]
fn other_errors_are_quoted_cut_and_cleaned_and_retried() {
    let weird = format!(
        r#"{{"error":"new_{}\u0007","error_description":"x"}}"#,
        "z".repeat(500)
    );
    let err = reply(&weird).unwrap_err();
    let text = err.to_string();
    assert!(text.len() < 300 && !text.contains('\u{7}'), "{text}");
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(matches!(
        reply(r#"{"error":{"nested":true}}"#),
        Err(TokenError::Refused(_))
    ));
}

#[test]
fn bodies_that_are_not_token_replies_are_classed_by_status_and_shape() {
    let status =
        |s: u16, body: &str| decode_reply(s, body.as_bytes(), GrantKind::Refresh, "c").unwrap_err();
    assert!(matches!(
        status(503, "<html>"),
        TokenError::Transport(TransportError::HttpStatus { status: 503 })
    ));
    assert!(matches!(
        status(200, "<!DOCTYPE html>"),
        TokenError::Transport(TransportError::HtmlPage { .. })
    ));
    assert!(matches!(status(200, "[1]"), TokenError::Malformed(_)));
    assert!(matches!(
        status(200, "\u{0}\u{ff}"),
        TokenError::Malformed(_)
    ));
    assert!(matches!(status(200, ""), TokenError::Malformed(_)));
    assert!(matches!(
        status(500, r#"{"ok":1}"#),
        TokenError::Transport(TransportError::HttpStatus { status: 500 })
    ));
    assert_eq!(status(503, "").class(), ErrorClass::Transient);
}

#[test]
fn the_form_carries_the_grant_and_the_secrets_only_in_the_body() {
    let credentials = ClientCredentials {
        client_id: "1000.ABC".into(),
        client_secret: Secret::new("s&cret"),
    };
    let refresh = form(&credentials, &Grant::Refresh(Secret::new("1000.r+t")));
    assert_eq!(
        refresh,
        "grant_type=refresh_token&refresh_token=1000.r%2Bt&client_id=1000.ABC&client_secret=s%26cret"
    );
    let code = form(
        &credentials,
        &Grant::AuthorizationCode(Secret::new("1000.code")),
    );
    assert!(code.starts_with("grant_type=authorization_code&code=1000.code&"));
    let debug = format!(
        "{credentials:?} {:?}",
        Grant::Refresh(Secret::new("1000.r+t"))
    );
    assert!(
        !debug.contains("s&cret") && !debug.contains("1000.r+t"),
        "{debug}"
    );
    let accounts = Accounts::new(
        &Url::parse("http://127.0.0.1:9/prefix/").unwrap(),
        None,
        Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(
        accounts.token_url().as_str(),
        "http://127.0.0.1:9/prefix/oauth/v2/token"
    );
    assert!(Accounts::new(
        &Url::parse("ftp://x").unwrap(),
        None,
        Duration::from_secs(1)
    )
    .is_err());
}

#[test]
fn a_token_reply_never_shows_its_tokens_in_debug_output() {
    let r = decode_reply(
        200,
        br#"{"access_token":"1000.access","refresh_token":"1000.refresh","expires_in":3600}"#,
        GrantKind::AuthorizationCode,
        "c",
    )
    .unwrap();
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("1000.access") && !debug.contains("1000.refresh"),
        "{debug}"
    );
    assert_eq!(r.refresh_token.unwrap().expose(), "1000.refresh");
}
