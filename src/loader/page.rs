//! Committing one page: the mirror upsert, the page's dead letters, the stream's
//! checkpoint and the run's counters, all in one transaction, so the checkpoint never
//! runs ahead of the rows (a crash re-reads the page) nor behind them by more than the
//! page being written. Four round trips: `BEGIN` with the page's limits, the control
//! statement (`control`: lease, checkpoint, letters), the upsert, `COMMIT`; and a fifth
//! when the page brings labels never seen (`fields_seen`), in which case the module's
//! view is refreshed after commit. The upsert comes last because it takes the change
//! log's append lock, which orders every stream's commits: it is held for the upsert and
//! the `COMMIT`, nothing else. Of the rows streams share, `fields_seen` rows are taken
//! first and the run's row last (after the lock when there is one), so no two pages can
//! wait on each other in a circle. A Zoho
//! Desk page takes the same steps around its own upsert (`desk_mirror`).

use sqlx::{Postgres, Transaction};

use super::control::{self, RunCount};
use super::dead_letters::Letter;
use super::limits::{self, Work};
use super::{fields_seen, mirror, slow, Loader, PageCommit, PageStats, StoreError};
use crate::store::Prepared;
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
        let built;
        let readied = match page.prepared.and_then(|p| p.get::<Readied>()) {
            Some(readied) if readied.binds.are_of(&prepared) => readied,
            _ => {
                built = Readied::new(module, &prepared, page.zone);
                &built
            }
        };
        let seen_as = crate::stream::Module::Support(module);
        let novel = self.known_fields.novel(seen_as, &readied.observed);
        let received = u64::try_from(page.records.len()).unwrap_or(u64::MAX);
        let run_count = if prepared.is_empty() {
            RunCount::Here { records: received }
        } else {
            RunCount::ByUpsert
        };
        let started = std::time::Instant::now();
        let mut tx = self.open_page().await?;
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, page.synced_at, page.run_id)
            .await
            .map_err(|e| unknown_run(e, page.run_id))?;
        let dead = control::write(&mut tx, page, &letters, run_count)
            .await
            .map_err(|e| unknown_run(e, page.run_id))?;
        let upserted = mirror::upsert(
            &mut tx,
            page.stream,
            &readied.binds,
            page.synced_at,
            (page.run_id, received),
        )
        .await
        .map_err(|e| unknown_run(e, page.run_id))?;
        tx.commit().await?;
        slow::report_if_slow("page commit", module.url_name(), started);
        let table = super::schema::mirror_table(module).name;
        let written = upserted.inserted + upserted.updated;
        let keys = "portal, department, id, modified_time, _deleted_at, _swept_at";
        self.statistics
            .refresh_if_due(&self.pool, (table, keys), written);
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

/// What a legacy page's commit computes before it touches the database: the upsert's
/// binds and the labels (with their types) the page shows. `Loader::prepare` makes it
/// in the task that fetched the page; a commit without it makes it itself.
pub(super) struct Readied {
    binds: mirror::Binds,
    observed: fields_seen::Observed,
}

impl Readied {
    fn new(module: Module, prepared: &mirror::Prepared<'_>, zone: chrono_tz::Tz) -> Readied {
        Readied {
            binds: mirror::binds(super::schema::mirror_table(module), prepared, zone),
            observed: fields_seen::observe(prepared.records()),
        }
    }
}

impl Loader {
    /// Readies a legacy page's records for `commit_page`; nothing for a Desk page.
    pub fn prepare_page(
        &self,
        stream: &crate::stream::StreamKey,
        records: &[&crate::zoho::record::Record],
        zone: chrono_tz::Tz,
    ) -> Option<Prepared> {
        let StreamModule::Support(module) = stream.module else {
            return None;
        };
        let prepared = mirror::prepare(records.iter().copied());
        Some(Prepared::new(Readied::new(module, &prepared, zone)))
    }

    /// Opens a page's transaction, its waits bounded, in one round trip.
    pub(super) async fn open_page(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        slow::timed(
            "connection wait",
            "BEGIN",
            limits::begin(&self.pool, Work::Page),
        )
        .await
    }
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
