//! The parameters of one record-API request, decoded at the edge. Query string and form
//! body are merged (a body value overrides the query's), names are matched ignoring case,
//! and every option of the read methods is checked here into a typed value; a value that
//! does not decode is a `BadParam` naming the parameter as the contract spells it, which
//! the caller answers with 4600.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::zoho::module::Module;

/// The most rows one read may ask for (contract section 0).
pub const MAX_WINDOW: usize = 200;
const DEFAULT_FROM: usize = 1;
const DEFAULT_TO: usize = 20;

/// A parameter that is missing or whose value is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadParam(pub &'static str);

/// All parameters of a request, names lower-cased.
#[derive(Clone, Default)]
pub struct Params(HashMap<String, String>);

/// Lists the names only: values include the authtoken.
impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_tuple("Params").field(&names).finish()
    }
}

impl Params {
    /// Merges the query string and a form-encoded body.
    pub fn merge(query: Option<&str>, body: &[u8]) -> Params {
        let mut all = HashMap::new();
        let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .chain(url::form_urlencoded::parse(body));
        for (name, value) in pairs {
            all.insert(name.to_lowercase(), value.into_owned());
        }
        Params(all)
    }

    /// The value of a parameter (`name` in lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter that must be present and non-empty; `spelled` names it in errors.
    pub fn required(&self, spelled: &'static str) -> Result<&str, BadParam> {
        self.get(&spelled.to_lowercase())
            .filter(|v| !v.trim().is_empty())
            .ok_or(BadParam(spelled))
    }
}

/// The 1-based, inclusive row window of a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: usize,
    pub to: usize,
}

/// Which fields a read returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    All,
    /// Labels as the client spelled them; resolved against the store by the caller.
    Fields(Vec<String>),
}

/// The options every read shares.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub selection: Selection,
    /// `newformat=1`: leave empty fields out.
    pub omit_empty: bool,
}

pub fn window(params: &Params) -> Result<Window, BadParam> {
    let from = positive(params, "fromindex")?.unwrap_or(DEFAULT_FROM);
    let to = positive(params, "toindex")?.unwrap_or(DEFAULT_TO);
    if to < from || to - from >= MAX_WINDOW {
        return Err(BadParam("toindex"));
    }
    Ok(Window { from, to })
}

fn positive(params: &Params, name: &'static str) -> Result<Option<usize>, BadParam> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(BadParam(name)),
    }
}

pub fn read_options(params: &Params, module: Module) -> Result<ReadOptions, BadParam> {
    let omit_empty = match params.get("newformat").map(str::trim) {
        None | Some("2") => false,
        Some("1") => true,
        Some(_) => return Err(BadParam("newformat")),
    };
    Ok(ReadOptions {
        selection: selection(params, module)?,
        omit_empty,
    })
}

/// `selectfields`: `all`, or `Module(Label A,Label B)` with the module as URL name, alias
/// or result key, in any case.
fn selection(params: &Params, module: Module) -> Result<Selection, BadParam> {
    let bad = BadParam("selectfields");
    let Some(text) = params.get("selectfields").map(str::trim) else {
        return Ok(Selection::All);
    };
    if text.eq_ignore_ascii_case("all") {
        return Ok(Selection::All);
    }
    let (prefix, rest) = text.split_once('(').ok_or(bad)?;
    let inner = rest.trim_end().strip_suffix(')').ok_or(bad)?;
    let prefix = prefix.trim();
    let same_module =
        Module::parse(prefix) == Some(module) || prefix.eq_ignore_ascii_case(module.result_key());
    if !same_module {
        return Err(bad);
    }
    let labels = inner
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Selection::Fields(labels))
}

