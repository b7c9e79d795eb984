//! The Desk client on the wire, against the small stand-in server of `support::desk`:
//! the headers every call carries, the rate headers and 204s decoded, every error class
//! by its `errorCode`, writes never retried, and no secret in any error or `Debug`.

use std::sync::Arc;

use serde_json::{Map, Value};
use zoho_sync::desk::{
    Answer, DeskClient, DeskError, DeskId, DeskModule, DeskRequest, ErrorClass, Lookup,
    MemoryTokenCache, RecordOutcome, SearchQuery, TimeField, TimeRange,
};

use crate::support::desk::{
    FakeDesk, Scripted, ACCESS_PREFIX, CLIENT_SECRET, ORG_ID, REFRESH_TOKEN,
};

async fn desk() -> (FakeDesk, DeskClient) {
    let fake = FakeDesk::start().await;
    let client = fake.client(fake.tokens(Arc::new(MemoryTokenCache::new())));
    (fake, client)
}

fn id(n: i64) -> DeskId {
    DeskId::parse(&n.to_string()).unwrap()
}

async fn fail(client: &DeskClient, request: &DeskRequest) -> DeskError {
    let error = client.send(request).await.unwrap_err();
    let text = format!("{error} {error:?}");
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_PREFIX] {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
    error
}

fn list(module: DeskModule, from: u32) -> DeskRequest {
    DeskRequest::List {
        module,
        from,
        limit: module.limit(),
    }
}

#[tokio::test]
async fn every_call_carries_the_oauth_token_and_org_id_headers_but_organizations_has_no_org_id() {
    let (fake, client) = desk().await;
    client.list(DeskModule::Tickets, 1, 100).await.unwrap();
    client.organizations().await.unwrap();
    let seen = fake.seen();
    assert_eq!(seen[0].path, "/api/v1/tickets");
    assert_eq!(seen[0].query, "from=1&limit=100");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Zoho-oauthtoken 1000.fake-access-1")
    );
    assert_eq!(seen[0].org_id.as_deref(), Some(ORG_ID));
    assert_eq!(seen[1].path, "/api/v1/organizations");
    assert_eq!(seen[1].org_id, None);
}

