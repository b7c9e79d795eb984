//! The Desk admin calls that change behaviour: churn (create, update, trash, purge,
//! restore; now or per simulated minute), faults, latency, and Zoho Accounts' side
//! (a self-client grant code valid 180 s, a refresh token revoked). Each answers with
//! the resulting setting, so a test can check what it set. Grant codes and tokens are
//! the one place the admin API hands out a secret: on purpose, to the test that asked.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::Shared;
use crate::emulator::admin::{body, AdminError};
use crate::emulator::desk::churn::{self, DeskChurn};
use crate::emulator::desk::faults::DeskFault;
use crate::emulator::desk::module::DeskModule;
use crate::emulator::desk::oauth::GRANT_LIFETIME_SECS;
use crate::emulator::desk::scopes::Scopes;
use crate::emulator::faults::{FaultOrder, FaultsView};
use crate::emulator::state::{lock, read};

#[derive(serde::Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ChurnMode {
    #[default]
    Now,
    Rate,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ChurnOrder {
    org_id: Option<String>,
    module: Option<String>,
    mode: ChurnMode,
    creates: u32,
    updates: u32,
    trashes: u32,
    purges: u32,
    restores: u32,
    replies: u32,
    archives: u32,
}

/// Churns (or sets the rate of) every store the order selects; absent names select all.
pub(super) async fn churn(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: ChurnOrder = body(&bytes)?;
    let module = match &order.module {
        None => None,
        Some(name) => Some(
            DeskModule::parse(name)
                .ok_or_else(|| AdminError::not_found(format!("no module `{name}`")))?,
        ),
    };
    let c = &order;
    let counts = DeskChurn {
        creates: c.creates,
        updates: c.updates,
        trashes: c.trashes,
        purges: c.purges,
        restores: c.restores,
        replies: c.replies,
        archives: c.archives,
    };
    let now = emulator.clock.now();
    let mut touched = Vec::new();
    for org in &emulator.desk.orgs {
        if order.org_id.as_deref().is_some_and(|id| !org.is(id)) {
            continue;
        }
        for (m, slot) in org.slots().filter(|(m, _)| module.is_none_or(|w| w == *m)) {
            slot.catch_up(emulator.desk.seed, now);
            match order.mode {
                ChurnMode::Now => churn::churn_now(slot, emulator.desk.seed, counts, now),
                ChurnMode::Rate => churn::set_rate(slot, counts, now),
            }
            let store = read(&slot.store);
            touched.push(json!({
                "org_id": org.org_id(), "module": m.url_name(), "records": store.len(),
                "trashed": store.trashed().count(), "rate": churn::rate(slot),
            }));
        }
    }
    if touched.is_empty() {
        return Err(AdminError::not_found("the churn order selects no store"));
    }
    Ok(Json(json!({ "stores": touched })))
}

pub(super) async fn faults(State(emulator): Shared) -> Json<FaultsView<DeskFault>> {
    Json(lock(&emulator.desk.faults).view())
}

pub(super) async fn set_faults(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<FaultsView<DeskFault>>, AdminError> {
    let order: FaultOrder<DeskFault> = body(&bytes)?;
    let mut plan = lock(&emulator.desk.faults);
    order.apply(&mut plan).map_err(AdminError::bad)?;
    Ok(Json(plan.view()))
}

pub(super) async fn latency(State(emulator): Shared) -> Json<Value> {
    let millis = u64::try_from(lock(&emulator.desk.latency).as_millis()).unwrap_or(u64::MAX);
    Json(json!({ "millis": millis }))
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
    *lock(&emulator.desk.latency) = Duration::from_millis(order.millis);
    Ok(Json(json!({ "millis": order.millis })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantOrder {
    client_id: String,
    /// The consent string (`Desk.tickets.READ,...`); every scope when absent.
    scopes: Option<String>,
}

/// A self-client grant code for `zoho-sync auth desk` tests (section 2.1).
pub(super) async fn grant_code(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: GrantOrder = body(&bytes)?;
    let scopes = match order.scopes.as_deref() {
        None => Scopes::All,
        Some(text) => Scopes::parse(text)
            .ok_or_else(|| AdminError::bad("scopes: one is not Desk.<resource>.<OP>"))?,
    };
    let now = emulator.clock.now();
    let code = lock(&emulator.desk.oauth)
        .mint_grant(&order.client_id, scopes, now)
        .ok_or_else(|| AdminError::not_found("no self client with that client_id"))?;
    Ok(Json(
        json!({ "code": code.expose(), "expires_in": GRANT_LIFETIME_SECS }),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeOrder {
    refresh_token: String,
}

/// Revokes a refresh token and the access tokens it minted.
pub(super) async fn revoke(
    State(emulator): Shared,
    bytes: Bytes,
) -> Result<Json<Value>, AdminError> {
    let order: RevokeOrder = body(&bytes)?;
    if lock(&emulator.desk.oauth).revoke(&order.refresh_token) {
        Ok(Json(json!({ "revoked": true })))
    } else {
        Err(AdminError::not_found("no such refresh token"))
    }
}
