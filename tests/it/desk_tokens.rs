//! The Desk access token: reused until five minutes before it expires, one refresh at a
//! time for many callers (one process with the in-memory cache; two `Loader`s, as two
//! processes, on one PostgreSQL database), a refused token replaced once and the request
//! sent once more, and every refusal of Zoho Accounts classed.

use std::sync::Arc;

use futures_util::future::join_all;
use zoho_sync::desk::{DeskError, DeskModule, ErrorClass, MemoryTokenCache, TokenCache};
use zoho_sync::loader::Loader;
use zoho_sync::zoho::Secret;

use crate::support::database::TestDatabase;
use crate::support::desk::{FakeDesk, Scripted, ACCESS_PREFIX};

async fn read(client: &zoho_sync::desk::DeskClient) -> Result<(), DeskError> {
    client.list(DeskModule::Tickets, 1, 100).await.map(|_| ())
}

#[tokio::test]
async fn a_token_is_reused_until_five_minutes_before_it_expires() {
    let fake = FakeDesk::start().await;
    let client = fake.client(fake.tokens(Arc::new(MemoryTokenCache::new())));
    read(&client).await.unwrap();
    read(&client).await.unwrap();
    assert_eq!(fake.grants(), 1);

    let short = FakeDesk::start().await;
    short.set_expires_in(300);
    let client = short.client(short.tokens(Arc::new(MemoryTokenCache::new())));
    read(&client).await.unwrap();
    read(&client).await.unwrap();
    assert_eq!(
        short.grants(),
        2,
        "a token with five minutes left is not used"
    );
}

#[tokio::test]
async fn many_callers_of_one_process_cause_one_refresh() {
    let fake = FakeDesk::start().await;
    let cache: Arc<dyn TokenCache> = Arc::new(MemoryTokenCache::new());
    // Four sources on one cache (as four clients of one process), sixteen callers each.
    let clients: Vec<_> = (0..4)
        .map(|_| fake.client(fake.tokens(cache.clone())))
        .collect();
    let calls = clients.iter().flat_map(|c| (0..16).map(move |_| read(c)));
    for outcome in join_all(calls).await {
        outcome.unwrap();
    }
    assert_eq!(fake.grants(), 1);
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_for_all_callers_and_each_request_sent_once_more() {
    let fake = FakeDesk::start().await;
    let client = fake.client(fake.tokens(Arc::new(MemoryTokenCache::new())));
    read(&client).await.unwrap();
    fake.revoke_tokens();
    let before = fake.seen().len();
    for outcome in join_all((0..8).map(|_| read(&client))).await {
        outcome.unwrap();
    }
    assert_eq!(
        fake.grants(),
        2,
        "one refresh at start, one after the refusal"
    );
    let after: Vec<_> = fake.seen().split_off(before);
    let refused = after
        .iter()
        .filter(|s| s.authorization.as_deref() == Some("Zoho-oauthtoken 1000.fake-access-1"))
        .count();
    assert_eq!(
        (after.len(), refused),
        (16, 8),
        "each request sent twice: once refused"
    );
}

#[tokio::test]
async fn a_token_refused_again_after_its_refresh_fails_the_request_as_auth() {
    let fake = FakeDesk::start().await;
    let client = fake.client(fake.tokens(Arc::new(MemoryTokenCache::new())));
    fake.script(Scripted::json(
        401,
        r#"{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}"#,
    ));
    fake.script(Scripted::json(
        401,
        r#"{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}"#,
    ));
    let error = read(&client).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Auth);
    assert!(error.to_string().contains("zoho-sync auth desk"), "{error}");
    assert_eq!(
        (fake.grants(), fake.seen().len()),
        (2, 2),
        "one forced refresh, one retry"
    );
}

