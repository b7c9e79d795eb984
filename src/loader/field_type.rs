//! The type a field's values allow, inferred from the wire text alone: the narrowest of
//! boolean, bigint, numeric, date, timestamp and text that holds the value. Types form a
//! lattice (bigint widens to numeric, date to timestamp, anything to text), so the type
//! of a field is the join of its values' types. The shapes accepted here are exactly the
//! ones the guarded casts of migration 0006 accept (no surrounding blanks, no exponent,
//! `yyyy-MM-dd` or `MM/dd/yyyy` dates with an optional `HH:mm:ss`), so a value whose
//! type fits a view column never shows as NULL there.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// The type of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldType {
    Boolean,
    BigInt,
    Numeric,
    Date,
    Timestamp,
    Text,
}

/// Longest decimal text the `numeric` cast accepts (as `values::decimal`).
const MAX_DECIMAL_LEN: usize = 100;

impl FieldType {
    /// The spelling in `fields_seen`, which is also the SQL type's name (`timestamp` is
    /// without time zone: the wall clock of the portal's data time zone).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::BigInt => "bigint",
            FieldType::Numeric => "numeric",
            FieldType::Date => "date",
            FieldType::Timestamp => "timestamp",
            FieldType::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<FieldType> {
        [
            FieldType::Boolean,
            FieldType::BigInt,
            FieldType::Numeric,
            FieldType::Date,
            FieldType::Timestamp,
            FieldType::Text,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }

    /// The type as PostgreSQL's `format_type` spells it, to compare with a view's columns.
    pub(super) fn sql_name(self) -> &'static str {
        match self {
            FieldType::Timestamp => "timestamp without time zone",
            other => other.as_str(),
        }
    }

    /// The narrowest type holding this value.
    pub fn of(text: &str) -> FieldType {
        if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
            FieldType::Boolean
        } else if is_bigint(text) {
            FieldType::BigInt
        } else if is_decimal(text) {
            FieldType::Numeric
        } else if calendar_date(text).is_some() {
            FieldType::Date
        } else if is_date_time(text) {
            FieldType::Timestamp
        } else {
            FieldType::Text
        }
    }

    /// The narrowest type holding the values of both.
    pub fn join(self, other: FieldType) -> FieldType {
        use FieldType::{BigInt, Date, Numeric, Text, Timestamp};
        match (self, other) {
            (a, b) if a == b => a,
            (BigInt | Numeric, BigInt | Numeric) => Numeric,
            (Date | Timestamp, Date | Timestamp) => Timestamp,
            _ => Text,
        }
    }

    /// Joins optional types, `None` meaning "no value seen yet".
    pub fn join_opt(a: Option<FieldType>, b: Option<FieldType>) -> Option<FieldType> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.join(b)),
            (a, b) => a.or(b),
        }
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

fn unsigned(text: &str) -> &str {
    text.strip_prefix(['+', '-']).unwrap_or(text)
}

fn is_bigint(text: &str) -> bool {
    let magnitude = unsigned(text);
    (1..=19).contains(&magnitude.len()) && digits(magnitude) && text.parse::<i64>().is_ok()
}

fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = match unsigned(text).split_once('.') {
        Some((w, f)) => (w, f),
        None => (unsigned(text), ""),
    };
    text.len() <= MAX_DECIMAL_LEN
        && digits(whole)
        && digits(fraction)
        && (!whole.is_empty() || !fraction.is_empty())
}

/// `yyyy-MM-dd` or `MM/dd/yyyy`, exactly, naming a real day of years 1 to 9999.
pub(super) fn calendar_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        digits(part).then(|| part.parse().ok()).flatten()
    };
    let (y, m, d) = match b {
        [_, _, _, _, b'-', _, _, b'-', _, _] => (number(0..4)?, number(5..7)?, number(8..10)?),
        [_, _, b'/', _, _, b'/', _, _, _, _] => (number(6..10)?, number(0..2)?, number(3..5)?),
        _ => return None,
    };
    let year = i32::try_from(y).ok().filter(|y| *y >= 1)?;
    NaiveDate::from_ymd_opt(year, m, d)
}

/// A calendar date, a blank and `HH:mm:ss` (hours 00-23, no leap second).
fn is_date_time(text: &str) -> bool {
    date_time(text).is_some()
}

/// `calendar_date`, a blank and `HH:mm:ss` (hours 00-23, no leap second), exactly. The
/// loader reads wire date-times through this first: it is what the server writes, and
/// chrono's format parser costs several times more per value.
pub(super) fn date_time(text: &str) -> Option<NaiveDateTime> {
    let date = calendar_date(text.get(..10)?)?;
    let time = text.get(10..)?.strip_prefix(' ')?;
    let part = |range: std::ops::Range<usize>| {
        time.get(range)
            .filter(|p| digits(p))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let colons = time.len() == 8 && time.as_bytes()[2] == b':' && time.as_bytes()[5] == b':';
    if !colons {
        return None;
    }
    let time = NaiveTime::from_hms_opt(part(0..2)?, part(3..5)?, part(6..8)?)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use FieldType::*;

    #[test]
    fn each_value_gets_the_narrowest_type_that_holds_it() {
        let cases = [
            ("TRUE", Boolean),
            ("false", Boolean),
            ("42", BigInt),
            ("-9223372036854775808", BigInt),
            ("9223372036854775808", Numeric),
            ("+7", BigInt),
            ("3.25", Numeric),
            ("5.", Numeric),
            (".5", Numeric),
            ("2016-02-29", Date),
            ("02/29/2016", Date),
            ("2016-02-29 23:59:59", Timestamp),
            ("02/29/2016 00:00:00", Timestamp),
            ("yes", Text),
            (" 42", Text),
            ("1e5", Text),
            (".", Text),
            ("", Text),
            ("2015-02-29", Text),
            ("0000-01-01", Text),
            ("2016-2-29", Text),
            ("2016-02-29 24:00:00", Text),
            ("2016-02-29 23:59:60", Text),
            ("2016-02-29T23:59:59", Text),
        ];
        for (text, expected) in cases {
            assert_eq!(FieldType::of(text), expected, "{text:?}");
        }
    }

    #[test]
    fn joining_widens_numbers_to_numeric_dates_to_timestamps_and_the_rest_to_text() {
        assert_eq!(BigInt.join(Numeric), Numeric);
        assert_eq!(Date.join(Timestamp), Timestamp);
        assert_eq!(Boolean.join(BigInt), Text);
        assert_eq!(Date.join(BigInt), Text);
        assert_eq!(Numeric.join(Numeric), Numeric);
        assert_eq!(FieldType::join_opt(None, Some(Date)), Some(Date));
        assert_eq!(FieldType::join_opt(None, None), None);
    }

    #[test]
    fn the_stored_spelling_reads_back() {
        for t in [Boolean, BigInt, Numeric, Date, Timestamp, Text] {
            assert_eq!(FieldType::parse(t.as_str()), Some(t));
        }
        assert_eq!(FieldType::parse("json"), None);
    }

    #[test]
    fn odd_unicode_never_panics() {
        for text in [
            "２０１６-02-29",
            "é",
            "2016-02-2é",
            "12/3é/2016",
            "2016-02-29 1é:00:00",
        ] {
            assert_eq!(FieldType::of(text), Text, "{text:?}");
        }
    }
}
