//! The pure half of a retry: which records a stream's letters ask to read again (each
//! record id once, however many letters share it, in the order of their oldest letter),
//! which letters cannot be retried, and what the rows of a read by id mean for them.
//! Nothing here touches the network or the database.

use crate::loader::{DeadLetter, Fresh, Reread};
use crate::source::{Outcome as RowKind, Row};
use crate::zoho::record::RecordId;

/// A stream's letters sorted for a retry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    /// Each record to read again, with its letters (their ids), oldest letter first.
    pub records: Vec<(RecordId, Vec<i64>)>,
    /// Letters without a record id, or with one no mirror row can have (past a bigint):
    /// no read by id can settle them.
    pub no_id: Vec<i64>,
}

impl Groups {
    /// Letters that ask for a read.
    pub fn with_id(&self) -> usize {
        self.records.iter().map(|(_, letters)| letters.len()).sum()
    }
}

/// Sorts `letters` (oldest first) into the records to read again and the letters that
/// cannot be retried.
pub fn group(letters: &[DeadLetter]) -> Groups {
    let mut groups = Groups::default();
    for letter in letters {
        match letter.record_id.filter(|id| i64::try_from(id.0).is_ok()) {
            None => groups.no_id.push(letter.id),
            Some(id) => match groups.records.iter_mut().find(|(r, _)| *r == id) {
                Some((_, ids)) => ids.push(letter.id),
                None => groups.records.push((id, vec![letter.id])),
            },
        }
    }
    groups
}

/// What the rows answered to a read of record `asked` by id mean: no row, the source no
/// longer has it; a row of it that decodes, loaded; anything else, still bad (with the
/// reason, in words for the operator).
pub fn judge(asked: RecordId, rows: Vec<Row>) -> Reread {
    let mut rows = rows.into_iter();
    let Some(row) = rows.next() else {
        return Reread::Gone;
    };
    match row.outcome {
        RowKind::Record(record) if record.id == Some(asked) => {
            Reread::Loaded(Fresh::Record(record))
        }
        RowKind::Object(object) if object_id(object.id.get()) == Some(asked) => {
            Reread::Loaded(Fresh::Object(object))
        }
        RowKind::Bad(bad) => Reread::StillBad(bad.error),
        RowKind::Record(record) => Reread::StillBad(match record.id {
            Some(id) => format!("the source answered record {id} for record {asked}"),
            None => format!("the source answered a row without an id for record {asked}"),
        }),
        RowKind::Object(object) => Reread::StillBad(format!(
            "the source answered record {} for record {asked}",
            object.id.get()
        )),
        RowKind::Deleted(_) => {
            Reread::StillBad(format!("the source answered a deletion for record {asked}"))
        }
    }
}

/// A Desk id as the letters keep it (they keep ids as unsigned numbers).
fn object_id(id: i64) -> Option<RecordId> {
    u64::try_from(id).ok().map(RecordId)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::stream::seek::Mark;
    use crate::zoho::codec::{BadRow, RowOutcome};
    use crate::zoho::record::Record;

    fn letter(id: i64, record: Option<u64>) -> DeadLetter {
        DeadLetter {
            id,
            run_id: Some(1),
            record_id: record.map(RecordId),
            raw: format!("raw {id}"),
            error: "bad".into(),
            created_at: Utc::now(),
        }
    }

    fn record(id: u64) -> Record {
        let pairs = [
            ("CASEID".to_string(), id.to_string()),
            ("Subject".into(), "s".into()),
        ];
        Record::from_wire("CASEID", pairs).expect("a record")
    }

    #[test]
    fn letters_sharing_a_record_id_ask_for_one_read_in_the_order_of_their_oldest() {
        let letters = [
            letter(1, Some(7)),
            letter(2, Some(3)),
            letter(3, Some(7)),
            letter(4, None),
            letter(5, Some(3)),
        ];
        let groups = group(&letters);
        assert_eq!(
            groups.records,
            [(RecordId(7), vec![1, 3]), (RecordId(3), vec![2, 5])]
        );
        assert_eq!(groups.no_id, [4]);
        assert_eq!(groups.with_id(), 4);
    }

    #[test]
    fn a_record_id_past_a_bigint_cannot_be_retried() {
        let groups = group(&[letter(1, Some(u64::MAX)), letter(2, Some(9))]);
        assert_eq!(groups.no_id, [1]);
        assert_eq!(groups.records, [(RecordId(9), vec![2])]);
    }

    #[test]
    fn no_row_means_the_record_is_gone() {
        assert_eq!(judge(RecordId(5), Vec::new()), Reread::Gone);
    }

    #[test]
    fn the_asked_record_decoded_is_loaded() {
        let row = Row::by_id(RowOutcome::Ok(record(5)));
        assert_eq!(
            judge(RecordId(5), vec![row]),
            Reread::Loaded(Fresh::Record(record(5)))
        );
    }

    #[test]
    fn a_bad_row_is_still_bad_with_its_reason() {
        let bad = BadRow {
            raw: "{}".into(),
            error: "invalid UTF-8".into(),
            id: Some(RecordId(5)),
        };
        let row = Row::by_id(RowOutcome::Bad(bad));
        assert_eq!(
            judge(RecordId(5), vec![row]),
            Reread::StillBad("invalid UTF-8".into())
        );
    }

    #[test]
    fn another_record_than_the_one_asked_for_is_not_loaded() {
        let row = Row {
            outcome: RowKind::Record(record(6)),
            mark: Mark {
                at: None,
                id: Some(RecordId(6)),
            },
        };
        let Reread::StillBad(reason) = judge(RecordId(5), vec![row]) else {
            panic!("another record was taken for the one asked for");
        };
        assert!(reason.contains("record 6 for record 5"), "{reason}");
    }
}
