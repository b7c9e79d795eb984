//! `zoho-sync api` for a Zoho Desk organisation: one request (get, create, update or
//! trash, contract section 8) with its credits reserved in the PostgreSQL quota ledger
//! before it is sent (D19), sent once, its answer printed. Invariants: nothing is sent
//! without a reservation within the organisation's daily budget; nothing is sent twice
//! (a write whose fate is unknown, `ErrorClass::Ambiguous`, is reported with how to
//! check it, D23; the client's one retry is of a refused token, which proves the write
//! was not made); a confirmed trash is reflected in the mirror at once. The database
//! holds the token cache and the ledger, so without it the command fails before sending.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::args::{ApiArgs, DeskMethod};
use super::{desk_body, desk_output, print, ApiCommandError};
use crate::cli::server_now_at;
use crate::cli::sync::open_database;
use crate::config::{Config, DeskConfig, OrganisationConfig};
use crate::desk::{
    Answer, DeskError, DeskId, DeskModule, ErrorClass, Lookup, RecordOutcome, TokenCache,
};
use crate::loader::Loader;
use crate::quota::Budget;
use crate::source::desk::organisation_client;
use crate::store::DeleteMode;

/// Runs a Desk line (its method already known to fit the organisation).
pub(super) async fn run(
    args: &ApiArgs,
    method: DeskMethod,
    config: &Config,
    org: &OrganisationConfig,
    desk: &DeskConfig,
) -> Result<(), ApiCommandError> {
    super::check_flags(args)?;
    let request = desk_body::request(args, method)?;
    let module = desk_body::desk_module(args)?;
    let secrets = (
        desk.client_secret.resolve(&org.name)?,
        desk.refresh_token.resolve(&org.name)?,
    );
    let loader = open_database(config)
        .await
        .map_err(ApiCommandError::Database)?;
    let cache: Arc<dyn TokenCache> = Arc::new(loader.desk_tokens());
    let client = organisation_client(desk, &config.api, secrets, cache)
        .map_err(|e| ApiCommandError::Desk(Box::new(e)))?;
    let budget = org.budget();
    let now = server_now_at(config, &desk.desk_url).await;
    let day = reserve(&loader, &budget, request.cost(), now).await?;
    let (reply, body) = match client.send_keeping_body(&request).await {
        Ok(answer) => answer,
        Err(error) => {
            if error.class() == ErrorClass::QuotaExhausted {
                spend_day(&loader, &budget.organisation, day).await;
            }
            return Err(failed(method, module, &args.desk_ids, error));
        }
    };
    let out = match reply.value {
        Answer::Lookup(Lookup::NotVisible) => {
            let id = args.desk_ids.first().copied();
            return Err(ApiCommandError::NotVisible {
                module: module.url_name(),
                id: id.map_or_else(String::new, |id| id.to_string()),
            });
        }
        Answer::Trashed => {
            let at = reply
                .meta
                .server_time
                .map_or_else(Utc::now, |t| t.max(Utc::now()));
            reflect_trash(config, &loader, desk, module, &args.desk_ids, at).await;
            desk_output::trashed(args.output, module, &args.desk_ids)
        }
        Answer::Record(RecordOutcome::Bad(bad))
        | Answer::Lookup(Lookup::Found(RecordOutcome::Bad(bad))) => {
            tracing::warn!(error = %bad.error, "the record answered could not be read; printed as received");
            desk_output::record(args.output, &body)
        }
        _ => desk_output::record(args.output, &body),
    };
    print(&out)
}

/// Reserves the call's credits on the server's current day, or refuses it.
async fn reserve(
    loader: &Loader,
    budget: &Budget,
    cost: u32,
    now: DateTime<Utc>,
) -> Result<NaiveDate, ApiCommandError> {
    let day = budget.rule.day_of(now);
    let reserved = loader
        .reserve(&budget.organisation, day, cost, budget.per_day)
        .await
        .map_err(ApiCommandError::Database)?;
    match reserved {
        Some(used) => {
            tracing::info!(organisation = %budget.organisation, %day, cost, used, "credits reserved");
            Ok(day)
        }
        None => Err(ApiCommandError::NoCredits {
            organisation: budget.organisation.clone(),
            cost,
            per_day: budget.per_day,
            resets_at: budget.rule.next_reset(now),
        }),
    }
}

