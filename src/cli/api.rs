//! `zoho-sync api`: run one record method against the configured portal and print the
//! answer. Arguments are checked against the method before anything is sent (a flag the
//! method does not use is a usage error, not silently dropped), so a typo never spends a
//! request of the daily quota.

mod mirror;
pub mod render;

use std::io::Write;

use chrono::NaiveDateTime;
use clap::{Args, ValueEnum};

use crate::cli::{EXIT_FAILURE, EXIT_USAGE};
use crate::config::Config;
use crate::zoho::client::params::{self, Params};
use crate::zoho::client::{Client, ClientSettings, GetRecords, Search, SelectFields, TIME_FORMAT};
use crate::zoho::codec::{RowOutcome, Written};
use crate::zoho::error::ZohoError;
use crate::zoho::module::{Method, Module};
use crate::zoho::record::RecordId;

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// getrecords, getrecordsbyid, getrecordsbysearch (or searchrecords), addrecords,
    /// updaterecords or deleterecords.
    #[arg(value_name = "METHOD", value_parser = parse_method)]
    pub method: Method,
    /// The module, e.g. requests, contacts, timeentry.
    #[arg(long)]
    pub module: Module,
    /// First row (1-based).
    #[arg(long, value_name = "N")]
    pub from: Option<u32>,
    /// Last row (inclusive; at most 200 rows per request).
    #[arg(long, value_name = "N")]
    pub to: Option<u32>,
    /// Fields to return: `all`, or labels `A,B`.
    #[arg(long, value_name = "A,B|all", value_parser = SelectFields::parse)]
    pub select: Option<SelectFields>,
    /// Only rows modified after this moment, `yyyy-MM-dd HH:mm:ss` in the portal's zone.
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<NaiveDateTime>,
    /// Record id (getrecordsbyid, updaterecords, deleterecords).
    #[arg(long)]
    pub id: Option<RecordId>,
    /// Label of the field to search.
    #[arg(long, value_name = "LABEL")]
    pub search_field: Option<String>,
    /// Value to search for.
    #[arg(long, value_name = "VALUE")]
    pub search_value: Option<String>,
    /// Only rows modified in the last N days (search).
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// A field to write, repeatable; `LABEL=` writes an empty (null) value.
    #[arg(long = "field", value_name = "LABEL=VALUE", value_parser = parse_field)]
    pub fields: Vec<(String, Option<String>)>,
    /// Only the token user's own records (getrecords).
    #[arg(long)]
    pub my_records: bool,
    /// How the answer is printed.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// The configured organisation to use (default: the only or default one).
    #[arg(long, value_name = "NAME")]
    pub organisation: Option<String>,
    /// The department to use (default: the organisation's configured one).
    #[arg(long, value_name = "NAME")]
    pub department: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// An aligned text table.
    Table,
    /// One JSON object per record.
    Jsonl,
    /// The answer body exactly as received.
    Raw,
}

/// What `zoho-sync api` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiCommandError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Zoho(#[from] ZohoError),
    #[error("cannot write the answer: {0}")]
    Output(#[source] std::io::Error),
}

