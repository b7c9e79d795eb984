//! The data centres of Zoho Desk (contract section 1): each pins an organisation to one
//! Desk API host and one Zoho Accounts host, and a token from one data centre is refused
//! by another's API. `DataCentre` is parsed from text (the `dc` setting, `--dc`) and is
//! the only source of the production hosts; `Endpoints` adds the overrides the emulator
//! needs. Routing never follows a token reply's `api_domain` (D1): it is only compared
//! with the data centre, for a warning.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// One Zoho data centre that serves Zoho Desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataCentre {
    Us,
    Eu,
    In,
    Au,
    Jp,
    Ca,
    Cn,
    Sa,
    Sg,
    Ae,
}

impl DataCentre {
    pub const ALL: [DataCentre; 10] = [
        DataCentre::Us,
        DataCentre::Eu,
        DataCentre::In,
        DataCentre::Au,
        DataCentre::Jp,
        DataCentre::Ca,
        DataCentre::Cn,
        DataCentre::Sa,
        DataCentre::Sg,
        DataCentre::Ae,
    ];

    /// The setting's spelling: `us`, `eu`, ...
    pub fn code(self) -> &'static str {
        match self {
            DataCentre::Us => "us",
            DataCentre::Eu => "eu",
            DataCentre::In => "in",
            DataCentre::Au => "au",
            DataCentre::Jp => "jp",
            DataCentre::Ca => "ca",
            DataCentre::Cn => "cn",
            DataCentre::Sa => "sa",
            DataCentre::Sg => "sg",
            DataCentre::Ae => "ae",
        }
    }

    /// The domain after `desk.` and `accounts.` (`zoho.eu`, `zohocloud.ca`, ...).
    fn domain(self) -> &'static str {
        match self {
            DataCentre::Us => "zoho.com",
            DataCentre::Eu => "zoho.eu",
            DataCentre::In => "zoho.in",
            DataCentre::Au => "zoho.com.au",
            DataCentre::Jp => "zoho.jp",
            // Canada's hosts are under `zohocloud.ca`, not `zoho.ca`.
            DataCentre::Ca => "zohocloud.ca",
            DataCentre::Cn => "zoho.com.cn",
            DataCentre::Sa => "zoho.sa",
            DataCentre::Sg => "zoho.sg",
            DataCentre::Ae => "zoho.ae",
        }
    }

    /// The Desk API host (`desk.zoho.eu`).
    pub fn desk_host(self) -> String {
        format!("desk.{}", self.domain())
    }

    /// The Zoho Accounts host (`accounts.zoho.eu`).
    pub fn accounts_host(self) -> String {
        format!("accounts.{}", self.domain())
    }

    /// Whether a token reply's `api_domain` (`https://www.zohoapis.eu`) belongs to this
    /// data centre: its host ends in this data centre's top-level suffix.
    pub fn matches_api_domain(self, api_domain: &str) -> bool {
        let host = Url::parse(api_domain)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let suffix = self.domain().split_once('.').map_or("", |(_, tld)| tld);
        host.is_some_and(|h| h.ends_with(&format!(".{suffix}")))
    }
}

impl fmt::Display for DataCentre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DataCentre {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        DataCentre::ALL
            .into_iter()
            .find(|dc| dc.code() == lower)
            .ok_or_else(|| {
                let codes: Vec<&str> = DataCentre::ALL.iter().map(|dc| dc.code()).collect();
                format!(
                    "unknown Zoho data centre `{}` (one of {}; Zoho Desk has no UK data centre)",
                    s.chars().take(32).collect::<String>(),
                    codes.join(", ")
                )
            })
    }
}

/// Where one organisation's requests go: the Desk API root and Zoho Accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Scheme and host (and an optional path prefix) of the Desk API; `/api/v1` is
    /// appended by the client.
    pub desk: Url,
    /// Scheme and host (and an optional path prefix) of Zoho Accounts; `/oauth/v2/token`
    /// is appended.
    pub accounts: Url,
}

