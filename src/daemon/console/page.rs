//! The status page's HTML: one document, no script, styles inline, refreshing itself
//! every 30 s, readable on a phone (one column, tables that scroll sideways). Every text
//! that comes from the database or the configuration is escaped (`esc`).

use std::borrow::Cow;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::chart::quota_chart;
use super::{OrgView, Snapshot, StreamView};
use crate::loader::RunSummary;
use crate::store::RunOutcome;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:960px;\
padding:8px;color:#222}h1{font-size:20px}h2{font-size:17px;margin-top:24px}\
table{border-collapse:collapse;width:100%}.scroll{overflow-x:auto}\
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #ddd;white-space:nowrap}\
td.num{text-align:right}.bad{color:#b00020}.ok{color:#1b5e20}\
svg.quota{width:100%;height:auto;max-height:240px}svg text{font-size:10px;fill:#555}\
.limit{stroke:#b00020;stroke-dasharray:4 3}.pace{stroke:#888;stroke-dasharray:2 3}\
.spent{fill:none;stroke:#1565c0;stroke-width:2}.now{stroke:#ccc}\
.bar{display:inline-block;width:80px;height:8px;background:#eee;vertical-align:middle}\
.bar i{display:block;height:8px;background:#1565c0}.bar i.part{background:repeating-linear-gradient(\
45deg,#1565c0 0 4px,#90caf9 4px 8px)}";

/// The whole page for `snapshot`.
pub fn render(snapshot: &Snapshot) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"30\"><title>zoho-sync</title>\
         <style>{STYLE}</style></head><body><h1>zoho-sync</h1>\
         <p>As of {} (refreshes every 30 s).</p>",
        stamp(snapshot.taken_at)
    );
    for org in &snapshot.organisations {
        organisation(&mut html, org, snapshot.taken_at);
    }
    runs(&mut html, &snapshot.runs);
    html.push_str("</body></html>\n");
    html
}

fn organisation(html: &mut String, org: &OrgView, now: DateTime<Utc>) {
    let _ = write!(
        html,
        "<section class=\"organisation\"><h2>{name}</h2>\
         <p class=\"quota\">Today: <b>{used}</b> of {budget} {unit} used, {left} left \
         (limit {limit}, {reserve} kept in reserve); the quota resets {reset}.</p>{chart}",
        name = esc(&org.name),
        used = org.quota.used,
        budget = org.budget(),
        unit = org.unit,
        left = org.quota.left,
        limit = org.limit,
        reserve = org.reserve,
        reset = stamp(org.quota.resets_at),
        chart = quota_chart(org, now),
    );
    html.push_str(
        "<div class=\"scroll\"><table class=\"streams\"><tr><th>stream</th><th>rows</th>\
         <th>dead letters</th><th>lag</th><th>last pass</th><th>next pass</th>\
         <th>backfill</th><th>sweep</th></tr>",
    );
    for stream in &org.streams {
        stream_row(html, stream, now);
    }
    html.push_str("</table></div></section>");
}

fn stream_row(html: &mut String, s: &StreamView, now: DateTime<Utc>) {
    let status = &s.status;
    let rows = status.rows;
    let lag = s.newest.map_or_else(|| "-".into(), |at| ago(now, at));
    let dead = match status.dead_letters {
        0 => "0".to_string(),
        n => format!("<span class=\"bad\">{n}</span>"),
    };
    let _ = write!(
        html,
        "<tr><td>{}</td><td class=\"num\">{rows}</td><td class=\"num\">{dead}</td>\
         <td>{lag}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(&status.stream.to_string()),
        last_pass(status),
        next_pass(s, now),
        backfill_bar(status),
        sweep(status, s.sweep_found),
    );
}

fn last_pass(status: &crate::loader::StreamStatus) -> String {
    let done = status
        .incremental
        .as_ref()
        .and_then(|c| c.completed_at)
        .or_else(|| status.backfill.as_ref().and_then(|c| c.completed_at));
    let when = done.map_or_else(|| "never".to_string(), stamp);
    match &status.last_run {
        Some(run) => format!("{when}; run #{} {}", run.id, outcome(run)),
        None => when,
    }
}

fn next_pass(s: &StreamView, now: DateTime<Utc>) -> String {
    match &s.plan {
        Some(plan) => match plan.due_at {
            Some(at) if at <= now => "due now".into(),
            Some(at) => format!("{} (every {})", stamp(at), span(plan.interval.as_secs())),
            None => "after its backfill".into(),
        },
        None => "on its schedule".into(),
    }
}

fn backfill_bar(status: &crate::loader::StreamStatus) -> String {
    match &status.backfill {
        Some(c) if !c.in_progress && c.completed_at.is_some() => {
            "<span class=\"bar\"><i style=\"width:100%\"></i></span> complete".into()
        }
        // The legacy API never says how many rows a module holds: no fraction to show
        // until the end, only how far the cursor is.
        Some(c) if c.in_progress => format!(
            "<span class=\"bar\"><i class=\"part\" style=\"width:100%\"></i></span> \
             {}at row {}",
            if c.passes > 0 { "resync " } else { "" },
            c.cursor.next
        ),
        _ => "<span class=\"bar\"></span> not started".into(),
    }
}

fn sweep(status: &crate::loader::StreamStatus, found: Option<i64>) -> String {
    let last = status
        .sweep
        .as_ref()
        .and_then(|c| c.completed_at)
        .map(|at| {
            let found = found.map_or_else(String::new, |n| format!(", found {n} deleted"));
            format!("{}{found}", stamp(at))
        });
    match (&status.sweep, last) {
        (Some(c), last) if c.in_progress => {
            let before = last.map_or_else(String::new, |l| format!("; last {l}"));
            format!("in progress, at row {}{before}", c.cursor.next)
        }
        (_, Some(last)) => last,
        _ => "never".into(),
    }
}

fn runs(html: &mut String, runs: &[RunSummary]) {
    html.push_str(
        "<section class=\"runs\"><h2>Latest runs</h2><div class=\"scroll\"><table>\
         <tr><th>run</th><th>organisation</th><th>kind</th><th>started</th><th>outcome</th>\
         <th>pages</th><th>requests</th><th>by</th><th>error</th></tr>",
    );
    for run in runs {
        let by = run
            .instance
            .as_ref()
            .map_or_else(String::new, |i| esc(&i.to_string()).into_owned());
        let _ = write!(
            html,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{by}</td><td>{}</td></tr>",
            run.id,
            esc(&run.organisation),
            run.kind.as_str(),
            stamp(run.started_at),
            outcome(run),
            run.pages,
            run.requests,
            esc(run.error.as_deref().unwrap_or("")),
        );
    }
    html.push_str("</table></div></section>");
}

fn outcome(run: &RunSummary) -> String {
    match run.outcome {
        Some(o @ RunOutcome::Completed) => format!("<span class=\"ok\">{}</span>", o.as_str()),
        Some(o) => format!("<span class=\"bad\">{}</span>", o.as_str()),
        None => "running (or its process died)".into(),
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    span(u64::try_from((now - at).num_seconds()).unwrap_or(0))
}

/// A duration as `3d 4h`, `2h05m`, `12m`, `45s` (the page's and `plan`'s spelling).
pub fn span(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3_600),
        s if s >= 3_600 => format!("{}h{:02}m", s / 3_600, s % 3_600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Text made safe inside HTML elements and quoted attributes.
fn esc(text: &str) -> Cow<'_, str> {
    if !text.contains(['<', '>', '&', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