impl ApiCommandError {
    /// The process exit code this error stands for.
    pub fn exit_code(&self) -> u8 {
        match self {
            ApiCommandError::Usage(_) | ApiCommandError::Zoho(ZohoError::Invalid(_)) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// Runs the command and prints its answer on stdout. A confirmed delete is reflected in
/// the mirror of `config`'s database at once.
pub async fn run(
    args: &ApiArgs,
    settings: ClientSettings,
    config: &Config,
) -> Result<(), ApiCommandError> {
    check_flags(args)?;
    let client = Client::new(settings)?;
    let out = answer(args, &client).await?;
    if let (Method::DeleteRecords, Some(id)) = (args.method, args.id) {
        mirror::reflect_delete(config, args, &client, id, &out).await;
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(ApiCommandError::Output)
}

async fn answer(args: &ApiArgs, client: &Client) -> Result<Vec<u8>, ApiCommandError> {
    let module = args.module;
    if args.output == Output::Raw {
        let raw = client
            .raw(args.method, module, &method_params(args)?)
            .await?;
        return Ok(raw.bytes.to_vec());
    }
    let select = args.select.clone().unwrap_or_default();
    let rows = match args.method {
        Method::GetRecords => client.get_records(module, &get_records(args)).await?,
        Method::Search => client.search(module, &search(args)?).await?,
        Method::GetRecordsById => client
            .get_record_by_id(module, required_id(args)?, &select)
            .await?
            .into_iter()
            .collect(),
        Method::AddRecords => {
            let rows = std::slice::from_ref(&args.fields);
            return Ok(written(args, &client.add_records(module, rows).await?));
        }
        Method::UpdateRecords => {
            let id = required_id(args)?;
            let ack = client.update_record(module, id, &args.fields).await?;
            return Ok(written(args, &ack));
        }
        Method::DeleteRecords => {
            let ack = client.delete_record(module, required_id(args)?).await?;
            return Ok(written(args, &ack));
        }
    };
    if rows.is_empty() {
        // The API's "There is no data to show": say so rather than print nothing.
        eprintln!("no records (Zoho answered: There is no data to show)");
    }
    Ok(records(args, &rows))
}

fn records(args: &ApiArgs, rows: &[RowOutcome]) -> Vec<u8> {
    let bad = rows
        .iter()
        .filter(|r| matches!(r, RowOutcome::Bad(_)))
        .count();
    tracing::info!(method = %args.method, module = %args.module, rows = rows.len(), bad, "answer received");
    match args.output {
        Output::Jsonl => render::jsonl(rows).into_bytes(),
        _ => render::table(rows).into_bytes(),
    }
}

fn written(args: &ApiArgs, ack: &Written) -> Vec<u8> {
    match args.output {
        Output::Jsonl => render::written_json(ack).into_bytes(),
        _ => render::written_text(ack).into_bytes(),
    }
}

/// The method's parameters, as the typed client methods would send them (for `raw`).
fn method_params(args: &ApiArgs) -> Result<Params, ApiCommandError> {
    let module = args.module;
    let select = args.select.clone().unwrap_or_default();
    let params = match args.method {
        Method::GetRecords => get_records(args).params(module)?,
        Method::Search => search(args)?.params(module)?,
        Method::GetRecordsById => params::by_id(module, required_id(args)?, &select)?,
        Method::AddRecords => params::add(module, std::slice::from_ref(&args.fields))?,
        Method::UpdateRecords => params::update(module, required_id(args)?, &args.fields)?,
        Method::DeleteRecords => params::delete(required_id(args)?),
    };
    Ok(params)
}

fn get_records(args: &ApiArgs) -> GetRecords {
    GetRecords {
        from_index: args.from,
        to_index: args.to,
        select: args.select.clone().unwrap_or_default(),
        last_modified_time: args.since,
        my_records: args.my_records,
        new_format: None,
    }
}

fn search(args: &ApiArgs) -> Result<Search, ApiCommandError> {
    let (Some(field), Some(value)) = (&args.search_field, &args.search_value) else {
        return Err(usage(
            "getrecordsbysearch needs --search-field and --search-value",
        ));
    };
    Ok(Search {
        search_field: field.clone(),
        search_value: value.clone(),
        select: args.select.clone().unwrap_or_default(),
        from_index: args.from,
        to_index: args.to,
        no_of_days: args.days,
    })
}

fn required_id(args: &ApiArgs) -> Result<RecordId, ApiCommandError> {
    args.id
        .ok_or_else(|| usage(&format!("{} needs --id", args.method)))
}

/// Refuses flags the method does not use, and writes without fields.
fn check_flags(args: &ApiArgs) -> Result<(), ApiCommandError> {
    use Method::*;
    let given: [(&str, bool, &[Method]); 9] = [
        ("--from", args.from.is_some(), &[GetRecords, Search]),
        ("--to", args.to.is_some(), &[GetRecords, Search]),
        (
            "--select",
            args.select.is_some(),
            &[GetRecords, Search, GetRecordsById],
        ),
        ("--since", args.since.is_some(), &[GetRecords]),
        ("--my-records", args.my_records, &[GetRecords]),
        (
            "--id",
            args.id.is_some(),
            &[GetRecordsById, UpdateRecords, DeleteRecords],
        ),
        ("--search-field", args.search_field.is_some(), &[Search]),
        ("--search-value", args.search_value.is_some(), &[Search]),
        ("--days", args.days.is_some(), &[Search]),
    ];
    if let Some((flag, _, _)) = given
        .iter()
        .find(|(_, present, methods)| *present && !methods.contains(&args.method))
    {
        return Err(usage(&format!("{flag} does not apply to {}", args.method)));
    }
    let writes_fields = matches!(args.method, AddRecords | UpdateRecords);
    if writes_fields && args.fields.is_empty() {
        return Err(usage(&format!(
            "{} needs at least one --field LABEL=VALUE",
            args.method
        )));
    }
    if !writes_fields && !args.fields.is_empty() {
        return Err(usage(&format!("--field does not apply to {}", args.method)));
    }
    Ok(())
}

fn usage(text: &str) -> ApiCommandError {
    ApiCommandError::Usage(text.to_string())
}

fn parse_method(text: &str) -> Result<Method, String> {
    Method::parse(text).ok_or_else(|| {
        format!("`{text}` is not a method (getrecords, getrecordsbyid, getrecordsbysearch, searchrecords, addrecords, updaterecords, deleterecords)")
    })
}

fn parse_since(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text.trim(), TIME_FORMAT)
        .map_err(|_| format!("`{text}` is not a time of the form yyyy-MM-dd HH:mm:ss"))
}

fn parse_field(text: &str) -> Result<(String, Option<String>), String> {
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

#[cfg(test)]
mod tests;
