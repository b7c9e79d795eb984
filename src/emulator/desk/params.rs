//! A Desk call's query string decoded strictly at the edge (D9-D12): every parameter must
//! be one the endpoint documents (else 422 `Extra query parameter`), appear once, and
//! hold a value of its type and range, with the contract's exact messages. `orgId` is
//! allowed everywhere and ignored (D7: only the header counts).

use super::errors::DeskError;
use super::time::Range;

/// The most rows a search window may reach (D9).
pub const SEARCH_CAP: u64 = 5_000;

/// The decoded pairs of a query string, in order.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Query { pairs }
    }

    /// Refuses the first parameter not in `allowed` (names are case-sensitive).
    pub fn only(&self, allowed: &[&str]) -> Result<(), DeskError> {
        match self
            .pairs
            .iter()
            .find(|(name, _)| name != "orgId" && !allowed.contains(&name.as_str()))
        {
            Some((name, _)) => Err(DeskError::ExtraParam(name.clone())),
            None => Ok(()),
        }
    }

    /// The value of `name`; given twice or empty, it is invalid.
    pub fn get(&self, name: &str) -> Result<Option<&str>, DeskError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) if !v.is_empty() => Ok(Some(v)),
            _ => Err(DeskError::InvalidValue(name.to_string())),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, DeskError> {
        self.get(name)?
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| DeskError::InvalidValue(name.to_string()))
            })
            .transpose()
    }

    /// A list's 1-based `from` (D9): default 1, `0` reads as 1, no upper cap.
    pub fn list_from(&self) -> Result<u64, DeskError> {
        match self.integer("from")? {
            None => Ok(1),
            Some(n) if n < 0 => Err(out_of_range("from", ">=0")),
            Some(n) => Ok(u64::try_from(n).unwrap_or(0).max(1)),
        }
    }

    /// A 0-based `from` of a search or the recycle bin: default 0; searches cap it (D9).
    pub fn zero_based_from(&self, capped: bool) -> Result<u64, DeskError> {
        match self.integer("from")? {
            None => Ok(0),
            Some(n) if n < 0 || (capped && n >= SEARCH_CAP as i64) => {
                Err(out_of_range("from", if capped { "0-4999" } else { ">=0" }))
            }
            Some(n) => Ok(u64::try_from(n).unwrap_or(0)),
        }
    }

    /// `limit` within `1..=max` (D10), `default` when absent.
    pub fn limit(&self, max: u32, default: u32) -> Result<u32, DeskError> {
        match self.integer("limit")? {
            None => Ok(default),
            Some(n) if (1..=i64::from(max)).contains(&n) => Ok(u32::try_from(n).unwrap_or(default)),
            Some(_) => Err(out_of_range("limit", &format!("1-{max}"))),
        }
    }

    /// `sortBy` from `allowed`, with an optional `-` for descending (D11).
    pub fn sort(
        &self,
        allowed: &[&'static str],
    ) -> Result<Option<(&'static str, bool)>, DeskError> {
        let Some(value) = self.get("sortBy")? else {
            return Ok(None);
        };
        let (name, descending) = match value.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (value, false),
        };
        allowed
            .iter()
            .find(|a| **a == name)
            .map(|a| Some((*a, descending)))
            .ok_or_else(|| DeskError::InvalidValue("sortBy".to_string()))
    }

    /// A time range `a,b` (D12).
    pub fn range(&self, name: &str) -> Result<Option<Range>, DeskError> {
        self.get(name)?
            .map(|v| Range::parse(v).ok_or_else(|| DeskError::InvalidValue(name.to_string())))
            .transpose()
    }

    /// One of `allowed`, exactly.
    pub fn choice(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, DeskError> {
        let Some(value) = self.get(name)? else {
            return Ok(None);
        };
        allowed
            .iter()
            .find(|a| **a == value)
            .map(|a| Some(*a))
            .ok_or_else(|| DeskError::InvalidValue(name.to_string()))
    }

    /// A comma list whose every item is one of `allowed`.
    pub fn choices(&self, name: &str, allowed: &[&str]) -> Result<Vec<String>, DeskError> {
        let Some(value) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
        if items.iter().all(|i| allowed.contains(&i.as_str())) {
            Ok(items)
        } else {
            Err(DeskError::InvalidValue(name.to_string()))
        }
    }

    /// A record id (digits).
    pub fn id(&self, name: &str) -> Result<Option<u64>, DeskError> {
        self.get(name)?
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| DeskError::InvalidValue(name.to_string()))
            })
            .transpose()
    }

    /// A comma list of record ids, at most `max`.
    pub fn ids(&self, name: &str, max: usize) -> Result<Vec<String>, DeskError> {
        let Some(value) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
        let digits = ids
            .iter()
            .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
        if digits && ids.len() <= max {
            Ok(ids)
        } else {
            Err(DeskError::InvalidValue(name.to_string()))
        }
    }
}

fn out_of_range(field: &str, range: &str) -> DeskError {
    DeskError::OutOfRange {
        field: field.to_string(),
        range: range.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Query {
        Query::parse(Some(text))
    }

    #[test]
    fn unknown_parameters_are_named_in_the_error_and_org_id_is_ignored() {
        assert_eq!(
            q("from=1&sortOrder=asc").only(&["from"]),
            Err(DeskError::ExtraParam("sortOrder".into()))
        );
        assert_eq!(q("from=1&orgId=5").only(&["from"]), Ok(()));
        assert_eq!(
            q("From=1").only(&["from"]),
            Err(DeskError::ExtraParam("From".into()))
        );
    }

    #[test]
    fn list_from_is_one_based_and_search_from_is_capped() {
        assert_eq!(q("").list_from(), Ok(1));
        assert_eq!(q("from=0").list_from(), Ok(1));
        assert_eq!(q("from=90000").list_from(), Ok(90_000));
        assert_eq!(q("from=-1").list_from(), Err(out_of_range("from", ">=0")));
        assert_eq!(
            q("from=x").list_from(),
            Err(DeskError::InvalidValue("from".into()))
        );
        assert_eq!(
            q("from=1&from=2").list_from(),
            Err(DeskError::InvalidValue("from".into()))
        );
        assert_eq!(q("from=4999").zero_based_from(true), Ok(4_999));
        assert_eq!(
            q("from=5000").zero_based_from(true),
            Err(out_of_range("from", "0-4999"))
        );
    }

    #[test]
    fn limits_sorts_and_ranges_are_checked() {
        assert_eq!(q("").limit(100, 25), Ok(25));
        assert_eq!(
            q("limit=101").limit(100, 25),
            Err(out_of_range("limit", "1-100"))
        );
        assert_eq!(
            q("limit=51").limit(50, 10),
            Err(out_of_range("limit", "1-50"))
        );
        assert_eq!(
            q("limit=0").limit(100, 10),
            Err(out_of_range("limit", "1-100"))
        );
        assert_eq!(
            q("sortBy=-createdTime").sort(&["createdTime"]),
            Ok(Some(("createdTime", true)))
        );
        assert_eq!(
            q("sortBy=modifiedTime").sort(&["createdTime"]),
            Err(DeskError::InvalidValue("sortBy".into()))
        );
        let range = q("modifiedTimeRange=2026-01-01T00:00:00.000Z,2026-01-02T00:00:00.000Z");
        assert!(range.range("modifiedTimeRange").is_ok_and(|r| r.is_some()));
        let bad = q("modifiedTimeRange=yesterday");
        assert_eq!(
            bad.range("modifiedTimeRange"),
            Err(DeskError::InvalidValue("modifiedTimeRange".into()))
        );
    }
}
