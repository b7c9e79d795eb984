//! What an emulator serves: portals with their departments, quota, data time zone, record
//! counts and custom fields, and the users that may call it. Built from the built-in demo
//! default, a TOML or JSON file, and command-line flags, in that order of precedence
//! (flags win). A config that `validate` accepts has unique portal, department, e-mail and
//! token names, so the lookups of the running emulator are never ambiguous.

mod file;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::desk::config::{DeskConfig, DeskConfigError};
use super::seeds;
use super::store::{CustomField, AGENTS};
use super::Options;
use crate::quota::{DayRule, Edition};
use crate::zoho::module::Module;
use crate::zoho::secret::Secret;

/// Records per module when neither the config nor a flag says otherwise.
pub const DEFAULT_RECORDS: u64 = 3_000;
/// Tokens one user may hold before the auth endpoint refuses more.
pub const DEFAULT_MAX_TOKENS: usize = 20;
/// How long a `delay` fault holds its answer back: past any sane client timeout.
pub const DEFAULT_FAULT_DELAY: Duration = Duration::from_secs(60);
/// Entries kept in the request log.
pub const DEFAULT_LOG_CAPACITY: usize = 100_000;
/// The store derives disjoint ids for at most this many (portal, department) pairs.
const MAX_DEPARTMENTS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the emulator config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the emulator config {path} is not valid: {detail}")]
    Parse { path: String, detail: String },
    #[error("invalid emulator config: {0}")]
    Invalid(String),
    #[error("invalid emulator config: {0}")]
    Desk(#[from] DeskConfigError),
}

/// The whole emulator configuration.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Same seed, same records and issued tokens.
    pub seed: u64,
    /// The emulated time at start (real time when `None`).
    pub start: Option<DateTime<Utc>>,
    /// Simulated latency added to every record-API request.
    pub latency: Duration,
    /// How long a `delay` fault holds its answer back.
    pub fault_delay: Duration,
    pub max_tokens_per_user: usize,
    pub log_capacity: usize,
    pub portals: Vec<PortalConfig>,
    /// The Desk API's organisations.
    pub desk: DeskConfig,
}

/// One portal (organisation).
#[derive(Clone, Debug)]
pub struct PortalConfig {
    pub name: String,
    pub departments: Vec<String>,
    pub edition: Edition,
    pub licences: u32,
    /// Overrides the edition's limit when set.
    pub daily_limit: Option<u32>,
    pub day_rule: DayRule,
    /// The zone response date-times and `lastmodifiedtime` are read in.
    pub zone: Tz,
    /// Records per module and department; modules not listed get `default_records`.
    pub records: BTreeMap<Module, u64>,
    pub default_records: u64,
    pub custom_fields: BTreeMap<Module, Vec<CustomField>>,
    pub users: Vec<UserConfig>,
}

/// One Zoho Accounts user of a portal.
#[derive(Clone, Debug)]
pub struct UserConfig {
    pub email: String,
    /// The owner name `myrecords` matches (one of the generated agents when `None`).
    pub name: Option<String>,
    pub password: Secret,
    /// An unconfirmed user gets `ACCOUNT_REGISTRATION_NOT_CONFIRMED`.
    pub confirmed: bool,
    /// Only admins may use the record API (else 4001).
    pub admin: bool,
    /// With two-factor on, only `app_password` yields a token (`WEB_LOGIN_REQUIRED`).
    pub two_factor: bool,
    pub app_password: Option<Secret>,
    /// Tokens the user already holds; they count towards the per-user maximum.
    pub tokens: Vec<Secret>,
    /// The auth endpoint answers `CAUSE=null` for this user.
    pub broken: bool,
}

impl Default for EmulatorConfig {
    /// One Free portal `demo`, department `Support`, 3,000 records per module and one
    /// confirmed admin `admin@demo.example` holding the fixed demo token.
    fn default() -> Self {
        let mut portal = PortalConfig::new("demo");
        let mut admin = UserConfig::new("admin@demo.example", "demo-password");
        admin.admin = true;
        admin.tokens.push(Secret::new(seeds::demo_token()));
        portal.users.push(admin);
        EmulatorConfig {
            seed: 0,
            start: None,
            latency: Duration::ZERO,
            fault_delay: DEFAULT_FAULT_DELAY,
            max_tokens_per_user: DEFAULT_MAX_TOKENS,
            log_capacity: DEFAULT_LOG_CAPACITY,
            portals: vec![portal],
            desk: DeskConfig::default(),
        }
    }
}

