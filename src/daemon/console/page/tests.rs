use chrono::{TimeDelta, TimeZone};

use super::*;
use crate::loader::{Instance, StreamStatus};
use crate::quota::QuotaToday;
use crate::store::{RunKind, RunOutcome};
use crate::stream::{Checkpoint, StreamKey};
use crate::zoho::module::Module;

fn at(hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 6, 1, 7, 0, 0).unwrap() + TimeDelta::hours(hour)
}

fn snapshot() -> Snapshot {
    let key = StreamKey {
        portal: "p<1>".into(),
        department: "Support".into(),
        module: Module::Requests.into(),
    };
    let mut status = StreamStatus::empty(key);
    status.dead_letters = 3;
    status.rows = 1_200;
    status.sweep = Some(Checkpoint {
        completed_at: Some(at(1)),
        passes: 2,
        ..Checkpoint::default()
    });
    status.backfill = Some(Checkpoint {
        completed_at: Some(at(1)),
        ..Checkpoint::default()
    });
    let run = RunSummary {
        id: 41,
        kind: RunKind::Daemon,
        organisation: "org & co".into(),
        started_at: at(2),
        ended_at: Some(at(2)),
        outcome: Some(RunOutcome::Failed),
        error: Some("<script>alert(1)</script>".into()),
        pages: 2,
        records: 300,
        requests: 3,
        instance: Some(Instance {
            host: "vm".into(),
            pid: 4242,
            version: "0.1.0".into(),
        }),
    };
    let org = OrgView {
        name: "org & co".into(),
        unit: "requests",
        limit: 250,
        reserve: 10,
        day_start: at(0),
        day_end: at(24),
        quota: QuotaToday {
            used: 30,
            left: 210,
            resets_at: at(24),
        },
        hours: vec![(at(0), 10), (at(1), 20)],
        streams: vec![StreamView {
            status,
            newest: Some(at(2) - TimeDelta::minutes(5)),
            plan: None,
            sweep_found: Some(7),
        }],
    };
    Snapshot {
        taken_at: at(2),
        organisations: vec![org],
        runs: vec![run],
    }
}

#[test]
fn the_page_holds_the_quota_chart_the_streams_and_the_runs_and_refreshes_itself() {
    let html = render(&snapshot());
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(html.contains("<svg class=\"quota\""), "{html}");
    assert!(html.contains("<polyline class=\"spent\""), "{html}");
    assert!(
        html.contains("<b>30</b> of 240 requests used, 210 left"),
        "{html}"
    );
    assert!(html.contains("<td class=\"num\">1200</td>"), "{html}");
    assert!(
        html.contains("class=\"bad\">3</span>"),
        "dead letters: {html}"
    );
    assert!(html.contains("5m"), "lag: {html}");
    assert!(html.contains("#41"), "{html}");
    assert!(html.contains("vm pid 4242 v0.1.0"), "{html}");
    assert!(html.contains("found 7 deleted"), "the last sweep: {html}");
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn text_from_the_database_is_escaped() {
    let html = render(&snapshot());
    assert!(html.contains("org &amp; co"), "{html}");
    assert!(html.contains("p&lt;1&gt;/Support/requests"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert_eq!(esc("plain"), "plain");
    assert_eq!(esc("a\"b'c"), "a&quot;b&#39;c");
}

#[test]
fn the_spent_line_stays_flat_until_the_hour_units_went_in() {
    let mut snapshot = snapshot();
    snapshot.organisations[0].hours = vec![(at(1), 30)];
    let html = render(&snapshot);
    let points: Vec<(f64, f64)> = html
        .split("<polyline class=\"spent\" points=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the spent line")
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    // Day start, the hour's start (still at 0), the hour's end (30), now (30).
    assert_eq!(points.len(), 4, "{points:?}");
    assert_eq!(points[0].1, points[1].1, "flat before the hour: {points:?}");
    assert!(points[1].0 > points[0].0, "{points:?}");
    assert!(points[2].1 < points[1].1, "rising in the hour: {points:?}");
    assert_eq!(points[2].1, points[3].1, "flat after: {points:?}");
}
