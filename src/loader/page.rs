//! Committing one page: the mirror upsert, the page's dead letters, the stream's
//! checkpoint and the run's counters, all in one transaction, so the checkpoint never
//! runs ahead of the rows (a crash re-reads the page) nor behind them by more than the
//! page being written. The run's row is updated last: every page of a run updates it,
//! and taking its lock last keeps concurrent page commits from queueing behind each
//! other's upserts. The upsert logs its changes, under the change log's append lock, and
//! the page's new labels are recorded in `fields_seen` in the same transaction; a page
//! that brings a custom field its module's view lacks refreshes the view after commit.
//! Its statements wait at most `limits::LOCK_TIMEOUT` for a lock. A Zoho Desk page takes
//! the same steps around its own upsert (`desk_mirror`): `open` and `close` are the
//! steps both share.

use sqlx::{PgConnection, Postgres, Transaction};

use super::dead_letters::{self, Letter};
use super::limits::{self, Work};
use super::{
    change_log, checkpoint, fields_seen, leases, mirror, runs, slow, Loader, PageCommit, PageStats,
    StoreError,
};
use crate::stream::Module as StreamModule;
use crate::zoho::module::Module;

/// SQLSTATE of a foreign key violation: here, only a `run_id` that names no run.
const FOREIGN_KEY_VIOLATION: &str = "23503";

impl Loader {
    /// Stores one page and moves its stream's checkpoint, atomically: a legacy stream's
    /// rows in the legacy mirror, a Zoho Desk stream's in the Desk mirror.
    pub async fn commit_page(&self, page: &PageCommit<'_>) -> Result<PageStats, StoreError> {
        match page.stream.module {
            StreamModule::Support(module) => self.commit_support_page(page, module).await,
            StreamModule::Desk(module) => self.commit_desk_page(page, module).await,
        }
    }

    async fn commit_support_page(
        &self,
        page: &PageCommit<'_>,
        module: Module,
    ) -> Result<PageStats, StoreError> {
        let prepared = mirror::prepare(page.records);
        let letters: Vec<Letter<'_>> = page
            .bad_rows
            .iter()
            .map(|b| Letter {
                raw: &b.raw,
                error: &b.error,
                record_id: b.id,
            })
            .chain(prepared.rejected.iter().map(|r| Letter {
                raw: &r.raw,
                error: r.error,
                record_id: None,
            }))
            .collect();
        let observed = fields_seen::observe(prepared.records());
        let seen_as = crate::stream::Module::Support(module);
        let novel = self.known_fields.novel(seen_as, &observed);
        let started = std::time::Instant::now();
        let mut tx = self.open_page(page, !prepared.is_empty()).await?;
        let upserted = mirror::upsert(
            &mut tx,
            page.stream,
            &prepared,
            page.zone,
            page.synced_at,
            page.run_id,
        )
        .await
        .map_err(|e| unknown_run(e, page.run_id))?;
        let dead = close_page(&mut tx, page, &letters).await?;
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, page.synced_at, page.run_id)
            .await
            .map_err(|e| unknown_run(e, page.run_id))?;
        let received = u64::try_from(page.records.len()).unwrap_or(u64::MAX);
        runs::count_page(&mut tx, page.run_id, received).await?;
        tx.commit().await?;
        slow::report_if_slow("page commit", module.url_name(), started);
        self.known_fields.learn(seen_as, &novel);
        if new_column {
            // The page is stored; a view that fails to refresh now is refreshed with the
            // next new field or at the next start, and must not fail the load.
            if let Err(error) = self.refresh_view(module).await {
                tracing::warn!(%module, %error, "the module's view could not be refreshed");
            }
        }
        let stats = PageStats {
            inserted: upserted.inserted,
            updated: upserted.updated,
            unchanged: upserted
                .sent
                .saturating_sub(upserted.inserted + upserted.updated),
            dead_letters: dead,
        };
        tracing::debug!(
            stream = %page.stream.module,
            portal = %page.stream.portal,
            department = %page.stream.department,
            inserted = stats.inserted,
            updated = stats.updated,
            unchanged = stats.unchanged,
            dead_letters = stats.dead_letters,
            "page committed"
        );
        Ok(stats)
    }
}

impl Loader {
    /// Opens a page's transaction: bounded waits, the lease renewed (or the page refused),
    /// and the change log's append lock when rows will be written.
    pub(super) async fn open_page(
        &self,
        page: &PageCommit<'_>,
        writes_rows: bool,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = slow::timed("connection wait", "BEGIN", self.pool.begin()).await?;
        limits::bound(&mut tx, Work::Page).await?;
        if let Some(lease) = page.lease {
            leases::renew(&mut tx, lease).await?;
        }
        if writes_rows {
            change_log::lock_for_append(&mut tx).await?;
        }
        Ok(tx)
    }
}

/// Stores a page's dead letters and its checkpoint in its transaction; how many letters
/// were new.
pub(super) async fn close_page(
    tx: &mut PgConnection,
    page: &PageCommit<'_>,
    letters: &[Letter<'_>],
) -> Result<u64, StoreError> {
    let dead = dead_letters::store(tx, page.stream, page.run_id, letters)
        .await
        .map_err(|e| unknown_run(e, page.run_id))?;
    checkpoint::save(
        tx,
        page.stream,
        page.kind,
        page.checkpoint,
        Some(page.run_id),
    )
    .await
    .map_err(|e| unknown_run(e, page.run_id))?;
    Ok(dead)
}

pub(super) fn unknown_run(error: StoreError, run_id: i64) -> StoreError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db))
            if db.code().as_deref() == Some(FOREIGN_KEY_VIOLATION) =>
        {
            StoreError::UnknownRun(run_id)
        }
        _ => error,
    }
}
