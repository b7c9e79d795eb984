//! Random change between syncs: distinct records deleted, modified (version bump, so their
//! volatile values change, and Modified Time = now) and created, all driven by one seed so
//! that a churn is reproducible.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::generate::{self, key, Mix};
use super::schema::Source;
use super::ModuleStore;

const CHURN_SALT: u64 = 0xC4_0B9;

impl ModuleStore {
    /// Deletes, then modifies, then creates distinct random records (as many as exist, at
    /// most). Modified and created records get Modified Time `now`.
    pub fn churn(
        &mut self,
        rng_seed: u64,
        creates: u32,
        modifies: u32,
        deletes: u32,
        now: DateTime<Utc>,
    ) {
        let mut rng = Mix::new(key(&[self.spec.seed, rng_seed, CHURN_SALT]));
        let now = now.timestamp();
        let doomed: Vec<u64> = distinct_positions(&mut rng, self.index.len(), deletes)
            .iter()
            .filter_map(|&pos| self.index.get(pos).map(|e| e.id))
            .collect();
        if !doomed.is_empty() {
            self.index.retain(|e| doomed.binary_search(&e.id).is_err());
            for id in &doomed {
                self.overrides.remove(id);
            }
        }
        for pos in distinct_positions(&mut rng, self.index.len(), modifies) {
            self.churn_one(pos, now);
        }
        for _ in 0..creates {
            let entry = self.next_entry(now);
            self.index.push(entry);
        }
        tracing::debug!(module = %self.spec.module, creates, modifies, deletes, live = self.index.len(), "store churned");
    }

    /// Bumps a record's version; a written record regenerates its volatile values.
    fn churn_one(&mut self, pos: usize, now: i64) {
        let Some(entry) = self.index.get_mut(pos) else {
            return;
        };
        entry.version = entry.version.wrapping_add(1);
        entry.modified = now;
        let entry = *entry;
        let Some(mut values) = self.overrides.remove(&entry.id) else {
            return;
        };
        let ctx = self.context();
        for (at, spec) in self.fields.iter().enumerate() {
            if let (Source::Generated(gen), true, Some(slot)) =
                (&spec.source, spec.volatile, values.get_mut(at))
            {
                *slot = generate::value(&ctx, spec, gen, &entry);
            }
        }
        self.overrides.insert(entry.id, values);
    }
}

/// `k` distinct positions below `n` (all of them when `k >= n`), ascending; Floyd's
/// algorithm, so the cost follows `k`, not `n`.
fn distinct_positions(rng: &mut Mix, n: usize, k: u32) -> Vec<usize> {
    let k = usize::try_from(k).unwrap_or(usize::MAX).min(n);
    let mut chosen = HashSet::with_capacity(k);
    for j in n - k..n {
        let pick = rng.below(j as u64 + 1) as usize;
        if !chosen.insert(pick) {
            chosen.insert(j);
        }
    }
    let mut positions: Vec<usize> = chosen.into_iter().collect();
    positions.sort_unstable();
    positions
}

#[cfg(test)]
mod tests {
    use super::super::tests::{field, now, store};
    use super::super::{Query, Row};
    use super::*;
    use crate::zoho::module::Module;

    fn later(secs: i64) -> DateTime<Utc> {
        now() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn churn_creates_modifies_and_deletes_deterministically() {
        let run = || {
            let mut s = store(Module::Requests, 200);
            s.churn(5, 7, 11, 13, later(10));
            s
        };
        let (a, b) = (run(), run());
        assert_eq!(a.rows().collect::<Vec<_>>(), b.rows().collect::<Vec<_>>());
        assert_eq!(a.len(), 200 - 13 + 7);
        let fresh = Query {
            modified_after: Some(later(9)),
            ..Query::default()
        };
        let changed = a.select(&fresh, 1, 200).unwrap_or_default();
        assert_eq!(changed.len(), 7 + 11);
        let original = store(Module::Requests, 200);
        let modified: Vec<&Row> = changed
            .iter()
            .filter(|r| original.get(r.id).is_some())
            .collect();
        assert_eq!(modified.len(), 11);
        for row in modified {
            let old = original.get(row.id).unwrap_or_else(|| row.clone());
            assert_eq!(field(row, "Subject"), field(&old, "Subject"));
            let volatile = |r: &Row| {
                ["Status", "Priority", "Description", "Modified By"]
                    .map(|l| field(r, l).map(str::to_string))
            };
            assert_ne!(
                volatile(row),
                volatile(&old),
                "record {} kept every volatile value",
                row.id
            );
        }
        let gone = original.rows().filter(|r| a.get(r.id).is_none()).count();
        assert_eq!(gone, 13);
    }

    #[test]
    fn churn_never_asks_for_more_records_than_exist() {
        let mut s = store(Module::Tasks, 5);
        s.churn(1, 0, 50, 50, now());
        assert!(s.is_empty());
        s.churn(2, 3, 50, 0, now());
        assert_eq!(s.len(), 3);
    }
}
