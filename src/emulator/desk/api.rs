//! The Desk API's decisions for a call whose token, org id and place in the gate passed:
//! the call is decoded into a typed `Op` (strict parameters and body, D11, D14, section 8)
//! and priced (D19) before anything runs, so the credits can be reserved first; then the
//! op runs against its stores and answers a `Reply` (a body, or none for 204). Every
//! refusal is a `DeskError`. Reads live in `lists`, `search` and `directory`, writes in
//! `writes`, the recycle bin in `bin`.

mod bin;
mod body;
mod directory;
mod lists;
mod search;
mod writes;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::errors::DeskError;
use super::org::DeskOrg;
use super::params::Query;
use super::route::Endpoint;
use super::Desk;

/// What a call carries once routed to its organisation.
pub struct Call<'a> {
    pub desk: &'a Desk,
    pub org: &'a DeskOrg,
    pub endpoint: Endpoint,
    pub query: &'a Query,
    pub body: &'a [u8],
    pub now: DateTime<Utc>,
}

/// A successful answer: a JSON body, or none (204).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Vec<u8>>,
}

impl Reply {
    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }

    pub fn json(value: &impl Serialize) -> Reply {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply {
            status: StatusCode::OK,
            body: Some(body),
        }
    }

    /// `{"data":[...]}` (with `"count"` for a search), or 204 when there are no rows (D8).
    pub fn rows<T: Serialize>(rows: Vec<T>, count: Option<usize>) -> Reply {
        if rows.is_empty() {
            return Reply::no_content();
        }
        #[derive(Serialize)]
        struct Page<T> {
            data: Vec<T>,
            #[serde(skip_serializing_if = "Option::is_none")]
            count: Option<usize>,
        }
        Reply::json(&Page { data: rows, count })
    }
}

/// A decoded, priced call.
pub enum Op {
    List(lists::ListOp),
    Search(search::SearchOp),
    Get(lists::GetOp),
    Directory(directory::DirectoryOp),
    Write(writes::WriteOp),
    Bin(bin::BinOp),
}

impl Op {
    /// Decodes the call; refuses what the contract refuses before anything runs.
    pub fn decode(call: &Call<'_>) -> Result<Op, DeskError> {
        Ok(match call.endpoint {
            Endpoint::List(module) => Op::List(lists::ListOp::decode(call, module)?),
            Endpoint::Get(module, id) => Op::Get(lists::GetOp::decode(call, module, id)?),
            Endpoint::Search(module) => Op::Search(search::SearchOp::decode(call, module)?),
            Endpoint::Organizations
            | Endpoint::Agents
            | Endpoint::Departments
            | Endpoint::AgentTimeEntries(_)
            | Endpoint::ArchivedTickets => Op::Directory(directory::DirectoryOp::decode(call)?),
            Endpoint::Create(_) | Endpoint::Update(..) | Endpoint::Trash(_) => {
                Op::Write(writes::WriteOp::decode(call)?)
            }
            Endpoint::RecycleBin | Endpoint::BinRestore | Endpoint::BinDelete => {
                Op::Bin(bin::BinOp::decode(call)?)
            }
        })
    }

    /// The credits the call costs if it succeeds (D19).
    pub fn cost(&self) -> u32 {
        match self {
            Op::List(op) => op.cost(),
            Op::Search(op) => op.cost(),
            Op::Get(_) => 1,
            Op::Directory(op) => op.cost(),
            Op::Write(op) => op.cost(),
            Op::Bin(op) => op.cost(),
        }
    }

    pub fn run(self, call: &Call<'_>) -> Result<Reply, DeskError> {
        match self {
            Op::List(op) => Ok(op.run(call)),
            Op::Search(op) => Ok(op.run(call)),
            Op::Get(op) => op.run(call),
            Op::Directory(op) => op.run(call),
            Op::Write(op) => op.run(call),
            Op::Bin(op) => op.run(call),
        }
    }
}

#[cfg(test)]
mod tests;
