//! The configuration file as written (serde shapes, unknown keys refused) and its check
//! into the typed `Config`: every rule a value must follow is enforced here, with the
//! key's path in the error.

mod organisation;

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::{
    key_error, ApiConfig, Config, ConfigError, DaemonConfig, DatabaseConfig, OrganisationConfig,
};
use crate::zoho::retry::RetryPolicy;
use crate::zoho::secret::Secret;
use organisation::Organisation;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    database: Database,
    #[serde(default)]
    api: Api,
    #[serde(default)]
    daemon: Daemon,
    #[serde(default)]
    organisations: Vec<Organisation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Daemon {
    schedule: String,
    listen: String,
    pace: bool,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            schedule: "0 0 * * * *".into(),
            listen: "127.0.0.1:9187".into(),
            pace: true,
        }
    }
}

fn schedule(key: &str, text: &str) -> Result<cron::Schedule, ConfigError> {
    text.parse().map_err(|e| {
        key_error(
            key,
            format!("`{text}` is not a cron schedule (sec min hour day month weekday): {e}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Database {
    #[serde(default = "default_database_url")]
    url: String,
    #[serde(default = "default_schema")]
    schema: String,
    #[serde(default = "default_lease_secs")]
    lease_secs: u64,
    #[serde(default)]
    hard_delete: bool,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: default_database_url(),
            schema: default_schema(),
            lease_secs: default_lease_secs(),
            hard_delete: false,
        }
    }
}

fn default_database_url() -> String {
    "postgres://postgres@127.0.0.1:5432/postgres".into()
}

fn default_schema() -> String {
    "zoho".into()
}

fn default_lease_secs() -> u64 {
    120
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Api {
    base_url: String,
    accounts_url: String,
    timeout_secs: u64,
    connect_timeout_secs: u64,
    max_body_mib: u64,
    concurrency: usize,
    read_ahead: usize,
    max_clock_skew_secs: u64,
    retry: Retry,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            base_url: "https://support.zoho.com".into(),
            accounts_url: "https://accounts.zoho.com".into(),
            timeout_secs: 30,
            connect_timeout_secs: 10,
            max_body_mib: 32,
            concurrency: 4,
            read_ahead: 0,
            max_clock_skew_secs: 900,
            retry: Retry::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Retry {
    max_retries: u32,
    initial_delay_ms: u64,
    max_delay_ms: u64,
}

impl Default for Retry {
    fn default() -> Self {
        let policy = RetryPolicy::default();
        Retry {
            max_retries: policy.max_retries,
            initial_delay_ms: policy.initial_delay.as_millis() as u64,
            max_delay_ms: policy.max_delay.as_millis() as u64,
        }
    }
}

impl File {
    pub(super) fn check(self, database_url: Option<String>) -> Result<Config, ConfigError> {
        let schema = self.database.schema;
        let schema_ok = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !schema_ok {
            return Err(key_error(
                "database.schema",
                format!("`{schema}` is not a plain lower-case SQL identifier"),
            ));
        }
        if self.database.lease_secs == 0 {
            return Err(key_error("database.lease_secs", "must be greater than 0"));
        }
        let database = DatabaseConfig {
            url: Secret::new(database_url.unwrap_or(self.database.url)),
            schema,
            lease: Duration::from_secs(self.database.lease_secs),
            hard_delete: self.database.hard_delete,
        };
        let api = self.api.check()?;
        let daemon = DaemonConfig {
            schedule: schedule("daemon.schedule", &self.daemon.schedule)?,
            listen: self.daemon.listen.parse().map_err(|_| {
                key_error(
                    "daemon.listen",
                    format!(
                        "`{}` is not an address like 127.0.0.1:9187",
                        self.daemon.listen
                    ),
                )
            })?,
            pace: self.daemon.pace,
        };
        if self.organisations.is_empty() {
            return Err(key_error(
                "organisations",
                "at least one organisation is needed",
            ));
        }
        let mut organisations = Vec::new();
        for (i, org) in self.organisations.into_iter().enumerate() {
            let checked = org.check(&format!("organisations[{i}]"))?;
            if organisations
                .iter()
                .any(|o: &OrganisationConfig| o.name == checked.name)
            {
                return Err(key_error(
                    format!("organisations[{i}].name"),
                    format!("`{}` is used by two organisations", checked.name),
                ));
            }
            organisations.push(checked);
        }
        Ok(Config {
            database,
            api,
            daemon,
            organisations,
        })
    }
}

impl Api {
    fn check(self) -> Result<ApiConfig, ConfigError> {
        let url = |key: &str, text: &str| {
            let parsed = Url::parse(text).map_err(|e| key_error(key, format!("`{text}`: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(key_error(key, format!("`{text}` is not an http(s) URL")));
            }
            Ok(parsed)
        };
        let positive = |key: &str, n: u64| {
            if n == 0 {
                Err(key_error(key, "must be greater than 0"))
            } else {
                Ok(n)
            }
        };
        if self.retry.initial_delay_ms > self.retry.max_delay_ms {
            return Err(key_error(
                "api.retry.initial_delay_ms",
                "must not be greater than api.retry.max_delay_ms",
            ));
        }
        Ok(ApiConfig {
            base_url: url("api.base_url", &self.base_url)?,
            accounts_url: url("api.accounts_url", &self.accounts_url)?,
            timeout: Duration::from_secs(positive("api.timeout_secs", self.timeout_secs)?),
            connect_timeout: Duration::from_secs(positive(
                "api.connect_timeout_secs",
                self.connect_timeout_secs,
            )?),
            max_body_bytes: (positive("api.max_body_mib", self.max_body_mib)? as usize)
                .saturating_mul(1 << 20),
            concurrency: positive("api.concurrency", self.concurrency as u64)? as usize,
            read_ahead: self.read_ahead,
            max_clock_skew: (self.max_clock_skew_secs > 0)
                .then(|| Duration::from_secs(self.max_clock_skew_secs)),
            retry: RetryPolicy {
                max_retries: self.retry.max_retries,
                initial_delay: Duration::from_millis(self.retry.initial_delay_ms),
                max_delay: Duration::from_millis(self.retry.max_delay_ms),
            },
        })
    }
}
