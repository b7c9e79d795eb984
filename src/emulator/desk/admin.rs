//! The Desk admin API under `/_emulator/desk/`, shaped like the legacy one (JSON in and
//! out, an empty body read as `{}`, 400/404 with `{"error": …}`): what tests observe
//! (counters with the credits charged per organisation and day, the request log, record
//! snapshots: id → the object `GET /{module}/{id}` answers, trashed records excluded) and
//! what they steer (the shared clock, churn, faults, latency, grant codes, revocations).

mod steer;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::credits::CreditStatus;
use super::module::DeskModule;
use super::records::Object;
use crate::emulator::admin::{body, steer as shared, AdminError};
use crate::emulator::state::{read, Emulator};

type Shared = State<Arc<Emulator>>;

pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/counters", get(counters))
        .route("/counters/reset", post(reset_counters))
        .route("/log", get(log))
        .route("/clock", get(shared::clock).post(shared::set_clock))
        .route("/churn", post(steer::churn))
        .route("/faults", get(steer::faults).post(steer::set_faults))
        .route("/latency", get(steer::latency).post(steer::set_latency))
        .route("/grant-code", post(steer::grant_code))
        .route("/revoke", post(steer::revoke))
        .route("/records/{org_id}/{module}", get(records))
}

async fn counters(State(emulator): Shared) -> Json<Value> {
    let now = emulator.clock.now();
    let credits: BTreeMap<&str, CreditStatus> = emulator
        .desk
        .orgs
        .iter()
        .map(|o| (o.org_id(), o.credits.status(now)))
        .collect();
    Json(json!({
        "now": now,
        "requests": emulator.desk.activity.counters(),
        "credits": credits,
    }))
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetOrder {
    /// Also forget every credit charged.
    credits: bool,
}

async fn reset_counters(State(emulator): Shared, bytes: Bytes) -> Result<Json<Value>, AdminError> {
    let order: ResetOrder = body(&bytes)?;
    emulator.desk.activity.reset();
    if order.credits {
        for org in &emulator.desk.orgs {
            org.credits.reset();
        }
    }
    Ok(Json(json!({ "reset": true, "credits": order.credits })))
}

#[derive(serde::Deserialize)]
struct LogQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn log(State(emulator): Shared, Query(query): Query<LogQuery>) -> Json<Value> {
    let entries = emulator
        .desk
        .activity
        .log(query.after, query.limit.unwrap_or(usize::MAX));
    Json(json!(entries))
}

/// Every live record of one module: `{"<id>": object as GET by id answers}`, by id.
async fn records(
    State(emulator): Shared,
    Path((org_id, module)): Path<(String, String)>,
) -> Result<Json<Snapshot>, AdminError> {
    let module = DeskModule::parse(&module)
        .ok_or_else(|| AdminError::not_found(format!("no module `{module}`")))?;
    let org = emulator
        .desk
        .org(&org_id)
        .ok_or_else(|| AdminError::not_found(format!("no organisation `{org_id}`")))?;
    let slot = org
        .slot(module)
        .ok_or_else(|| AdminError::not_found("no store"))?;
    slot.catch_up(emulator.desk.seed, emulator.clock.now());
    let hits: Vec<_> = read(&slot.store).hits().collect();
    let snapshot = hits
        .iter()
        .map(|h| (h.entry.id.to_string(), h.record(&org.facts, module).full()))
        .collect();
    Ok(Json(Snapshot(snapshot)))
}

/// Records keyed by id, in ascending id order (serde_json's maps would sort the keys as
/// text, and each object's keys too).
pub struct Snapshot(Vec<(String, Object)>);

impl serde::Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, object) in &self.0 {
            map.serialize_entry(id, object)?;
        }
        map.end()
    }
}
