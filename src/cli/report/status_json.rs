//! The document `status --json` prints: every stream, each organisation's quota today
//! and every field seen, as serialisable structs borrowing from what the database said.
//! Invariant: its field names and shapes are a published interface (scripts and our
//! tests read them): a field is added, never renamed or reshaped, and its keys print in
//! sorted order, as they always have.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backfill_state;
use super::schedule::Schedule;
use crate::config::OrganisationConfig;
use crate::daemon::adaptive::ModulePlan;
use crate::loader::{FieldSeen, FieldType, RunSummary, StreamStatus};
use crate::quota::QuotaToday;
use crate::stream::Checkpoint;

#[derive(Debug, Serialize)]
pub(super) struct StatusDocument<'a> {
    streams: Vec<StreamEntry<'a>>,
    quota: Vec<QuotaEntry<'a>>,
    fields: Vec<FieldEntry<'a>>,
    /// One entry per organisation polled adaptively (none under fixed schedules).
    schedule: Vec<ScheduleEntry<'a>>,
}

impl<'a> StatusDocument<'a> {
    pub(super) fn new(
        streams: &'a [StreamStatus],
        quotas: &'a [(&'a OrganisationConfig, QuotaToday)],
        fields: &'a [FieldSeen],
    ) -> StatusDocument<'a> {
        StatusDocument {
            streams: streams.iter().map(StreamEntry::from).collect(),
            quota: quotas
                .iter()
                .map(|(org, q)| QuotaEntry {
                    organisation: &org.name,
                    used_today: q.used,
                    left_today: q.left,
                    resets_at: q.resets_at,
                })
                .collect(),
            fields: fields.iter().map(FieldEntry::from).collect(),
            schedule: Vec::new(),
        }
    }

    /// Adds the adaptive schedules, planned with `share` of each day's budget.
    pub(super) fn with_schedules(mut self, schedules: &'a [Schedule<'a>], share: f64) -> Self {
        self.schedule = schedules
            .iter()
            .map(|s| ScheduleEntry {
                organisation: &s.org.name,
                incremental_share: share,
                modules: s.plans.iter().map(PlanEntry::from).collect(),
                fixed: s.fixed.clone(),
            })
            .collect();
        self
    }

    /// The document as one line of JSON. Through a `Value`, whose objects keep their keys
    /// sorted, so the text is the same as before the document had a type.
    pub(super) fn to_line(&self) -> Result<String, serde_json::Error> {
        Ok(serde_json::to_value(self)?.to_string())
    }
}

#[derive(Debug, Serialize)]
struct StreamEntry<'a> {
    portal: &'a str,
    department: &'a str,
    module: &'static str,
    rows: i64,
    dead_letters: i64,
    /// `not started`, `at row N` or `complete`, as the text `status` says it.
    backfill: String,
    watermark: Option<DateTime<Utc>>,
    sweep: Option<SweepEntry>,
    last_run: Option<RunEntry<'a>>,
}

impl<'a> From<&'a StreamStatus> for StreamEntry<'a> {
    fn from(s: &'a StreamStatus) -> StreamEntry<'a> {
        StreamEntry {
            portal: &s.stream.portal,
            department: &s.stream.department,
            module: s.stream.module.key(),
            rows: s.rows,
            dead_letters: s.dead_letters,
            backfill: backfill_state(s.backfill.as_ref()),
            watermark: s.incremental.as_ref().and_then(|c| c.watermark),
            sweep: s.sweep.as_ref().map(SweepEntry::from),
            last_run: s.last_run.as_ref().map(RunEntry::from),
        }
    }
}

#[derive(Debug, Serialize)]
struct SweepEntry {
    in_progress: bool,
    next_row: u32,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    passes: i64,
}

impl From<&Checkpoint> for SweepEntry {
    fn from(c: &Checkpoint) -> SweepEntry {
        SweepEntry {
            in_progress: c.in_progress,
            next_row: c.cursor.next,
            started_at: c.pass_started_at,
            completed_at: c.completed_at,
            passes: c.passes,
        }
    }
}

#[derive(Debug, Serialize)]
struct RunEntry<'a> {
    id: i64,
    kind: &'static str,
    /// `None` while running, or when its process died.
    outcome: Option<&'static str>,
    error: Option<&'a str>,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    pages: i64,
    records: i64,
    requests: i64,
    /// The process that ran it; `null` for runs recorded before instances were.
    instance: Option<InstanceEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct InstanceEntry<'a> {
    host: &'a str,
    pid: i32,
    version: &'a str,
}

