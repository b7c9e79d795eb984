//! `api deleterecords` and the mirror: a delete the API confirmed is reflected at once
//! (the row marked deleted, or removed with `database.hard_delete`, and the delete
//! logged), so the mirror does not wait for the next sweep. The database is optional
//! here: when it cannot be reached the command still succeeds, with a warning, and the
//! next sweep finds the deletion.

use chrono::Utc;

use super::{ApiArgs, Output};
use crate::cli::sync::open_database;
use crate::config::Config;
use crate::store::{DeleteMode, StoreError};
use crate::stream::StreamKey;
use crate::zoho::client::Client;
use crate::zoho::codec::{self, Answer};
use crate::zoho::module::Module;
use crate::zoho::record::RecordId;

/// Marks (or removes) the mirror row of a record the API just deleted; `out` is the
/// answer as printed.
pub(super) async fn reflect_delete(
    config: &Config,
    args: &ApiArgs,
    module: Module,
    client: &Client,
    id: RecordId,
    out: &[u8],
) {
    if !confirmed(args, module, client, out) {
        return;
    }
    let settings = client.settings();
    let stream = StreamKey {
        portal: settings.portal.clone(),
        department: settings.department.clone(),
        module: module.into(),
    };
    match delete_row(config, &stream, id).await {
        Ok(rows) => {
            tracing::info!(%stream, %id, rows, "the mirror reflects the delete");
        }
        Err(error) => tracing::warn!(
            %stream, %id, %error,
            "the record is deleted, but the mirror could not be updated; the next sweep will find it"
        ),
    }
}

/// Whether the answer is the delete's acknowledgement: a typed call fails on an error,
/// a raw body is decoded to tell.
fn confirmed(args: &ApiArgs, module: Module, client: &Client, out: &[u8]) -> bool {
    args.output != Output::Raw
        || matches!(
            codec::decode(client.settings().format, module, out),
            Ok(Answer::Written(_))
        )
}

async fn delete_row(config: &Config, stream: &StreamKey, id: RecordId) -> Result<u64, StoreError> {
    let mode = if config.database.hard_delete {
        DeleteMode::Remove
    } else {
        DeleteMode::Mark
    };
    let loader = open_database(config).await?;
    loader.delete_records(stream, &[id], mode, Utc::now()).await
}
