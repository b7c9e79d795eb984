//! The `zoho-sync api` command line, read in two steps: clap reads the words
//! (`ApiLine`), then `ApiLine::check` decides which API they speak from METHOD (the
//! legacy and the Zoho Desk method names are disjoint) and reads `--module` and `--id`
//! in that API's terms. Invariant: an `ApiArgs` never mixes the two APIs (a legacy
//! method always comes with a legacy module and ids, a Desk method with a Desk module
//! and ids), so whether it fits the chosen organisation is one comparison, made before
//! anything is sent.

use std::fmt;

use chrono::NaiveDateTime;
use clap::error::ErrorKind;
use clap::{Args, FromArgMatches, ValueEnum};
use serde_json::{Map, Value};

use crate::desk::{DeskId, DeskModule};
use crate::zoho::client::{SelectFields, TIME_FORMAT};
use crate::zoho::module::{Method, Module};
use crate::zoho::record::RecordId;

/// The Zoho Desk methods (contract section 8).
pub const DESK_METHODS: &str = "get, create, update, trash";
/// The legacy methods.
pub const LEGACY_METHODS: &str =
    "getrecords, getrecordsbyid, getrecordsbysearch (or searchrecords), addrecords, updaterecords, deleterecords";

/// The command line as typed; see `ApiArgs` for it checked.
#[derive(Debug, Args)]
struct ApiLine {
    /// Legacy API: getrecords, getrecordsbyid, getrecordsbysearch (or searchrecords),
    /// addrecords, updaterecords or deleterecords. Zoho Desk: get, create, update or
    /// trash.
    #[arg(value_name = "METHOD")]
    method: String,
    /// The module, e.g. requests, contacts, timeentry (legacy); tickets, contacts,
    /// accounts (Zoho Desk).
    #[arg(long)]
    module: String,
    /// First row (1-based).
    #[arg(long, value_name = "N")]
    from: Option<u32>,
    /// Last row (inclusive; at most 200 rows per request).
    #[arg(long, value_name = "N")]
    to: Option<u32>,
    /// Fields to return: `all`, or labels `A,B`.
    #[arg(long, value_name = "A,B|all", value_parser = SelectFields::parse)]
    select: Option<SelectFields>,
    /// Only rows modified after this moment, `yyyy-MM-dd HH:mm:ss` in the portal's zone.
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    since: Option<NaiveDateTime>,
    /// Record id (getrecordsbyid, updaterecords, deleterecords; Desk get, update, and
    /// trash, which takes it repeated).
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<String>,
    /// Label of the field to search.
    #[arg(long, value_name = "LABEL")]
    search_field: Option<String>,
    /// Value to search for.
    #[arg(long, value_name = "VALUE")]
    search_value: Option<String>,
    /// Only rows modified in the last N days (search).
    #[arg(long, value_name = "N")]
    days: Option<u32>,
    /// A field to write, repeatable; `LABEL=` writes an empty (null) value. Zoho Desk:
    /// the record's JSON key, the value sent as a JSON string; `cf_*` keys go into `cf`.
    #[arg(long = "field", value_name = "LABEL=VALUE", value_parser = parse_field)]
    fields: Vec<(String, Option<String>)>,
    /// Zoho Desk create and update: the whole body as one JSON object; `--field`s are
    /// applied on top of it.
    #[arg(long, value_name = "OBJECT", value_parser = parse_json_object)]
    json: Option<Map<String, Value>>,
    /// Only the token user's own records (getrecords).
    #[arg(long)]
    my_records: bool,
    /// How the answer is printed.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// The configured organisation to use (default: the only or default one).
    #[arg(long, value_name = "NAME")]
    organisation: Option<String>,
    /// The department to use (default: the organisation's configured one; legacy only).
    #[arg(long, value_name = "NAME")]
    department: Option<String>,
}

/// The checked command line.
#[derive(Debug)]
pub struct ApiArgs {
    pub method: ApiMethod,
    pub module: ApiModule,
    pub from: Option<u32>,
    pub to: Option<u32>,
    pub select: Option<SelectFields>,
    pub since: Option<NaiveDateTime>,
    /// The legacy method's record id.
    pub id: Option<RecordId>,
    /// The Desk method's record ids.
    pub desk_ids: Vec<DeskId>,
    pub search_field: Option<String>,
    pub search_value: Option<String>,
    pub days: Option<u32>,
    pub fields: Vec<(String, Option<String>)>,
    pub json: Option<Map<String, Value>>,
    pub my_records: bool,
    pub output: Output,
    pub organisation: Option<String>,
    pub department: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// An aligned text table (Zoho Desk: one `key: value` line per top-level field).
    Table,
    /// One JSON object per record.
    Jsonl,
    /// The answer body exactly as received.
    Raw,
}

