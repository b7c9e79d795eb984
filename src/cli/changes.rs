//! `zoho-sync changes`: the warehouse feed (`feed`) on stdout, from the sequence number
//! given; a reader that goes away (a closed pipe) ends it quietly.

use std::io::{BufWriter, Write};

use super::sync::open_database;
use crate::config::Config;
use crate::feed::{self, ChangesFormat, FeedError, Selection};
use crate::stream::Module;

#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// Print the changes with a sequence number greater than this one.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: i64,
    /// Only the changes of this module (a legacy or a Zoho Desk module's name).
    #[arg(long, value_name = "MODULE", value_parser = module_key)]
    pub module: Option<&'static str>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ChangesFormat::Ndjson)]
    pub format: ChangesFormat,
}

/// Streams the changes to stdout.
pub async fn run(config: &Config, args: &ChangesArgs) -> Result<(), FeedError> {
    let loader = open_database(config).await?;
    let selection = Selection {
        since: args.since,
        upto: loader.last_change_seq().await?,
        module: args.module,
        format: args.format,
    };
    let mut out = BufWriter::new(std::io::stdout());
    let written = feed::write_changes(&loader, selection, &mut out).await;
    match written.and_then(|()| out.flush().map_err(FeedError::from)) {
        Err(FeedError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The change log's name of the module a user names (`cases` is `requests`).
fn module_key(name: &str) -> Result<&'static str, String> {
    Module::parse_any(name)
        .first()
        .map(|m| m.key())
        .ok_or_else(|| format!("`{name}` is not a module of the legacy API nor of Zoho Desk"))
}
