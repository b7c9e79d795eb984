//! One `[[organisations]]` entry as written, and its check: which API (`api = "support"`,
//! the default, or `"desk"`), the edition and limit (requests, or Desk credits: the
//! edition's base plus its agents' share), the reserve (a count or a percentage), where
//! secrets come from (never inline), the data time zone, the modules of that API with
//! their priorities, schedules and sweep cadence. Keys of the other API are refused.
//! Errors name the entry's key path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono_tz::Tz;
use serde::Deserialize;

use super::super::{
    key_error, ConfigError, OrganisationConfig, SourceConfig, SupportConfig, TokenSource,
};
use super::schedule;
use crate::quota::{DayRule, Edition};
use crate::stream::Module;
use crate::zoho::module::{Format, Module as SupportModule};

mod desk;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Organisation {
    name: String,
    #[serde(default)]
    api: Api,
    // The legacy API's keys.
    portal: Option<String>,
    departments: Option<Vec<String>>,
    edition: String,
    licences: Option<u32>,
    authtoken_env: Option<String>,
    authtoken_file: Option<PathBuf>,
    format: Option<Format>,
    data_time_zone: Option<String>,
    day_rule: Option<DayRule>,
    // Zoho Desk's keys (`desk` checks them).
    dc: Option<String>,
    org_id: Option<String>,
    client_id: Option<String>,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    refresh_token_env: Option<String>,
    refresh_token_file: Option<PathBuf>,
    agents: Option<u32>,
    base_url: Option<String>,
    accounts_url: Option<String>,
    credit_day_zone: Option<String>,
    // Both.
    daily_limit: Option<u32>,
    reserve: Option<Reserve>,
    #[serde(default)]
    modules: BTreeMap<String, ModuleSettings>,
    schedule: Option<String>,
    #[serde(default = "default_sweep_days")]
    sweep_every_days: u32,
}

/// Which API an organisation is mirrored from.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Api {
    #[default]
    Support,
    Desk,
}

fn default_sweep_days() -> u32 {
    7
}

fn one() -> u32 {
    1
}

/// `reserve = 25` (units) or `reserve = "10%"` (of the daily limit).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Reserve {
    #[default]
    None,
    Absolute(u32),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleSettings {
    #[serde(default = "one")]
    priority: u32,
    schedule: Option<String>,
    /// `"fixed"`: polled on the organisation's or the daemon's schedule, not adaptively.
    polling: Option<String>,
    sweep_every_days: Option<u32>,
}

/// What the API-specific check settles for the organisation.
struct Settled {
    portal: String,
    departments: Vec<String>,
    /// The edition's limit, when `daily_limit` does not set one.
    edition_limit: u32,
    day_rule: DayRule,
    /// The reserve when none is written.
    default_reserve: Reserve,
    source: SourceConfig,
}

impl Organisation {
    pub(super) fn check(mut self, at: &str) -> Result<OrganisationConfig, ConfigError> {
        if self.name.trim().is_empty() {
            return Err(key_error(format!("{at}.name"), "must not be empty"));
        }
        let settled = match self.api {
            Api::Support => self.check_support(at)?,
            Api::Desk => desk::check(&mut self, at)?,
        };
        let daily_limit = match self.daily_limit {
            Some(0) => {
                return Err(key_error(
                    format!("{at}.daily_limit"),
                    "must be greater than 0",
                ))
            }
            Some(n) => n,
            None => settled.edition_limit,
        };
        let reserve = self
            .reserve
            .take()
            .unwrap_or(settled.default_reserve)
            .check(&format!("{at}.reserve"), daily_limit)?;
        let modules = self.check_modules(at)?;
        Ok(OrganisationConfig {
            name: self.name,
            portal: settled.portal,
            departments: settled.departments,
            daily_limit,
            reserve,
            day_rule: settled.day_rule,
            modules: modules.priorities,
            schedule: self
                .schedule
                .as_deref()
                .map(|text| schedule(&format!("{at}.schedule"), text))
                .transpose()?,
            module_schedules: modules.schedules,
            fixed_modules: modules.fixed,
            sweep_every_days: modules.sweeps,
            source: settled.source,
        })
    }

    fn check_support(&mut self, at: &str) -> Result<Settled, ConfigError> {
        refuse_keys(
            at,
            "the Zoho Desk API (api = \"desk\")",
            desk::keys_present(self),
        )?;
        let portal = nonempty(at, "portal", self.portal.take())?;
        let departments = self.departments.take().unwrap_or_default();
        if departments.is_empty() {
            return Err(key_error(
                format!("{at}.departments"),
                "list at least one department",
            ));
        }
        for (i, d) in departments.iter().enumerate() {
            nonempty(at, &format!("departments[{i}]"), Some(d.clone()))?;
        }
        let edition: Edition = self
            .edition
            .parse()
            .map_err(|e: String| key_error(format!("{at}.edition"), e))?;
        let licences = self.licences.unwrap_or(1);
        if licences == 0 {
            return Err(key_error(
                format!("{at}.licences"),
                "must be at least 1 (the portal's user licences)",
            ));
        }
        let env = self
            .authtoken_env
            .take()
            .unwrap_or_else(|| "ZOHO_AUTHTOKEN".into());
        check_token_env(&format!("{at}.authtoken_env"), &env)?;
        let zone_text = self.data_time_zone.take().unwrap_or_else(|| "UTC".into());
        let data_time_zone: Tz = zone_text.parse().map_err(|_| {
            key_error(
                format!("{at}.data_time_zone"),
                format!("`{zone_text}` is not an IANA time zone name"),
            )
        })?;
        Ok(Settled {
            portal,
            departments,
            edition_limit: edition.daily_limit(licences),
            day_rule: self.day_rule.unwrap_or_default(),
            default_reserve: Reserve::None,
            source: SourceConfig::Support(SupportConfig {
                edition,
                licences,
                token: TokenSource {
                    env,
                    file: self.authtoken_file.take(),
                    what: "authtoken",
                },
                format: self.format.unwrap_or_default(),
                data_time_zone,
            }),
        })
    }

