//! `zoho-sync resync --module M [--org O]`: read a module's whole history again inside
//! the budget, keeping the mirror (as Airbyte's stream refresh, Fivetran's table
//! re-sync). Each stream's backfill checkpoint starts a new pass (`Loader::start_resync`),
//! a sweep is set to follow it, and the pass runs as `backfill --module M` does: stopped
//! by the budget or a signal, it continues with the next `resync`, `backfill`, `sync` or
//! daemon round. Incremental passes of the stream wait for it to complete, then catch up
//! from their own watermark, so no change is missed.

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::sync::{open_database, SyncCommandError};
use crate::config::Config;
use crate::loader::Resync;
use crate::scheduler::Goal;
use crate::store::RunKind;
use crate::stream::{Module, StreamKey};

#[derive(Debug, Args)]
pub struct ResyncArgs {
    /// The module to read again (repeatable; a legacy or a Zoho Desk module's name).
    #[arg(long = "module", value_name = "MODULE", required = true, value_parser = super::parse_modules)]
    modules: Vec<Vec<Module>>,
    /// Only this organisation (every one syncing the module by default).
    #[arg(long = "org", value_name = "ORGANISATION")]
    pub org: Option<String>,
}

pub async fn run(
    config: &Config,
    args: &ResyncArgs,
    cancel: &CancellationToken,
) -> Result<(), SyncCommandError> {
    let modules: Vec<Module> = args.modules.iter().flatten().copied().collect();
    let loader = open_database(config).await?;
    for org in &config.organisations {
        for department in &org.departments {
            for &(module, _) in org.modules.iter().filter(|(m, _)| modules.contains(m)) {
                let stream = StreamKey {
                    portal: org.portal.clone(),
                    department: department.clone(),
                    module,
                };
                let said = match loader.start_resync(&stream).await? {
                    Resync::Started => "read again from its first row; a sweep follows",
                    Resync::Continuing => "its pass in progress continues",
                    Resync::NotBackfilled => "never backfilled: backfilled now",
                };
                println!("{stream}: {said}");
            }
        }
    }
    super::sync::run(
        config,
        RunKind::Backfill,
        Goal::Backfill { modules },
        cancel,
    )
    .await
}
