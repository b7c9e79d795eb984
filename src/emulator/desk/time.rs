//! Desk's one time format, `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC (D12), both ways: rendering
//! the emulator's instants (epoch milliseconds) and decoding the `a,b` ranges of search
//! parameters. Decoding is strict (exactly that layout, a real calendar instant), so a
//! hostile value is refused at the edge rather than guessed at.

use chrono::{DateTime, NaiveDateTime, Utc};

const LAYOUT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Renders epoch milliseconds; `None` outside chrono's range.
pub fn render_millis(millis: i64) -> Option<String> {
    DateTime::from_timestamp_millis(millis).map(|at| at.format(LAYOUT).to_string())
}

/// Renders epoch seconds with `.000` milliseconds (record times have second precision).
pub fn render_secs(secs: i64) -> Option<String> {
    render_millis(secs.checked_mul(1000)?)
}

/// Decodes one instant of the exact layout into epoch milliseconds.
pub fn parse(text: &str) -> Option<i64> {
    // The layout's `%.3f` also accepts other digit counts; Desk's does not.
    let bytes = text.as_bytes();
    if bytes.len() != 24 || bytes.get(19) != Some(&b'.') || bytes.get(23) != Some(&b'Z') {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(text, LAYOUT).ok()?;
    Some(naive.and_utc().timestamp_millis())
}

/// An inclusive range of epoch milliseconds (D12: both ends inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

impl Range {
    /// Decodes `a,b`; `None` when either end is not an instant or `a` is after `b`.
    pub fn parse(text: &str) -> Option<Range> {
        let (a, b) = text.split_once(',')?;
        let range = Range {
            from: parse(a)?,
            to: parse(b)?,
        };
        (range.from <= range.to).then_some(range)
    }

    pub fn contains(&self, millis: i64) -> bool {
        (self.from..=self.to).contains(&millis)
    }
}

/// The emulated now in epoch milliseconds.
pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_render_with_three_millisecond_digits_and_a_z() {
        assert_eq!(
            render_secs(1_772_612_467).as_deref(),
            Some("2026-03-04T08:21:07.000Z")
        );
        assert_eq!(
            render_millis(1_772_612_467_912).as_deref(),
            Some("2026-03-04T08:21:07.912Z")
        );
    }

    #[test]
    fn only_the_exact_layout_parses() {
        assert_eq!(parse("2026-03-04T08:21:07.912Z"), Some(1_772_612_467_912));
        for bad in [
            "2026-03-04T08:21:07Z",
            "2026-03-04T08:21:07.9Z",
            "2026-03-04T08:21:07.912+01:00",
            "2026-02-30T08:21:07.000Z",
            "2026-03-04 08:21:07.000Z",
            "",
            "ééééééééééééééééééééééé",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_range_is_two_instants_in_order_and_inclusive_at_both_ends() {
        let range = Range::parse("2026-03-04T08:21:07.000Z,2026-03-04T08:21:08.000Z");
        let range = range.unwrap_or(Range { from: 1, to: 0 });
        assert!(range.contains(range.from) && range.contains(range.to));
        assert!(!range.contains(range.to + 1));
        assert_eq!(
            Range::parse("2026-03-04T08:21:08.000Z,2026-03-04T08:21:07.000Z"),
            None
        );
        assert_eq!(Range::parse("2026-03-04T08:21:08.000Z"), None);
    }
}
