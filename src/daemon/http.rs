//! The daemon's HTTP endpoint (127.0.0.1 by default): `/healthz` answers while the
//! process lives, `/readyz` once the database answers with the migrations applied, and
//! `/metrics` in the Prometheus text format. It serves until the daemon stops. No answer
//! touches a mirror table or waits on the database longer than `DATABASE_WAIT`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::metrics::{Telemetry, DATABASE_WAIT};

pub async fn serve(listener: TcpListener, telemetry: Arc<Telemetry>, cancel: CancellationToken) {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
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

async fn metrics(State(telemetry): State<Arc<Telemetry>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        telemetry.render().await,
    )
}
