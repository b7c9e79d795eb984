//! The Zoho Accounts token flow of the client against the emulator: a token that works
//! at once, and every CAUSE the emulator can answer, each as its own clear error.

use std::time::Duration;

use zoho_sync::emulator::config::{EmulatorConfig, UserConfig};
use zoho_sync::zoho::auth::{generate_token, AuthError, TokenRequest};
use zoho_sync::zoho::client::{Client, GetRecords};
use zoho_sync::zoho::{Format, Module, Secret};

use crate::support::emulator::TestEmulator;

fn request(email: &str, password: &str) -> TokenRequest {
    TokenRequest {
        email: email.into(),
        password: Secret::new(password),
        display_name: Some("zoho-sync tests".into()),
    }
}

async fn emulator_with_users() -> TestEmulator {
    let mut config = EmulatorConfig::default().with_records(3);
    config.max_tokens_per_user = 2;
    let users = &mut config.portals[0].users;
    let mut unconfirmed = UserConfig::new("new@demo.example", "pw-new");
    unconfirmed.confirmed = false;
    users.push(unconfirmed);
    let mut guarded = UserConfig::new("tfa@demo.example", "pw-login");
    guarded.two_factor = true;
    guarded.admin = true;
    guarded.app_password = Some(Secret::new("app-specific"));
    users.push(guarded);
    let mut full = UserConfig::new("full@demo.example", "pw-full");
    full.tokens = vec![
        Secret::new("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"),
        Secret::new("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"),
    ];
    users.push(full);
    let mut broken = UserConfig::new("broken@demo.example", "pw-broken");
    broken.broken = true;
    users.push(broken);
    TestEmulator::start(config).await
}

#[tokio::test]
async fn a_generated_token_reads_records_at_once() {
    let emulator = emulator_with_users().await;
    let token = generate_token(
        &emulator.base_url(),
        Duration::from_secs(5),
        &request("admin@demo.example", "demo-password"),
    )
    .await
    .unwrap();
    assert_eq!(token.expose().len(), 32);
    assert!(token
        .expose()
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let mut settings = emulator.settings(Format::Json);
    settings.authtoken = token;
    let page = Client::new(settings)
        .unwrap()
        .get_records(Module::Requests, &GetRecords::default())
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
}

#[tokio::test]
async fn a_two_factor_user_needs_an_application_specific_password() {
    let emulator = emulator_with_users().await;
    let url = emulator.base_url();
    let timeout = Duration::from_secs(5);
    let err = generate_token(&url, timeout, &request("tfa@demo.example", "pw-login"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::WebLoginRequired), "{err}");
    assert!(err.to_string().contains("application-specific password"));
    generate_token(&url, timeout, &request("tfa@demo.example", "app-specific"))
        .await
        .unwrap();
}

/// An e-mail, its password, the error expected and words its message must hold.
type Case = (
    &'static str,
    &'static str,
    fn(&AuthError) -> bool,
    &'static str,
);

#[tokio::test]
async fn every_cause_is_its_own_clear_error() {
    let emulator = emulator_with_users().await;
    let url = emulator.base_url();
    let timeout = Duration::from_secs(5);
    let cases: [Case; 5] = [
        (
            "nobody@demo.example",
            "x",
            |e| matches!(e, AuthError::NoSuchUser),
            "NO_SUCH_USER",
        ),
        (
            "admin@demo.example",
            "wrong",
            |e| matches!(e, AuthError::InvalidPassword),
            "INVALID_PASSWORD",
        ),
        (
            "new@demo.example",
            "pw-new",
            |e| matches!(e, AuthError::RegistrationNotConfirmed),
            "confirm the Zoho account",
        ),
        (
            "full@demo.example",
            "pw-full",
            |e| matches!(e, AuthError::TooManyTokens),
            "Active Authtokens",
        ),
        (
            "broken@demo.example",
            "pw-broken",
            |e| matches!(e, AuthError::Unspecified),
            "CAUSE=null",
        ),
    ];
    for (email, password, is_expected, words) in cases {
        let err = generate_token(&url, timeout, &request(email, password))
            .await
            .unwrap_err();
        assert!(is_expected(&err), "{email}: {err:?}");
        let text = err.to_string();
        assert!(text.contains(words), "{email}: {text}");
        assert!(
            !text.contains(password) || password == "x",
            "{email}: password in `{text}`"
        );
    }
}
