//! The admin API under `/_emulator/` (a path real Zoho never used), JSON in and out: what
//! tests need to observe the emulator (counters, request log, record snapshots) and to
//! steer it (clock, churn, faults, latency, custom fields). Request bodies are read as
//! JSON whatever their content type, an empty body being `{}`; a body that does not decode
//! or names nothing known is answered 400 or 404 with `{"error": …}`.

pub(crate) mod steer;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::quota::QuotaStatus;
use super::state::{read, Emulator};
use super::store::Row;
use crate::zoho::module::Module;

type Shared = State<Arc<Emulator>>;

pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/counters", get(counters))
        .route("/counters/reset", post(reset_counters))
        .route("/log", get(log))
        .route("/clock", get(steer::clock).post(steer::set_clock))
        .route("/churn", post(steer::churn))
        .route("/faults", get(steer::faults).post(steer::set_faults))
        .route("/latency", get(steer::latency).post(steer::set_latency))
        .route("/custom-fields", post(steer::add_custom_field))
        .route("/records/{portal}/{department}/{module}", get(records))
}

/// An admin request that cannot be done.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    pub fn bad(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// Decodes a JSON body; an empty one reads as `{}`.
pub fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, AdminError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| AdminError::bad(format!("bad JSON body: {e}")))
}

async fn counters(State(emulator): Shared) -> Json<Value> {
    let now = emulator.clock.now();
    let quota: BTreeMap<&str, QuotaStatus> = emulator
        .portals
        .iter()
        .map(|p| (p.name.as_str(), p.quota.status(now)))
        .collect();
    Json(json!({
        "now": now,
        "requests": emulator.activity.counters(),
        "quota": quota,
    }))
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetOrder {
    /// Also forget today's quota charges.
    quota: bool,
}

async fn reset_counters(State(emulator): Shared, bytes: Bytes) -> Result<Json<Value>, AdminError> {
    let order: ResetOrder = body(&bytes)?;
    emulator.activity.reset();
    if order.quota {
        for portal in &emulator.portals {
            portal.quota.reset();
        }
    }
    Ok(Json(json!({ "reset": true, "quota": order.quota })))
}

#[derive(serde::Deserialize)]
struct LogQuery {
    /// Entries with a sequence number above this.
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn log(State(emulator): Shared, Query(query): Query<LogQuery>) -> Json<Value> {
    let entries = emulator
        .activity
        .log(query.after, query.limit.unwrap_or(usize::MAX));
    Json(json!(entries))
}

/// Every live record of one store, ascending by id: `[{"id": "…", "fields": {label: value
/// or null}}]`.
async fn records(
    State(emulator): Shared,
    Path((portal, department, module)): Path<(String, String, String)>,
) -> Result<Json<Value>, AdminError> {
    let module = Module::parse(&module)
        .ok_or_else(|| AdminError::not_found(format!("no module `{module}`")))?;
    let slot = emulator
        .portal(&portal)
        .and_then(|(_, p)| p.department(&department))
        .and_then(|d| d.slot(module))
        .ok_or_else(|| {
            AdminError::not_found(format!("no department `{department}` in portal `{portal}`"))
        })?;
    slot.catch_up(emulator.seed, emulator.clock.now());
    let rows: Vec<Row> = read(&slot.store).rows().collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let fields: serde_json::Map<String, Value> = row
                .fields
                .into_iter()
                .map(|(label, value)| (label, value.map_or(Value::Null, Value::String)))
                .collect();
            json!({ "id": row.id.to_string(), "fields": fields })
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}
