//! How `zoho-sync api` prints answers: records as an aligned text table or as JSON lines,
//! write acknowledgements as `key: value` lines or one JSON object. Rendering is pure
//! (answer in, text out); field order is always the server's, never sorted.

use crate::zoho::codec::{RowOutcome, Written};
use crate::zoho::record::Record;

/// Longest cell of a table, in characters (longer values end in `…`).
pub const MAX_CELL_CHARS: usize = 40;
const GAP: &str = "  ";

/// An aligned table: one column per label in first-seen order, a dash rule under the
/// header; rows that could not be decoded are listed after it.
pub fn table(rows: &[RowOutcome]) -> String {
    let records: Vec<&Record> = rows
        .iter()
        .filter_map(|r| match r {
            RowOutcome::Ok(record) => Some(record),
            RowOutcome::Bad(_) => None,
        })
        .collect();
    let mut labels: Vec<&str> = Vec::new();
    for field in records.iter().flat_map(|r| &r.fields) {
        if !labels.contains(&field.label.as_str()) {
            labels.push(&field.label);
        }
    }
    let header: Vec<String> = labels.iter().map(|l| cell(Some(l))).collect();
    let body: Vec<Vec<String>> = records
        .iter()
        .map(|r| labels.iter().map(|l| cell(value_of(r, l))).collect())
        .collect();
    let widths: Vec<usize> = (0..labels.len())
        .map(|i| {
            std::iter::once(&header)
                .chain(&body)
                .filter_map(|line| line.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    if !labels.is_empty() {
        push_line(&mut out, &header, &widths);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        push_line(&mut out, &rule, &widths);
        for line in &body {
            push_line(&mut out, line, &widths);
        }
    }
    for row in rows {
        if let RowOutcome::Bad(bad) = row {
            out.push_str(&format!(
                "! a row could not be decoded: {}\n",
                one_line(&bad.error)
            ));
        }
    }
    out
}

/// One JSON object per row: `{"id":"…"|null,"fields":{label:value|null,…}}` in field
/// order; an undecodable row is `{"error":"…","raw":"…"}`.
pub fn jsonl(rows: &[RowOutcome]) -> String {
    let mut out = String::new();
    for row in rows {
        match row {
            RowOutcome::Ok(record) => {
                let id = record.id.map(|id| id.to_string());
                out.push_str("{\"id\":");
                out.push_str(&json_text(id.as_deref()));
                out.push_str(",\"fields\":{");
                for (i, field) in record.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_text(Some(&field.label)));
                    out.push(':');
                    out.push_str(&json_text(field.value.as_deref()));
                }
                out.push_str("}}\n");
            }
            RowOutcome::Bad(bad) => {
                out.push_str("{\"error\":");
                out.push_str(&json_text(Some(&bad.error)));
                out.push_str(",\"raw\":");
                out.push_str(&json_text(Some(&bad.raw)));
                out.push_str("}\n");
            }
        }
    }
    out
}

/// A write acknowledgement as `key: value` lines (absent parts left out).
pub fn written_text(written: &Written) -> String {
    let mut out = String::new();
    if let Some(code) = written.responsecode {
        out.push_str(&format!("responsecode: {code}\n"));
    }
    if let Some(message) = &written.message {
        out.push_str(&format!("message: {}\n", one_line(message)));
    }
    if !written.ids.is_empty() {
        let ids: Vec<String> = written.ids.iter().map(|id| id.to_string()).collect();
        out.push_str(&format!("ids: {}\n", ids.join(", ")));
    }
    if out.is_empty() {
        out.push_str("ok\n");
    }
    out
}

/// A write acknowledgement as one JSON line; ids are strings, as on the wire.
pub fn written_json(written: &Written) -> String {
    let ids: Vec<String> = written.ids.iter().map(|id| id.to_string()).collect();
    let value = serde_json::json!({
        "responsecode": written.responsecode,
        "message": written.message,
        "ids": ids,
    });
    format!("{value}\n")
}

fn value_of<'r>(record: &'r Record, label: &str) -> Option<&'r str> {
    record
        .fields
        .iter()
        .find(|f| f.label == label)
        .and_then(|f| f.value.as_deref())
}

/// A value fit for one cell: on one line and at most `MAX_CELL_CHARS` characters.
fn cell(value: Option<&str>) -> String {
    let text = one_line(value.unwrap_or(""));
    if text.chars().count() <= MAX_CELL_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn push_line(out: &mut String, cells: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        line.push_str(cell);
        let pad = width.saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(GAP);
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn json_text(text: Option<&str>) -> String {
    match text {
        Some(t) => serde_json::Value::String(t.to_string()).to_string(),
        None => "null".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::codec::BadRow;
    use crate::zoho::record::{Field, RecordId};

    fn record(id: u64, fields: &[(&str, Option<&str>)]) -> RowOutcome {
        RowOutcome::Ok(Record {
            id: Some(RecordId(id)),
            fields: fields
                .iter()
                .map(|(l, v)| Field {
                    label: (*l).into(),
                    value: v.map(Into::into),
                })
                .collect(),
        })
    }

    #[test]
    fn columns_follow_first_seen_label_order_and_are_aligned() {
        let rows = [
            record(1, &[("CASEID", Some("1")), ("Subject", Some("Printer"))]),
            record(
                22,
                &[
                    ("CASEID", Some("22")),
                    ("Email", None),
                    ("Subject", Some("x")),
                ],
            ),
        ];
        let expected = "\
CASEID  Subject  Email
------  -------  -----
1       Printer
22      x
";
        assert_eq!(table(&rows), expected);
    }

    #[test]
    fn long_values_are_cut_to_forty_characters_with_an_ellipsis() {
        let long = "é".repeat(50);
        let rows = [record(
            1,
            &[("Description", Some(&long)), ("Note", Some("a\nb"))],
        )];
        let text = table(&rows);
        let last = text.lines().last().unwrap();
        assert!(
            last.starts_with(&format!("{}…  a b", "é".repeat(39))),
            "{last}"
        );
    }

    #[test]
    fn no_rows_render_as_nothing_and_bad_rows_are_listed_after_the_table() {
        assert_eq!(table(&[]), "");
        let bad = RowOutcome::Bad(BadRow {
            raw: "<row/>".into(),
            error: "field `CASEID` holds `x`".into(),
            id: None,
        });
        assert_eq!(
            table(&[bad]),
            "! a row could not be decoded: field `CASEID` holds `x`\n"
        );
    }

    #[test]
    fn json_lines_keep_field_order_and_write_nulls() {
        let rows = [record(7, &[("Zeta", Some("z \"q\"")), ("Alpha", None)])];
        assert_eq!(
            jsonl(&rows),
            "{\"id\":\"7\",\"fields\":{\"Zeta\":\"z \\\"q\\\"\",\"Alpha\":null}}\n"
        );
    }

    #[test]
    fn a_write_acknowledgement_prints_its_code_message_and_ids() {
        let written = Written {
            responsecode: Some(2001),
            message: Some("Record(s) added successfully".into()),
            ids: vec![RecordId(5), RecordId(6)],
        };
        assert_eq!(
            written_text(&written),
            "responsecode: 2001\nmessage: Record(s) added successfully\nids: 5, 6\n"
        );
        assert_eq!(written_text(&Written::default()), "ok\n");
        assert!(written_json(&written).contains("\"ids\":[\"5\",\"6\"]"));
    }
}
