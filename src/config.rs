//! The configuration: `sync.toml` (or built-in defaults when the default file is absent),
//! overridden by `ZOHO_SYNC__SECTION__KEY` environment variables, `DATABASE_URL` and the
//! organisations' token variables. The file is read once, at start, into checked types:
//! a bad value fails with the path of its key and what is wrong with it, and the rest of
//! the program only sees valid settings. No error quotes a secret: the database URL's
//! password and tokens are masked or left out (see `redact`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use crate::desk::dc::DataCentre;
use crate::quota::{Budget, DayRule, DeskEdition, Edition};
use crate::stream::{Module, StreamKey};
use crate::zoho::client::ClientSettings;
use crate::zoho::module::Format;
use crate::zoho::retry::RetryPolicy;
use crate::zoho::secret::Secret;

/// The configuration file's path when `--config` is not given.
pub const DEFAULT_PATH: &str = "sync.toml";

/// The built-in configuration, used when the default file does not exist: the local
/// emulator's demo portal and the local PostgreSQL.
pub const BUILT_IN: &str = include_str!("../sync.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("config key `{key}`: {detail}")]
    Key { key: String, detail: String },
    #[error("config: {0}")]
    Other(String),
}

/// Every check's error. The detail may quote the value it refuses; a URL's password or a
/// secret parameter in it is masked all the same.
fn key_error(key: impl Into<String>, detail: impl Into<String>) -> ConfigError {
    ConfigError::Key {
        key: key.into(),
        detail: redact::scrub(&detail.into()),
    }
}

/// The whole, checked configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub api: ApiConfig,
    pub daemon: DaemonConfig,
    pub organisations: Vec<OrganisationConfig>,
}

#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// May hold a password, hence a `Secret`.
    pub url: Secret,
    pub schema: String,
    /// The schema of the Zoho Desk mirror's tables.
    pub desk_schema: String,
    /// How long a stream stays leased to a process that stopped renewing (crashed).
    pub lease: Duration,
    /// Remove the rows of records deleted at the source, instead of marking them.
    pub hard_delete: bool,
}

/// Windows fetched ahead of the one a stream's cursor needs, by kind of pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadAhead {
    /// For backfills: long passes, where a few requests past the end are a negligible
    /// share and 200 ms a request is what makes them slow.
    pub backfill: usize,
    /// For incremental passes and sweeps, which by default never ask past their end.
    pub other: usize,
}

#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub base_url: Url,
    pub accounts_url: Url,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: usize,
    /// Streams (portal, department, module) worked at once; each has one page in flight.
    pub concurrency: usize,
    /// Pages fetched ahead within one stream (hides latency; a pass may then spend up to
    /// that many requests on windows past its end).
    pub read_ahead: ReadAhead,
    pub retry: RetryPolicy,
    /// How far a server's `Date` may stray from our clock and still be believed (`None`:
    /// always believed, for an emulator whose clock is moved on purpose).
    pub max_clock_skew: Option<Duration>,
}

/// Where one of an organisation's secrets comes from (its authtoken, or a Desk self
/// client's secret or refresh token); never inline in the file.
#[derive(Clone, Debug)]
pub struct TokenSource {
    pub env: String,
    pub file: Option<PathBuf>,
    /// What it is and its keys' prefix, for messages: `authtoken`, `client_secret`,
    /// `refresh_token` (keys `<it>_env`, `<it>_file`).
    pub what: &'static str,
}

/// One organisation to mirror, of either API.
#[derive(Clone, Debug)]
pub struct OrganisationConfig {
    pub name: String,
    /// The streams' portal: the legacy portal, or the Zoho Desk organisation id.
    pub portal: String,
    /// The departments streams are kept per: the legacy departments; for Zoho Desk one
    /// empty name (Desk departments are data, not a dimension of the sync).
    pub departments: Vec<String>,
    /// The day's limit in budget units (requests, or Desk credits): explicit, or the
    /// edition's.
    pub daily_limit: u32,
    /// Units per day left for the organisation's other integrations.
    pub reserve: u32,
    pub day_rule: DayRule,
    /// Modules to sync, highest priority (lowest number) first.
    pub modules: Vec<(Module, u32)>,
    /// The daemon's schedule for this organisation (the daemon's default if `None`).
    pub schedule: Option<cron::Schedule>,
    /// Modules with a schedule of their own.
    pub module_schedules: Vec<(Module, cron::Schedule)>,
    /// Modules that asked for the fixed schedule (`polling = "fixed"`).
    pub fixed_modules: Vec<Module>,
    /// Days between two sweeps (which find deleted records) of each module; 0: never.
    pub sweep_every_days: Vec<(Module, u32)>,
    /// What only one of the two APIs has.
    pub source: SourceConfig,
}

/// The settings of one API.
#[derive(Clone, Debug)]
pub enum SourceConfig {
    Support(SupportConfig),
    Desk(Box<DeskConfig>),
}

/// A legacy Zoho Support organisation's own settings.
#[derive(Clone, Debug)]
pub struct SupportConfig {
    pub edition: Edition,
    pub licences: u32,
    pub token: TokenSource,
    pub format: Format,
    pub data_time_zone: Tz,
}

/// A Zoho Desk organisation's own settings.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    pub dc: DataCentre,
    pub org_id: String,
    pub client_id: String,
    pub client_secret: TokenSource,
    pub refresh_token: TokenSource,
    pub edition: DeskEdition,
    pub agents: u32,
    /// The Desk API's base URL (the data centre's, or an override: the emulator).
    pub desk_url: Url,
    /// Zoho Accounts' base URL (the data centre's, or an override).
    pub accounts_url: Url,
}

