//! The client's HTTP path against small real servers started inside each test (axum, or a
//! bare TCP listener for the faults axum will not produce): every transport failure must
//! arrive as its own class, and no error text may carry the authtoken.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::tests::settings;
use super::*;

const TOKEN: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NO_DATA: &str = r#"{"response":{"uri":"/api/json/requests/getrecords","error":{"code":"4832","message":"There is no data to show"}}}"#;

async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// A server that answers every request with the same response.
async fn answering(status: StatusCode, content_type: &'static str, body: &'static str) -> Client {
    let router = Router::new()
        .fallback(move || async move { (status, [(header::CONTENT_TYPE, content_type)], body) });
    Client::new(settings(&serve(router).await)).unwrap()
}

/// A bare TCP server that reads the request, writes `reply` and hangs up.
async fn hanging_up(reply: &'static [u8]) -> Client {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            let _ = socket.write_all(reply).await;
            drop(socket);
        }
    });
    Client::new(settings(&format!("http://{addr}"))).unwrap()
}

async fn fail(client: &Client) -> TransportError {
    let err = client
        .get_records(Module::Requests, &GetRecords::default())
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    match err {
        ZohoError::Transport(t) => t,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_html_page_with_status_200_is_an_html_page_error() {
    let client = answering(StatusCode::OK, "text/html", "<!DOCTYPE html><p>down</p>").await;
    assert!(matches!(
        fail(&client).await,
        TransportError::HtmlPage { status: 200 }
    ));
}

#[tokio::test]
async fn an_html_body_under_a_json_content_type_is_still_an_html_page() {
    let client = answering(StatusCode::OK, "application/json", "\n  <HTML><body>").await;
    assert!(matches!(
        fail(&client).await,
        TransportError::HtmlPage { .. }
    ));
}

#[tokio::test]
async fn an_empty_body_is_reported_as_such() {
    let client = answering(StatusCode::OK, "application/json", "").await;
    assert!(matches!(fail(&client).await, TransportError::EmptyBody));
}

#[tokio::test]
async fn a_server_error_is_an_http_status_and_retryable() {
    let client = answering(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "boom").await;
    let err = fail(&client).await;
    assert!(matches!(err, TransportError::HttpStatus { status: 500 }));
    assert!(err.class().is_retryable());
}

#[tokio::test]
async fn an_octet_stream_answer_is_an_unexpected_content_type() {
    let client = answering(StatusCode::OK, "application/octet-stream", NO_DATA).await;
    assert!(matches!(
        fail(&client).await,
        TransportError::UnexpectedContentType { .. }
    ));
}

#[tokio::test]
async fn a_body_past_the_cap_is_refused_whether_its_length_is_announced_or_not() {
    let announced = answering(StatusCode::OK, "application/json", NO_DATA).await;
    let mut s = announced.settings().clone();
    s.max_body_bytes = 16;
    let announced = Client::new(s).unwrap();
    assert!(matches!(
        fail(&announced).await,
        TransportError::TooLarge { cap_bytes: 16 }
    ));

    let router = Router::new().fallback(|| async {
        let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    });
    let mut s = settings(&serve(router).await);
    s.max_body_bytes = 10_000;
    let streamed = Client::new(s).unwrap();
    assert!(matches!(
        fail(&streamed).await,
        TransportError::TooLarge { .. }
    ));
}

#[tokio::test]
async fn a_slow_answer_past_the_timeout_is_a_timeout() {
    let router = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        NO_DATA
    });
    let mut s = settings(&serve(router).await);
    s.timeout = Duration::from_millis(200);
    let client = Client::new(s).unwrap();
    assert!(matches!(
        fail(&client).await,
        TransportError::Timeout { secs: 1 }
    ));
}

#[tokio::test]
async fn a_connection_dropped_without_an_answer_is_a_lost_connection() {
    let client = hanging_up(b"").await;
    assert!(matches!(
        fail(&client).await,
        TransportError::ConnectionLost { .. }
    ));
}

#[tokio::test]
async fn a_body_cut_short_of_its_length_is_a_lost_connection() {
    let client = hanging_up(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"resp",
    )
    .await;
    assert!(matches!(
        fail(&client).await,
        TransportError::ConnectionLost { .. }
    ));
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(settings(&format!("http://{addr}"))).unwrap();
    assert!(matches!(
        fail(&client).await,
        TransportError::Connect { .. }
    ));
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    let base = serve(Router::new().fallback(|| async { NO_DATA })).await;
    let client = Client::new(settings(&base.replace("http://", "https://"))).unwrap();
    assert!(matches!(fail(&client).await, TransportError::Tls { .. }));
}

#[tokio::test]
async fn a_transient_failure_is_retried_then_the_answer_is_used() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let router = Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            (
                [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                NO_DATA,
            )
                .into_response()
        }
    });
    let mut s = settings(&serve(router).await);
    s.retry = RetryPolicy {
        max_retries: 3,
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    let client = Client::new(s).unwrap();
    let rows = client
        .get_records(Module::Requests, &GetRecords::default())
        .await
        .unwrap();
    assert!(rows.is_empty());
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn the_authtoken_travels_in_the_form_body_and_never_in_the_url() {
    let router = Router::new().fallback(|uri: Uri, headers: HeaderMap, body: String| async move {
        let form_ok = headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes())
            == Some(b"application/x-www-form-urlencoded".as_slice());
        let token_in_body = body.starts_with(&format!("authtoken={TOKEN}&"));
        if uri.query().is_none() && form_ok && token_in_body && uri.path() == "/api/json/requests/deleterecords" {
            let ok = r#"{"response":{"result":{"responsedata":{"Cases":{"fl":[{"val":"message","content":"Record(s) deleted successfully"}],"record":{"id":"7"}}}}}}"#;
            return Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(ok))
                .unwrap();
        }
        StatusCode::BAD_REQUEST.into_response()
    });
    let client = Client::new(settings(&serve(router).await)).unwrap();
    let written = client
        .delete_record(Module::Requests, RecordId(7))
        .await
        .unwrap();
    assert_eq!(written.ids, vec![RecordId(7)]);
}
