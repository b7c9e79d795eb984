//! OAuth as section 2 and D2-D6 fix it: the refresh grant by form or query string, the
//! reply's exact shape, errors with HTTP 200, the refresh throttle, token lifetimes by the
//! emulated clock, grant codes, and how the API greets a missing or dead token.

use reqwest::Method;
use serde_json::json;

use super::{error, Desk};

#[tokio::test]
async fn a_refresh_answers_the_exact_reply_of_d3_and_works_from_the_query_string_too() {
    let desk = Desk::start(2).await;
    let answer = desk.token_request(&desk.refresh_form()).await;
    assert_eq!(answer.status, 200);
    let token = answer.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let expected = format!(
        r#"{{"access_token":"{token}","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}}"#
    );
    assert_eq!(answer.body, expected);
    let query: Vec<String> = desk
        .refresh_form()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let sent = desk
        .http
        .post(format!(
            "{}?{}",
            desk.url("/oauth/v2/token"),
            query.join("&")
        ))
        .send()
        .await;
    let by_query = super::answer(sent.expect("an answer")).await;
    assert!(
        by_query.json()["access_token"].is_string(),
        "{}",
        by_query.body
    );
}

#[tokio::test]
async fn token_errors_come_with_http_200_and_the_bodies_of_d4() {
    let desk = Desk::start(2).await;
    let with = |key: &'static str, value: &str| {
        let mut form = desk.refresh_form();
        for pair in &mut form {
            if pair.0 == key {
                pair.1 = value.to_string();
            }
        }
        form
    };
    for (form, body) in [
        (
            with("refresh_token", "1000.dead.token"),
            r#"{"error":"invalid_code"}"#,
        ),
        (
            with("client_id", "1000.UNKNOWN"),
            r#"{"error":"invalid_client"}"#,
        ),
        (
            with("client_secret", "wrong"),
            r#"{"error":"invalid_client_secret"}"#,
        ),
    ] {
        let answer = desk.token_request(&form).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, body));
    }
}

#[tokio::test]
async fn the_eleventh_refresh_within_ten_minutes_gets_the_throttle_body() {
    let desk = Desk::start(2).await;
    // `start` refreshed once already.
    for _ in 0..9 {
        assert!(desk.refresh().await["access_token"].is_string());
    }
    let throttled = desk.token_request(&desk.refresh_form()).await;
    assert_eq!(throttled.status, 200);
    assert_eq!(
        throttled.body,
        r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#
    );
    desk.advance(601).await;
    assert!(desk.refresh().await["access_token"].is_string());
    let counters = desk.admin_get("counters").await;
    assert_eq!(counters["requests"]["tokens"]["throttled"], json!(1));
}

#[tokio::test]
async fn an_access_token_expires_after_3600_emulated_seconds() {
    let desk = Desk::start(2).await;
    assert_eq!(desk.get("departments", "").await.status, 200);
    desk.advance(3_599).await;
    assert_eq!(desk.get("departments", "").await.status, 200);
    desk.advance(1).await;
    let expired = desk.get("departments", "").await;
    assert_eq!(
        (expired.status, expired.body),
        (
            401,
            error("INVALID_OAUTH", "The OAuth Token you provided is invalid.")
        )
    );
}

#[tokio::test]
async fn the_api_wants_a_token_in_either_scheme_and_names_what_is_wrong() {
    let desk = Desk::start(2).await;
    let none = desk.raw(Method::GET, "tickets", "", &[], None).await;
    assert!(none.header("x-rate-limit-remaining-v3").is_none());
    assert_eq!(
        (none.status, none.body),
        (
            401,
            error(
                "UNAUTHORIZED",
                "You are not authenticated to perform this operation."
            )
        )
    );
    let bearer = [("Authorization", format!("Bearer {}", desk.token))];
    assert_eq!(
        desk.raw(Method::GET, "tickets", "", &bearer, None)
            .await
            .status,
        200
    );
    let bogus = [("Authorization", "Zoho-oauthtoken 1000.nope".to_string())];
    assert_eq!(
        desk.raw(Method::GET, "tickets", "", &bogus, None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_grant_code_from_the_admin_api_is_exchanged_once_for_a_refresh_token() {
    let desk = Desk::start(2).await;
    let minted = desk
        .admin_post("grant-code", json!({ "client_id": desk.client.client_id }))
        .await;
    let code = minted["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(minted["expires_in"], json!(180));
    let form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("client_id", desk.client.client_id.clone()),
        (
            "client_secret",
            desk.client.client_secret.expose().to_string(),
        ),
        ("code", code),
    ];
    let first = desk.token_request(&form).await.json();
    assert!(
        first["refresh_token"].is_string() && first["access_token"].is_string(),
        "{first}"
    );
    let keys: Vec<&str> = first
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 5);
    let again = desk.token_request(&form).await;
    assert_eq!(again.body, r#"{"error":"invalid_code"}"#);
}

#[tokio::test]
async fn a_token_consented_for_fewer_scopes_gets_scope_mismatch_elsewhere() {
    let desk = Desk::start(2).await;
    let order = json!({ "client_id": desk.client.client_id, "scopes": "Desk.tickets.READ,Desk.basic.READ" });
    let code = desk.admin_post("grant-code", order).await["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("client_id", desk.client.client_id.clone()),
        (
            "client_secret",
            desk.client.client_secret.expose().to_string(),
        ),
        ("code", code),
    ];
    let token = desk.token_request(&form).await.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let auth = [("Authorization", format!("Zoho-oauthtoken {token}"))];
    assert_eq!(
        desk.raw(Method::GET, "tickets", "", &auth, None)
            .await
            .status,
        200
    );
    assert_eq!(
        desk.raw(Method::GET, "agents", "", &auth, None)
            .await
            .status,
        200
    );
    let mismatch = error(
        "SCOPE_MISMATCH",
        "The OAuth Token does not contain the scope to perform this operation.",
    );
    for path in ["tickets/search", "contacts", "recycleBin"] {
        let answer = desk.raw(Method::GET, path, "", &auth, None).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (403, mismatch.as_str()),
            "{path}"
        );
    }
    let bad = desk
        .http
        .post(desk.url("/_emulator/desk/grant-code"))
        .body(
            json!({ "client_id": desk.client.client_id, "scopes": "Desk.tickets.WRITE" })
                .to_string(),
        )
        .send()
        .await
        .expect("an answer");
    assert_eq!(bad.status(), 400, "one invalid scope fails the consent");
}
