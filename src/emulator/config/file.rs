//! The emulator config file as written (TOML or JSON, same keys), decoded into the checked
//! `EmulatorConfig`: module names and zones become typed values here, unknown keys are
//! errors, and everything left out takes the built-in default. A file without portals
//! serves the default demo portal.
//!
//! ```toml
//! seed = 7
//! start = "2026-03-08T09:00:00Z"   # emulated time at start
//! latency_ms = 0
//! fault_delay_secs = 60
//! [[portals]]
//! name = "acme"
//! departments = ["Support", "Sales Desk"]
//! edition = "professional"
//! licences = 4                     # or daily_limit = 1000
//! day_rule = "pacific"             # or "fixed-utc-minus8"
//! zone = "Europe/Berlin"
//! default_records = 3000
//! records = { requests = 100000 }
//! custom_fields = { requests = [{ label = "Region", kind = "picklist", options = ["EU"] }] }
//! [[portals.users]]
//! email = "admin@acme.example"
//! password = "s3cret"
//! admin = true
//! tokens = ["0123456789abcdef0123456789abcdef"]
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{EmulatorConfig, PortalConfig, UserConfig};
use crate::emulator::desk::config::RawDesk;
use crate::emulator::store::CustomField;
use crate::quota::{DayRule, Edition};
use crate::zoho::module::Module;
use crate::zoho::secret::Secret;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    seed: Option<u64>,
    start: Option<DateTime<Utc>>,
    latency_ms: Option<u64>,
    fault_delay_secs: Option<u64>,
    max_tokens_per_user: Option<usize>,
    log_capacity: Option<usize>,
    #[serde(default)]
    portals: Vec<RawPortal>,
    #[serde(default)]
    desk: RawDesk,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPortal {
    name: String,
    departments: Option<Vec<String>>,
    edition: Option<Edition>,
    licences: Option<u32>,
    daily_limit: Option<u32>,
    day_rule: Option<DayRule>,
    zone: Option<String>,
    default_records: Option<u64>,
    #[serde(default)]
    records: BTreeMap<String, u64>,
    #[serde(default)]
    custom_fields: BTreeMap<String, Vec<CustomField>>,
    #[serde(default)]
    users: Vec<RawUser>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    email: String,
    name: Option<String>,
    password: Secret,
    #[serde(default = "yes")]
    confirmed: bool,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    two_factor: bool,
    app_password: Option<Secret>,
    #[serde(default)]
    tokens: Vec<Secret>,
    #[serde(default)]
    broken: bool,
}

fn yes() -> bool {
    true
}

/// Parses the text of a config file; the error says what and where.
pub(super) fn parse(text: &str, is_json: bool) -> Result<EmulatorConfig, String> {
    let raw: RawConfig = if is_json {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else {
        toml::from_str(text).map_err(|e| e.to_string())?
    };
    let default = EmulatorConfig::default();
    let portals = if raw.portals.is_empty() {
        default.portals
    } else {
        raw.portals
            .into_iter()
            .map(portal)
            .collect::<Result<_, _>>()?
    };
    Ok(EmulatorConfig {
        seed: raw.seed.unwrap_or(default.seed),
        start: raw.start,
        latency: raw
            .latency_ms
            .map_or(default.latency, Duration::from_millis),
        fault_delay: raw
            .fault_delay_secs
            .map_or(default.fault_delay, Duration::from_secs),
        max_tokens_per_user: raw
            .max_tokens_per_user
            .unwrap_or(default.max_tokens_per_user),
        log_capacity: raw.log_capacity.unwrap_or(default.log_capacity),
        portals,
        desk: raw.desk.decode()?,
    })
}

fn portal(raw: RawPortal) -> Result<PortalConfig, String> {
    let mut portal = PortalConfig::new(raw.name);
    if let Some(departments) = raw.departments {
        portal.departments = departments;
    }
    portal.edition = raw.edition.unwrap_or(portal.edition);
    portal.licences = raw.licences.unwrap_or(portal.licences);
    portal.daily_limit = raw.daily_limit;
    portal.day_rule = raw.day_rule.unwrap_or(portal.day_rule);
    if let Some(zone) = raw.zone {
        portal.zone = zone
            .parse::<Tz>()
            .map_err(|_| format!("portal `{}`: unknown time zone `{zone}`", portal.name))?;
    }
    portal.default_records = raw.default_records.unwrap_or(portal.default_records);
    portal.records = by_module(raw.records)?;
    portal.custom_fields = by_module(raw.custom_fields)?;
    portal.users = raw.users.into_iter().map(user).collect();
    Ok(portal)
}

fn by_module<T>(raw: BTreeMap<String, T>) -> Result<BTreeMap<Module, T>, String> {
    raw.into_iter()
        .map(|(name, value)| {
            let module = name.parse::<Module>().map_err(|e| e.to_string())?;
            Ok((module, value))
        })
        .collect()
}

fn user(raw: RawUser) -> UserConfig {
    UserConfig {
        email: raw.email,
        name: raw.name,
        password: raw.password,
        confirmed: raw.confirmed,
        admin: raw.admin,
        two_factor: raw.two_factor,
        app_password: raw.app_password,
        tokens: raw.tokens,
        broken: raw.broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::store::FieldKind;

    const TOML: &str = r#"
        seed = 7
        start = "2026-03-08T09:00:00Z"
        latency_ms = 5
        [[portals]]
        name = "acme"
        departments = ["Support", "Sales Desk"]
        edition = "professional"
        licences = 4
        day_rule = "fixed-utc-minus8"
        zone = "Europe/Berlin"
        default_records = 10
        records = { Cases = 100 }
        custom_fields = { requests = [{ label = "Region", kind = "picklist", options = ["EU"] }] }
        [[portals.users]]
        email = "admin@acme.example"
        password = "s3cret"
        admin = true
        tokens = ["0123"]
    "#;

    #[test]
    fn a_toml_file_fills_every_setting_and_defaults_the_rest() {
        let config = parse(TOML, false).unwrap();
        assert_eq!((config.seed, config.latency), (7, Duration::from_millis(5)));
        assert!(config.start.is_some());
        let portal = &config.portals[0];
        assert_eq!(portal.limit(), 1_000);
        assert_eq!(portal.day_rule, DayRule::FixedUtcMinus8);
        assert_eq!(portal.zone, chrono_tz::Europe::Berlin);
        assert_eq!(portal.record_count(Module::Requests), 100);
        assert_eq!(portal.record_count(Module::Tasks), 10);
        let fields = &portal.custom_fields[&Module::Requests];
        assert!(matches!(&fields[0].kind, FieldKind::Picklist { options } if options.len() == 1));
        let user = &portal.users[0];
        assert!(user.admin && user.confirmed && !user.two_factor);
        assert_eq!(user.tokens[0].expose(), "0123");
    }

    #[test]
    fn json_works_too_and_an_empty_file_is_the_demo() {
        let config = parse(r#"{"seed": 3}"#, true).unwrap();
        assert_eq!(config.seed, 3);
        assert_eq!(config.portals[0].name, "demo");
    }

    #[test]
    fn unknown_keys_modules_and_zones_are_errors() {
        assert!(parse("sede = 1", false).is_err());
        let bad_module = "[[portals]]\nname = \"a\"\nrecords = { tickets = 1 }";
        assert!(parse(bad_module, false).unwrap_err().contains("tickets"));
        let bad_zone = "[[portals]]\nname = \"a\"\nzone = \"Mars/Base\"";
        assert!(parse(bad_zone, false).unwrap_err().contains("Mars/Base"));
    }
}