impl PortalConfig {
    /// A Free portal with department `Support`, default record counts and no users.
    pub fn new(name: impl Into<String>) -> PortalConfig {
        PortalConfig {
            name: name.into(),
            departments: vec!["Support".to_string()],
            edition: Edition::Free,
            licences: 1,
            daily_limit: None,
            day_rule: DayRule::Pacific,
            zone: chrono_tz::UTC,
            records: BTreeMap::new(),
            default_records: DEFAULT_RECORDS,
            custom_fields: BTreeMap::new(),
            users: Vec::new(),
        }
    }

    /// Requests per quota day.
    pub fn limit(&self) -> u32 {
        self.daily_limit
            .unwrap_or_else(|| self.edition.daily_limit(self.licences))
    }

    pub fn record_count(&self, module: Module) -> u64 {
        self.records
            .get(&module)
            .copied()
            .unwrap_or(self.default_records)
    }
}

impl UserConfig {
    /// A confirmed, non-admin user without two-factor and without tokens.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> UserConfig {
        UserConfig {
            email: email.into(),
            name: None,
            password: Secret::new(password),
            confirmed: true,
            admin: false,
            two_factor: false,
            app_password: None,
            tokens: Vec::new(),
            broken: false,
        }
    }

    /// The owner name `myrecords` matches for the `index`-th user of a portal.
    pub fn owner_name(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| {
            AGENTS
                .get(index % AGENTS.len())
                .copied()
                .unwrap_or_default()
                .to_string()
        })
    }
}

impl EmulatorConfig {
    /// The default config with `count` records in every module of every portal and Desk
    /// organisation; for tests.
    pub fn with_records(mut self, count: u64) -> EmulatorConfig {
        for portal in &mut self.portals {
            portal.records.clear();
            portal.default_records = count;
        }
        self.desk = self.desk.with_records(count);
        self
    }

    /// Reads a TOML file, or JSON when the name ends in `.json`.
    pub fn load(path: &Path) -> Result<EmulatorConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        file::parse(&text, is_json).map_err(|detail| ConfigError::Parse {
            path: path.display().to_string(),
            detail,
        })
    }

    /// The config the `emulator` command serves: the file (or the default), then the flags.
    pub fn from_options(args: &Options) -> Result<EmulatorConfig, ConfigError> {
        let mut config = match &args.config {
            Some(path) => EmulatorConfig::load(path)?,
            None => EmulatorConfig::default(),
        };
        config.apply_options(args);
        config.validate()?;
        Ok(config)
    }

    /// Applies the command-line overrides; the per-portal flags act on the first portal.
    pub fn apply_options(&mut self, args: &Options) {
        if let Some(seed) = args.seed {
            self.seed = seed;
        }
        if let Some(millis) = args.latency_ms {
            self.latency = Duration::from_millis(millis);
        }
        if let Some(org) = self.desk.organisations.first_mut() {
            org.records.extend(args.desk_records.iter().copied());
        }
        let Some(portal) = self.portals.first_mut() else {
            return;
        };
        portal.records.extend(args.records.iter().copied());
        if let Some(edition) = args.edition {
            portal.edition = edition;
        }
        if let Some(licences) = args.licences {
            portal.licences = licences;
        }
        if let Some(name) = &args.portal {
            portal.name = name.clone();
        }
        if let Some(department) = &args.department {
            portal.departments = vec![department.clone()];
        }
        if let Some(token) = &args.token {
            if let Some(admin) = portal.users.iter_mut().find(|u| u.admin) {
                admin.tokens = vec![Secret::new(token.clone())];
            }
        }
    }

    /// The token `run` announces: the first token of the first portal's first admin.
    pub fn demo_token(&self) -> Option<&Secret> {
        self.portals
            .first()
            .and_then(|p| p.users.iter().find(|u| u.admin))
            .and_then(|u| u.tokens.first())
    }

    /// Checks the names are usable and unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |text: String| Err(ConfigError::Invalid(text));
        if self.portals.is_empty() {
            return invalid("at least one portal is needed".into());
        }
        let departments: usize = self.portals.iter().map(|p| p.departments.len()).sum();
        if departments > MAX_DEPARTMENTS {
            return invalid(format!("at most {MAX_DEPARTMENTS} departments in all"));
        }
        self.desk.validate()?;
        unique("portal", self.portals.iter().map(|p| p.name.as_str()))?;
        unique("user e-mail", self.users().map(|u| u.email.as_str()))?;
        unique(
            "token",
            self.users()
                .flat_map(|u| u.tokens.iter().map(Secret::expose)),
        )?;
        for portal in &self.portals {
            if portal.departments.is_empty() {
                return invalid(format!("portal `{}` has no department", portal.name));
            }
            unique("department", portal.departments.iter().map(String::as_str))?;
        }
        Ok(())
    }

    fn users(&self) -> impl Iterator<Item = &UserConfig> {
        self.portals.iter().flat_map(|p| p.users.iter())
    }
}

