//! Wire text → typed column values, before any statement is built. Every function is
//! total: text that does not parse for its column is `None` (the column is NULL while the
//! `fields` jsonb keeps the text), so one odd value never fails a page. Whatever is
//! returned is guaranteed to be accepted by PostgreSQL: years stay in 1..=9999, decimals
//! are plain digits, and NUL characters, which `text` and `jsonb` refuse, are replaced.

use std::borrow::Cow;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::field_type;
use super::schema::ColumnType;
use crate::zoho::record::Text;

/// Date-time layouts, wire format first (contract 4.4; `MM/dd/yyyy` is how requests
/// write dates and one client wrote executed times).
const DATE_TIME_FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S"];
const DATE_FORMATS: [&str; 2] = ["%Y-%m-%d", "%m/%d/%Y"];

/// Longest decimal text accepted; far beyond any real amount, far below `numeric`'s limits.
const MAX_DECIMAL_LEN: usize = 100;

/// One converted value, ready to be pushed into its column's array.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    BigInt(Option<i64>),
    /// Checked decimal text, cast to `numeric` in the statement.
    Numeric(Option<Text>),
    Boolean(Option<bool>),
    /// Held inline up to 24 bytes, as a record's own values are (`Text`).
    Text(Option<Text>),
    Date(Option<NaiveDate>),
    TimestampTz(Option<DateTime<Utc>>),
}

/// Converts one field's text for a column of type `ty`; date-times are read in `zone`.
pub(super) fn convert(ty: ColumnType, text: Option<&str>, zone: Tz) -> Value {
    match ty {
        ColumnType::BigInt => Value::BigInt(text.and_then(integer)),
        ColumnType::Numeric => Value::Numeric(text.and_then(decimal).map(Text::from)),
        ColumnType::Boolean => Value::Boolean(text.and_then(boolean)),
        ColumnType::Text => Value::Text(text.map(|t| Text::from(clean_text(t)))),
        ColumnType::Date => Value::Date(text.and_then(date)),
        ColumnType::TimestampTz => Value::TimestampTz(text.and_then(|t| date_time(t, zone))),
    }
}

/// The text with every NUL replaced by U+FFFD, the only change PostgreSQL forces on us.
/// Borrowed when there is nothing to replace, as there almost never is.
pub(crate) fn clean_text(text: &str) -> Cow<'_, str> {
    if text.as_bytes().contains(&0) {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

pub(super) fn integer(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// `[+-]digits[.digits]` (or `.digits`), returned trimmed.
pub(super) fn decimal(text: &str) -> Option<String> {
    let t = text.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    (well_formed && t.len() <= MAX_DECIMAL_LEN).then(|| t.to_string())
}

pub(super) fn boolean(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A calendar date; a date-time's date part is accepted too.
pub(super) fn date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let parsed = field_type::calendar_date(t)
        .or_else(|| {
            DATE_FORMATS
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        })
        .or_else(|| local_date_time(t).map(|dt| dt.date()))?;
    in_range(parsed).then_some(parsed)
}

/// A wall-clock time of `zone` as an instant. A date alone is its midnight. In the hour
/// a fall-back repeats, the earlier instant is taken; a time inside a spring-forward gap
/// names no instant and is `None`.
pub(super) fn date_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    let local = local_date_time(t).or_else(|| {
        DATE_FORMATS
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
            .map(|d| d.and_time(NaiveTime::MIN))
    })?;
    if !in_range(local.date()) {
        return None;
    }
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The strict wire layouts first (`field_type::date_time`), chrono's parser for the rest.
fn local_date_time(text: &str) -> Option<NaiveDateTime> {
    field_type::date_time(text).or_else(|| {
        DATE_TIME_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    })
}

/// Keeps dates where both chrono and PostgreSQL agree on the calendar.
fn in_range(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn wire_date_times_are_read_in_the_data_zone() {
        let at = date_time("2015-03-03 04:05:06", chrono_tz::Asia::Kolkata);
        assert_eq!(at, Some(utc("2015-03-02T22:35:06Z")));
        let at = date_time("07/01/2015 12:00:00", chrono_tz::America::Los_Angeles);
        assert_eq!(at, Some(utc("2015-07-01T19:00:00Z")));
    }

    #[test]
    fn a_date_alone_is_midnight_in_the_zone() {
        let at = date_time("2015-03-03", chrono_tz::Europe::Paris);
        assert_eq!(at, Some(utc("2015-03-02T23:00:00Z")));
        assert_eq!(
            date_time("03/03/2015", chrono_tz::UTC),
            Some(utc("2015-03-03T00:00:00Z"))
        );
    }

    #[test]
    fn the_repeated_hour_takes_the_earlier_instant_and_the_skipped_hour_is_none() {
        let la = chrono_tz::America::Los_Angeles;
        assert_eq!(
            date_time("2015-11-01 01:30:00", la),
            Some(utc("2015-11-01T08:30:00Z"))
        );
        assert_eq!(date_time("2015-03-08 02:30:00", la), None);
    }

    #[test]
    fn unparsable_or_out_of_range_dates_are_none() {
        for text in [
            "",
            "soon",
            "2015-13-01 00:00:00",
            "0000-01-01",
            "10000-01-01",
        ] {
            assert_eq!(date_time(text, chrono_tz::UTC), None, "{text}");
            assert_eq!(date(text), None, "{text}");
        }
    }

    #[test]
    fn dates_accept_both_layouts_and_a_date_time() {
        let d = NaiveDate::from_ymd_opt(2016, 2, 29);
        assert_eq!(date("2016-02-29"), d);
        assert_eq!(date("02/29/2016"), d);
        assert_eq!(date("2016-02-29 23:59:59"), d);
    }

    #[test]
    fn numbers_and_booleans_parse_strictly() {
        assert_eq!(integer(" 42 "), Some(42));
        assert_eq!(integer("4.2"), None);
        assert_eq!(integer("99999999999999999999"), None);
        assert_eq!(decimal("-12.50"), Some("-12.50".into()));
        assert_eq!(decimal(".5"), Some(".5".into()));
        for bad in ["", ".", "1e5", "1,000", "NaN", "1.2.3", "+"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
        assert_eq!(boolean("TRUE"), Some(true));
        assert_eq!(boolean("false"), Some(false));
        assert_eq!(boolean("yes"), None);
    }

    #[test]
    fn nul_characters_never_reach_postgres() {
        let value = convert(ColumnType::Text, Some("a\0b"), chrono_tz::UTC);
        assert_eq!(value, Value::Text(Some("a\u{FFFD}b".into())));
    }
}
