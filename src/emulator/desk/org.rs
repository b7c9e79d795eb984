//! One Desk organisation as the running emulator holds it: its fixed facts (ids, agents,
//! departments), its credits and concurrency gate, and one store per module, each behind
//! its own lock with the churn that is due to it. Stores are generated at start from the
//! seed; the organisation's lookups (by org id, by module, by any record id) are total and
//! never panic on hostile input.

use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};

use super::churn::ChurnState;
use super::config::{DeskEdition, DeskOrgConfig};
use super::credits::{Credits, Gate};
use super::facts::{self, OrgFacts};
use super::module::DeskModule;
use super::store::DeskStore;
use crate::emulator::state::write;

/// One store and the churn due to it.
#[derive(Debug)]
pub struct DeskSlot {
    pub store: RwLock<DeskStore>,
    pub churn: Mutex<ChurnState>,
}

#[derive(Debug)]
pub struct DeskOrg {
    pub facts: Arc<OrgFacts>,
    pub company_name: String,
    pub edition: DeskEdition,
    pub credits: Credits,
    pub gate: Gate,
    /// One per module, in `DeskModule::ALL` order.
    slots: Vec<DeskSlot>,
}

impl DeskOrg {
    /// Generates the organisation's records (CPU-bound: call it off the async runtime).
    pub fn build(config: &DeskOrgConfig, seed: u64, ordinal: u64, now: DateTime<Utc>) -> DeskOrg {
        let portal: String = config
            .company_name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        let initial =
            DeskModule::ALL.map(|m| config.record_count(m).min(super::store::MAX_RECORDS));
        let facts = Arc::new(OrgFacts {
            seed,
            ordinal,
            org_id: config.org_id.clone(),
            agents: facts::agents(seed, ordinal, config.agents, &portal),
            departments: facts::departments(ordinal, &config.departments),
            portal,
            initial,
            born: now.timestamp(),
        });
        let slots = DeskModule::ALL
            .iter()
            .zip(initial)
            .map(|(&module, count)| DeskSlot {
                store: RwLock::new(DeskStore::generate(
                    Arc::clone(&facts),
                    module,
                    count,
                    config.index_lag,
                )),
                churn: Mutex::new(ChurnState::new(now)),
            })
            .collect();
        DeskOrg {
            facts,
            company_name: config.company_name.clone(),
            edition: config.edition,
            credits: Credits::new(config.credit_zone, config.daily_credits()),
            gate: Gate::new(config.edition.concurrency()),
            slots,
        }
    }

    pub fn org_id(&self) -> &str {
        &self.facts.org_id
    }

    /// Whether `digits` names this organisation (leading zeros ignored).
    pub fn is(&self, digits: &str) -> bool {
        digits.trim_start_matches('0') == self.facts.org_id.trim_start_matches('0')
    }

    pub fn slot(&self, module: DeskModule) -> Option<&DeskSlot> {
        self.slots.get(module.number())
    }

    pub fn slots(&self) -> impl Iterator<Item = (DeskModule, &DeskSlot)> {
        DeskModule::ALL.into_iter().zip(self.slots.iter())
    }

    /// The slot holding the record `id` could be, by its id block.
    pub fn slot_of(&self, id: u64) -> Option<(DeskModule, &DeskSlot)> {
        let module = self.facts.module_of(id)?;
        Some((module, self.slot(module)?))
    }

    /// Brings every store up to `now`: churn due, index lag, bin retention.
    pub fn catch_up(&self, seed: u64, now: DateTime<Utc>) {
        for (_, slot) in self.slots() {
            slot.catch_up(seed, now);
        }
    }
}

impl DeskSlot {
    /// Applies the rate-driven churn due at `now`, then the store's own due work.
    pub fn catch_up(&self, seed: u64, now: DateTime<Utc>) {
        super::churn::catch_up(self, seed, now);
        write(&self.store).catch_up(now);
    }
}
