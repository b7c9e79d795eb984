//! What the `emulator` command may override in the emulator's configuration, as flags:
//! the listen address, a configuration file, and the first portal's data, edition,
//! names, token and latency. Parsed by clap in the command line, applied here.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::desk::DeskModule;
use crate::quota::Edition;
use crate::zoho::module::Module;

/// The flags of `zoho-sync emulator`.
#[derive(Debug, Args)]
pub struct Options {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: SocketAddr,
    /// An emulator configuration file (TOML or JSON): portals, departments, users, data.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed of the deterministic data generator.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Records per module, e.g. `requests=100000,contacts=500`.
    #[arg(long, value_name = "MODULE=N,...", value_delimiter = ',', value_parser = parse_module_count)]
    pub records: Vec<(Module, u64)>,
    /// Edition of the portal's organisation.
    #[arg(long)]
    pub edition: Option<Edition>,
    /// User licences of the portal's organisation (paid editions).
    #[arg(long)]
    pub licences: Option<u32>,
    /// The authtoken the portal's admin user holds.
    #[arg(long)]
    pub token: Option<String>,
    /// The portal name.
    #[arg(long)]
    pub portal: Option<String>,
    /// The department name.
    #[arg(long)]
    pub department: Option<String>,
    /// Records per module of the first Desk organisation, e.g. `tickets=1000000`.
    #[arg(long, value_name = "MODULE=N,...", value_delimiter = ',', value_parser = parse_desk_count)]
    pub desk_records: Vec<(DeskModule, u64)>,
    /// Simulated latency added to every record-API request, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
}

fn parse_module_count(text: &str) -> Result<(Module, u64), String> {
    let (module, count) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not MODULE=N"))?;
    let module = module.parse::<Module>().map_err(|e| e.to_string())?;
    let count = count
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{count}` is not a record count"))?;
    Ok((module, count))
}

fn parse_desk_count(text: &str) -> Result<(DeskModule, u64), String> {
    let (module, count) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not MODULE=N"))?;
    let module = DeskModule::parse(module.trim())
        .ok_or_else(|| format!("`{module}` is not a Desk module"))?;
    let count = count
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{count}` is not a record count"))?;
    Ok((module, count))
}
