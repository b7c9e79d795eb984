//! The record API's decisions for a request whose token is valid and whose quota charge
//! passed: portal, department, permission, module and method are checked in the order of
//! the contract (section 0), then the method runs against its store. Every refusal is a
//! `Failure` carrying the contract's code and wire text; every answer is an `Element`
//! tree, rendered by the caller after all locks are released.

mod reads;
mod writes;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::accounts::Caller;
use super::activity::Outcome;
use super::params::{BadParam, Params};
use super::render::{error_answer, Element};
use super::state::{Emulator, StoreSlot};
use crate::zoho::error::NO_DATA_MESSAGE;
use crate::zoho::module::{Method, Module};

/// An answer and how the request ended.
#[derive(Debug)]
pub struct Reply {
    pub outcome: Outcome,
    pub answer: Element,
}

/// What the client asked: the path's segments as sent, and the merged parameters.
#[derive(Debug)]
pub struct Call<'a> {
    /// The request path, echoed as the envelope's `uri`.
    pub uri: &'a str,
    pub module: &'a str,
    pub method: &'a str,
    pub params: &'a Params,
}

/// An API error answer: the code and its wire text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: u32,
    pub message: String,
}

impl Failure {
    fn new(code: u32, message: &str) -> Failure {
        Failure {
            code,
            message: message.to_string(),
        }
    }

    pub fn invalid_ticket() -> Failure {
        Failure::new(4834, "Invalid Ticket Id")
    }

    pub fn quota_exceeded() -> Failure {
        Failure::new(4421, "Number of API calls exceeded.")
    }

    pub fn internal() -> Failure {
        Failure::new(4500, "Problem occured while processing the request")
    }

    pub fn no_data() -> Failure {
        Failure::new(4832, NO_DATA_MESSAGE)
    }

    fn no_permission() -> Failure {
        Failure::new(4001, "No API permission")
    }

    fn no_such_record() -> Failure {
        Failure::new(4103, "No record available with the specified record ID.")
    }

    fn mandatory_missing() -> Failure {
        Failure::new(
            4401,
            "Unable to populate data, please check if mandatory value is entered correctly.",
        )
    }

    fn xml_parse() -> Failure {
        Failure::new(4835, "Error while parsing the XML data")
    }

    /// The answer for this failure; 4832 counts as "no data", not as an error.
    pub fn reply(&self, uri: &str) -> Reply {
        let outcome = if self.code == 4832 {
            Outcome::NoData
        } else {
            Outcome::Error(self.code)
        };
        Reply {
            outcome,
            answer: error_answer(uri, self.code, &self.message),
        }
    }
}

impl From<BadParam> for Failure {
    fn from(BadParam(name): BadParam) -> Failure {
        Failure {
            code: 4600,
            message: format!("Unable to process your request. Please verify if the name and value is appropriate for the \"{name}\" parameter."),
        }
    }
}

/// Everything a method needs once the request is routed to its store.
struct Target<'a> {
    call: &'a Call<'a>,
    caller: &'a Caller,
    module: Module,
    slot: &'a StoreSlot,
    zone: Tz,
    now: DateTime<Utc>,
}

/// Serves one admitted request.
pub fn serve(emulator: &Emulator, caller: &Caller, call: &Call<'_>) -> Reply {
    match route(emulator, caller, call) {
        Ok(reply) => reply,
        Err(failure) => failure.reply(call.uri),
    }
}

fn route(emulator: &Emulator, caller: &Caller, call: &Call<'_>) -> Result<Reply, Failure> {
    let (_, portal) = emulator
        .portal(call.params.required("portal")?)
        .filter(|(at, _)| *at == caller.portal)
        .ok_or(BadParam("portal"))?;
    let department = portal
        .department(call.params.required("department")?)
        .ok_or(BadParam("department"))?;
    if !caller.admin {
        return Err(Failure::no_permission());
    }
    let module = Module::parse(call.module).ok_or(BadParam("module"))?;
    let method = Method::parse(call.method).ok_or(BadParam("method"))?;
    let slot = department.slot(module).ok_or_else(Failure::internal)?;
    let now = emulator.clock.now();
    slot.catch_up(emulator.seed, now);
    let target = Target {
        call,
        caller,
        module,
        slot,
        zone: portal.zone,
        now,
    };
    match method {
        Method::GetRecords => reads::get_records(&target),
        Method::Search => reads::search(&target),
        Method::GetRecordsById => reads::by_id(&target),
        Method::AddRecords => writes::add(&target),
        Method::UpdateRecords => writes::update(&target),
        Method::DeleteRecords => writes::delete(&target),
    }
}

#[cfg(test)]
mod tests;
