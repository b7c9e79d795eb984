//! The walk of an organisation's deletions (Zoho Desk's recycle bin, contract §5). Search
//! never shows a trashed record, so the bin is the only place deletions are seen: each
//! round, after the incremental passes, the bin is read newest deletion first until a
//! page reaches deletions older than the last complete walk's start less `LOOKBACK`, or
//! the bin's end. Each page's deletions are applied in one transaction (the store leaves
//! alone a record modified after its deletion: it was restored), and the walk's last page
//! moves the cursor to the server's time when the walk began. Applying a deletion twice
//! changes nothing, so a walk cut short is simply walked again. Pages overlap by one row,
//! and the previous page's last row must be met again: otherwise rows left the bin ahead
//! of the walk (a restore, a purge) and one may have been skipped, so the walk starts
//! over, at most `MAX_RESTARTS` times in a round. An organisation none of whose streams
//! ever ran has nothing in the mirror to delete: its first walk reads nothing and only
//! sets the cursor to the server's time.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeDelta, Utc};

use super::{fetch_end, PassEnd, Pipeline, PipelineError};
use crate::fetcher::Page;
use crate::source::{Outcome, Tombstone};
use crate::store::{patiently, DeletionsCommit};
use crate::stream::Module;
use crate::zoho::codec::BadRow;
use crate::zoho::record::RecordId;

/// How far before the last walk's start the next one reads: a deletion is listed in the
/// bin a little after it happens, and the server's machines' clocks differ.
pub const LOOKBACK: TimeDelta = TimeDelta::hours(1);

/// Restarts a walk may make in one round before it gives up until the next.
pub const MAX_RESTARTS: u32 = 3;

/// One organisation's walk.
#[derive(Clone, Copy, Debug)]
pub struct DeletionWalk<'a> {
    /// The organisation, as its streams name it (their `portal`).
    pub portal: &'a str,
    pub run_id: i64,
    /// The modules the organisation mirrors: the deletions of others are skipped.
    pub modules: &'a [Module],
    /// No stream of the organisation ever started: nothing can be in the mirror yet.
    pub mirror_empty: bool,
}

/// A page of the bin, sorted for the store.
#[derive(Default)]
struct BinPage {
    tombstones: Vec<Tombstone>,
    bad: Vec<BadRow>,
    /// Kinds the organisation does not mirror (attachments, modules not configured).
    skipped: BTreeSet<String>,
}

impl Pipeline {
    /// Walks the organisation's deletions down to the last walk's start (less the
    /// lookback), applying them page by page.
    pub async fn walk_deletions(&self, walk: &DeletionWalk<'_>) -> Result<PassEnd, PipelineError> {
        let cursor = patiently("reading the deletions' cursor", &self.cancel, || {
            self.store.deletions_cursor(walk.portal)
        })
        .await?;
        let down_to = match cursor {
            None if walk.mirror_empty => {
                let now = self.fetcher.server_now();
                self.commit_deletions(walk, &BinPage::default(), Some(now))
                    .await?;
                return Ok(PassEnd::Completed);
            }
            None => DateTime::UNIX_EPOCH,
            Some(through) => through - LOOKBACK,
        };
        let limit = self.fetcher.deletions_page_rows();
        let mut restarts = 0;
        'walk: loop {
            let mut from = 0;
            let mut anchor: Option<RecordId> = None;
            let mut started: Option<DateTime<Utc>> = None;
            loop {
                if self.cancel.is_cancelled() {
                    return Ok(PassEnd::Cancelled);
                }
                let page = match self.fetcher.get_deletions(from, limit).await {
                    Ok(page) => page,
                    Err(e) => return fetch_end(e),
                };
                let started = *started.get_or_insert(page.server_time);
                if anchor.is_some_and(|a| !page.rows.iter().any(|r| r.mark.id == Some(a))) {
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(PipelineError::DeletionsMoving {
                            portal: walk.portal.to_string(),
                            restarts: MAX_RESTARTS,
                        });
                    }
                    tracing::info!(
                        from,
                        restarts,
                        "rows left the recycle bin ahead of the walk; walking it again"
                    );
                    continue 'walk;
                }
                let oldest = page.rows.iter().filter_map(|r| r.mark.at).min();
                let done = page.rows.len() < limit as usize || oldest.is_some_and(|t| t < down_to);
                anchor = page.rows.iter().rev().find_map(|r| r.mark.id);
                let bin = sort(page, walk.modules);
                self.commit_deletions(walk, &bin, done.then_some(started))
                    .await?;
                self.progress.pages.fetch_add(1, Ordering::Relaxed);
                if done {
                    return Ok(PassEnd::Completed);
                }
                from += limit - 1;
            }
        }
    }

    async fn commit_deletions(
        &self,
        walk: &DeletionWalk<'_>,
        bin: &BinPage,
        deleted_through: Option<DateTime<Utc>>,
    ) -> Result<(), PipelineError> {
        let commit = DeletionsCommit {
            portal: walk.portal,
            run_id: walk.run_id,
            tombstones: &bin.tombstones,
            bad_rows: &bin.bad,
            deleted_through,
            deletes: self.deletes,
            synced_at: Utc::now(),
        };
        let stats = patiently("a deletions commit", &self.cancel, || {
            self.store.commit_deletions(&commit)
        })
        .await?;
        self.progress
            .dead_letters
            .fetch_add(stats.dead_letters, Ordering::Relaxed);
        for kind in &bin.skipped {
            tracing::debug!(kind, "recycle-bin rows of a kind not mirrored are skipped");
        }
        tracing::debug!(
            listed = bin.tombstones.len(),
            deleted = stats.deleted,
            dead_letters = stats.dead_letters,
            done = deleted_through.is_some(),
            "deletions committed"
        );
        if stats.deleted > 0 {
            tracing::info!(deleted = stats.deleted, "records deleted at the source");
        }
        Ok(())
    }
}

/// The page's deletions of mirrored modules, and its rows that could not be read.
fn sort(page: Page, modules: &[Module]) -> BinPage {
    let mut bin = BinPage::default();
    for row in page.rows {
        match row.outcome {
            Outcome::Deleted(t) if t.module.is_some_and(|m| modules.contains(&m)) => {
                bin.tombstones.push(t);
            }
            Outcome::Deleted(t) => {
                bin.skipped.insert(t.kind);
            }
            Outcome::Bad(bad) => bin.bad.push(bad),
            Outcome::Record(_) | Outcome::Object(_) => bin.bad.push(BadRow {
                raw: String::from("(a record among the deletions)"),
                error: "the source listed a record where deletions were asked for".into(),
                id: row.mark.id,
            }),
        }
    }
    bin
}

#[cfg(test)]
mod tests;