/// The server said the day's credits are spent: so is our day, for every process.
async fn spend_day(loader: &Loader, organisation: &str, day: NaiveDate) {
    if let Err(error) = loader.mark_day_spent(organisation, day).await {
        tracing::warn!(%error, "cannot mark the quota day spent");
    }
}

/// What a failed call means for the user. A write whose fate is unknown says how to
/// check it: there is no idempotency key, so sending it again could make it twice.
pub(super) fn failed(
    method: DeskMethod,
    module: DeskModule,
    ids: &[DeskId],
    error: DeskError,
) -> ApiCommandError {
    if error.class() != ErrorClass::Ambiguous {
        return ApiCommandError::Desk(Box::new(error));
    }
    let name = module.url_name();
    let ids: Vec<String> = ids.iter().map(DeskId::to_string).collect();
    let check = match method {
        DeskMethod::Create => format!(
            "the record may or may not exist; look for it before creating it again (search the {name} in Zoho Desk, or run `zoho-sync sync` and look in the mirror)"
        ),
        DeskMethod::Update => format!(
            "check the record with `zoho-sync api get --module {name} --id {}` before updating it again",
            ids.join(",")
        ),
        DeskMethod::Trash | DeskMethod::Get => format!(
            "check each of {} with `zoho-sync api get --module {name} --id ID` (a trashed record is not visible) before trashing again",
            ids.join(", ")
        ),
    };
    ApiCommandError::Ambiguous {
        method: method.name(),
        module: name,
        check,
        source: Box::new(error),
    }
}

/// Marks (or removes) the mirror rows of the records just trashed; the trash stands
/// whatever happens here, and the next walk of the recycle bin would find it anyway.
async fn reflect_trash(
    config: &Config,
    loader: &Loader,
    desk: &DeskConfig,
    module: DeskModule,
    ids: &[DeskId],
    at: DateTime<Utc>,
) {
    let mode = if config.database.hard_delete {
        DeleteMode::Remove
    } else {
        DeleteMode::Mark
    };
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    match loader
        .retire_desk_records(&desk.org_id, module, &ids, at, mode)
        .await
    {
        Ok(rows) => tracing::info!(
            module = module.url_name(),
            rows,
            "the mirror reflects the trash"
        ),
        Err(error) => tracing::warn!(
            %error,
            "the records are in the recycle bin, but the mirror could not be updated; the next walk of the recycle bin will find them"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::Operation;
    use crate::zoho::error::TransportError;

    fn cut(operation: Operation) -> DeskError {
        let error = TransportError::ConnectionLost {
            detail: "connection reset".into(),
        };
        DeskError::Transport {
            request: "POST /tickets".into(),
            class: crate::desk::error::transport_class(&error, operation),
            error,
        }
    }

    #[test]
    fn a_create_cut_after_sending_is_reported_as_maybe_made_not_retried() {
        let error = failed(
            DeskMethod::Create,
            DeskModule::Tickets,
            &[],
            cut(Operation::Create),
        );
        assert!(
            matches!(error, ApiCommandError::Ambiguous { .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("may or may not exist"),
            "{error}"
        );
        assert_eq!(error.exit_code(), crate::cli::EXIT_FAILURE);
    }

    #[test]
    fn a_read_cut_the_same_way_is_a_plain_failure() {
        let error = failed(
            DeskMethod::Get,
            DeskModule::Tickets,
            &[],
            cut(Operation::ById),
        );
        assert!(matches!(error, ApiCommandError::Desk(_)), "{error}");
    }
}
