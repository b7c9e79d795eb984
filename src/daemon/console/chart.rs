//! The quota chart: an inline SVG of the quota day, units spent so far as a rising line
//! (the sum of the hours' reservations, rising within the hours they were made in), the
//! pacing line from nothing at the day's start to the budget at its end, the limit, and
//! now. Pure: data in, markup out.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::OrgView;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// The chart of `org`'s day up to `now`.
pub fn quota_chart(org: &OrgView, now: DateTime<Utc>) -> String {
    let top = f64::from(org.limit.max(org.quota.used).max(1));
    let span = (org.day_end - org.day_start).num_seconds().max(1) as f64;
    let x = |at: DateTime<Utc>| {
        let secs = (at - org.day_start).num_seconds().clamp(0, span as i64) as f64;
        LEFT + secs / span * (WIDTH - LEFT - 4.0)
    };
    let y = |units: f64| HEIGHT - BOTTOM - units / top * (HEIGHT - BOTTOM - TOP);
    // Flat until an hour's first reservation, rising across the hour, flat again to now:
    // the hours are all the ledger keeps of when units went.
    let mut spent = format!("{:.1},{:.1}", x(org.day_start), y(0.0));
    let mut total = 0.0;
    for (hour, used) in &org.hours {
        let end = (*hour + chrono::TimeDelta::hours(1)).min(now);
        let _ = write!(spent, " {:.1},{:.1}", x(*hour), y(total));
        total += f64::from(*used);
        let _ = write!(spent, " {:.1},{:.1}", x(end), y(total));
    }
    let _ = write!(spent, " {:.1},{:.1}", x(now), y(total));
    let budget = f64::from(org.budget());
    let limit = f64::from(org.limit);
    let mut svg = String::with_capacity(2_048);
    let _ = write!(
        svg,
        "<svg class=\"quota\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{} used of {} today\">",
        org.quota.used,
        org.budget()
    );
    let _ = write!(
        svg,
        "<line class=\"limit\" x1=\"{LEFT}\" y1=\"{ly:.1}\" x2=\"{x2:.1}\" y2=\"{ly:.1}\"/>\
         <line class=\"pace\" x1=\"{x1:.1}\" y1=\"{y0:.1}\" x2=\"{x2:.1}\" y2=\"{yb:.1}\"/>\
         <polyline class=\"spent\" points=\"{spent}\"/>\
         <line class=\"now\" x1=\"{xn:.1}\" y1=\"{TOP}\" x2=\"{xn:.1}\" y2=\"{y0:.1}\"/>\
         <text x=\"2\" y=\"{ly:.1}\">{limit}</text><text x=\"2\" y=\"{y0:.1}\">0</text>\
         <text x=\"{LEFT}\" y=\"{HEIGHT}\">day start</text>\
         <text x=\"{xe:.1}\" y=\"{HEIGHT}\" text-anchor=\"end\">reset</text></svg>",
        ly = y(limit),
        x1 = x(org.day_start),
        x2 = x(org.day_end),
        y0 = y(0.0),
        yb = y(budget),
        xn = x(now),
        xe = x(org.day_end),
    );
    svg
}
