//! The daemon's settings once checked: its schedule, endpoint and pacing, how it polls
//! (adaptive by default), and who may read its metrics.

use super::{key_error, Config, ConfigError};
use crate::zoho::secret::Secret;

/// The long-running service's settings.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// When rounds run, unless an organisation or module names its own schedule.
    pub schedule: cron::Schedule,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub listen: std::net::SocketAddr,
    /// Spread each day's budget over the quota day.
    pub pace: bool,
    /// How modules without a schedule of their own are polled.
    pub polling: Polling,
    /// The environment variable holding the bearer token `/metrics` requires; required
    /// when `listen` is not a loopback address (`Config::daemon_access`).
    pub auth_token_env: Option<String>,
}

/// Who may read the daemon's `/metrics` (`/healthz` and `/readyz` stay open).
#[derive(Clone, Debug)]
pub enum Access {
    /// Anyone who can reach the address: a loopback one, with no token configured.
    Open,
    /// Requests carrying `Authorization: Bearer <token>`.
    Bearer(Secret),
}

/// How the daemon polls the modules that name no schedule of their own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Polling {
    /// Each module as often as its learned change rate deserves (`scheduler::freshness`).
    Adaptive(AdaptivePolling),
    /// Every module on `daemon.schedule` (or its organisation's).
    Fixed,
}

/// The adaptive schedule's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptivePolling {
    pub bounds: crate::scheduler::freshness::Bounds,
    /// The share of the day's budget planned for incremental passes; the rest is left to
    /// backfills and sweeps.
    pub incremental_share: f64,
}

impl Config {
    /// Who may read the daemon's metrics: the token `daemon.auth_token_env` names, which
    /// must be set when it is configured, and must be configured when `daemon.listen` is
    /// not a loopback address. The token is never part of an error.
    pub fn daemon_access(&self) -> Result<Access, ConfigError> {
        const KEY: &str = "daemon.auth_token_env";
        let Some(name) = &self.daemon.auth_token_env else {
            if self.daemon.listen.ip().is_loopback() {
                return Ok(Access::Open);
            }
            return Err(key_error(
                KEY,
                format!(
                    "is required when daemon.listen ({}) is not a loopback address: name the \
                     environment variable holding the bearer token /metrics will require",
                    self.daemon.listen
                ),
            ));
        };
        match std::env::var(name) {
            Ok(token) if !token.trim().is_empty() => Ok(Access::Bearer(Secret::new(token.trim()))),
            _ => Err(key_error(
                KEY,
                format!("the variable `{name}` it names is not set, or empty"),
            )),
        }
    }
}