    /// The modules of the organisation's API, with their priorities, schedules and sweep
    /// cadence; every module of the API when none is listed.
    fn check_modules(&mut self, at: &str) -> Result<Modules, ConfigError> {
        let mut checked = Modules::default();
        for (name, settings) in std::mem::take(&mut self.modules) {
            let key = format!("{at}.modules.{name}");
            let module = match self.api {
                Api::Support => SupportModule::parse(&name).map(Module::Support),
                Api::Desk => desk::module(&name),
            }
            .ok_or_else(|| key_error(&key, format!("unknown module `{name}`")))?;
            if checked.priorities.iter().any(|(m, _)| *m == module) {
                return Err(key_error(&key, "module listed twice"));
            }
            checked.priorities.push((module, settings.priority));
            let sweep = settings.sweep_every_days.unwrap_or(self.sweep_every_days);
            checked.sweeps.push((module, sweep));
            if let Some(text) = &settings.schedule {
                let cron = schedule(&format!("{key}.schedule"), text)?;
                checked.schedules.push((module, cron));
            }
            match settings.polling.as_deref() {
                None | Some("adaptive") => {}
                Some("fixed") => checked.fixed.push(module),
                Some(other) => {
                    return Err(key_error(
                        format!("{key}.polling"),
                        format!("`{other}` is neither \"adaptive\" nor \"fixed\""),
                    ))
                }
            }
        }
        if checked.priorities.is_empty() {
            let all: Vec<Module> = match self.api {
                Api::Support => SupportModule::ALL
                    .iter()
                    .map(|m| Module::Support(*m))
                    .collect(),
                Api::Desk => desk::default_modules(),
            };
            checked.priorities = all.iter().map(|m| (*m, 1)).collect();
            let sweep = self.sweep_every_days;
            checked.sweeps = all.iter().map(|m| (*m, sweep)).collect();
        }
        checked.priorities.sort_by_key(|(m, p)| (*p, *m));
        Ok(checked)
    }
}

/// Modules checked: priorities, own schedules, sweep cadence.
#[derive(Default)]
struct Modules {
    priorities: Vec<(Module, u32)>,
    schedules: Vec<(Module, cron::Schedule)>,
    fixed: Vec<Module>,
    sweeps: Vec<(Module, u32)>,
}

/// A required text key, trimmed non-empty.
fn nonempty(at: &str, key: &str, value: Option<String>) -> Result<String, ConfigError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(key_error(format!("{at}.{key}"), "must not be empty")),
        None => Err(key_error(format!("{at}.{key}"), "is required")),
    }
}

/// Refuses keys that belong to the other API, naming the first one.
fn refuse_keys(at: &str, api: &str, present: Option<&'static str>) -> Result<(), ConfigError> {
    match present {
        Some(key) => Err(key_error(
            format!("{at}.{key}"),
            format!("belongs to {api}; set `api` accordingly or remove it"),
        )),
        None => Ok(()),
    }
}

/// `authtoken_env` names a variable. A value that looks like an authtoken itself (32 hex
/// digits) is refused without being quoted: it would otherwise be echoed by the error
/// that says the variable is unset.
pub(super) fn check_token_env(key: &str, name: &str) -> Result<(), ConfigError> {
    let looks_like_token = name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit());
    if looks_like_token {
        return Err(key_error(
            key,
            "holds what looks like an authtoken (not shown); name the environment variable \
             that holds the token instead",
        ));
    }
    let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(key_error(
            key,
            "not an environment variable name (letters, digits and `_`; value not shown)",
        ));
    }
    Ok(())
}

impl Reserve {
    fn check(self, key: &str, limit: u32) -> Result<u32, ConfigError> {
        let reserve = match self {
            Reserve::None => 0,
            Reserve::Absolute(n) => n,
            Reserve::Text(text) => {
                let percent = text
                    .trim()
                    .strip_suffix('%')
                    .and_then(|p| p.trim().parse::<f64>().ok())
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| {
                        key_error(
                            key,
                            format!("`{text}` is neither a count nor a percentage like \"10%\""),
                        )
                    })?;
                (f64::from(limit) * percent / 100.0).ceil() as u32
            }
        };
        if reserve >= limit {
            return Err(key_error(
                key,
                format!("reserve {reserve} leaves nothing of the daily limit {limit}"),
            ));
        }
        Ok(reserve)
    }
}
