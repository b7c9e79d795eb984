//! `zoho-sync dead-letters [--module M] [--org O] [--format table|ndjson]`: what was set
//! aside, per stream, oldest first: the record id when it could be read, the run, when,
//! why, and (in NDJSON) the raw row as received. Reads the database only. With `--retry`,
//! the letters' records are read again by id inside the budget (`letters`, printed by
//! `retry`): one request per distinct record id.

mod retry;

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use super::sync::open_database;
use crate::config::Config;
use crate::loader::DeadLetter;
use crate::store::StoreError;
use crate::stream::{Module, StreamKey};

#[derive(Debug, Args)]
pub struct DeadLettersArgs {
    /// Only these modules (repeatable); every configured module by default.
    #[arg(long = "module", value_name = "MODULE", value_parser = super::parse_modules)]
    modules: Vec<Vec<Module>>,
    /// `table` for people, `ndjson` (one JSON object a line, the raw row included) for
    /// programs.
    #[arg(long, value_enum, default_value_t = LettersFormat::Table)]
    format: LettersFormat,
    /// Read each letter's record again by id (one request per distinct id, reserved in
    /// the budget): a record that now decodes is mirrored and its letters cleared; one
    /// the source no longer has is cleared and its mirror row marked deleted.
    #[arg(long)]
    pub retry: bool,
    /// Only this organisation (every one by default).
    #[arg(long = "org", value_name = "ORGANISATION")]
    pub org: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LettersFormat {
    Table,
    Ndjson,
}

#[derive(Debug, thiserror::Error)]
pub enum LettersError {
    #[error("cannot use the database: {0}")]
    Database(#[from] StoreError),
    #[error("cannot write the letters: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Retry(#[from] crate::letters::RetryError),
    /// Streams whose retry failed (a request after the fetcher's retries, a write).
    #[error("the retry failed: {0}")]
    Failed(String),
    /// The budget ran out before every letter was tried.
    #[error("today's budget is spent with {untried} letters untried; run again after {resets_at}")]
    BudgetSpent { untried: usize, resets_at: String },
    /// Streams live processes hold were left to them.
    #[error("left to the live processes that hold them: {0}; run again once those have finished")]
    Held(String),
}

impl LettersError {
    /// The exit code: 1 a failure, `EXIT_BUDGET_SPENT` letters left for lack of budget,
    /// `EXIT_HELD` streams left to other processes, 2 a configuration error.
    pub fn exit_code(&self) -> u8 {
        match self {
            LettersError::Retry(crate::letters::RetryError::Setup(
                crate::pipeline::run::RunError::Config(_),
            )) => super::EXIT_USAGE,
            LettersError::BudgetSpent { .. } => super::EXIT_BUDGET_SPENT,
            LettersError::Held(_) => super::EXIT_HELD,
            _ => super::EXIT_FAILURE,
        }
    }
}

/// One letter as NDJSON.
#[derive(Serialize)]
struct Line<'a> {
    portal: &'a str,
    department: &'a str,
    module: &'a str,
    id: i64,
    record_id: Option<u64>,
    run_id: Option<i64>,
    created_at: DateTime<Utc>,
    error: &'a str,
    raw: &'a str,
}

pub async fn run(
    config: &Config,
    args: &DeadLettersArgs,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(), LettersError> {
    let loader = open_database(config).await?;
    let wanted: Vec<Module> = args.modules.iter().flatten().copied().collect();
    if args.retry {
        let done = crate::letters::retry(config, &loader, &wanted, cancel).await?;
        return retry::report(&done, args.format);
    }
    let mut out = std::io::stdout().lock();
    if args.format == LettersFormat::Table {
        writeln!(
            out,
            "{:<32} {:>8} {:>20} {:>6} {:<20} ERROR",
            "STREAM", "ID", "RECORD", "RUN", "SET ASIDE"
        )?;
    }
    let mut total = 0;
    for org in &config.organisations {
        for stream in org.streams(&wanted) {
            let letters = loader.dead_letters(&stream).await?;
            total += letters.len();
            for letter in &letters {
                write_letter(&mut out, args.format, &stream, letter)?;
            }
        }
    }
    if args.format == LettersFormat::Table {
        writeln!(out, "{total} dead letters")?;
    }
    Ok(())
}

fn write_letter(
    out: &mut impl Write,
    format: LettersFormat,
    stream: &StreamKey,
    letter: &DeadLetter,
) -> Result<(), LettersError> {
    match format {
        LettersFormat::Ndjson => {
            let line = Line {
                portal: &stream.portal,
                department: &stream.department,
                module: stream.module.key(),
                id: letter.id,
                record_id: letter.record_id.map(|r| r.0),
                run_id: letter.run_id,
                created_at: letter.created_at,
                error: &letter.error,
                raw: &letter.raw,
            };
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        LettersFormat::Table => {
            let error: String = letter.error.chars().take(80).collect();
            writeln!(
                out,
                "{:<32} {:>8} {:>20} {:>6} {:<20} {}",
                stream.to_string(),
                letter.id,
                letter
                    .record_id
                    .map_or_else(|| "-".into(), |r| r.to_string()),
                letter.run_id.map_or_else(|| "-".into(), |r| r.to_string()),
                letter.created_at.format("%Y-%m-%d %H:%M:%S"),
                error.replace(['\n', '\r'], " ")
            )?;
        }
    }
    Ok(())
}
