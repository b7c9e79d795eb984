//! Decoding of the API's answers (and the `xml` parameter of writes) at the edge. Both
//! decoders turn a body into one `Answer`: records, a write acknowledgement or an API
//! error. They are tolerant exactly where the contract says real servers varied (row or
//! fl as object or array, CDATA or escaped text, code as string or number, names in any
//! case) and strict everywhere else; a body they cannot read is a `DecodeError`, never a
//! panic. A row whose fields decode but whose id does not is kept raw as a `BadRow`, so
//! that one bad record never costs the rest of its page.

pub mod json;
pub mod request_xml;
pub mod xml;

use crate::zoho::error::{ApiError, DecodeError};
use crate::zoho::module::{Format, Module};
use crate::zoho::record::{Record, RecordId};

/// A row that could not become a `Record`, kept with its raw text for the dead-letter table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The row exactly as it appeared in the body (its XML element or JSON object).
    pub raw: String,
    /// Why it could not be decoded.
    pub error: String,
}

/// One row of a records answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Ok(Record),
    Bad(BadRow),
}

/// The acknowledgement of addrecords, updaterecords or deleterecords.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Written {
    /// `result.responsecode` (2001 for a successful add), when present.
    pub responsecode: Option<u32>,
    /// The `message` field of `responsedata`, when present.
    pub message: Option<String>,
    /// Ids from every `record@id` (or an id-labelled `fl`), in order.
    pub ids: Vec<RecordId>,
}

/// Everything an answer of the record API can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// getrecords, getrecordsbyid, getrecordsbysearch.
    Records(Vec<RowOutcome>),
    /// addrecords, updaterecords, deleterecords.
    Written(Written),
    /// `response.error`.
    Error(ApiError),
}

/// Decodes a whole answer body in the given format; `module` names the result key and
/// id field to expect.
pub fn decode(format: Format, module: Module, body: &[u8]) -> Result<Answer, DecodeError> {
    match format {
        Format::Xml => xml::decode(module, body),
        Format::Json => json::decode(module, body),
    }
}
