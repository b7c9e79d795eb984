//! The `[desk]` part of the emulator's config file as written (TOML or JSON, same keys),
//! decoded into the checked `DeskConfig`: module names, editions and zones become typed
//! values here, unknown keys are errors, and everything left out takes the default. A
//! file without `[[desk.organisations]]` serves the demo organisation.
//!
//! ```toml
//! [[desk.organisations]]
//! org_id = "20071234567"
//! company_name = "Acme"
//! edition = "professional"          # free | express | standard | professional | enterprise
//! agents = 12
//! departments = ["Support", "Sales"]
//! credit_zone = "Europe/Berlin"     # whose midnight resets the credits (default UTC)
//! index_lag_secs = 60               # a write becomes searchable after this (default 0)
//! default_records = 3000
//! records = { tickets = 1000000, contacts = 500 }
//! add_on_credits = 0
//! # daily_credits = 300             # replaces the computed pool
//! [desk.organisations.self_client]
//! client_id = "1000.ABC"
//! client_secret = "s3cret"
//! refresh_token = "1000.aa.bb"
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono_tz::Tz;

use super::{DeskConfig, DeskEdition, DeskOrgConfig, SelfClientConfig};
use crate::emulator::desk::module::DeskModule;
use crate::zoho::secret::Secret;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDesk {
    #[serde(default)]
    organisations: Vec<RawOrg>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    org_id: String,
    company_name: Option<String>,
    edition: Option<DeskEdition>,
    agents: Option<u32>,
    departments: Option<Vec<String>>,
    self_client: Option<RawClient>,
    default_records: Option<u64>,
    #[serde(default)]
    records: BTreeMap<String, u64>,
    credit_zone: Option<String>,
    index_lag_secs: Option<u64>,
    add_on_credits: Option<u32>,
    daily_credits: Option<u32>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
}

impl RawDesk {
    /// The checked config; the error names the organisation and the problem.
    pub(crate) fn decode(self) -> Result<DeskConfig, String> {
        if self.organisations.is_empty() {
            return Ok(DeskConfig::default());
        }
        let organisations = self
            .organisations
            .into_iter()
            .map(organisation)
            .collect::<Result<_, _>>()?;
        Ok(DeskConfig { organisations })
    }
}

fn organisation(raw: RawOrg) -> Result<DeskOrgConfig, String> {
    let name = raw.company_name.unwrap_or_else(|| raw.org_id.clone());
    let client = match raw.self_client {
        Some(c) => SelfClientConfig {
            client_id: c.client_id,
            client_secret: c.client_secret,
            refresh_token: c.refresh_token,
        },
        None => {
            return Err(format!(
                "desk organisation `{}` has no self_client",
                raw.org_id
            ))
        }
    };
    let mut org = DeskOrgConfig::new(&raw.org_id, &name, client);
    org.edition = raw.edition.unwrap_or(org.edition);
    org.agents = raw.agents.unwrap_or(org.agents);
    if let Some(departments) = raw.departments {
        org.departments = departments;
    }
    org.default_records = raw.default_records.unwrap_or(org.default_records);
    for (module, count) in raw.records {
        let parsed = DeskModule::parse(&module)
            .ok_or_else(|| format!("desk organisation `{}`: no module `{module}`", raw.org_id))?;
        org.records.insert(parsed, count);
    }
    if let Some(zone) = raw.credit_zone {
        org.credit_zone = zone.parse::<Tz>().map_err(|_| {
            format!(
                "desk organisation `{}`: unknown time zone `{zone}`",
                raw.org_id
            )
        })?;
    }
    org.index_lag = Duration::from_secs(raw.index_lag_secs.unwrap_or(0));
    org.add_on_credits = raw.add_on_credits.unwrap_or(0);
    org.daily_credits = raw.daily_credits;
    Ok(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DeskConfig, String> {
        #[derive(serde::Deserialize)]
        struct Wrapper {
            desk: RawDesk,
        }
        let wrapper: Wrapper = toml::from_str(text).map_err(|e| e.to_string())?;
        wrapper.desk.decode()
    }

    #[test]
    fn an_organisation_reads_every_key_and_defaults_the_rest() {
        let text = r#"
            [[desk.organisations]]
            org_id = "20071234567"
            company_name = "Acme"
            edition = "standard"
            agents = 3
            departments = ["Support", "Sales"]
            credit_zone = "Asia/Kolkata"
            index_lag_secs = 60
            records = { tickets = 10, timeEntry = 2 }
            [desk.organisations.self_client]
            client_id = "1000.ABC"
            client_secret = "s3cret"
            refresh_token = "1000.aa.bb"
        "#;
        let config = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let org = &config.organisations[0];
        assert_eq!(org.daily_credits(), 50_000 + 3 * 250);
        assert_eq!(org.credit_zone, chrono_tz::Asia::Kolkata);
        assert_eq!(org.index_lag, Duration::from_secs(60));
        assert_eq!(org.record_count(DeskModule::Tickets), 10);
        assert_eq!(org.record_count(DeskModule::TimeEntry), 2);
        assert_eq!(
            org.record_count(DeskModule::Calls),
            super::super::DEFAULT_DESK_RECORDS
        );
        assert_eq!(org.self_client.refresh_token.expose(), "1000.aa.bb");
    }

    #[test]
    fn unknown_keys_modules_zones_and_editions_are_errors() {
        let org = |extra: &str| {
            format!("[[desk.organisations]]\norg_id = \"1\"\n{extra}\n[desk.organisations.self_client]\nclient_id = \"c\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n")
        };
        assert!(parse(&org("colour = 1")).is_err());
        assert!(parse(&org("records = { requests = 1 }"))
            .unwrap_err()
            .contains("requests"));
        assert!(parse(&org("credit_zone = \"Mars/Base\""))
            .unwrap_err()
            .contains("Mars"));
        assert!(parse(&org("edition = \"gold\"")).is_err());
        assert!(parse("[[desk.organisations]]\norg_id = \"1\"")
            .unwrap_err()
            .contains("self_client"));
    }
}
