//! What the loader tests share: a loader on a fresh database, records built from
//! labels, and a page around them.

use chrono::{DateTime, Utc};
use zoho_sync::loader::Loader;
use zoho_sync::store::PageCommit;
use zoho_sync::stream::cursor::{Cursor, Order};
use zoho_sync::stream::{Checkpoint, PassKind, StreamKey};
use zoho_sync::zoho::codec::BadRow;
use zoho_sync::zoho::{Field, Module, Record, RecordId, Secret};

use crate::support::database::TestDatabase;

pub const SCHEMA: &str = "zoho";

pub async fn loader(db: &TestDatabase) -> Loader {
    Loader::connect(&Secret::new(db.url.clone()), SCHEMA, 4)
        .await
        .expect("the loader connects and migrates")
}

pub fn stream(module: Module) -> StreamKey {
    StreamKey {
        portal: "demo".into(),
        department: "Support".into(),
        module: module.into(),
    }
}

pub fn record(id: u64, fields: &[(&str, Option<&str>)]) -> Record {
    Record {
        id: Some(RecordId(id)),
        fields: fields
            .iter()
            .map(|(label, value)| Field {
                label: (*label).into(),
                value: value.map(Into::into),
            })
            .collect(),
    }
}

/// A request as the emulator writes one, with its id field first.
pub fn request(id: u64, subject: &str, modified: &str) -> Record {
    let id_text = id.to_string();
    record(
        id,
        &[
            ("CASEID", Some(&id_text)),
            ("Subject", Some(subject)),
            ("Request Id", Some("1001")),
            ("Email", None),
            ("Created Time", Some("2015-03-01 10:00:00")),
            ("Modified Time", Some(modified)),
        ],
    )
}

/// A backfill checkpoint standing after `rows` rows read up to `last_id`.
pub fn checkpoint_after(rows: u32, last_id: u64) -> Checkpoint {
    Checkpoint {
        cursor: Cursor {
            next: rows + 1,
            last_id: Some(RecordId(last_id)),
            order: Order::Ascending,
        },
        in_progress: true,
        ..Checkpoint::default()
    }
}

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

/// A page of `records` for the requests stream, read in UTC.
pub fn page<'a>(
    stream: &'a StreamKey,
    run_id: i64,
    records: &'a [Record],
    bad_rows: &'a [BadRow],
    checkpoint: &'a Checkpoint,
) -> PageCommit<'a> {
    PageCommit {
        stream,
        kind: PassKind::Backfill,
        run_id,
        records,
        objects: &[],
        bad_rows,
        checkpoint,
        zone: chrono_tz::UTC,
        synced_at: at("2024-01-01T00:00:00Z"),
        lease: None,
        deletes: zoho_sync::store::DeleteMode::Mark,
        prepared: None,
    }
}