/// Names must be non-empty and unique ignoring case (the emulator matches them so).
fn unique<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for name in names {
        if name.trim().is_empty() {
            return Err(ConfigError::Invalid(format!("an empty {what}")));
        }
        if !seen.insert(name.trim().to_lowercase()) {
            // Tokens are secrets: name the kind of duplicate, never the value.
            let shown = if what == "token" { "***" } else { name };
            return Err(ConfigError::Invalid(format!(
                "{what} `{shown}` appears twice"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::desk::DeskModule;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: Options,
    }

    fn args(line: &[&str]) -> Options {
        let mut argv = vec!["emulator"];
        argv.extend_from_slice(line);
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn the_default_is_one_free_demo_portal_with_a_demo_admin() {
        let config = EmulatorConfig::default();
        assert!(config.validate().is_ok());
        let portal = &config.portals[0];
        assert_eq!((portal.name.as_str(), portal.limit()), ("demo", 250));
        assert_eq!(portal.departments, vec!["Support".to_string()]);
        assert_eq!(portal.record_count(Module::Tasks), 3_000);
        let token = config.demo_token().map(|t| t.expose().to_string());
        assert_eq!(token, Some(seeds::demo_token()));
    }

    #[test]
    fn flags_override_the_first_portal() {
        let line = [
            "--seed",
            "9",
            "--records",
            "requests=10,tasks=2",
            "--edition",
            "enterprise",
            "--licences",
            "8",
            "--token",
            "abc",
            "--portal",
            "acme",
            "--department",
            "Help Desk",
            "--desk-records",
            "tickets=7",
        ];
        let config = EmulatorConfig::from_options(&args(&line)).unwrap();
        let portal = &config.portals[0];
        assert_eq!(config.seed, 9);
        assert_eq!(portal.record_count(Module::Requests), 10);
        assert_eq!(portal.record_count(Module::Tasks), 2);
        assert_eq!(portal.record_count(Module::Accounts), DEFAULT_RECORDS);
        assert_eq!(portal.limit(), 2_000);
        assert_eq!(config.demo_token().map(Secret::expose), Some("abc"));
        let desk = &config.desk.organisations[0];
        assert_eq!(desk.record_count(DeskModule::Tickets), 7);
        assert_eq!(
            (portal.name.as_str(), portal.departments[0].as_str()),
            ("acme", "Help Desk")
        );
    }

    #[test]
    fn duplicate_names_are_rejected_ignoring_case() {
        let mut config = EmulatorConfig::default();
        config.portals.push(PortalConfig::new("DEMO"));
        assert!(matches!(config.validate(), Err(ConfigError::Invalid(_))));
        let mut config = EmulatorConfig::default();
        let copy = config.portals[0].users[0].clone();
        config.portals[0].users.push(UserConfig {
            email: "other@x".into(),
            ..copy
        });
        let err = config.validate().map_err(|e| e.to_string()).unwrap_err();
        assert!(
            err.contains("token") && !err.contains(&seeds::demo_token()),
            "{err}"
        );
    }
}
