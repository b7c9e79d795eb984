//! `zoho-sync dead-letters [--module M] [--format table|ndjson]`: what was set aside, per
//! stream, oldest first: the record id when it could be read, the run, when, why, and
//! (in NDJSON) the raw row as received. Reads the database only.

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

pub async fn run(config: &Config, args: &DeadLettersArgs) -> Result<(), LettersError> {
    let loader = open_database(config).await?;
    let wanted: Vec<Module> = args.modules.iter().flatten().copied().collect();
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
        for department in &org.departments {
            for &(module, _) in &org.modules {
                if !wanted.is_empty() && !wanted.contains(&module) {
                    continue;
                }
                let stream = StreamKey {
                    portal: org.portal.clone(),
                    department: department.clone(),
                    module,
                };
                let letters = loader.dead_letters(&stream).await?;
                total += letters.len();
                for letter in &letters {
                    write_letter(&mut out, args.format, &stream, letter)?;
                }
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