#[tokio::test]
async fn refusals_of_zoho_accounts_stop_the_organisation_or_back_off() {
    let fake = FakeDesk::start().await;
    let client = fake.client(fake.tokens(Arc::new(MemoryTokenCache::new())));
    let cases = [
        (
            r#"{"error":"invalid_code"}"#,
            ErrorClass::Auth,
            "generate a new grant code",
        ),
        (
            r#"{"error":"invalid_client"}"#,
            ErrorClass::Auth,
            "enabled in this data centre",
        ),
        (
            r#"{"error":"invalid_client_secret"}"#,
            ErrorClass::Auth,
            "client secret",
        ),
        (
            r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#,
            ErrorClass::Transient,
            "too many requests",
        ),
        (
            r#"{"api_domain":"https://www.zohoapis.com"}"#,
            ErrorClass::Transient,
            "access_token",
        ),
    ];
    for (body, class, says) in cases {
        fake.token_reply(body);
        let error = read(&client).await.unwrap_err();
        assert!(matches!(error, DeskError::Token(_)), "{error:?}");
        assert_eq!(error.class(), class, "{body}");
        assert!(error.to_string().contains(says), "{error}");
    }
    assert!(fake.seen().is_empty(), "no API request without a token");
}

/// Twelve callers, alternately on a source of each loader, all at once.
async fn twelve_callers_on_two_loaders(fake: &FakeDesk, first: &Loader, second: &Loader) {
    let a = fake.client(fake.tokens(Arc::new(first.desk_tokens())));
    let b = fake.client(fake.tokens(Arc::new(second.desk_tokens())));
    let calls = (0..12).map(|i| if i % 2 == 0 { read(&a) } else { read(&b) });
    for outcome in join_all(calls).await {
        outcome.unwrap();
    }
}

#[tokio::test]
async fn two_loaders_on_one_database_make_one_refresh_for_all_their_callers() {
    let db = TestDatabase::fresh().await;
    let url = Secret::new(db.url.clone());
    let first = Loader::connect(&url, "zoho", 4).await.unwrap();
    let second = Loader::connect(&url, "zoho", 4).await.unwrap();
    let fake = FakeDesk::start().await;
    twelve_callers_on_two_loaders(&fake, &first, &second).await;
    assert_eq!(fake.grants(), 1);

    // The stored token nears its expiry: new sources (new processes) find it too old,
    // and the row exists now, so only its lock keeps them to one refresh.
    sqlx::query("UPDATE zoho.desk_tokens SET expires_at = now() + interval '4 minutes'")
        .execute(&db.pool)
        .await
        .unwrap();
    twelve_callers_on_two_loaders(&fake, &first, &second).await;
    assert_eq!(fake.grants(), 2);

    // A third process reuses the stored token; the database holds it only sealed.
    let c = fake.client(fake.tokens(Arc::new(second.desk_tokens())));
    read(&c).await.unwrap();
    assert_eq!(fake.grants(), 2);
    let (sealed, refreshes): (Vec<u8>, i64) =
        sqlx::query_as("SELECT sealed_token, refreshes FROM zoho.desk_tokens")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(refreshes, 2);
    assert!(!String::from_utf8_lossy(&sealed).contains(ACCESS_PREFIX));
}

#[tokio::test]
async fn a_token_refused_in_one_process_is_replaced_once_for_both() {
    let db = TestDatabase::fresh().await;
    let url = Secret::new(db.url.clone());
    let first = Loader::connect(&url, "zoho", 4).await.unwrap();
    let second = Loader::connect(&url, "zoho", 4).await.unwrap();
    let fake = FakeDesk::start().await;
    let a = fake.client(fake.tokens(Arc::new(first.desk_tokens())));
    let b = fake.client(fake.tokens(Arc::new(second.desk_tokens())));
    read(&a).await.unwrap();
    read(&b).await.unwrap();
    fake.revoke_tokens();
    let calls = (0..8).map(|i| if i % 2 == 0 { read(&a) } else { read(&b) });
    for outcome in join_all(calls).await {
        outcome.unwrap();
    }
    assert_eq!(fake.grants(), 2);
}

#[tokio::test]
async fn a_token_cache_sealed_under_another_refresh_token_is_refreshed_not_used() {
    let db = TestDatabase::fresh().await;
    let loader = Loader::connect(&Secret::new(db.url.clone()), "zoho", 4)
        .await
        .unwrap();
    let fake = FakeDesk::start().await;
    read(&fake.client(fake.tokens(Arc::new(loader.desk_tokens()))))
        .await
        .unwrap();
    sqlx::query("UPDATE zoho.desk_tokens SET sealed_token = '\\x00010203'")
        .execute(&db.pool)
        .await
        .unwrap();
    read(&fake.client(fake.tokens(Arc::new(loader.desk_tokens()))))
        .await
        .unwrap();
    assert_eq!(fake.grants(), 2);
}