/// A Zoho Desk method of `zoho-sync api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskMethod {
    /// `GET /{module}/{id}`.
    Get,
    /// `POST /{module}`.
    Create,
    /// `PATCH /{module}/{id}`.
    Update,
    /// `POST /{module}/moveToTrash`.
    Trash,
}

impl DeskMethod {
    pub fn parse(name: &str) -> Option<DeskMethod> {
        match name.trim().to_ascii_lowercase().as_str() {
            "get" => Some(DeskMethod::Get),
            "create" => Some(DeskMethod::Create),
            "update" => Some(DeskMethod::Update),
            "trash" => Some(DeskMethod::Trash),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DeskMethod::Get => "get",
            DeskMethod::Create => "create",
            DeskMethod::Update => "update",
            DeskMethod::Trash => "trash",
        }
    }
}

/// METHOD, in the terms of the API it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMethod {
    Legacy(Method),
    Desk(DeskMethod),
}

/// `--module`, in the terms of METHOD's API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiModule {
    Legacy(Module),
    Desk(DeskModule),
}

impl PartialEq<Method> for ApiMethod {
    fn eq(&self, other: &Method) -> bool {
        *self == ApiMethod::Legacy(*other)
    }
}

impl PartialEq<Module> for ApiModule {
    fn eq(&self, other: &Module) -> bool {
        *self == ApiModule::Legacy(*other)
    }
}

impl fmt::Display for ApiMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiMethod::Legacy(m) => m.fmt(f),
            ApiMethod::Desk(m) => f.write_str(m.name()),
        }
    }
}

impl fmt::Display for ApiModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiModule::Legacy(m) => m.fmt(f),
            ApiModule::Desk(m) => f.write_str(m.url_name()),
        }
    }
}

impl ApiLine {
    /// The line in the terms of METHOD's API, or the usage error clap reports (exit 2).
    fn check(self) -> Result<ApiArgs, String> {
        let method = parse_method(&self.method)?;
        let (module, id, desk_ids) = match method {
            ApiMethod::Legacy(m) => {
                let module = Module::parse(&self.module).ok_or_else(|| {
                    format!("`{}` is not a module of the legacy API, which {m} belongs to (a Zoho Desk organisation takes the methods {DESK_METHODS})", self.module)
                })?;
                let id = match self.ids.as_slice() {
                    [] => None,
                    [one] => Some(one.parse::<RecordId>()?),
                    _ => return Err(format!("{m} takes one --id")),
                };
                (ApiModule::Legacy(module), id, Vec::new())
            }
            ApiMethod::Desk(m) => {
                let module = DeskModule::parse(&self.module).ok_or_else(|| {
                    format!("`{}` is not a Zoho Desk module, which {} belongs to (a legacy organisation takes the methods {LEGACY_METHODS})", self.module, m.name())
                })?;
                let ids = self.ids.iter().map(|id| id.parse::<DeskId>());
                (
                    ApiModule::Desk(module),
                    None,
                    ids.collect::<Result<_, _>>()?,
                )
            }
        };
        Ok(ApiArgs {
            method,
            module,
            from: self.from,
            to: self.to,
            select: self.select,
            since: self.since,
            id,
            desk_ids,
            search_field: self.search_field,
            search_value: self.search_value,
            days: self.days,
            fields: self.fields,
            json: self.json,
            my_records: self.my_records,
            output: self.output,
            organisation: self.organisation,
            department: self.department,
        })
    }
}

// clap reads `ApiLine`; `ApiArgs` is that line checked, its failures clap's usage errors.
impl FromArgMatches for ApiArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        ApiLine::from_arg_matches(matches)?
            .check()
            .map_err(|e| clap::Error::raw(ErrorKind::ValueValidation, e))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = ApiArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ApiArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        ApiLine::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        ApiLine::augment_args_for_update(cmd)
    }
}

fn parse_method(text: &str) -> Result<ApiMethod, String> {
    Method::parse(text)
        .map(ApiMethod::Legacy)
        .or_else(|| DeskMethod::parse(text).map(ApiMethod::Desk))
        .ok_or_else(|| {
            format!("`{text}` is not a method (legacy API: {LEGACY_METHODS}; Zoho Desk: {DESK_METHODS})")
        })
}

fn parse_since(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text.trim(), TIME_FORMAT)
        .map_err(|_| format!("`{text}` is not a time of the form yyyy-MM-dd HH:mm:ss"))
}

pub(super) fn parse_field(text: &str) -> Result<(String, Option<String>), String> {
    let (label, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not LABEL=VALUE"))?;
    let label = label.trim();
    if label.is_empty() {
        return Err(format!("`{text}` has no label"));
    }
    Ok((
        label.to_string(),
        (!value.is_empty()).then(|| value.to_string()),
    ))
}

fn parse_json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("--json takes a JSON object `{...}`".into()),
        Err(e) => Err(format!("--json is not JSON: {e}")),
    }
}
