//! One `[[organisations]]` entry as written, and its check: the edition and limit, the
//! reserve (a count or a percentage), the token's source, the data time zone, the modules
//! with their priorities, schedules and sweep cadence. Errors name the entry's key path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono_tz::Tz;
use serde::Deserialize;

use super::super::{key_error, ConfigError, OrganisationConfig, TokenSource};
use super::schedule;
use crate::quota::{DayRule, Edition};
use crate::zoho::module::{Format, Module};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Organisation {
    name: String,
    portal: String,
    departments: Vec<String>,
    edition: Edition,
    #[serde(default = "one")]
    licences: u32,
    daily_limit: Option<u32>,
    #[serde(default)]
    reserve: Reserve,
    #[serde(default = "default_token_env")]
    authtoken_env: String,
    authtoken_file: Option<PathBuf>,
    #[serde(default)]
    format: Format,
    #[serde(default = "default_zone")]
    data_time_zone: String,
    #[serde(default)]
    day_rule: DayRule,
    #[serde(default)]
    modules: BTreeMap<String, ModuleSettings>,
    schedule: Option<String>,
    #[serde(default = "default_sweep_days")]
    sweep_every_days: u32,
}

fn default_sweep_days() -> u32 {
    7
}

fn one() -> u32 {
    1
}

fn default_token_env() -> String {
    "ZOHO_AUTHTOKEN".into()
}

fn default_zone() -> String {
    "UTC".into()
}

/// `reserve = 25` (requests) or `reserve = "10%"` (of the daily limit).
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
    sweep_every_days: Option<u32>,
}

impl Organisation {
    pub(super) fn check(self, at: &str) -> Result<OrganisationConfig, ConfigError> {
        let nonempty = |key: &str, text: &str| {
            if text.trim().is_empty() {
                Err(key_error(format!("{at}.{key}"), "must not be empty"))
            } else {
                Ok(())
            }
        };
        nonempty("name", &self.name)?;
        nonempty("portal", &self.portal)?;
        if self.departments.is_empty() {
            return Err(key_error(
                format!("{at}.departments"),
                "list at least one department",
            ));
        }
        for (i, d) in self.departments.iter().enumerate() {
            nonempty(&format!("departments[{i}]"), d)?;
        }
        if self.licences == 0 {
            return Err(key_error(
                format!("{at}.licences"),
                "must be at least 1 (the portal's user licences)",
            ));
        }
        check_token_env(&format!("{at}.authtoken_env"), &self.authtoken_env)?;
        let daily_limit = match self.daily_limit {
            Some(0) => {
                return Err(key_error(
                    format!("{at}.daily_limit"),
                    "must be greater than 0",
                ))
            }
            Some(n) => n,
            None => self.edition.daily_limit(self.licences),
        };
        let reserve = self.reserve.check(&format!("{at}.reserve"), daily_limit)?;
        let data_time_zone: Tz = self.data_time_zone.parse().map_err(|_| {
            key_error(
                format!("{at}.data_time_zone"),
                format!("`{}` is not an IANA time zone name", self.data_time_zone),
            )
        })?;
        let mut modules = Vec::new();
        let mut module_schedules = Vec::new();
        let mut sweep_every_days = Vec::new();
        for (name, settings) in self.modules {
            let module = Module::parse(&name).ok_or_else(|| {
                key_error(
                    format!("{at}.modules.{name}"),
                    format!("unknown module `{name}`"),
                )
            })?;
            if modules.iter().any(|(m, _)| *m == module) {
                return Err(key_error(
                    format!("{at}.modules.{name}"),
                    "module listed twice",
                ));
            }
            modules.push((module, settings.priority));
            sweep_every_days.push((
                module,
                settings.sweep_every_days.unwrap_or(self.sweep_every_days),
            ));
            if let Some(text) = &settings.schedule {
                module_schedules.push((
                    module,
                    schedule(&format!("{at}.modules.{name}.schedule"), text)?,
                ));
            }
        }
        if modules.is_empty() {
            modules = Module::ALL.iter().map(|m| (*m, 1)).collect();
            sweep_every_days = Module::ALL
                .iter()
                .map(|m| (*m, self.sweep_every_days))
                .collect();
        }
        modules.sort_by_key(|(m, p)| (*p, *m));
        Ok(OrganisationConfig {
            name: self.name,
            portal: self.portal,
            departments: self.departments,
            edition: self.edition,
            licences: self.licences,
            daily_limit,
            reserve,
            token: TokenSource {
                env: self.authtoken_env,
                file: self.authtoken_file,
            },
            format: self.format,
            data_time_zone,
            day_rule: self.day_rule,
            modules,
            schedule: self
                .schedule
                .as_deref()
                .map(|text| schedule(&format!("{at}.schedule"), text))
                .transpose()?,
            module_schedules,
            sweep_every_days,
        })
    }
}

/// `authtoken_env` names a variable. A value that looks like an authtoken itself (32 hex
/// digits) is refused without being quoted: it would otherwise be echoed by the error
/// that says the variable is unset.
fn check_token_env(key: &str, name: &str) -> Result<(), ConfigError> {
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
