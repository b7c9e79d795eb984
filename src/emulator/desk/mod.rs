//! The emulator of the Zoho Desk REST API v1 and its OAuth token endpoint, served by the
//! same process and port as the legacy emulator and read by the same clock. It implements
//! section 0 of `zoho-desk-api.md` (D1-D25) exactly: strict parameters, the search cap,
//! 204 on empty, credits by cost with the two headers and the two 429s, token lifetimes
//! and refresh limits, index lag, and the recycle bin with its 60-day retention. This
//! module owns the Desk state as a whole; each part lives in its own module: config,
//! OAuth (`oauth`), organisations and their stores (`org`, `store`, `records`), credits,
//! the request layer (`route`, `params`, `api`, `http`) and the admin API (`admin`).
//! Invariant: every organisation has its own block of ids, its own credits and gate.

pub mod activity;
pub mod admin;
pub mod api;
pub mod churn;
pub mod config;
pub mod credits;
pub mod errors;
pub mod facts;
pub mod faults;
pub mod http;
pub mod module;
pub mod oauth;
pub mod org;
pub mod params;
pub mod records;
pub mod route;
pub mod scopes;
pub mod store;
pub mod time;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::emulator::faults::FaultPlan;
use activity::DeskActivity;
use config::DeskConfig;
use faults::DeskFault;
use oauth::Oauth;
use org::DeskOrg;

pub use config::{DeskEdition, DeskOrgConfig, SelfClientConfig};
pub use module::DeskModule;

/// The Desk side of a running emulator.
#[derive(Debug)]
pub struct Desk {
    pub orgs: Vec<DeskOrg>,
    pub oauth: Mutex<Oauth>,
    pub activity: DeskActivity,
    pub faults: Mutex<FaultPlan<DeskFault>>,
    pub latency: Mutex<Duration>,
    /// Seeds the churn of every store.
    pub seed: u64,
}

impl Desk {
    /// Builds the organisations and generates their records (CPU-bound).
    pub fn build(
        config: &DeskConfig,
        seed: u64,
        log_capacity: usize,
        fault_delay: Duration,
        now: DateTime<Utc>,
    ) -> Desk {
        let orgs = config
            .organisations
            .iter()
            .zip(0u64..)
            .map(|(org, ordinal)| DeskOrg::build(org, seed, ordinal, now))
            .collect();
        Desk {
            orgs,
            oauth: Mutex::new(Oauth::new(config, seed)),
            activity: DeskActivity::new(log_capacity),
            faults: Mutex::new(FaultPlan::new(
                crate::emulator::seeds::mix_all(&[seed, 0xDE5F]),
                fault_delay,
            )),
            latency: Mutex::new(Duration::ZERO),
            seed,
        }
    }

    /// The same simulated latency as the legacy API's (`--latency-ms`).
    pub fn with_latency(self, latency: Duration) -> Desk {
        Desk {
            latency: Mutex::new(latency),
            ..self
        }
    }

    /// The organisation with org id `digits`.
    pub fn org(&self, digits: &str) -> Option<&DeskOrg> {
        self.orgs.iter().find(|o| o.is(digits))
    }
}