impl Endpoints {
    /// The production hosts of a data centre.
    pub fn of(dc: DataCentre) -> Endpoints {
        let url = |host: String| {
            Url::parse(&format!("https://{host}")).expect("a data centre's host is a valid URL")
        };
        Endpoints {
            desk: url(dc.desk_host()),
            accounts: url(dc.accounts_host()),
        }
    }

    /// A data centre's hosts with either replaced (the emulator, a proxy).
    pub fn with_overrides(dc: DataCentre, desk: Option<Url>, accounts: Option<Url>) -> Endpoints {
        let hosts = Endpoints::of(dc);
        Endpoints {
            desk: desk.unwrap_or(hosts.desk),
            accounts: accounts.unwrap_or(hosts.accounts),
        }
    }
}

/// `base` with `segments` appended to its path (keeping any prefix), without query or
/// fragment; `None` if the URL cannot take a path.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Option<Url> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(segments);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_centre_has_its_contract_hosts() {
        let expected = [
            ("us", "desk.zoho.com", "accounts.zoho.com"),
            ("eu", "desk.zoho.eu", "accounts.zoho.eu"),
            ("in", "desk.zoho.in", "accounts.zoho.in"),
            ("au", "desk.zoho.com.au", "accounts.zoho.com.au"),
            ("jp", "desk.zoho.jp", "accounts.zoho.jp"),
            ("ca", "desk.zohocloud.ca", "accounts.zohocloud.ca"),
            ("cn", "desk.zoho.com.cn", "accounts.zoho.com.cn"),
            ("sa", "desk.zoho.sa", "accounts.zoho.sa"),
            ("sg", "desk.zoho.sg", "accounts.zoho.sg"),
            ("ae", "desk.zoho.ae", "accounts.zoho.ae"),
        ];
        for (code, desk, accounts) in expected {
            let dc: DataCentre = code.parse().unwrap();
            assert_eq!(
                (dc.desk_host(), dc.accounts_host()),
                (desk.into(), accounts.into())
            );
            let endpoints = Endpoints::of(dc);
            assert_eq!(endpoints.desk.as_str(), format!("https://{desk}/"));
        }
    }

    #[test]
    fn data_centres_parse_in_any_case_and_unknown_ones_are_named_briefly() {
        assert_eq!(" EU ".parse::<DataCentre>(), Ok(DataCentre::Eu));
        let err = "uk".parse::<DataCentre>().unwrap_err();
        assert!(err.contains("`uk`") && err.contains("no UK"), "{err}");
        assert!("x".repeat(5000).parse::<DataCentre>().unwrap_err().len() < 200);
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let emulator = Url::parse("http://127.0.0.1:8089").unwrap();
        let e = Endpoints::with_overrides(DataCentre::Eu, None, Some(emulator.clone()));
        assert_eq!(e.accounts, emulator);
        assert_eq!(e.desk.host_str(), Some("desk.zoho.eu"));
    }

    #[test]
    fn api_domains_are_checked_against_the_data_centres_suffix() {
        assert!(DataCentre::Eu.matches_api_domain("https://www.zohoapis.eu"));
        assert!(DataCentre::Au.matches_api_domain("https://www.zohoapis.com.au"));
        assert!(!DataCentre::Eu.matches_api_domain("https://www.zohoapis.com"));
        assert!(DataCentre::Ca.matches_api_domain("https://www.zohoapis.ca"));
        assert!(!DataCentre::Us.matches_api_domain("not a url"));
    }

    #[test]
    fn paths_are_appended_after_any_prefix() {
        let base = Url::parse("http://127.0.0.1:9/desk/?x=1#f").unwrap();
        let url = join(&base, &["api", "v1", "tickets"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/desk/api/v1/tickets");
        assert!(join(&Url::parse("mailto:a@b").unwrap(), &["x"]).is_none());
    }
}
