//! The admin calls that change the emulator's behaviour: clock, churn, faults, latency and
//! custom fields. Each answers with the resulting setting, so a test can check what it set.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::{body, AdminError, Shared};
use crate::emulator::churn::ChurnCounts;
use crate::emulator::faults::{FaultKind, FaultOrder, FaultsView};
use crate::emulator::state::{lock, read, same_name, write, Emulator};
use crate::emulator::store::CustomField;
use crate::zoho::module::Module;

pub(crate) async fn clock(State(emulator): Shared) -> Json<Value> {
    Json(json!({ "now": emulator.clock.now() }))
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ClockOrder {
    /// Make the clock read this instant (RFC 3339).
    set: Option<DateTime<Utc>>,
    /// Then move it by this many seconds.
    advance_secs: Option<i64>,
}

pub(crate) async fn set_clock(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: ClockOrder = body(&bytes)?;
    if let Some(at) = order.set {
        emulator.clock.set(at);
    }
    if let Some(secs) = order.advance_secs {
        let by = TimeDelta::try_seconds(secs)
            .ok_or_else(|| AdminError::bad("advance_secs out of range"))?;
        emulator.clock.advance(by);
    }
    Ok(Json(json!({ "now": emulator.clock.now() })))
}

#[derive(serde::Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ChurnMode {
    /// Apply the counts once, now.
    #[default]
    Now,
    /// Apply the counts per simulated minute from now on.
    Rate,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ChurnOrder {
    portal: Option<String>,
    department: Option<String>,
    module: Option<String>,
    mode: ChurnMode,
    creates: u32,
    modifies: u32,
    deletes: u32,
}

/// Churns (or sets the rate of) every store the order's names select; absent names select
/// all.
pub(super) async fn churn(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: ChurnOrder = body(&bytes)?;
    let module = match &order.module {
        None => None,
        Some(name) => Some(
            Module::parse(name)
                .ok_or_else(|| AdminError::not_found(format!("no module `{name}`")))?,
        ),
    };
    let counts = ChurnCounts {
        creates: order.creates,
        modifies: order.modifies,
        deletes: order.deletes,
    };
    let now = emulator.clock.now();
    let mut touched = Vec::new();
    for (portal, department, m, slot) in emulator.slots() {
        let wanted = selects(order.portal.as_deref(), &portal.name)
            && selects(order.department.as_deref(), &department.name)
            && module.is_none_or(|w| w == m);
        if !wanted {
            continue;
        }
        match order.mode {
            ChurnMode::Now => slot.churn_now(emulator.seed, counts, now),
            ChurnMode::Rate => slot.set_rate(counts, now),
        }
        let records = read(&slot.store).len();
        touched.push(json!({
            "portal": portal.name, "department": department.name, "module": m.url_name(),
            "records": records, "rate": slot.rate(),
        }));
    }
    if touched.is_empty() {
        return Err(AdminError::not_found("the churn order selects no store"));
    }
    Ok(Json(json!({ "stores": touched })))
}

/// An absent name selects everything; a given one selects its namesake, ignoring case.
fn selects(wanted: Option<&str>, name: &str) -> bool {
    wanted.is_none_or(|w| same_name(name, w))
}

pub(super) async fn faults(State(emulator): Shared) -> Json<FaultsView> {
    Json(lock(&emulator.faults).view())
}

pub(super) async fn set_faults(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<FaultsView>, AdminError> {
    let order: FaultOrder<FaultKind> = body(&bytes)?;
    let mut plan = lock(&emulator.faults);
    order.apply(&mut plan).map_err(AdminError::bad)?;
    Ok(Json(plan.view()))
}

pub(super) async fn latency(State(emulator): Shared) -> Json<Value> {
    Json(latency_view(&emulator))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyOrder {
    millis: u64,
}

pub(super) async fn set_latency(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: LatencyOrder = body(&bytes)?;
    *lock(&emulator.latency) = Duration::from_millis(order.millis);
    Ok(Json(latency_view(&emulator)))
}

fn latency_view(emulator: &Arc<Emulator>) -> Value {
    let millis = u64::try_from(lock(&emulator.latency).as_millis()).unwrap_or(u64::MAX);
    json!({ "millis": millis })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldOrder {
    portal: String,
    department: String,
    module: String,
    field: CustomField,
}

/// Adds a custom field to one store; answers with the store's labels.
pub(super) async fn add_custom_field(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: FieldOrder = body(&bytes)?;
    let module = Module::parse(&order.module)
        .ok_or_else(|| AdminError::not_found(format!("no module `{}`", order.module)))?;
    let slot = emulator
        .portal(&order.portal)
        .and_then(|(_, p)| p.department(&order.department))
        .and_then(|d| d.slot(module))
        .ok_or_else(|| AdminError::not_found("no such portal and department"))?;
    let mut store = write(&slot.store);
    store
        .add_custom_field(order.field)
        .map_err(|e| AdminError::bad(e.to_string()))?;
    Ok(Json(json!({ "labels": store.labels() })))
}
