//! The daemon's HTTP endpoint (127.0.0.1 by default): `/healthz` answers while the
//! process lives, `/readyz` once the database answers with the migrations applied, and
//! `/metrics` in the Prometheus text format, and `/` the status page (`console`). It serves until the daemon stops. No answer
//! touches a mirror table or waits on the database longer than `DATABASE_WAIT`. With a
//! bearer token configured (required off loopback), `/metrics` answers 401 to a request
//! without it; the health checks stay open for probes. The token is compared in constant
//! time and never logged.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use subtle::ConstantTimeEq;

use super::console;
use super::metrics::{Telemetry, DATABASE_WAIT};
use crate::config::Access;

/// How long the status page waits for its few reads.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn serve(
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
    access: Access,
    cancel: CancellationToken,
) {
    let guarded = Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(Arc::new(access), bearer));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .merge(guarded)
        .with_state(telemetry);
    let stopped = async move { cancel.cancelled().await };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(error = %e, "the metrics endpoint failed");
    }
}

/// `SELECT 1`, no more: readiness must answer within a health check's timeout (5 s in
/// the compose file) however large the mirror and however busy the database.
async fn ready(State(telemetry): State<Arc<Telemetry>>) -> impl IntoResponse {
    // The loader exists only once connected and migrated.
    match telemetry.loader() {
        Some(loader) => match tokio::time::timeout(DATABASE_WAIT, loader.ping()).await {
            Ok(Ok(())) => (StatusCode::OK, "ready\n".to_string()),
            Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("database: no answer within {DATABASE_WAIT:?}\n"),
            ),
        },
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not connected yet\n".into(),
        ),
    }
}

/// Lets a request through when access is open or it carries the token.
async fn bearer(State(access): State<Arc<Access>>, request: Request, next: Next) -> Response {
    let Access::Bearer(token) = access.as_ref() else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let admitted = given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.expose().as_bytes())));
    if admitted {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this endpoint needs `Authorization: Bearer <token>` (daemon.auth_token_env)\n",
    )
        .into_response()
}

/// The status page (`console`), read afresh at each request; 503 while the database is
/// not connected or does not answer in time.
async fn page(State(telemetry): State<Arc<Telemetry>>) -> Response {
    let Some(loader) = telemetry.loader() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not connected yet\n",
        )
            .into_response();
    };
    let read = console::snapshot(telemetry.config(), loader);
    match tokio::time::timeout(PAGE_WAIT, read).await {
        Ok(Ok(snapshot)) => Html(console::render(&snapshot)).into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database: no answer within {PAGE_WAIT:?}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(telemetry): State<Arc<Telemetry>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        telemetry.render().await,
    )
}