#[tokio::test]
async fn a_page_comes_with_its_rate_headers_and_server_clock() {
    let (fake, client) = desk().await;
    fake.script(
        Scripted::json(200, r#"{"data":[{"id":"11","modifiedTime":"2026-03-04T16:41:07.000Z"},{"subject":"no id"}],"count":2}"#)
            .header("X-Rate-Limit-Request-Weight-v3", "3")
            .header("X-Rate-Limit-Remaining-v3", "4997")
            .header("Date", "Mon, 30 Nov 2026 12:00:00 GMT"),
    );
    let range = TimeRange {
        field: TimeField::ModifiedTime,
        from: chrono::DateTime::UNIX_EPOCH,
        to: chrono::Utc::now(),
    };
    let query = SearchQuery {
        range,
        pinned: None,
        sort_by: TimeField::ModifiedTime,
        from: 0,
        limit: 100,
    };
    let reply = client.search(DeskModule::Contacts, query).await.unwrap();
    assert_eq!(
        (reply.meta.status, reply.meta.weight, reply.meta.remaining),
        (200, Some(3), Some(4997))
    );
    assert!(reply.meta.server_time.is_some());
    assert_eq!(reply.value.count, Some(2));
    assert!(matches!(&reply.value.records[0], RecordOutcome::Ok(r) if r.id == id(11)));
    assert!(matches!(&reply.value.records[1], RecordOutcome::Bad(_)));
    assert!(fake.seen()[0]
        .query
        .starts_with("modifiedTimeRange=1970-01-01T00%3A00%3A00.000Z%2C"));
}

#[tokio::test]
async fn the_weight_the_server_charges_is_the_cost_priced_before_sending() {
    let (_fake, client) = desk().await;
    for from in [1, 2001, 10_001, 50_001, 100_001] {
        let request = list(DeskModule::Tickets, from);
        let reply = client.send(&request).await.unwrap();
        assert_eq!(reply.meta.weight, Some(request.cost()), "from {from}");
    }
}

#[tokio::test]
async fn a_204_is_an_empty_page_an_empty_bin_and_an_acknowledged_trash() {
    let (fake, client) = desk().await;
    fake.always(Scripted::json(204, ""));
    let page = client.list(DeskModule::Agents, 1, 100).await.unwrap();
    assert!(page.value.records.is_empty() && page.meta.status == 204);
    assert!(client
        .recycle_bin(0, 100)
        .await
        .unwrap()
        .value
        .entries
        .is_empty());
    client
        .move_to_trash(DeskModule::Tickets, vec![id(1), id(2)])
        .await
        .unwrap();
    let trash = fake.seen().pop().unwrap();
    assert_eq!(trash.method, axum::http::Method::POST);
    assert_eq!(
        (trash.path.as_str(), trash.body.as_str()),
        ("/api/v1/tickets/moveToTrash", r#"{"ticketIds":["1","2"]}"#)
    );
}

#[tokio::test]
async fn the_concurrency_429_is_transient_and_the_credit_429_waits_for_retry_after() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(429, r#"{"errorCode":"TOO_MANY_REQUESTS","message":"The maximum number of Concurrent API Calls that can be made has been exceeded."}"#));
    assert_eq!(
        fail(&client, &list(DeskModule::Tickets, 1)).await.class(),
        ErrorClass::Transient
    );
    fake.script(
        Scripted::json(429, r#"{"errorCode":"THRESHOLD_EXCEEDED","message":"The API credit limit for the day has been exceeded."}"#)
            .header("Retry-After", "7200")
            .header("X-Rate-Limit-Remaining-v3", "0"),
    );
    let spent = fail(&client, &list(DeskModule::Tickets, 1)).await;
    assert_eq!(spent.class(), ErrorClass::QuotaExhausted);
    assert_eq!(
        spent.retry_after(),
        Some(std::time::Duration::from_secs(7200))
    );
    assert_eq!(spent.meta().unwrap().remaining, Some(0));
    assert!(spent.to_string().contains("7200 s"), "{spent}");
}

#[tokio::test]
async fn a_scope_mismatch_names_the_scopes_the_request_needs() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(403, r#"{"errorCode":"SCOPE_MISMATCH","message":"The OAuth Token does not contain the scope to perform this operation."}"#));
    let query = DeskRequest::Trash {
        module: DeskModule::Accounts,
        ids: vec![id(5)],
    };
    let error = fail(&client, &query).await;
    assert_eq!(error.class(), ErrorClass::Auth);
    assert!(
        error.to_string().contains("Desk.contacts.DELETE"),
        "{error}"
    );
    fake.script(Scripted::json(403, r#"{"errorCode":"OAUTH_ORG_MISMATCH","message":"The OAuthToken is not valid for specified organization."}"#));
    let error = fail(&client, &list(DeskModule::Tickets, 1)).await;
    assert_eq!(error.class(), ErrorClass::Auth);
    assert!(error.to_string().contains(ORG_ID), "{error}");
}

#[tokio::test]
async fn a_record_that_is_not_visible_by_id_is_an_answer_not_an_error() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(
        403,
        r#"{"errorCode":"FORBIDDEN","message":"You are not authorized to access this resource."}"#,
    ));
    fake.script(Scripted::json(
        404,
        r#"{"errorCode":"URL_NOT_FOUND","message":"The URL you requested could not be found."}"#,
    ));
    fake.script(Scripted::json(200, r#"{"id":"9","subject":"here"}"#));
    for _ in 0..2 {
        let lookup = client.get(DeskModule::Accounts, id(9)).await.unwrap();
        assert_eq!(lookup.value, Lookup::NotVisible);
    }
    let found = client.get(DeskModule::Accounts, id(9)).await.unwrap();
    assert!(
        matches!(found.value, Lookup::Found(RecordOutcome::Ok(ref r)) if r.text("subject") == Some("here"))
    );
    fake.script(Scripted::json(
        403,
        r#"{"errorCode":"FORBIDDEN","message":"You are not authorized to access this resource."}"#,
    ));
    assert_eq!(
        fail(&client, &list(DeskModule::Accounts, 1)).await.class(),
        ErrorClass::Permanent
    );
}

#[tokio::test]
async fn a_422_is_permanent_and_keeps_the_servers_message_and_fields() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(422, r#"{"errorCode":"INVALID_DATA","message":"The data does not comply to the validation restrictions defined.","errors":[{"fieldName":"/contactId","errorType":"missing","errorMessage":"required"}]}"#));
    let body = Map::from_iter([("subject".to_string(), Value::from("Printer offline"))]);
    let error = fail(
        &client,
        &DeskRequest::Create {
            module: DeskModule::Tickets,
            body,
        },
    )
    .await;
    assert_eq!(error.class(), ErrorClass::Permanent);
    let text = error.to_string();
    assert!(
        text.contains("POST /tickets")
            && text.contains("validation restrictions")
            && text.contains("/contactId missing"),
        "{text}"
    );
}

#[tokio::test]
async fn a_create_that_failed_ambiguously_is_sent_once_and_never_retried() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(500, r#"{"errorCode":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred while performing this operation."}"#));
    let body = Map::from_iter([("lastName".to_string(), Value::from("Kowalczyk"))]);
    let error = client
        .create(DeskModule::Contacts, body.clone())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Ambiguous);
    assert!(!error.is_retryable());
    assert_eq!(fake.seen().len(), 1);
    fake.script(Scripted::json(200, r#"{"id":"31","lastName":"Kowalczyk"}"#));
    let created = client.create(DeskModule::Contacts, body).await.unwrap();
    assert_eq!(created.value.id(), Some(id(31)));
    fake.script(Scripted::json(200, "{\"id\":\"31\",\"lastName\":"));
    let cut = client
        .update(
            DeskModule::Contacts,
            id(31),
            Map::from_iter([("a".into(), Value::from(1))]),
        )
        .await
        .unwrap_err();
    assert_eq!(cut.class(), ErrorClass::Ambiguous);
}

#[tokio::test]
async fn an_error_hidden_in_an_http_200_is_still_an_error() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(200, r#"{"errorCode":"THRESHOLD_EXCEEDED","message":"The API credit limit for the day has been exceeded."}"#));
    assert_eq!(
        fail(&client, &list(DeskModule::Tickets, 1)).await.class(),
        ErrorClass::QuotaExhausted
    );
}

#[tokio::test]
async fn server_faults_and_html_pages_of_reads_are_transient() {
    let (fake, client) = desk().await;
    fake.script(Scripted::json(502, "<html>bad gateway</html>"));
    fake.script(Scripted::json(200, "<!DOCTYPE html><p>maintenance</p>"));
    fake.script(Scripted::json(200, r#"{"data":[{"id":"1"}"#));
    for _ in 0..3 {
        assert_eq!(
            fail(&client, &list(DeskModule::Tickets, 1)).await.class(),
            ErrorClass::Transient
        );
    }
    fake.script(Scripted::json(200, r#"{"rows":[]}"#));
    assert_eq!(
        fail(&client, &list(DeskModule::Tickets, 1)).await.class(),
        ErrorClass::Permanent
    );
}

#[tokio::test]
async fn a_server_echoing_the_token_in_its_message_never_gets_it_into_an_error() {
    let (fake, client) = desk().await;
    let echo = format!(
        r#"{{"errorCode":"UNPROCESSABLE_ENTITY","message":"bad header Zoho-oauthtoken {ACCESS_PREFIX}1"}}"#
    );
    fake.script(Scripted::json(422, &echo));
    let error = fail(&client, &list(DeskModule::Tickets, 1)).await;
    assert!(error.to_string().contains("***"), "{error}");
    let debug = format!("{client:?} {:?}", client.tokens());
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_PREFIX] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn requests_outside_the_contracts_limits_never_leave_the_process() {
    let (fake, client) = desk().await;
    let too_far = DeskRequest::List {
        module: DeskModule::Contracts,
        from: 1,
        limit: 100,
    };
    assert!(matches!(
        fail(&client, &too_far).await,
        DeskError::Invalid(_)
    ));
    assert!(fake.seen().is_empty());
    assert!(matches!(
        client
            .send(&DeskRequest::Organizations)
            .await
            .unwrap()
            .value,
        Answer::Page(_)
    ));
}
