//! The warehouse feed as text: the change log after a sequence number, each change with
//! its record's current fields, as NDJSON or CSV, for consumers outside PostgreSQL. The
//! output always ends with the sequence number to resume from: a last NDJSON line
//! `{"last_seq": N}`, or a CSV trailer line `# last_seq=N` (the only line starting with
//! `#`). It covers the changes committed up to a sequence number read first, in batches,
//! so memory stays flat and a reader finishes even while syncs keep appending. The log
//! itself is written by the store in each page's upsert (`loader::change_log`).

use std::io::Write;

use clap::ValueEnum;
use serde_json::{json, Value as Json};

use crate::loader::{Change, Loader};
use crate::store::StoreError;

/// Changes read per statement.
const BATCH: i64 = 1_000;

/// The CSV columns, in order.
const CSV_HEADER: &str =
    "seq,portal,department,module,record_id,op,modified_time,synced_at,run_id,fields";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ChangesFormat {
    /// One JSON object per line, then `{"last_seq": N}`.
    #[default]
    Ndjson,
    /// A header, one row per change (`fields` as JSON text), then `# last_seq=N`.
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot use the database: {0}")]
    Database(#[from] StoreError),
    #[error("cannot write the changes: {0}")]
    Output(#[from] std::io::Error),
}

/// What to write: the changes after `since` (up to `upto`), of one module or all.
#[derive(Clone, Copy, Debug)]
pub struct Selection {
    pub since: i64,
    pub upto: i64,
    /// A module's key in the change log (either API's).
    pub module: Option<&'static str>,
    pub format: ChangesFormat,
}

/// Writes the selected changes, in batches, then the sequence number to resume from.
pub async fn write_changes(
    loader: &Loader,
    selection: Selection,
    out: &mut impl Write,
) -> Result<(), FeedError> {
    let Selection {
        since,
        upto,
        module,
        format,
    } = selection;
    if format == ChangesFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    let mut last = since;
    loop {
        let batch = loader.changes_between(last, upto, module, BATCH).await?;
        for change in &batch {
            match format {
                ChangesFormat::Ndjson => writeln!(out, "{}", change_json(change))?,
                ChangesFormat::Csv => writeln!(out, "{}", csv_row(change))?,
            }
            last = change.seq;
        }
        out.flush()?;
        if i64::try_from(batch.len()).unwrap_or(i64::MAX) < BATCH {
            break;
        }
    }
    match format {
        ChangesFormat::Ndjson => writeln!(out, "{}", json!({ "last_seq": last }))?,
        ChangesFormat::Csv => writeln!(out, "# last_seq={last}")?,
    }
    Ok(())
}

/// A change as one JSON object. Record ids are strings: they exceed the integers a
/// JSON number holds exactly in many readers.
fn change_json(change: &Change) -> Json {
    json!({
        "seq": change.seq,
        "portal": change.stream.portal,
        "department": change.stream.department,
        "module": change.stream.module.key(),
        "record_id": change.record_id.0.to_string(),
        "op": change.op.as_str(),
        "modified_time": change.modified_time,
        "synced_at": change.synced_at,
        "run_id": change.run_id,
        "fields": change.fields,
    })
}

/// A change as one CSV row (RFC 4180 quoting); empty cells for absent values.
fn csv_row(change: &Change) -> String {
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let cells = [
        change.seq.to_string(),
        change.stream.portal.clone(),
        change.stream.department.clone(),
        change.stream.module.key().to_string(),
        change.record_id.0.to_string(),
        change.op.as_str().to_string(),
        time(change.modified_time),
        time(Some(change.synced_at)),
        change.run_id.map(|r| r.to_string()).unwrap_or_default(),
        change
            .fields
            .as_ref()
            .map(Json::to_string)
            .unwrap_or_default(),
    ];
    cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::ChangeOp;
    use crate::stream::StreamKey;
    use crate::zoho::module::Module;
    use crate::zoho::record::RecordId;

    fn change(op: ChangeOp, fields: Option<Json>) -> Change {
        Change {
            seq: 7,
            stream: StreamKey {
                portal: "demo".into(),
                department: "Sales, EU".into(),
                module: Module::Requests.into(),
            },
            record_id: RecordId(9_007_199_254_740_993),
            op,
            modified_time: None,
            synced_at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            run_id: Some(3),
            fields,
        }
    }

    #[test]
    fn a_csv_row_quotes_commas_and_quotes_and_leaves_absent_values_empty() {
        let row = csv_row(&change(
            ChangeOp::Update,
            Some(json!({ "Subject": "say \"hi\"" })),
        ));
        assert_eq!(
            row,
            "7,demo,\"Sales, EU\",requests,9007199254740993,update,,\
             1970-01-01T00:00:00+00:00,3,\"{\"\"Subject\"\":\"\"say \\\"\"hi\\\"\"\"\"}\""
        );
    }

    #[test]
    fn a_json_change_keeps_large_ids_exact_and_a_delete_has_no_fields() {
        let value = change_json(&change(ChangeOp::Delete, None));
        assert_eq!(value["record_id"], "9007199254740993");
        assert_eq!(value["op"], "delete");
        assert!(value["fields"].is_null());
        assert_eq!(value["seq"], 7);
    }
}
