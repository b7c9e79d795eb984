//! The emulator of the legacy Zoho Support API (`zoho-sync emulator`): the six record
//! methods in XML and JSON, the auth-token endpoint, per-organisation quotas on an
//! adjustable clock, churn, injected faults, and an admin API for tests. The same server
//! also serves the Zoho Desk API and its OAuth endpoint (`desk`), on the same clock. It implements the
//! contract of section 0 exactly, so the client is tested against the same decisions it
//! relies on. `spawn` serves it in-process (tests); `run` serves it for the CLI.
//!
//! Faulted requests with a valid token are charged to the quota like any other request.

pub mod accounts;
pub mod activity;
pub mod admin;
pub mod api;
pub mod churn;
pub mod clock;
pub mod config;
pub mod desk;
pub mod faults;
mod options;
pub mod params;
pub mod quota;
pub mod render;
pub mod request_log;
pub mod seeds;
pub mod server;
pub mod state;
pub mod store;

use std::net::SocketAddr;

pub use config::{ConfigError, EmulatorConfig, PortalConfig, UserConfig};
pub use options::Options;
pub use server::{spawn, RunningEmulator};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the emulator server failed: {0}")]
    Serve(std::io::Error),
    #[error("the emulator could not start: {0}")]
    Build(String),
}

/// Serves the emulator the command line describes until Ctrl-C, announcing the listen
/// address and the demo token on stdout.
pub async fn run(args: &Options) -> Result<(), EmulatorError> {
    let config = EmulatorConfig::from_options(args)?;
    let running = spawn(config, args.listen).await?;
    println!("zoho-sync emulator listening on {}", running.base_url());
    if let Some(token) = running.token() {
        // The demo token is printed on purpose: it is the fixture users copy into configs.
        println!("demo authtoken: {}", token.expose());
    }
    if let Some(org) = running.desk_org() {
        // The self client is printed on purpose too: the fixture for `api = "desk"` configs.
        let client = &org.self_client;
        println!("desk org id: {}", org.org_id);
        println!("desk client id: {}", client.client_id);
        println!("desk client secret: {}", client.client_secret.expose());
        println!("desk refresh token: {}", client.refresh_token.expose());
    }
    running
        .run_until(async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::warn!(%error, "cannot wait for Ctrl-C; stopping");
            }
        })
        .await
}
