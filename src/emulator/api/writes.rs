//! addrecords, updaterecords and deleterecords. An add is all or nothing: every row is
//! checked for the module's mandatory field before the first one is stored. Written
//! records take the emulated `now` as their Modified Time.

use super::{Failure, Reply, Target};
use crate::emulator::activity::Outcome;
use crate::emulator::params::{self, BadParam};
use crate::emulator::render::written_answer;
use crate::emulator::state::write;
use crate::emulator::store::{ModuleStore, StoreError};
use crate::zoho::codec::request_xml::decode_rows;
use crate::zoho::record::NULL_TEXT;

/// The most rows one addrecords may carry (contract section 0).
pub const MAX_ADD_ROWS: usize = 100;

type Fields = Vec<(String, String)>;

pub(super) fn add(target: &Target<'_>) -> Result<Reply, Failure> {
    let rows = rows(target)?;
    if rows.len() > MAX_ADD_ROWS {
        return Err(BadParam("xml").into());
    }
    let ids = {
        let mut store = write(&target.slot.store);
        if !rows.iter().all(|row| has_mandatory(&store, row)) {
            return Err(Failure::mandatory_missing());
        }
        rows.into_iter()
            .map(|row| store.add(row, target.now).map_err(store_failure))
            .collect::<Result<Vec<u64>, Failure>>()?
    };
    Ok(written(
        target,
        Some(2001),
        "Record(s) added successfully",
        &ids,
    ))
}

pub(super) fn update(target: &Target<'_>) -> Result<Reply, Failure> {
    let id = params::record_id(target.call.params)?;
    let mut rows = rows(target)?;
    if rows.len() != 1 {
        return Err(BadParam("xml").into());
    }
    let row = rows.pop().unwrap_or_default();
    write(&target.slot.store)
        .update(id, row, target.now)
        .map_err(store_failure)?;
    Ok(written(
        target,
        None,
        "Record(s) updated successfully",
        &[id],
    ))
}

pub(super) fn delete(target: &Target<'_>) -> Result<Reply, Failure> {
    let id = params::record_id(target.call.params)?;
    write(&target.slot.store)
        .delete(id)
        .map_err(store_failure)?;
    Ok(written(
        target,
        None,
        "Record(s) deleted successfully",
        &[id],
    ))
}

/// The decoded rows of the `xml` parameter; at least one.
fn rows(target: &Target<'_>) -> Result<Vec<Fields>, Failure> {
    let xml = target.call.params.required("xml")?;
    let rows = decode_rows(xml).map_err(|_| Failure::xml_parse())?;
    if rows.is_empty() {
        return Err(BadParam("xml").into());
    }
    Ok(rows)
}

fn has_mandatory(store: &ModuleStore, row: &Fields) -> bool {
    let mandatory = store.mandatory_label();
    row.iter().any(|(label, text)| {
        store.canonical_label(label) == Some(mandatory) && !text.is_empty() && text != NULL_TEXT
    })
}

fn store_failure(error: StoreError) -> Failure {
    match error {
        StoreError::NotFound(_) => Failure::no_such_record(),
        StoreError::MandatoryMissing(_) => Failure::mandatory_missing(),
        StoreError::UnknownField(_) | StoreError::DuplicateField(_) => Failure::internal(),
    }
}

fn written(target: &Target<'_>, code: Option<u32>, message: &str, ids: &[u64]) -> Reply {
    Reply {
        outcome: Outcome::Ok,
        answer: written_answer(target.call.uri, target.module, code, message, ids),
    }
}
