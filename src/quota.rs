//! The rules of Zoho's daily API quota: how many requests an organisation may send per
//! day (by edition and licences) and which "day" a moment belongs to (the Pacific day,
//! with daylight saving unless configured to a fixed UTC-8). Pure functions of their
//! inputs; the emulator and the sync's ledger both count days with these, so they can
//! never disagree about when a day ends.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// A Zoho Support edition (Zoho's guide: Free, and the paid Express, Professional, Enterprise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    Free,
    Express,
    Professional,
    Enterprise,
}

impl Edition {
    /// Requests per day for an organisation of this edition with `licences` user licences:
    /// Free 250; paid 250 per licence, capped at 5,000 (Express, Professional) or 15,000
    /// (Enterprise).
    pub fn daily_limit(self, licences: u32) -> u32 {
        let per_licence = 250u32.saturating_mul(licences.max(1));
        match self {
            Edition::Free => 250,
            Edition::Express | Edition::Professional => per_licence.min(5_000),
            Edition::Enterprise => per_licence.min(15_000),
        }
    }
}

impl FromStr for Edition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Ok(Edition::Free),
            "express" => Ok(Edition::Express),
            "professional" => Ok(Edition::Professional),
            "enterprise" => Ok(Edition::Enterprise),
            _ => Err(format!(
                "unknown edition `{s}` (expected free, express, professional or enterprise)"
            )),
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Edition::Free => "free",
            Edition::Express => "express",
            Edition::Professional => "professional",
            Edition::Enterprise => "enterprise",
        };
        f.write_str(name)
    }
}

/// A Zoho Desk edition: its daily API credits (a base plus some per agent) and how many
/// calls it takes at once (contract §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeskEdition {
    Free,
    Express,
    Standard,
    Professional,
    Enterprise,
}

impl DeskEdition {
    /// Credits per day with `agents` active, non-light agents (add-ons not counted).
    pub fn daily_credits(self, agents: u32) -> u32 {
        let (base, per_agent): (u32, u32) = match self {
            DeskEdition::Free => (5_000, 0),
            DeskEdition::Express => (25_000, 100),
            DeskEdition::Standard => (50_000, 250),
            DeskEdition::Professional => (75_000, 500),
            DeskEdition::Enterprise => (100_000, 1_000),
        };
        per_agent.saturating_mul(agents).saturating_add(base)
    }

    /// Calls the edition takes at once; more are refused with `TOO_MANY_REQUESTS`.
    pub fn concurrency(self) -> u32 {
        match self {
            DeskEdition::Free => 5,
            DeskEdition::Express | DeskEdition::Standard => 10,
            DeskEdition::Professional => 15,
            DeskEdition::Enterprise => 25,
        }
    }
}

impl FromStr for DeskEdition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "free" | "trial" => Ok(DeskEdition::Free),
            "express" => Ok(DeskEdition::Express),
            "standard" => Ok(DeskEdition::Standard),
            "professional" => Ok(DeskEdition::Professional),
            "enterprise" => Ok(DeskEdition::Enterprise),
            _ => Err(format!(
                "unknown Zoho Desk edition `{s}` (expected free, express, standard, professional or enterprise)"
            )),
        }
    }
}

/// How the quota day is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayRule {
    /// Midnight in America/Los_Angeles, daylight saving honoured (the contract's default).
    #[default]
    Pacific,
    /// Midnight at a fixed UTC-8, all year.
    FixedUtcMinus8,
    /// Midnight in this zone (Zoho Desk: the data centre's zone).
    #[serde(skip)]
    Midnight(Tz),
}

impl DayRule {
    /// The quota day that `at` falls in.
    pub fn day_of(self, at: DateTime<Utc>) -> NaiveDate {
        match self {
            DayRule::Pacific => at.with_timezone(&Los_Angeles).date_naive(),
            DayRule::Midnight(zone) => at.with_timezone(&zone).date_naive(),
            DayRule::FixedUtcMinus8 => (at - Duration::hours(8)).date_naive(),
        }
    }

