//! An in-memory store that keeps the store's promises for the pipeline's tests: a page's
//! rows, dead letters and checkpoint land together or not at all; a page committed under
//! a lease another holder took is refused whole; a reservation never takes a day past its
//! budget. It also lets a test break it on purpose: fail the n-th page commit, or hand a
//! stream's lease to someone else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    Claim, CommitOrder, DeleteMode, DeletionStats, DeletionsCommit, Holder, Holding, Lease,
    LedgerDay, Ordered, PageCommit, PageStats, RunKind, RunOutcome, Store, StoreError, SweepCommit,
    SweepStats,
};
use crate::scheduler::freshness::RateEstimate;
use crate::stream::{Checkpoint, Module, PassKind, StreamKey};
use crate::zoho::codec::BadRow;
use crate::zoho::record::{Record, RecordId};

/// One organisation's deletions applied, by (module, id), and its cursor.
type Deletions = (
    BTreeMap<(Module, i64), DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

#[derive(Debug, Default)]
struct State {
    checkpoints: HashMap<(StreamKey, PassKind), Checkpoint>,
    /// The token of the ordered commit that last wrote each checkpoint.
    tokens: HashMap<(StreamKey, PassKind), i64>,
    rows: HashMap<StreamKey, BTreeMap<RecordId, Record>>,
    deleted: HashMap<StreamKey, BTreeSet<RecordId>>,
    /// Ids a sweep in progress judges, and those it saw so far.
    sweeps: HashMap<StreamKey, (BTreeSet<RecordId>, BTreeSet<RecordId>)>,
    dead_letters: HashMap<StreamKey, Vec<BadRow>>,
    leases: HashMap<StreamKey, String>,
    ledger: HashMap<(String, NaiveDate), LedgerDay>,
    runs: Vec<(RunKind, Option<RunOutcome>, u32)>,
    /// Per organisation: the deletions applied, by (module, id), and the cursor.
    deletions: HashMap<String, Deletions>,
    rates: HashMap<StreamKey, RateEstimate>,
    /// Per organisation: the rows of its deletions that could not be read.
    bin_dead_letters: HashMap<String, Vec<BadRow>>,
    page_commits: u64,
    /// Ordered commits under way now, and the most there ever were at once.
    ordered_now: u32,
    ordered_most: u32,
    /// How long an ordered commit takes, as a database's would.
    commit_latency: Duration,
    /// The page commits, counted from 1, that fail.
    failing_commits: BTreeSet<u64>,
}

/// The store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Page commit number `n` (from 1) fails for good, storing nothing.
    /// Sets a stream's checkpoint of one kind, as a pass of another process would leave it.
    pub fn set_checkpoint(&self, stream: &StreamKey, kind: PassKind, checkpoint: Checkpoint) {
        self.state()
            .checkpoints
            .insert((stream.clone(), kind), checkpoint);
    }

    pub fn fail_commit(&self, n: u64) {
        self.state().failing_commits.insert(n);
    }

    /// Gives the stream's lease to another holder, as a process that took it over would.
    pub fn hand_lease_to(&self, stream: &StreamKey, holder: &str) {
        self.state()
            .leases
            .insert(stream.clone(), holder.to_string());
    }

    /// The stream's stored records by id.
    pub fn rows(&self, stream: &StreamKey) -> BTreeMap<RecordId, Record> {
        self.state().rows.get(stream).cloned().unwrap_or_default()
    }

    /// The ids a completed sweep found deleted (kept marked).
    pub fn deleted(&self, stream: &StreamKey) -> BTreeSet<RecordId> {
        self.state()
            .deleted
            .get(stream)
            .cloned()
            .unwrap_or_default()
    }

    pub fn dead_letters(&self, stream: &StreamKey) -> Vec<BadRow> {
        self.state()
            .dead_letters
            .get(stream)
            .cloned()
            .unwrap_or_default()
    }

    /// The deletions applied for an organisation: (module, id) → when deleted.
    pub fn deletions(&self, portal: &str) -> BTreeMap<(Module, i64), DateTime<Utc>> {
        let state = self.state();
        state
            .deletions
            .get(portal)
            .map(|d| d.0.clone())
            .unwrap_or_default()
    }

    /// The organisation's rows of deletions that could not be read.
    pub fn bin_dead_letters(&self, portal: &str) -> Vec<BadRow> {
        let state = self.state();
        state
            .bin_dead_letters
            .get(portal)
            .cloned()
            .unwrap_or_default()
    }

    /// Ordered commits (`commit_in_order`) take `latency` each from now on.
    pub fn set_commit_latency(&self, latency: Duration) {
        self.state().commit_latency = latency;
    }

    /// The most ordered commits (`commit_in_order`) that were under way at once.
    pub fn most_commits_at_once(&self) -> u32 {
        self.state().ordered_most
    }

    /// Page commits made so far, failed ones included.
    pub fn page_commits(&self) -> u64 {
        self.state().page_commits
    }

    /// Checks the lease a page is committed under is still this holder's.
    fn check_lease(state: &State, lease: Option<&Lease>) -> Result<(), StoreError> {
        match lease {
            Some(lease) if state.leases.get(&lease.stream) != Some(&lease.holder) => {
                Err(StoreError::LeaseLost {
                    stream: lease.stream.to_string(),
                })
            }
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn checkpoint(
        &self,
        stream: &StreamKey,
        kind: PassKind,
    ) -> Result<Checkpoint, StoreError> {
        let state = self.state();
        let key = (stream.clone(), kind);
        Ok(state.checkpoints.get(&key).cloned().unwrap_or_default())
    }

    async fn commit_page(&self, page: &PageCommit<'_>) -> Result<PageStats, StoreError> {
        // A real commit waits on I/O: let the tasks fetching ahead run meanwhile.
        tokio::task::yield_now().await;
        let mut guard = self.state();
        let state = &mut *guard;
        state.page_commits += 1;
        let n = state.page_commits;
        if state.failing_commits.contains(&n) {
            return Err(StoreError::Refused(format!("page commit {n} fails")));
        }
        Self::check_lease(state, page.lease)?;
        let mut stats = PageStats::default();
        let rows = state.rows.entry(page.stream.clone()).or_default();
        for record in page.records {
            let Some(id) = record.id else { continue };
            match rows.insert(id, record.clone()) {
                None => stats.inserted += 1,
                Some(old) if old == *record => stats.unchanged += 1,
                Some(_) => stats.updated += 1,
            }
        }
        let letters = state.dead_letters.entry(page.stream.clone()).or_default();
        for bad in page.bad_rows {
            if !letters.iter().any(|l| l.raw == bad.raw) {
                letters.push(bad.clone());
                stats.dead_letters += 1;
            }
        }
        let key = (page.stream.clone(), page.kind);
        state.tokens.remove(&key);
        state.checkpoints.insert(key, page.checkpoint.clone());
        Ok(stats)
    }

    fn overlaps_commits(&self, _stream: &StreamKey) -> bool {
        true
    }

    async fn commit_in_order(
        &self,
        pages: &[PageCommit<'_>],
        order: CommitOrder,
    ) -> Result<Ordered, StoreError> {
        let Some(last) = pages.last() else {
            return Ok(Ordered::Stored(PageStats::default()));
        };
        let key = (last.stream.clone(), last.kind);
        {
            let mut state = self.state();
            state.ordered_now += 1;
            state.ordered_most = state.ordered_most.max(state.ordered_now);
        }
        // A real store's commit takes a while: the next one can be sent meanwhile.
        let latency = self.state().commit_latency;
        tokio::time::sleep(latency).await;
        let behind = order.after.is_some() && self.state().tokens.get(&key).copied() != order.after;
        let stored = match behind {
            true => Ok(Ordered::Behind),
            false => self.commit_pages(pages).await.map(Ordered::Stored),
        };
        let mut state = self.state();
        state.ordered_now -= 1;
        if let Ok(Ordered::Stored(_)) = stored {
            state.tokens.insert(key, order.token);
        }
        stored
    }

    async fn commit_sweep_page(&self, page: &SweepCommit<'_>) -> Result<SweepStats, StoreError> {
        let mut guard = self.state();
        let state = &mut *guard;
        Self::check_lease(state, page.lease)?;
        let stream = page.stream.clone();
        if page.starts {
            let enlisted = state.rows.get(&stream).map(|r| r.keys().copied().collect());
            let sweep = (enlisted.unwrap_or_default(), BTreeSet::new());
            state.sweeps.insert(stream.clone(), sweep);
        }
        let mut stats = SweepStats::default();
        let (enlisted, seen) = state.sweeps.entry(stream.clone()).or_default();
        for id in page.ids {
            stats.seen += u64::from(enlisted.contains(id) && seen.insert(*id));
        }
        let done = !page.checkpoint.in_progress;
        let gone: Vec<RecordId> = if done {
            enlisted.difference(seen).copied().collect()
        } else {
            Vec::new()
        };
        stats.deleted = gone.len() as u64;
        for id in &gone {
            match page.deletes {
                DeleteMode::Mark => {
                    state.deleted.entry(stream.clone()).or_default().insert(*id);
                }
                DeleteMode::Remove => {
                    state.rows.entry(stream.clone()).or_default().remove(id);
                }
            }
        }
        let key = (stream, PassKind::Sweep);
        state.checkpoints.insert(key, page.checkpoint.clone());
        Ok(stats)
    }

    async fn deletions_cursor(&self, portal: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.state().deletions.get(portal).and_then(|d| d.1))
    }

    async fn commit_deletions(
        &self,
        page: &DeletionsCommit<'_>,
    ) -> Result<DeletionStats, StoreError> {
        let mut guard = self.state();
        let state = &mut *guard;
        let (applied, cursor) = state.deletions.entry(page.portal.to_string()).or_default();
        let mut stats = DeletionStats::default();
        for tombstone in page.tombstones {
            let Some(module) = tombstone.module else {
                continue;
            };
            let key = (module, tombstone.id);
            stats.deleted += u64::from(applied.insert(key, tombstone.deleted_at).is_none());
        }
        if let Some(through) = page.deleted_through {
            *cursor = Some(cursor.map_or(through, |c| c.max(through)));
        }
        let letters = state
            .bin_dead_letters
            .entry(page.portal.to_string())
            .or_default();
        for bad in page.bad_rows {
            if !letters.iter().any(|l| l.raw == bad.raw) {
                letters.push(bad.clone());
                stats.dead_letters += 1;
            }
        }
        Ok(stats)
    }

    async fn take_lease(
        &self,
        stream: &StreamKey,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let mut state = self.state();
        let current = state
            .leases
            .entry(stream.clone())
            .or_insert(holder.name.clone());
        if *current != holder.name {
            return Ok(Claim::Held(Holding {
                holder: current.clone(),
                host: None,
                pid: None,
                since: Utc::now(),
            }));
        }
        Ok(Claim::Taken(Lease {
            stream: stream.clone(),
            holder: holder.name.clone(),
            ttl,
        }))
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.leases.get(&lease.stream) == Some(&lease.holder) {
            state.leases.remove(&lease.stream);
        }
        Ok(())
    }

    async fn reserve(
        &self,
        organisation: &str,
        day: NaiveDate,
        cost: u32,
        budget: u32,
    ) -> Result<Option<u32>, StoreError> {
        let mut state = self.state();
        let ledger = state
            .ledger
            .entry((organisation.to_string(), day))
            .or_default();
        if ledger.spent || ledger.used.saturating_add(cost) > budget {
            return Ok(None);
        }
        ledger.used += cost;
        Ok(Some(ledger.used))
    }

    async fn move_reservation(
        &self,
        organisation: &str,
        from: NaiveDate,
        to: NaiveDate,
        cost: u32,
    ) -> Result<(), StoreError> {
        if from == to {
            return Ok(());
        }
        let mut state = self.state();
        let org = organisation.to_string();
        let before = state.ledger.entry((org.clone(), from)).or_default();
        before.used = before.used.saturating_sub(cost);
        state.ledger.entry((org, to)).or_default().used += cost;
        Ok(())
    }

    async fn mark_day_spent(&self, organisation: &str, day: NaiveDate) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = (organisation.to_string(), day);
        state.ledger.entry(key).or_default().spent = true;
        Ok(())
    }

    async fn ledger_day(
        &self,
        organisation: &str,
        day: NaiveDate,
    ) -> Result<LedgerDay, StoreError> {
        let state = self.state();
        let key = (organisation.to_string(), day);
        Ok(state.ledger.get(&key).copied().unwrap_or_default())
    }

    async fn observe_changes(
        &self,
        stream: &StreamKey,
        changes: u64,
        exposure: Duration,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let rate = state.rates.entry(stream.clone()).or_default();
        *rate = rate.observe(changes, exposure);
        Ok(())
    }

    async fn change_rates(
        &self,
        portal: &str,
    ) -> Result<Vec<(StreamKey, RateEstimate)>, StoreError> {
        let state = self.state();
        Ok(state
            .rates
            .iter()
            .filter(|(key, _)| key.portal == portal)
            .map(|(key, rate)| (key.clone(), *rate))
            .collect())
    }

    async fn start_run(&self, kind: RunKind, _organisation: &str) -> Result<i64, StoreError> {
        let mut state = self.state();
        state.runs.push((kind, None, 0));
        Ok(state.runs.len() as i64)
    }

    async fn add_run_requests(&self, run_id: i64, requests: u32) -> Result<(), StoreError> {
        let mut state = self.state();
        let run = usize::try_from(run_id - 1)
            .ok()
            .and_then(|i| state.runs.get_mut(i))
            .ok_or(StoreError::UnknownRun(run_id))?;
        run.2 += requests;
        Ok(())
    }

    async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        _error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let run = usize::try_from(run_id - 1)
            .ok()
            .and_then(|i| state.runs.get_mut(i))
            .ok_or(StoreError::UnknownRun(run_id))?;
        run.1 = Some(outcome);
        Ok(())
    }
}
