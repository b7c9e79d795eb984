//! What the Desk side of the emulator serves: organisations with an org id, a company
//! name, an edition (credits and concurrency, section 6.1), agents, departments, a self
//! client, records per module, the credit-reset zone and the search index lag. Built from
//! the built-in demo (one Free organisation `demo`) or the `[desk]` part of the emulator's
//! config file. A config that `validate` accepts has unique digit org ids, unique client
//! ids and refresh tokens, and at least one department and one agent per organisation, so
//! the running emulator's lookups are never ambiguous.

mod file;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono_tz::Tz;

use super::module::DeskModule;
use crate::emulator::seeds;
use crate::zoho::secret::Secret;

pub(crate) use file::RawDesk;

/// Records per module when the config names no count.
pub const DEFAULT_DESK_RECORDS: u64 = 3_000;
/// The demo organisation's fixed org id.
pub const DEMO_ORG_ID: &str = "20000000001";
/// Organisations one emulator serves at most: each gets its own block of ids.
pub const MAX_ORGS: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeskConfigError {
    #[error("desk organisation `{0}`: the org id must be 1 to 18 digits")]
    OrgId(String),
    #[error("desk organisation `{org}`: {problem}")]
    Organisation { org: String, problem: String },
    #[error("desk: {0}")]
    Desk(String),
}

/// A Zoho Desk edition (section 6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeskEdition {
    Free,
    Express,
    Standard,
    Professional,
    Enterprise,
}

impl DeskEdition {
    /// Base credits a day and credits per active non-light agent (section 6.1, D19).
    pub fn credits(self) -> (u32, u32) {
        match self {
            DeskEdition::Free => (5_000, 0),
            DeskEdition::Express => (25_000, 100),
            DeskEdition::Standard => (50_000, 250),
            DeskEdition::Professional => (75_000, 500),
            DeskEdition::Enterprise => (100_000, 1_000),
        }
    }

    /// Concurrent API calls allowed (section 6.1).
    pub fn concurrency(self) -> u32 {
        match self {
            DeskEdition::Free => 5,
            DeskEdition::Express | DeskEdition::Standard => 10,
            DeskEdition::Professional => 15,
            DeskEdition::Enterprise => 25,
        }
    }

    /// The edition as `GET /organizations` spells it.
    pub fn wire_name(self) -> &'static str {
        match self {
            DeskEdition::Free => "FREE",
            DeskEdition::Express => "EXPRESS",
            DeskEdition::Standard => "STANDARD",
            DeskEdition::Professional => "PROFESSIONAL",
            DeskEdition::Enterprise => "ENTERPRISE",
        }
    }
}

/// The self client of an organisation (section 2.1): secrets never formatted.
#[derive(Clone, Debug)]
pub struct SelfClientConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

/// One Desk organisation.
#[derive(Clone, Debug)]
pub struct DeskOrgConfig {
    /// Digits only (D7, D13).
    pub org_id: String,
    pub company_name: String,
    pub edition: DeskEdition,
    /// Active non-light agents: they earn credits and own records.
    pub agents: u32,
    pub departments: Vec<String>,
    pub self_client: SelfClientConfig,
    pub records: BTreeMap<DeskModule, u64>,
    pub default_records: u64,
    /// The zone whose midnight resets the credits (D19; default UTC).
    pub credit_zone: Tz,
    /// How long a write takes to become searchable (D16; default 0).
    pub index_lag: Duration,
    /// Credits bought on top of the edition's pool.
    pub add_on_credits: u32,
    /// Replaces the computed pool when set (tests of exhaustion).
    pub daily_credits: Option<u32>,
}

/// The Desk part of the emulator's configuration.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    pub organisations: Vec<DeskOrgConfig>,
}

impl Default for DeskConfig {
    /// One Free organisation `demo` with the fixed demo self client.
    fn default() -> Self {
        DeskConfig {
            organisations: vec![DeskOrgConfig::demo()],
        }
    }
}

impl SelfClientConfig {
    /// The fixed demo self client: the same on every run, printed by `zoho-sync emulator`.
    pub fn demo() -> SelfClientConfig {
        let key = seeds::text_key("zoho-sync-desk-demo");
        let hex = |salt: u64| seeds::token_hex(seeds::mix_all(&[key, salt]));
        SelfClientConfig {
            client_id: format!("1000.{}", hex(1).to_uppercase().get(..30).unwrap_or("")),
            client_secret: Secret::new(format!("{}{}", hex(2), hex(3).get(..10).unwrap_or(""))),
            refresh_token: Secret::new(format!("1000.{}.{}", hex(4), hex(5))),
        }
    }
}

impl DeskOrgConfig {
    /// The built-in demo: Free, 5,000 credits a day, five agents, department `Support`.
    pub fn demo() -> DeskOrgConfig {
        DeskOrgConfig::new(DEMO_ORG_ID, "demo", SelfClientConfig::demo())
    }

    /// A Free organisation with five agents, department `Support` and default records.
    pub fn new(org_id: &str, company_name: &str, self_client: SelfClientConfig) -> DeskOrgConfig {
        DeskOrgConfig {
            org_id: org_id.to_string(),
            company_name: company_name.to_string(),
            edition: DeskEdition::Free,
            agents: 5,
            departments: vec!["Support".to_string()],
            self_client,
            records: BTreeMap::new(),
            default_records: DEFAULT_DESK_RECORDS,
            credit_zone: chrono_tz::UTC,
            index_lag: Duration::ZERO,
            add_on_credits: 0,
            daily_credits: None,
        }
    }