    /// The first instant of quota day `day`.
    pub fn start_of(self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        match self {
            // Pacific midnight always exists and is never ambiguous (the switches happen
            // at 02:00), but fall back to the earliest reading to stay total.
            DayRule::Pacific => Los_Angeles
                .from_local_datetime(&midnight)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight) + Duration::hours(8)),
            DayRule::FixedUtcMinus8 => Utc.from_utc_datetime(&midnight) + Duration::hours(8),
            // A zone may skip midnight (a daylight-saving switch at 00:00): the day then
            // starts at the first instant after the gap.
            DayRule::Midnight(zone) => (0..=120)
                .find_map(|minutes| {
                    let local = midnight + Duration::minutes(minutes);
                    zone.from_local_datetime(&local).earliest()
                })
                .map_or_else(
                    || Utc.from_utc_datetime(&midnight),
                    |t| t.with_timezone(&Utc),
                ),
        }
    }

    /// The instant the quota next resets after `at`.
    pub fn next_reset(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let day = self.day_of(at);
        self.start_of(day.succ_opt().unwrap_or(day))
    }
}

/// An organisation's share of each quota day: the units it may spend (the day's limit
/// less the reserve kept for its other integrations) and how its days are counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub organisation: String,
    pub per_day: u32,
    pub rule: DayRule,
    /// Units kept for the organisation's other integrations: when the server says no
    /// more than this is left today, the day is spent for us.
    pub reserve: u32,
}

/// A quota day as it stands: units used and left, and when the day resets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaToday {
    pub used: u32,
    pub left: u32,
    pub resets_at: DateTime<Utc>,
}

impl Budget {
    /// The day `now` falls in, given the units used on it and whether the server said
    /// it is spent: the one place "used and left today" is worked out.
    pub fn today(&self, used: u32, spent: bool, now: DateTime<Utc>) -> QuotaToday {
        QuotaToday {
            used,
            left: if spent {
                0
            } else {
                self.per_day.saturating_sub(used)
            },
            resets_at: self.rule.next_reset(now),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn desk_credits_are_the_base_plus_each_agents_share() {
        use super::DeskEdition::*;
        assert_eq!(Free.daily_credits(40), 5_000);
        assert_eq!(Professional.daily_credits(12), 81_000);
        assert_eq!(Enterprise.daily_credits(3), 103_000);
        assert_eq!(Express.concurrency(), 10);
        assert_eq!("Trial".parse::<super::DeskEdition>(), Ok(Free));
        assert!("gold".parse::<super::DeskEdition>().is_err());
    }

    #[test]
    fn a_zones_midnight_starts_its_day_even_when_daylight_saving_skips_it() {
        use chrono::TimeZone;
        // Santiago skips from 00:00 to 01:00 on its spring switch.
        let rule = super::DayRule::Midnight(chrono_tz::America::Santiago);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = rule.start_of(day);
        assert_eq!(rule.day_of(start), day);
        let utc = super::DayRule::Midnight(chrono_tz::UTC);
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 23, 59, 59)
            .unwrap();
        assert_eq!(
            utc.next_reset(at),
            chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
    }

    use super::*;

    #[test]
    fn limits_follow_the_edition_rules_of_the_guide() {
        assert_eq!(Edition::Free.daily_limit(40), 250);
        assert_eq!(Edition::Professional.daily_limit(3), 750);
        assert_eq!(Edition::Express.daily_limit(100), 5_000);
        assert_eq!(Edition::Enterprise.daily_limit(100), 15_000);
        assert_eq!(Edition::Enterprise.daily_limit(0), 250);
    }

    #[test]
    fn the_pacific_day_follows_daylight_saving() {
        let rule = DayRule::Pacific;
        // Summer: PDT is UTC-7, so 06:59 UTC is still the previous Pacific day.
        let summer = Utc.with_ymd_and_hms(2026, 7, 2, 6, 59, 0).unwrap();
        assert_eq!(
            rule.day_of(summer),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
        assert_eq!(
            rule.next_reset(summer),
            Utc.with_ymd_and_hms(2026, 7, 2, 7, 0, 0).unwrap()
        );
        // Winter: PST is UTC-8.
        let winter = Utc.with_ymd_and_hms(2026, 12, 2, 7, 30, 0).unwrap();
        assert_eq!(
            rule.day_of(winter),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        // The day of the spring switch is 23 hours long.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let len = rule.start_of(spring.succ_opt().unwrap()) - rule.start_of(spring);
        assert_eq!(len, Duration::hours(23));
    }

    #[test]
    fn fixed_utc_minus_8_ignores_daylight_saving() {
        let rule = DayRule::FixedUtcMinus8;
        let summer = Utc.with_ymd_and_hms(2026, 7, 2, 7, 30, 0).unwrap();
        assert_eq!(
            rule.day_of(summer),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
    }
}
