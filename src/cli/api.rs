//! `zoho-sync api`: run one record method against the configured portal and print the
//! answer. Arguments are checked against the method before anything is sent (a flag the
//! method does not use is a usage error, not silently dropped), so a typo never spends a
//! request of the daily quota. METHOD says which API the line speaks (legacy or Zoho
//! Desk); a line of the other API than the organisation's is refused the same way. This
//! file runs the legacy methods; `desk` runs the Desk ones.

mod args;
mod desk;
mod desk_body;
mod desk_output;
mod mirror;
pub mod render;

use std::io::Write;

pub use args::{ApiArgs, ApiMethod, ApiModule, DeskMethod, Output, DESK_METHODS, LEGACY_METHODS};

use crate::cli::{EXIT_FAILURE, EXIT_USAGE};
use crate::config::{Config, ConfigError, SourceConfig};
use crate::desk::DeskError;
use crate::store::StoreError;
use crate::zoho::client::params::{self, Params};
use crate::zoho::client::{Client, ClientSettings, GetRecords, Search};
use crate::zoho::codec::{RowOutcome, Written};
use crate::zoho::error::ZohoError;
use crate::zoho::module::{Method, Module};
use crate::zoho::record::RecordId;

#[cfg(test)]
use args::parse_field;

/// What `zoho-sync api` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiCommandError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Zoho(#[from] ZohoError),
    #[error("cannot write the answer: {0}")]
    Output(#[source] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Zoho Desk calls need the database: the token cache and the credit ledger.
    #[error(
        "cannot use the database, which Zoho Desk calls need (token cache and credit ledger): {0}"
    )]
    Database(#[source] StoreError),
    #[error("organisation `{organisation}` has no room for the {cost} credits of this call today (budget {per_day} a day after the reserve; it resets at {resets_at}); nothing was sent")]
    NoCredits {
        organisation: String,
        cost: u32,
        per_day: u32,
        resets_at: chrono::DateTime<chrono::Utc>,
    },
    #[error(transparent)]
    Desk(Box<DeskError>),
    /// A write whose fate is unknown (D23): never repeated by us, to be checked first.
    #[error("the {method} of {module} may or may not have happened ({source}); it was not retried: {check}")]
    Ambiguous {
        method: &'static str,
        module: &'static str,
        check: String,
        #[source]
        source: Box<DeskError>,
    },
    #[error("{module} record {id} is not visible: it never existed, is in the recycle bin, or was purged")]
    NotVisible { module: &'static str, id: String },
}

impl ApiCommandError {
    /// The process exit code this error stands for.
    pub fn exit_code(&self) -> u8 {
        match self {
            ApiCommandError::Usage(_)
            | ApiCommandError::Config(_)
            | ApiCommandError::Zoho(ZohoError::Invalid(_)) => EXIT_USAGE,
            ApiCommandError::Desk(e) if matches!(**e, DeskError::Invalid(_)) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// Runs the line against the organisation it names (or the default one): a legacy
/// organisation takes the legacy methods, a Zoho Desk one the Desk methods; any other
/// pairing is a usage error, found before a request is sent.
pub async fn run_command(args: &ApiArgs, config: &Config) -> Result<(), ApiCommandError> {
    let org = config.organisation(args.organisation.as_deref())?;
    match (&org.source, args.method) {
        (SourceConfig::Support(_), ApiMethod::Legacy(_)) => {
            let settings = config
                .client_settings(args.organisation.as_deref(), args.department.as_deref())?;
            run(args, settings, config).await
        }
        (SourceConfig::Desk(desk), ApiMethod::Desk(method)) => {
            desk::run(args, method, config, org, desk).await
        }
        (SourceConfig::Desk(_), ApiMethod::Legacy(method)) => Err(usage(&format!(
            "organisation `{}` is a Zoho Desk organisation: `{method}` is a legacy method; use one of {DESK_METHODS}",
            org.name
        ))),
        (SourceConfig::Support(_), ApiMethod::Desk(method)) => Err(usage(&format!(
            "organisation `{}` is a legacy Zoho Support organisation: `{}` is a Zoho Desk method; use one of {LEGACY_METHODS}",
            org.name,
            method.name()
        ))),
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
    if let (ApiMethod::Legacy(Method::DeleteRecords), ApiModule::Legacy(module), Some(id)) =
        (args.method, args.module, args.id)
    {
        mirror::reflect_delete(config, args, module, &client, id, &out).await;
    }
    print(&out)
}

/// Writes the answer as printed on stdout.
fn print(out: &[u8]) -> Result<(), ApiCommandError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out)
        .and_then(|()| stdout.flush())
        .map_err(ApiCommandError::Output)
}

async fn answer(args: &ApiArgs, client: &Client) -> Result<Vec<u8>, ApiCommandError> {
    let (method, module) = legacy(args)?;
    if args.output == Output::Raw {
        let raw = client.raw(method, module, &method_params(args)?).await?;
        return Ok(raw.bytes.to_vec());
    }
    let select = args.select.clone().unwrap_or_default();
    let rows = match method {
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
    let (method, module) = legacy(args)?;
    let select = args.select.clone().unwrap_or_default();
    let params = match method {
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

/// The legacy method and module of a legacy line.
fn legacy(args: &ApiArgs) -> Result<(Method, Module), ApiCommandError> {
    match (args.method, args.module) {
        (ApiMethod::Legacy(method), ApiModule::Legacy(module)) => Ok((method, module)),
        _ => Err(usage(&format!(
            "{} is a Zoho Desk method, not one of the legacy API",
            args.method
        ))),
    }
}

/// Refuses flags the method does not use, and writes without fields.
fn check_flags(args: &ApiArgs) -> Result<(), ApiCommandError> {
    let method = match args.method {
        ApiMethod::Legacy(method) => method,
        ApiMethod::Desk(method) => return desk_body::check_flags(args, method),
    };
    use Method::*;
    let given: [(&str, bool, &[Method]); 10] = [
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
        ("--json", args.json.is_some(), &[]),
    ];
    if let Some((flag, _, _)) = given
        .iter()
        .find(|(_, present, methods)| *present && !methods.contains(&method))
    {
        return Err(usage(&format!("{flag} does not apply to {method}")));
    }
    let writes_fields = matches!(method, AddRecords | UpdateRecords);
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

#[cfg(test)]
mod tests;
