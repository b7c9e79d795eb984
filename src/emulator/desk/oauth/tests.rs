//! Zoho Accounts' rules (D5): lifetimes, the refresh throttle, 30 live tokens, the errors of
//! D4, grant codes used once within 180 s, and no token in `Debug`.

use super::*;
use crate::emulator::desk::config::SelfClientConfig;

fn oauth() -> (Oauth, SelfClientConfig) {
    let config = DeskConfig::default();
    (Oauth::new(&config, 0), SelfClientConfig::demo())
}

fn refresh(client: &SelfClientConfig) -> TokenRequest {
    TokenRequest {
        grant_type: Some("refresh_token".into()),
        client_id: Some(client.client_id.clone()),
        client_secret: Some(client.client_secret.clone()),
        refresh_token: Some(client.refresh_token.clone()),
        code: None,
    }
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_600_000, 0).unwrap_or_default()
}

#[test]
fn an_access_token_works_for_an_hour_of_emulated_time() {
    let (mut oauth, client) = oauth();
    let granted = oauth.token(&refresh(&client), start());
    let token = granted
        .map(|g| g.access_token.expose().to_string())
        .unwrap_or_default();
    assert!(token.starts_with("1000."));
    assert_eq!(
        oauth.caller(&token, start() + TimeDelta::seconds(3_599)),
        Some((0, Scopes::All))
    );
    assert_eq!(
        oauth.caller(&token, start() + TimeDelta::seconds(3_600)),
        None
    );
}

#[test]
fn the_eleventh_refresh_in_ten_minutes_is_throttled_and_the_window_rolls() {
    let (mut oauth, client) = oauth();
    for n in 0..10 {
        assert!(oauth
            .token(&refresh(&client), start() + TimeDelta::seconds(n))
            .is_ok());
    }
    let eleventh = oauth.token(&refresh(&client), start() + TimeDelta::seconds(599));
    assert_eq!(eleventh.err(), Some(TokenError::Throttled));
    // The first success leaves the window 600 s after it.
    assert!(oauth
        .token(&refresh(&client), start() + TimeDelta::seconds(601))
        .is_ok());
}

#[test]
fn the_thirty_first_live_token_invalidates_the_oldest() {
    let (mut oauth, client) = oauth();
    let mut tokens = Vec::new();
    for n in 0..31 {
        // Spread over time so the refresh limit is not what stops us.
        let at = start() + TimeDelta::seconds(n * 61);
        let granted = oauth
            .token(&refresh(&client), at)
            .map(|g| g.access_token.expose().to_string());
        tokens.push(granted.unwrap_or_default());
    }
    let now = start() + TimeDelta::seconds(30 * 61);
    assert_eq!(oauth.caller(&tokens[0], now), None);
    assert_eq!(oauth.caller(&tokens[1], now), Some((0, Scopes::All)));
    assert_eq!(
        oauth.live_access_tokens(client.refresh_token.expose(), now),
        30
    );
}

#[test]
fn wrong_clients_secrets_and_tokens_get_their_own_errors() {
    let (mut oauth, client) = oauth();
    let mut request = refresh(&client);
    request.client_id = Some("1000.NOPE".into());
    assert_eq!(
        oauth.token(&request, start()).err(),
        Some(TokenError::InvalidClient)
    );
    let mut request = refresh(&client);
    request.client_secret = Some(Secret::new("wrong"));
    assert_eq!(
        oauth.token(&request, start()).err(),
        Some(TokenError::InvalidClientSecret)
    );
    let mut request = refresh(&client);
    request.refresh_token = Some(Secret::new("1000.x.y"));
    assert_eq!(
        oauth.token(&request, start()).err(),
        Some(TokenError::InvalidCode)
    );
    let mut request = refresh(&client);
    request.grant_type = Some("password".into());
    assert_eq!(
        oauth.token(&request, start()).err(),
        Some(TokenError::UnsupportedGrantType)
    );
    assert!(oauth.revoke(client.refresh_token.expose()));
    assert_eq!(
        oauth.token(&refresh(&client), start()).err(),
        Some(TokenError::InvalidCode)
    );
}

#[test]
fn a_grant_code_is_exchanged_once_within_three_minutes_for_a_new_refresh_token() {
    let (mut oauth, client) = oauth();
    let exchange = |code: &Secret| TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.clone()),
        refresh_token: None,
        ..refresh(&client)
    };
    let code = oauth
        .mint_grant(&client.client_id, Scopes::All, start())
        .unwrap_or_default();
    let granted = oauth.token(&exchange(&code), start() + TimeDelta::seconds(179));
    let refresh_token = granted
        .ok()
        .and_then(|g| g.refresh_token)
        .unwrap_or_default();
    assert!(refresh_token.expose().starts_with("1000."));
    let again = oauth.token(&exchange(&code), start() + TimeDelta::seconds(179));
    assert_eq!(again.err(), Some(TokenError::InvalidCode));
    let late = oauth
        .mint_grant(&client.client_id, Scopes::All, start())
        .unwrap_or_default();
    let expired = oauth.token(&exchange(&late), start() + TimeDelta::seconds(180));
    assert_eq!(expired.err(), Some(TokenError::InvalidCode));
    let mut with_new = refresh(&client);
    with_new.refresh_token = Some(refresh_token);
    assert!(oauth.token(&with_new, start()).is_ok());
}

#[test]
fn debug_output_holds_no_token() {
    let (mut oauth, client) = oauth();
    let granted = oauth
        .token(&refresh(&client), start())
        .map(|g| g.access_token.expose().to_string());
    let shown = format!("{oauth:?}");
    assert!(!shown.contains(client.refresh_token.expose()));
    assert!(!shown.contains(&granted.unwrap_or_default()));
}
