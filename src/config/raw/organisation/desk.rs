//! A Zoho Desk organisation's keys (`api = "desk"`) and their check: the data centre, the
//! organisation id, the self client (its id inline; its secret and refresh token only
//! from the environment or a file, never the config file), the edition and agents that
//! set the day's credits, the zone the credit day starts in, and overrides of the Desk and
//! Accounts URLs (the emulator). Keys of the legacy API are refused. Modules are the
//! Desk modules read by search (the default), and, when listed, those read as a whole
//! list or per agent.

use url::Url;

use super::super::super::{key_error, ConfigError, DeskConfig, SourceConfig, TokenSource};
use super::{check_token_env, nonempty, refuse_keys, Organisation, Reserve, Settled};
use crate::desk::dc::{DataCentre, Endpoints};
use crate::desk::module::DeskModule;
use crate::quota::{DayRule, DeskEdition};
use crate::stream::Module;

/// The reserve of a Desk organisation unless one is written: credits are shared with the
/// organisation's other integrations (D22).
const DEFAULT_RESERVE: &str = "30%";

/// Settles a Desk organisation's own keys.
pub(super) fn check(org: &mut Organisation, at: &str) -> Result<Settled, ConfigError> {
    refuse_keys(
        at,
        "the legacy Zoho Support API (api = \"support\")",
        support_keys(org),
    )?;
    let dc_text = nonempty(at, "dc", org.dc.take())?;
    let dc: DataCentre = dc_text
        .parse()
        .map_err(|e: String| key_error(format!("{at}.dc"), e))?;
    let org_id = nonempty(at, "org_id", org.org_id.take())?;
    if !org_id.bytes().all(|b| b.is_ascii_digit()) || org_id.len() > 19 {
        return Err(key_error(
            format!("{at}.org_id"),
            "must be the organisation's id: digits (GET /api/v1/organizations lists it)",
        ));
    }
    let client_id = nonempty(at, "client_id", org.client_id.take())?;
    let secret_env = org
        .client_secret_env
        .take()
        .unwrap_or_else(|| "ZOHO_CLIENT_SECRET".into());
    check_token_env(&format!("{at}.client_secret_env"), &secret_env)?;
    let refresh_env = org
        .refresh_token_env
        .take()
        .unwrap_or_else(|| "ZOHO_REFRESH_TOKEN".into());
    check_token_env(&format!("{at}.refresh_token_env"), &refresh_env)?;
    let edition: DeskEdition = org
        .edition
        .parse()
        .map_err(|e: String| key_error(format!("{at}.edition"), e))?;
    let agents = org.agents.unwrap_or(1);
    let endpoints = Endpoints::with_overrides(
        dc,
        url(at, "base_url", org.base_url.take())?,
        url(at, "accounts_url", org.accounts_url.take())?,
    );
    let zone_text = org.credit_day_zone.take().unwrap_or_else(|| "UTC".into());
    let zone: chrono_tz::Tz = zone_text.parse().map_err(|_| {
        key_error(
            format!("{at}.credit_day_zone"),
            format!("`{zone_text}` is not an IANA time zone name"),
        )
    })?;
    Ok(Settled {
        portal: org_id.clone(),
        departments: vec![String::new()],
        edition_limit: edition.daily_credits(agents),
        day_rule: DayRule::Midnight(zone),
        default_reserve: Reserve::Text(DEFAULT_RESERVE.into()),
        source: SourceConfig::Desk(Box::new(DeskConfig {
            dc,
            org_id,
            client_id,
            client_secret: TokenSource {
                env: secret_env,
                file: org.client_secret_file.take(),
                what: "client_secret",
            },
            refresh_token: TokenSource {
                env: refresh_env,
                file: org.refresh_token_file.take(),
                what: "refresh_token",
            },
            edition,
            agents,
            desk_url: endpoints.desk,
            accounts_url: endpoints.accounts,
        })),
    })
}

/// A Desk module of the organisation's `modules` table; `None` for an unknown name.
pub(super) fn module(name: &str) -> Option<Module> {
    DeskModule::parse(name).map(Module::Desk)
}

/// The modules mirrored when none is listed: those read by search. The others cost more
/// each round (contracts, agents and departments are read as a whole list; time entries
/// per agent), so they are mirrored when listed, ideally with a `schedule` of their own.
pub(super) fn default_modules() -> Vec<Module> {
    DeskModule::ALL
        .into_iter()
        .filter(|m| m.has_search())
        .map(Module::Desk)
        .collect()
}

fn url(at: &str, key: &str, text: Option<String>) -> Result<Option<Url>, ConfigError> {
    text.map(|t| {
        Url::parse(&t)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| key_error(format!("{at}.{key}"), "must be an http or https URL"))
    })
    .transpose()
}

/// The first Desk key written for an organisation of the legacy API.
pub(super) fn keys_present(org: &Organisation) -> Option<&'static str> {
    [
        ("dc", org.dc.is_some()),
        ("org_id", org.org_id.is_some()),
        ("client_id", org.client_id.is_some()),
        ("client_secret_env", org.client_secret_env.is_some()),
        ("client_secret_file", org.client_secret_file.is_some()),
        ("refresh_token_env", org.refresh_token_env.is_some()),
        ("refresh_token_file", org.refresh_token_file.is_some()),
        ("agents", org.agents.is_some()),
        ("base_url", org.base_url.is_some()),
        ("accounts_url", org.accounts_url.is_some()),
        ("credit_day_zone", org.credit_day_zone.is_some()),
    ]
    .into_iter()
    .find_map(|(key, present)| present.then_some(key))
}

/// The first legacy key written for a Desk organisation.
fn support_keys(org: &Organisation) -> Option<&'static str> {
    [
        ("portal", org.portal.is_some()),
        ("departments", org.departments.is_some()),
        ("licences", org.licences.is_some()),
        ("authtoken_env", org.authtoken_env.is_some()),
        ("authtoken_file", org.authtoken_file.is_some()),
        ("format", org.format.is_some()),
        ("data_time_zone", org.data_time_zone.is_some()),
        ("day_rule", org.day_rule.is_some()),
    ]
    .into_iter()
    .find_map(|(key, present)| present.then_some(key))
}
