//! getrecords, getrecordsbysearch and getrecordsbyid. The store's read lock is held only
//! to resolve the selected labels and pick the window's rows; projection and rendering
//! happen after it is released. An empty result is always the no-data error 4832.

use super::{Failure, Reply, Target};
use crate::emulator::activity::Outcome;
use crate::emulator::params::{self, BadParam, ReadOptions, Selection, Window};
use crate::emulator::render::records_answer;
use crate::emulator::state::read;
use crate::emulator::store::{ModuleStore, Query, Row, StoreError};

pub(super) fn get_records(target: &Target<'_>) -> Result<Reply, Failure> {
    let query = base_query(target)?;
    windowed(target, &query)
}

pub(super) fn search(target: &Target<'_>) -> Result<Reply, Failure> {
    let p = target.call.params;
    let field = p.required("searchfield")?.trim().to_string();
    let value = p.required("searchvalue")?.to_string();
    let query = Query {
        search: Some((field, value)),
        ..base_query(target)?
    };
    windowed(target, &query)
}

pub(super) fn by_id(target: &Target<'_>) -> Result<Reply, Failure> {
    let id = params::record_id(target.call.params)?;
    let options = params::read_options(target.call.params, target.module)?;
    let (keep, row) = {
        let store = read(&target.slot.store);
        (resolve(&store, &options.selection)?, store.get(id))
    };
    let row = row.ok_or_else(Failure::no_data)?;
    Ok(answer(target, vec![row], keep.as_deref(), &options))
}

/// The filters getrecords and search share: Modified Time bounds and `myrecords`.
fn base_query(target: &Target<'_>) -> Result<Query, Failure> {
    let p = target.call.params;
    let owner = params::my_records(p)?.then(|| target.caller.owner.clone());
    Ok(Query {
        modified_after: params::modified_after(p, target.zone, target.now)?,
        owner,
        search: None,
    })
}

fn windowed(target: &Target<'_>, query: &Query) -> Result<Reply, Failure> {
    let p = target.call.params;
    let Window { from, to } = params::window(p)?;
    let options = params::read_options(p, target.module)?;
    let (keep, rows) = {
        let store = read(&target.slot.store);
        let keep = resolve(&store, &options.selection)?;
        let rows = store.select(query, from, to).map_err(|e| match e {
            StoreError::UnknownField(_) => Failure::from(BadParam("searchfield")),
            _ => Failure::internal(),
        })?;
        (keep, rows)
    };
    if rows.is_empty() {
        return Err(Failure::no_data());
    }
    Ok(answer(target, rows, keep.as_deref(), &options))
}

/// The store's spelling of each selected label (`None` keeps every field); an unknown
/// label is a bad `selectfields`.
fn resolve(store: &ModuleStore, selection: &Selection) -> Result<Option<Vec<String>>, Failure> {
    let Selection::Fields(labels) = selection else {
        return Ok(None);
    };
    labels
        .iter()
        .map(|label| {
            store
                .canonical_label(label)
                .map(str::to_string)
                .ok_or_else(|| Failure::from(BadParam("selectfields")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn answer(
    target: &Target<'_>,
    rows: Vec<Row>,
    keep: Option<&[String]>,
    options: &ReadOptions,
) -> Reply {
    let id_field = target.module.id_field();
    let whole = keep.is_none() && !options.omit_empty;
    let rows = rows.into_iter().map(|row| {
        if whole {
            return row.fields;
        }
        row.fields
            .into_iter()
            .filter(|(label, value)| {
                let is_id = label == id_field;
                let kept = keep.is_none_or(|k| k.contains(label));
                is_id || (kept && !(options.omit_empty && value.is_none()))
            })
            .collect::<Vec<_>>()
    });
    Reply {
        outcome: Outcome::Ok,
        answer: records_answer(target.call.uri, target.module, rows),
    }
}
