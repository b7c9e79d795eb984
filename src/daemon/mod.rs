//! `zoho-sync daemon`: the long-running service. One loop per organisation runs rounds
//! of the same pipeline the one-shot commands use, on the cron schedules of `sync.toml`
//! read in the server's clock, paced so the day's budget lasts until Pacific midnight.
//! Transient failures (the API, the network, a database restart) are waited out; a
//! refused token stops its organisation alone. A stop (the token `shutdown` fires on the
//! first SIGTERM or SIGINT) stops taking work, lets what is in flight land or drops it
//! (`shutdown::IN_FLIGHT`), releases the leases and returns within `STOP_GRACE`, inside
//! the process's `shutdown::GRACE` (committed pages are never lost). Streams another live
//! process holds are logged and tried again next round.

pub mod adaptive;
pub mod console;
pub mod http;
pub mod metrics;
mod rounds;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Access, Config};
use crate::loader::Loader;
use crate::store::StoreError;
use metrics::Telemetry;

/// How long a stop waits for the rounds to wind down before leaving them: inside the
/// process's grace, with time left to close.
const STOP_GRACE: Duration = Duration::from_secs(crate::shutdown::GRACE.as_secs() - 2);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot serve the metrics endpoint on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("every organisation has stopped: {0}")]
    AllStopped(String),
}

/// Runs until `cancel`, or until every organisation has stopped for good.
pub async fn run(
    config: Config,
    access: Access,
    cancel: CancellationToken,
) -> Result<(), DaemonError> {
    let telemetry = Arc::new(Telemetry::new(&config));
    let listener = tokio::net::TcpListener::bind(config.daemon.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: config.daemon.listen,
            source,
        })?;
    let bound = listener.local_addr().unwrap_or(config.daemon.listen);
    tracing::info!(listen = %bound, "health and metrics endpoint");
    let server = tokio::spawn(http::serve(
        listener,
        Arc::clone(&telemetry),
        access,
        cancel.clone(),
    ));
    let Some(loader) = connect_until_up(&config, &cancel).await else {
        server.abort();
        return Ok(());
    };
    telemetry.set_loader(loader.clone());

    let mut loops = JoinSet::new();
    for org in config.organisations.clone() {
        let (config, loader, cancel) = (config.clone(), loader.clone(), cancel.clone());
        let telemetry = Arc::clone(&telemetry);
        loops.spawn(async move {
            rounds::organisation_loop(config, org, loader, telemetry, cancel).await
        });
    }
    let mut stopped = Vec::new();
    loop {
        let joined = tokio::select! {
            joined = loops.join_next() => joined,
            () = cancel.cancelled() => break,
        };
        match joined {
            Some(Ok(Some(reason))) => stopped.push(reason),
            Some(_) => {}
            None => break,
        }
    }
    if tokio::time::timeout(STOP_GRACE, async {
        while loops.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!(
            "pages still in flight after the grace period; leaving them to be read again"
        );
        loops.abort_all();
    }
    server.abort();
    if cancel.is_cancelled() || stopped.is_empty() {
        tracing::info!("daemon stopped");
        Ok(())
    } else {
        Err(DaemonError::AllStopped(stopped.join("; ")))
    }
}

/// Connects to the database, waiting out an unreachable server with backoff; `None`
/// when stopped first.
async fn connect_until_up(config: &Config, cancel: &CancellationToken) -> Option<Loader> {
    let mut delay = Duration::from_secs(1);
    loop {
        let opened = tokio::select! {
            opened = Loader::open(config) => opened,
            () = cancel.cancelled() => return None,
        };
        match opened {
            Ok(loader) => return Some(loader),
            Err(e) => log_database_wait(&e, delay),
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = cancel.cancelled() => return None,
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

fn log_database_wait(error: &StoreError, delay: Duration) {
    tracing::warn!(error = %error, retry_in_s = delay.as_secs(), "database unavailable; waiting");
}