    /// Credits per day: edition base + per agent × agents + add-ons, or the override.
    pub fn daily_credits(&self) -> u32 {
        self.daily_credits.unwrap_or_else(|| {
            let (base, per_agent) = self.edition.credits();
            base.saturating_add(per_agent.saturating_mul(self.agents))
                .saturating_add(self.add_on_credits)
        })
    }

    pub fn record_count(&self, module: DeskModule) -> u64 {
        self.records
            .get(&module)
            .copied()
            .unwrap_or(self.default_records)
    }
}

impl DeskConfig {
    /// `count` records in every module of every organisation; for tests.
    pub fn with_records(mut self, count: u64) -> DeskConfig {
        for org in &mut self.organisations {
            org.records.clear();
            org.default_records = count;
        }
        self
    }

    pub fn validate(&self) -> Result<(), DeskConfigError> {
        if self.organisations.len() > MAX_ORGS {
            return Err(DeskConfigError::Desk(format!(
                "at most {MAX_ORGS} organisations"
            )));
        }
        let mut ids = HashSet::new();
        let mut clients = HashSet::new();
        let mut tokens = HashSet::new();
        for org in &self.organisations {
            let digits = !org.org_id.is_empty()
                && org.org_id.len() <= 18
                && org.org_id.bytes().all(|b| b.is_ascii_digit());
            if !digits {
                return Err(DeskConfigError::OrgId(org.company_name.clone()));
            }
            let problem = |problem: &str| DeskConfigError::Organisation {
                org: org.org_id.clone(),
                problem: problem.to_string(),
            };
            if !ids.insert(org.org_id.trim_start_matches('0')) {
                return Err(problem("the org id appears twice"));
            }
            if org.agents == 0 || org.departments.is_empty() {
                return Err(problem("needs at least one agent and one department"));
            }
            let names: HashSet<_> = org.departments.iter().map(|d| d.trim()).collect();
            if names.len() != org.departments.len() || names.contains("") {
                return Err(problem("department names must be unique and non-empty"));
            }
            let client = &org.self_client;
            if client.client_id.trim().is_empty() || !clients.insert(client.client_id.clone()) {
                return Err(problem("the self client's id is empty or used twice"));
            }
            // Secrets are named by kind, never quoted.
            if client.refresh_token.is_empty()
                || client.client_secret.is_empty()
                || !tokens.insert(client.refresh_token.expose().to_string())
            {
                return Err(problem(
                    "the self client's secret or refresh token is empty or used twice",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_one_free_organisation_of_five_thousand_credits_with_a_fixed_client() {
        let config = DeskConfig::default();
        assert_eq!(config.validate(), Ok(()));
        let org = &config.organisations[0];
        assert_eq!(
            (org.org_id.as_str(), org.daily_credits()),
            (DEMO_ORG_ID, 5_000)
        );
        assert_eq!(org.edition.concurrency(), 5);
        let again = SelfClientConfig::demo();
        assert_eq!(org.self_client.client_id, again.client_id);
        assert_eq!(org.self_client.refresh_token, again.refresh_token);
        assert!(
            org.self_client.client_id.starts_with("1000.") && org.self_client.client_id.len() == 35
        );
        assert!(!format!("{config:?}").contains(again.refresh_token.expose()));
    }

    #[test]
    fn the_demo_self_client_is_the_one_the_readme_prints() {
        let client = SelfClientConfig::demo();
        assert_eq!(client.client_id, "1000.EE6EE17B4243C6616CA50901D39E11");
        assert_eq!(
            client.client_secret.expose(),
            "94ae65c7e7b271bc93d0546121ebbaeaf6e4402256"
        );
        assert_eq!(
            client.refresh_token.expose(),
            "1000.a63981f74a7d6286b10d6cd47af1f9e4.76936388598a423ebf8046b70eeadf36"
        );
    }

    #[test]
    fn the_pool_is_base_plus_credits_per_agent_plus_add_ons() {
        let mut org = DeskOrgConfig::demo();
        org.edition = DeskEdition::Professional;
        org.agents = 12;
        org.add_on_credits = 1_000;
        assert_eq!(org.daily_credits(), 75_000 + 12 * 500 + 1_000);
        org.daily_credits = Some(40);
        assert_eq!(org.daily_credits(), 40);
    }

    #[test]
    fn org_ids_must_be_digits_and_unique_and_secrets_are_never_quoted() {
        let mut config = DeskConfig::default();
        config.organisations[0].org_id = "12a".into();
        assert!(matches!(config.validate(), Err(DeskConfigError::OrgId(_))));
        let mut config = DeskConfig::default();
        let mut twin = DeskOrgConfig::demo();
        twin.self_client.client_id = "1000.OTHER".into();
        config.organisations.push(twin);
        let error = config.validate().map_err(|e| e.to_string()).unwrap_err();
        assert!(error.contains("appears twice"), "{error}");
        config.organisations[1].org_id = "5".into();
        let error = config.validate().map_err(|e| e.to_string()).unwrap_err();
        let token = SelfClientConfig::demo().refresh_token;
        assert!(error.contains("refresh token") && !error.contains(token.expose()));
    }
}
