//! The running emulator's shared state: portals, their departments and one store per
//! module, the accounts, the clock, quotas, faults and the activity record. Each store sits
//! behind its own `RwLock`, so reads of different modules never contend and a read holds
//! its lock only while rows are selected, never while they are rendered. No lock is held
//! across an `await`, and a poisoned lock is recovered (its data stays consistent because
//! no code panics while holding one).

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::accounts::Accounts;
use super::activity::Activity;
use super::churn::ChurnState;
use super::clock::Clock;
use super::config::{EmulatorConfig, PortalConfig};
use super::desk::Desk;
use super::faults::FaultPlan;
use super::quota::Quota;
use super::seeds;
use super::store::{ModuleStore, StoreSpec};
use crate::zoho::module::Module;

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn read<T>(rw: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    rw.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn write<T>(rw: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    rw.write().unwrap_or_else(PoisonError::into_inner)
}

/// Portal and department names match ignoring case and surrounding blanks.
pub fn same_name(ours: &str, theirs: &str) -> bool {
    let theirs = theirs.trim();
    ours.eq_ignore_ascii_case(theirs) || ours.to_lowercase() == theirs.to_lowercase()
}

#[derive(Debug)]
pub struct Emulator {
    pub clock: Clock,
    pub portals: Vec<Portal>,
    pub accounts: RwLock<Accounts>,
    pub activity: Activity,
    pub faults: Mutex<FaultPlan>,
    pub latency: Mutex<Duration>,
    /// Seeds the churn of every store.
    pub seed: u64,
    /// The Desk API's organisations, tokens and activity (same clock).
    pub desk: Desk,
}

#[derive(Debug)]
pub struct Portal {
    pub name: String,
    pub zone: Tz,
    pub quota: Quota,
    pub departments: Vec<Department>,
}

#[derive(Debug)]
pub struct Department {
    pub name: String,
    /// One per module, in `Module::ALL` order.
    slots: Vec<StoreSlot>,
}

/// One store and the churn that is due to it.
#[derive(Debug)]
pub struct StoreSlot {
    pub store: RwLock<ModuleStore>,
    pub churn: Mutex<ChurnState>,
}

impl Emulator {
    /// Builds the state and generates every store's records (CPU-bound: call it off the
    /// async runtime for big configs).
    pub fn build(config: &EmulatorConfig) -> Emulator {
        let clock = Clock::new(config.start);
        let now = clock.now();
        let mut ordinal = 0;
        let portals = config
            .portals
            .iter()
            .map(|portal| {
                let departments = portal
                    .departments
                    .iter()
                    .map(|name| {
                        let seed = seeds::store_seed(config.seed, ordinal);
                        ordinal += 1;
                        Department::generate(portal, name, seed, now)
                    })
                    .collect();
                Portal {
                    name: portal.name.clone(),
                    zone: portal.zone,
                    quota: Quota::new(portal.day_rule, portal.limit()),
                    departments,
                }
            })
            .collect();
        Emulator {
            clock,
            portals,
            accounts: RwLock::new(Accounts::new(config)),
            activity: Activity::new(config.log_capacity),
            faults: Mutex::new(FaultPlan::new(
                seeds::fault_seed(config.seed),
                config.fault_delay,
            )),
            latency: Mutex::new(config.latency),
            seed: config.seed,
            desk: Desk::build(
                &config.desk,
                config.seed,
                config.log_capacity,
                config.fault_delay,
                now,
            )
            .with_latency(config.latency),
        }
    }

    /// The portal named `name` (ignoring case) and its index.
    pub fn portal(&self, name: &str) -> Option<(usize, &Portal)> {
        self.portals
            .iter()
            .enumerate()
            .find(|(_, p)| same_name(&p.name, name))
    }

    /// Every store slot with its portal, department and module, for admin sweeps.
    pub fn slots(&self) -> impl Iterator<Item = (&Portal, &Department, Module, &StoreSlot)> {
        self.portals.iter().flat_map(|p| {
            p.departments
                .iter()
                .flat_map(move |d| d.slots().map(move |(m, s)| (p, d, m, s)))
        })
    }
}

impl Portal {
    pub fn department(&self, name: &str) -> Option<&Department> {
        self.departments.iter().find(|d| same_name(&d.name, name))
    }
}

impl Department {
    fn generate(portal: &PortalConfig, name: &str, seed: u64, now: DateTime<Utc>) -> Department {
        let slots = Module::ALL
            .iter()
            .map(|&module| {
                let spec = StoreSpec {
                    seed,
                    module,
                    portal: portal.name.clone(),
                    department: name.to_string(),
                    zone: portal.zone,
                    custom_fields: portal
                        .custom_fields
                        .get(&module)
                        .cloned()
                        .unwrap_or_default(),
                };
                let store = ModuleStore::generate(spec, portal.record_count(module), now);
                StoreSlot {
                    store: RwLock::new(store),
                    churn: Mutex::new(ChurnState::new(now)),
                }
            })
            .collect();
        Department {
            name: name.to_string(),
            slots,
        }
    }

    pub fn slot(&self, module: Module) -> Option<&StoreSlot> {
        let at = Module::ALL.iter().position(|m| *m == module)?;
        self.slots.get(at)
    }

    pub fn slots(&self) -> impl Iterator<Item = (Module, &StoreSlot)> {
        Module::ALL.iter().copied().zip(self.slots.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portals_and_departments_are_found_ignoring_case_with_a_store_per_module() {
        let emulator = Emulator::build(&EmulatorConfig::default().with_records(3));
        let (at, portal) = emulator.portal(" DEMO ").unwrap();
        assert_eq!(at, 0);
        let department = portal.department("support").unwrap();
        for module in Module::ALL {
            let slot = department.slot(module).unwrap();
            assert_eq!(read(&slot.store).len(), 3);
            assert_eq!(read(&slot.store).module(), module);
        }
        assert!(emulator.portal("other").is_none());
        assert_eq!(emulator.slots().count(), 8);
    }
}