/// The Modified-Time bound of a read: `lastmodifiedtime` (read in the data zone) and
/// `noOfDays` (the last N days before `now`), the later of the two when both are given.
pub fn modified_after(
    params: &Params,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, BadParam> {
    let since = match params.get("lastmodifiedtime") {
        None => None,
        Some(text) => Some(local_time(text, zone).ok_or(BadParam("lastmodifiedtime"))?),
    };
    let days = match params.get("noofdays") {
        None => None,
        Some(text) => {
            let n = text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(BadParam("noOfDays"))?;
            Some(now - TimeDelta::days(i64::from(n)))
        }
    };
    Ok(since.max(days))
}

/// `yyyy-MM-dd HH:mm:ss` in `zone`; a time skipped by a daylight-saving switch reads as
/// the same wall time an hour later, an ambiguous one as its earlier instant.
fn local_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    zone.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(naive + TimeDelta::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// `myrecords`: `true`/`1` keep only the caller's records.
pub fn my_records(params: &Params) -> Result<bool, BadParam> {
    match params
        .get("myrecords")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" || v.is_empty() => Ok(false),
        Some(_) => Err(BadParam("myrecords")),
    }
}

/// The `id` parameter: one record id.
pub fn record_id(params: &Params) -> Result<u64, BadParam> {
    let text = params.required("id")?;
    crate::zoho::record::RecordId::parse(text)
        .map(|id| id.0)
        .ok_or(BadParam("id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params::merge(Some(query), b"")
    }

    #[test]
    fn query_and_body_merge_with_names_in_any_case() {
        let p = Params::merge(
            Some("AuthToken=a&Portal=p"),
            b"portal=q&department=Sales+Desk",
        );
        assert_eq!(p.get("authtoken"), Some("a"));
        assert_eq!(p.get("portal"), Some("q"));
        assert_eq!(p.get("department"), Some("Sales Desk"));
        assert_eq!(p.required("xml"), Err(BadParam("xml")));
    }

    #[test]
    fn windows_default_to_1_20_and_reject_more_than_200_rows() {
        assert_eq!(window(&params("")), Ok(Window { from: 1, to: 20 }));
        assert_eq!(
            window(&params("fromindex=201&toindex=400")),
            Ok(Window { from: 201, to: 400 })
        );
        assert_eq!(
            window(&params("fromindex=1&toindex=201")),
            Err(BadParam("toindex"))
        );
        assert_eq!(
            window(&params("fromindex=5&toindex=4")),
            Err(BadParam("toindex"))
        );
        assert_eq!(window(&params("fromindex=0")), Err(BadParam("fromindex")));
        assert_eq!(window(&params("toindex=x")), Err(BadParam("toindex")));
    }

    #[test]
    fn selectfields_accepts_all_and_any_spelling_of_the_module() {
        let sel = |q: &str| read_options(&params(q), Module::Requests).map(|o| o.selection);
        assert_eq!(sel("selectfields=ALL"), Ok(Selection::All));
        assert_eq!(
            sel("selectfields=Requests(caseId)"),
            Ok(Selection::Fields(vec!["caseId".into()]))
        );
        let two = Selection::Fields(vec!["Subject".into(), "Email".into()]);
        assert_eq!(sel("selectfields=cases(Subject, Email)"), Ok(two));
        assert_eq!(
            sel("selectfields=Tasks(Subject)"),
            Err(BadParam("selectfields"))
        );
        assert_eq!(sel("selectfields=Subject"), Err(BadParam("selectfields")));
        assert!(read_options(&params("newformat=3"), Module::Tasks).is_err());
    }

    #[test]
    fn lastmodifiedtime_is_read_in_the_data_zone_and_no_of_days_bounds_it() {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        let got = modified_after(&params("lastmodifiedtime=2026-01-05+10:00:00"), berlin, now);
        assert_eq!(
            got,
            Ok(Some(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()))
        );
        let both = params("lastmodifiedtime=2026-01-05+10:00:00&noOfDays=2");
        assert_eq!(
            modified_after(&both, berlin, now),
            Ok(Some(now - TimeDelta::days(2)))
        );
        let bad = modified_after(&params("lastmodifiedtime=2026-01-05"), berlin, now);
        assert_eq!(bad, Err(BadParam("lastmodifiedtime")));
        assert_eq!(
            modified_after(&params("noofdays=0"), berlin, now),
            Err(BadParam("noOfDays"))
        );
    }

    #[test]
    fn ids_and_myrecords_are_checked() {
        assert_eq!(record_id(&params("id=42")), Ok(42));
        assert_eq!(record_id(&params("id=4x")), Err(BadParam("id")));
        assert_eq!(record_id(&params("")), Err(BadParam("id")));
        assert_eq!(my_records(&params("myrecords=TRUE")), Ok(true));
        assert_eq!(
            my_records(&params("myrecords=maybe")),
            Err(BadParam("myrecords"))
        );
    }
}
