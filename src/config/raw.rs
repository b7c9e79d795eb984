//! The configuration file as written (serde shapes, unknown keys refused) and its check
//! into the typed `Config`: every rule a value must follow is enforced here, with the
//! key's path in the error.

mod daemon;
mod organisation;

use std::ops::RangeInclusive;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::{
    key_error, ApiConfig, Config, ConfigError, DaemonConfig, DatabaseConfig, OrganisationConfig,
    ReadAhead,
};
use crate::zoho::retry::RetryPolicy;
use crate::zoho::secret::Secret;
use daemon::Daemon;
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

/// A cron schedule that fires at least once in the coming year: one that never fires (the
/// 30th of February) would leave its organisation or module silently idle for good.
fn schedule(key: &str, text: &str) -> Result<cron::Schedule, ConfigError> {
    let parsed: cron::Schedule = text.parse().map_err(|e| {
        key_error(
            key,
            format!("`{text}` is not a cron schedule (sec min hour day month weekday): {e}"),
        )
    })?;
    let now = chrono::Utc::now();
    match parsed.after(&now).next() {
        Some(next) if next - now <= chrono::TimeDelta::days(366) => Ok(parsed),
        _ => Err(key_error(
            key,
            format!("`{text}` does not fire in the coming year"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Database {
    #[serde(default = "default_database_url")]
    url: String,
    #[serde(default = "default_schema")]
    schema: String,
    #[serde(default = "default_desk_schema")]
    desk_schema: String,
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
            desk_schema: default_desk_schema(),
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

fn default_desk_schema() -> String {
    crate::loader::DEFAULT_DESK_SCHEMA.into()
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
    backfill_read_ahead: usize,
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
            backfill_read_ahead: 3,
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
        let database = self.database.check(database_url)?;
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
            polling: self.daemon.polling()?,
            auth_token_env: match self.daemon.auth_token_env {
                Some(name) => {
                    organisation::check_token_env("daemon.auth_token_env", &name)?;
                    Some(name)
                }
                None => None,
            },
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
            distinct_from(&organisations, &checked, i)?;
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

/// An organisation's name and portal are its own: the ledger is keyed by the name, and
/// Zoho counts the quota per portal, so two entries on one portal would each spend the
/// whole of a budget they share.
fn distinct_from(
    earlier: &[OrganisationConfig],
    org: &OrganisationConfig,
    i: usize,
) -> Result<(), ConfigError> {
    if earlier.iter().any(|o| o.name == org.name) {
        return Err(key_error(
            format!("organisations[{i}].name"),
            format!("`{}` is used by two organisations", org.name),
        ));
    }
    if let Some(other) = earlier
        .iter()
        .find(|o| o.portal.trim().eq_ignore_ascii_case(org.portal.trim()))
    {
        return Err(key_error(
            format!("organisations[{i}].portal"),
            format!(
                "organisations `{}` and `{}` are both on portal `{}`, whose daily quota they \
                 would share; list the departments of one portal in one organisation",
                other.name, org.name, org.portal
            ),
        ));
    }
    Ok(())
}

impl Database {
    fn check(self, from_env: Option<String>) -> Result<DatabaseConfig, ConfigError> {
        check_schema("database.schema", &self.schema)?;
        check_schema("database.desk_schema", &self.desk_schema)?;
        if self.desk_schema == self.schema {
            return Err(key_error(
                "database.desk_schema",
                "must differ from database.schema: the Desk mirror's tables would share names with the legacy mirror's",
            ));
        }
        if self.lease_secs == 0 {
            return Err(key_error("database.lease_secs", "must be greater than 0"));
        }
        let (key, url) = match from_env {
            Some(url) => ("DATABASE_URL", url),
            None => ("database.url", self.url),
        };
        check_database_url(key, &url)?;
        Ok(DatabaseConfig {
            url: Secret::new(url),
            schema: self.schema,
            desk_schema: self.desk_schema,
            lease: Duration::from_secs(self.lease_secs),
            hard_delete: self.hard_delete,
        })
    }
}

/// A plain lower-case identifier that is not one of PostgreSQL's own schemas: the
/// migrations would create their tables among the catalogs (`pg_catalog`, `pg_toast`, a
/// session's `pg_temp_N`: every name starting `pg_` is reserved) or in the SQL
/// standard's `information_schema`. `public` is an ordinary schema and stays allowed.
fn check_schema(key: &str, schema: &str) -> Result<(), ConfigError> {
    let plain = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(key_error(
            key,
            format!("`{schema}` is not a plain lower-case SQL identifier"),
        ));
    }
    if schema.starts_with("pg_") || schema == "information_schema" {
        return Err(key_error(
            key,
            format!("`{schema}` is a PostgreSQL system schema; choose another name"),
        ));
    }
    Ok(())
}

/// The URL must at least be a `postgres://` URL. The message never quotes it: it may
/// hold a password.
fn check_database_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "postgres" | "postgresql") => Ok(()),
        Ok(_) => Err(key_error(key, "not a postgres:// or postgresql:// URL")),
        Err(e) => Err(key_error(
            key,
            format!(
                "not a postgres:// URL ({e}); the value is not shown as it may hold a password"
            ),
        )),
    }
}

/// `api.timeout_secs` and `api.connect_timeout_secs`: a request that may wait longer than
/// ten minutes holds its stream's lease and the day's reservation for nothing.
const SECONDS: RangeInclusive<u64> = 1..=600;
/// `api.max_body_mib`: an answer of 200 records is a few MiB; a GiB is a broken server.
const BODY_MIB: RangeInclusive<u64> = 1..=1024;
/// `api.concurrency`: streams at once, each with a database connection of its own.
const CONCURRENCY: RangeInclusive<usize> = 1..=64;
/// `api.read_ahead`, `api.backfill_read_ahead`: each window ahead may cost a request past
/// the end of a pass.
const READ_AHEAD: RangeInclusive<usize> = 0..=16;
/// `api.max_clock_skew_secs`: up to a day (0: the server's clock is always believed).
const CLOCK_SKEW: RangeInclusive<u64> = 0..=86_400;

fn within<T>(key: &str, n: T, range: RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: PartialOrd + std::fmt::Display,
{
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(key_error(
            key,
            format!("{n} is out of range: {} to {}", range.start(), range.end()),
        ))
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
        if self.retry.initial_delay_ms > self.retry.max_delay_ms {
            return Err(key_error(
                "api.retry.initial_delay_ms",
                "must not be greater than api.retry.max_delay_ms",
            ));
        }
        let secs = |key, n| within(key, n, SECONDS).map(Duration::from_secs);
        Ok(ApiConfig {
            base_url: url("api.base_url", &self.base_url)?,
            accounts_url: url("api.accounts_url", &self.accounts_url)?,
            timeout: secs("api.timeout_secs", self.timeout_secs)?,
            connect_timeout: secs("api.connect_timeout_secs", self.connect_timeout_secs)?,
            max_body_bytes: within("api.max_body_mib", self.max_body_mib, BODY_MIB)? as usize
                * (1 << 20),
            concurrency: within("api.concurrency", self.concurrency, CONCURRENCY)?,
            read_ahead: ReadAhead {
                backfill: within(
                    "api.backfill_read_ahead",
                    self.backfill_read_ahead,
                    READ_AHEAD,
                )?,
                other: within("api.read_ahead", self.read_ahead, READ_AHEAD)?,
            },
            max_clock_skew: match within(
                "api.max_clock_skew_secs",
                self.max_clock_skew_secs,
                CLOCK_SKEW,
            )? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            retry: RetryPolicy {
                max_retries: self.retry.max_retries,
                initial_delay: Duration::from_millis(self.retry.initial_delay_ms),
                max_delay: Duration::from_millis(self.retry.max_delay_ms),
            },
        })
    }
}