impl<'a> From<&'a RunSummary> for RunEntry<'a> {
    fn from(r: &'a RunSummary) -> RunEntry<'a> {
        RunEntry {
            id: r.id,
            kind: r.kind.as_str(),
            outcome: r.outcome.map(|o| o.as_str()),
            error: r.error.as_deref(),
            started_at: r.started_at,
            ended_at: r.ended_at,
            pages: r.pages,
            records: r.records,
            requests: r.requests,
            instance: r.instance.as_ref().map(|i| InstanceEntry {
                host: &i.host,
                pid: i.pid,
                version: &i.version,
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct QuotaEntry<'a> {
    organisation: &'a str,
    used_today: u32,
    left_today: u32,
    resets_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct FieldEntry<'a> {
    /// The module's name: a legacy module's (`requests`), or `desk.` and a Desk module's
    /// (`desk.contacts`), as `fields_seen` keys them.
    module: String,
    label: &'a str,
    standard: bool,
    /// The narrowest type of the values seen; `None` while only empty values were.
    #[serde(rename = "type")]
    value_type: Option<&'static str>,
    first_seen_at: DateTime<Utc>,
    view_column: Option<ViewColumn<'a>>,
}

impl<'a> From<&'a FieldSeen> for FieldEntry<'a> {
    fn from(f: &'a FieldSeen) -> FieldEntry<'a> {
        FieldEntry {
            module: f.module_key(),
            label: &f.label,
            standard: f.standard,
            value_type: f.value_type.map(FieldType::as_str),
            first_seen_at: f.first_seen_at,
            view_column: f.column.as_ref().map(|(name, ty)| ViewColumn {
                name,
                ty: ty.as_str(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct ViewColumn<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::loader::Instance;
    use crate::store::{RunKind, RunOutcome};
    use crate::stream::cursor::Cursor;
    use crate::stream::StreamKey;
    use crate::zoho::module::Module;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 6, 1, hour, 0, 0).unwrap()
    }

    fn checkpoint(in_progress: bool, next: u32) -> Checkpoint {
        Checkpoint {
            cursor: Cursor {
                next,
                ..Cursor::START
            },
            in_progress,
            watermark: Some(at(9)),
            pass_started_at: Some(at(8)),
            completed_at: None,
            passes: 3,
            seek: None,
        }
    }

    fn stream(last_run: Option<RunSummary>) -> StreamStatus {
        StreamStatus {
            stream: StreamKey {
                portal: "demo".into(),
                department: "Support".into(),
                module: Module::Requests.into(),
            },
            rows: 1200,
            dead_letters: 2,
            backfill: Some(checkpoint(true, 1195)),
            incremental: Some(checkpoint(false, 1)),
            sweep: Some(checkpoint(true, 400)),
            updated_at: Some(at(10)),
            last_run,
        }
    }

    #[test]
    fn a_stream_entry_keeps_the_published_names_and_shapes() {
        let run = RunSummary {
            id: 7,
            kind: RunKind::Backfill,
            organisation: "demo".into(),
            started_at: at(8),
            ended_at: Some(at(9)),
            outcome: Some(RunOutcome::QuotaSpent),
            error: None,
            pages: 6,
            records: 1195,
            requests: 6,
            instance: Some(Instance {
                host: "vm".into(),
                pid: 4242,
                version: "0.1.0".into(),
            }),
        };
        let status = stream(Some(run));
        let entry = serde_json::to_value(StreamEntry::from(&status)).unwrap();
        let expected = json!({
            "portal": "demo", "department": "Support", "module": "requests",
            "rows": 1200, "dead_letters": 2, "backfill": "at row 1195",
            "watermark": "2027-06-01T09:00:00Z",
            "sweep": {
                "in_progress": true, "next_row": 400, "started_at": "2027-06-01T08:00:00Z",
                "completed_at": null, "passes": 3,
            },
            "last_run": {
                "id": 7, "kind": "backfill", "outcome": "quota_spent", "error": null,
                "started_at": "2027-06-01T08:00:00Z", "ended_at": "2027-06-01T09:00:00Z",
                "pages": 6, "records": 1195, "requests": 6,
                "instance": { "host": "vm", "pid": 4242, "version": "0.1.0" },
            },
        });
        assert_eq!(entry, expected);
    }

    #[test]
    fn the_document_prints_on_one_line_with_its_keys_sorted() {
        let streams = [stream(None)];
        let field = FieldSeen {
            module: Module::Requests.into(),
            label: "Tier \"A\"".into(),
            standard: false,
            value_type: Some(FieldType::Text),
            first_seen_at: at(8),
            column: Some(("tier_a".into(), FieldType::Text)),
        };
        let fields = [field];
        let line = StatusDocument::new(&streams, &[], &fields)
            .to_line()
            .unwrap();
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with(r#"{"fields":[{"first_seen_at":"#),
            "{line}"
        );
        let document: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(document["quota"], json!([]));
        assert_eq!(document["streams"][0]["last_run"], json!(null));
        assert_eq!(
            document["fields"][0],
            json!({
                "module": "requests", "label": "Tier \"A\"", "standard": false,
                "type": "text", "first_seen_at": "2027-06-01T08:00:00Z",
                "view_column": { "name": "tier_a", "type": "text" },
            })
        );
    }
}

#[derive(Debug, Serialize)]
struct ScheduleEntry<'a> {
    organisation: &'a str,
    incremental_share: f64,
    modules: Vec<PlanEntry>,
    /// Modules polled on their fixed schedules.
    fixed: Vec<&'static str>,
}

/// One module's adaptive plan, as the text `status` prints it.
#[derive(Debug, Serialize)]
struct PlanEntry {
    module: &'static str,
    changes_per_day: f64,
    passes_per_day: f64,
    interval_secs: u64,
    expected_staleness_secs: u64,
    last_pass: Option<DateTime<Utc>>,
    /// `null` while a stream of it is still backfilling (the cron schedule runs it).
    next_due_at: Option<DateTime<Utc>>,
}

impl From<&ModulePlan> for PlanEntry {
    fn from(p: &ModulePlan) -> PlanEntry {
        PlanEntry {
            module: p.module.key(),
            changes_per_day: p.rate_per_day,
            passes_per_day: p.passes_per_day,
            interval_secs: p.interval.as_secs(),
            expected_staleness_secs: p.expected_staleness().as_secs(),
            last_pass: p.last_pass,
            next_due_at: p.due_at,
        }
    }
}