impl OrganisationConfig {
    /// The organisation's share of each quota day: its daily limit less the reserve kept
    /// for its other integrations (the one place this is worked out).
    pub fn budget(&self) -> Budget {
        Budget {
            organisation: self.name.clone(),
            per_day: self.daily_limit.saturating_sub(self.reserve),
            rule: self.day_rule,
            reserve: self.reserve,
        }
    }
}

impl OrganisationConfig {
    /// The organisation's streams of `modules` (every configured module when empty): one
    /// per department and module, departments first, modules in configured order.
    pub fn streams(&self, modules: &[Module]) -> Vec<StreamKey> {
        self.departments
            .iter()
            .flat_map(|department| {
                self.modules
                    .iter()
                    .filter(|(m, _)| modules.is_empty() || modules.contains(m))
                    .map(|&(module, _)| StreamKey {
                        portal: self.portal.clone(),
                        department: department.clone(),
                        module,
                    })
            })
            .collect()
    }

    /// The zone the records' date-times are written in when they carry no offset (the
    /// legacy portal's data time zone; Zoho Desk writes UTC with `Z`).
    pub fn data_time_zone(&self) -> Tz {
        match &self.source {
            SourceConfig::Support(s) => s.data_time_zone,
            SourceConfig::Desk(_) => chrono_tz::UTC,
        }
    }

    /// The legacy settings, for the commands that speak only the legacy API.
    pub fn support(&self) -> Result<&SupportConfig, ConfigError> {
        match &self.source {
            SourceConfig::Support(s) => Ok(s),
            SourceConfig::Desk(_) => Err(ConfigError::Other(format!(
                "organisation `{}` is a Zoho Desk organisation; this command speaks the legacy Zoho Support API",
                self.name
            ))),
        }
    }

    /// How often a module is swept; `None` when it never is. A Desk module read as a
    /// whole list never is: each of its passes already sees every record (D15).
    pub fn sweep_every(&self, module: Module) -> Option<chrono::TimeDelta> {
        if module.desk().is_some_and(|m| !m.has_search()) {
            return None;
        }
        self.sweep_every_days
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, days)| *days)
            .filter(|days| *days > 0)
            .map(|days| chrono::TimeDelta::days(i64::from(days)))
    }
}

impl Config {
    /// Loads `path`; if it is the default path and does not exist, the built-in defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_PATH) =>
            {
                BUILT_IN.to_string()
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })
            }
        };
        Config::from_toml(&text, std::env::vars())
    }

    /// Parses TOML text with the given environment applied on top.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let overrides: std::collections::HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("ZOHO_SYNC__"))
            .cloned()
            .collect();
        let built = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("ZOHO_SYNC")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(overrides)),
            )
            .build()
            .map_err(|e| ConfigError::Other(redact::parse_error(&e.to_string())))?;
        let value: serde_json::Value = built
            .try_deserialize()
            .map_err(|e| ConfigError::Other(redact::value_error(&e.to_string())))?;
        let raw: raw::File = serde_path_to_error::deserialize(value).map_err(|e| {
            key_error(
                e.path().to_string(),
                redact::value_error(&e.inner().to_string()),
            )
        })?;
        let database_url = env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .map(|(_, v)| v.clone());
        raw.check(database_url)
    }

    pub fn organisation(&self, name: Option<&str>) -> Result<&OrganisationConfig, ConfigError> {
        match name {
            None => self
                .organisations
                .first()
                .ok_or_else(|| key_error("organisations", "no organisation is configured")),
            Some(name) => self
                .organisations
                .iter()
                .find(|o| o.name == name)
                .ok_or_else(|| {
                    key_error("organisations", format!("no organisation named `{name}`"))
                }),
        }
    }

    /// The wire client's settings for one organisation and department (first ones by default).
    pub fn client_settings(
        &self,
        org: Option<&str>,
        department: Option<&str>,
    ) -> Result<ClientSettings, ConfigError> {
        let org = self.organisation(org)?;
        let support = org.support()?;
        let department = match department {
            Some(d) => d.to_string(),
            None => org.departments.first().cloned().unwrap_or_default(),
        };
        Ok(ClientSettings {
            base_url: self.api.base_url.clone(),
            format: support.format,
            portal: org.portal.clone(),
            department,
            authtoken: support.token.resolve(&org.name)?,
            timeout: self.api.timeout,
            connect_timeout: self.api.connect_timeout,
            max_body_bytes: self.api.max_body_bytes,
            retry: self.api.retry,
        })
    }
}

impl TokenSource {
    /// Reads the token: the environment variable wins over the file.
    pub fn resolve(&self, org: &str) -> Result<Secret, ConfigError> {
        if let Ok(token) = std::env::var(&self.env) {
            if !token.trim().is_empty() {
                return Ok(Secret::new(token.trim()));
            }
        }
        if let Some(path) = &self.file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            return Ok(Secret::new(text.trim()));
        }
        let what = self.what;
        Err(key_error(
            format!("organisations.{org}.{what}_env"),
            format!(
                "no {}: set the environment variable {} (or {what}_file)",
                what.replace('_', " "),
                self.env
            ),
        ))
    }
}

pub use daemon::{Access, AdaptivePolling, DaemonConfig, Polling};

mod daemon;
mod raw;
mod redact;

#[cfg(test)]
mod tests;
