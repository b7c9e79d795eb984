//! The `[daemon]` table as written, and the check of its polling settings.

use std::time::Duration;

use serde::Deserialize;

use super::super::{key_error, AdaptivePolling, ConfigError, Polling};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct Daemon {
    pub(super) schedule: String,
    pub(super) listen: String,
    pub(super) pace: bool,
    polling: String,
    min_interval_secs: u64,
    max_interval_secs: u64,
    incremental_share: f64,
    pub(super) auth_token_env: Option<String>,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            schedule: "0 0 * * * *".into(),
            listen: "127.0.0.1:9187".into(),
            pace: true,
            polling: "adaptive".into(),
            min_interval_secs: 60,
            max_interval_secs: 6 * 3_600,
            incremental_share: crate::scheduler::freshness::INCREMENTAL_SHARE,
            auth_token_env: None,
        }
    }
}

impl Daemon {
    pub(super) fn polling(&self) -> Result<Polling, ConfigError> {
        match self.polling.as_str() {
            "fixed" => return Ok(Polling::Fixed),
            "adaptive" => {}
            other => {
                return Err(key_error(
                    "daemon.polling",
                    format!("`{other}` is neither \"adaptive\" nor \"fixed\""),
                ))
            }
        }
        if self.min_interval_secs == 0 {
            return Err(key_error("daemon.min_interval_secs", "must be at least 1"));
        }
        if self.max_interval_secs < self.min_interval_secs {
            return Err(key_error(
                "daemon.max_interval_secs",
                "must be at least daemon.min_interval_secs",
            ));
        }
        if !(self.incremental_share > 0.0 && self.incremental_share <= 1.0) {
            return Err(key_error(
                "daemon.incremental_share",
                "must be more than 0 and at most 1",
            ));
        }
        Ok(Polling::Adaptive(AdaptivePolling {
            bounds: crate::scheduler::freshness::Bounds {
                min_interval: Duration::from_secs(self.min_interval_secs),
                max_interval: Duration::from_secs(self.max_interval_secs),
            },
            incremental_share: self.incremental_share,
        }))
    }
}
