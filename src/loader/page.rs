//! Committing pages: the mirror upsert, the page's dead letters, the stream's checkpoint
//! and the run's counters, all in one transaction, so the checkpoint never runs ahead of
//! the rows (a crash re-reads the page) nor behind them by more than the pages being
//! written. Four round trips a page: `BEGIN` with the page's limits, the control
//! statement (`control`: lease, checkpoint, letters), the upsert, `COMMIT`; and one more
//! when the page brings labels never seen (`fields_seen`), in which case the module's
//! view is refreshed after commit. Pages of one stream committed together (a backfill's
//! batch) share `BEGIN`, the control statement (with the last page's checkpoint) and
//! `COMMIT`, and keep an upsert each. The upserts come last because they take the change
//! log's append lock, which orders every stream's commits: it is held for the upserts and
//! the `COMMIT`, nothing else. Of the rows streams share, `fields_seen` rows are taken
//! first and the run's row last (after the lock when there is one), so no two pages can
//! wait on each other in a circle. A Zoho Desk page takes the same steps around its own
//! upsert (`desk_mirror`), one page a transaction.

use sqlx::{Postgres, Transaction};

use super::binds;
use super::control::{self, RunCount};
use super::dead_letters::Letter;
use super::field_type::FieldType;
use super::limits::{self, Work};
use super::{fields_seen, mirror, runs, slow, Loader, PageCommit, PageStats, StoreError};
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
            StreamModule::Support(module) => {
                self.commit_support_pages(std::slice::from_ref(page), module)
                    .await
            }
            StreamModule::Desk(module) => self.commit_desk_page(page, module).await,
        }
    }

    /// Stores pages of one stream in order and moves its checkpoint to the last one's:
    /// in one transaction for a legacy stream (its fixed cost, `BEGIN`, the control
    /// statement and `COMMIT`, shared by the pages), one page after the other otherwise.
    pub async fn commit_pages(&self, pages: &[PageCommit<'_>]) -> Result<PageStats, StoreError> {
        let one_stream = pages.windows(2).all(|w| w[0].stream == w[1].stream);
        match pages.first().map(|p| p.stream.module) {
            Some(StreamModule::Support(module)) if one_stream => {
                self.commit_support_pages(pages, module).await
            }
            _ => {
                let mut total = PageStats::default();
                for page in pages {
                    total = total.plus(self.commit_page(page).await?);
                }
                Ok(total)
            }
        }
    }

    async fn commit_support_pages(
        &self,
        pages: &[PageCommit<'_>],
        module: Module,
    ) -> Result<PageStats, StoreError> {
        let Some(last) = pages.last() else {
            return Ok(PageStats::default());
        };
        let parts: Vec<Part<'_>> = pages.iter().map(|p| Part::new(p, module)).collect();
        let letters: Vec<Letter<'_>> = parts.iter().flat_map(Part::letters).collect();
        let seen_as = crate::stream::Module::Support(module);
        let novel = self.known_fields.novel(seen_as, &observed(&parts));
        let (empty, writing): (Vec<&Part<'_>>, Vec<&Part<'_>>) =
            parts.iter().partition(|p| p.prepared.is_empty());
        // The run's row is shared by every stream: counted before the append lock only
        // when no page takes it, and after it otherwise.
        let run_count = match writing.is_empty() {
            true => RunCount::Here {
                pages: empty.len() as u64,
                records: empty.iter().map(|p| p.received).sum(),
            },
            false => RunCount::ByUpsert,
        };
        let started = std::time::Instant::now();
        let mut tx = self.open_page().await?;
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, last.synced_at, last.run_id)
            .await
            .map_err(|e| unknown_run(e, last.run_id))?;
        let dead = control::write(&mut tx, last, &letters, run_count)
            .await
            .map_err(|e| unknown_run(e, last.run_id))?;
        let mut upserted = mirror::Upserted::default();
        for part in &writing {
            let page = part.page;
            let binds = &part.readied().binds;
            let counted = (page.run_id, part.received);
            let done = mirror::upsert(&mut tx, page.stream, binds, page.synced_at, counted)
                .await
                .map_err(|e| unknown_run(e, page.run_id))?;
            upserted = upserted.plus(done);
        }
        if run_count == RunCount::ByUpsert {
            for part in &empty {
                runs::count_page(&mut tx, part.page.run_id, part.received).await?;
            }
        }
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
            stream = %last.stream.module,
            portal = %last.stream.portal,
            department = %last.stream.department,
            pages = pages.len(),
            inserted = stats.inserted,
            updated = stats.updated,
            unchanged = stats.unchanged,
            dead_letters = stats.dead_letters,
            "pages committed"
        );
        Ok(stats)
    }
}

/// One page of a commit: its rows, sorted and checked, and their binds (readied ahead
/// when they were, for these very rows, or built now).
struct Part<'p> {
    page: &'p PageCommit<'p>,
    prepared: mirror::Prepared<'p>,
    readied: Ready<'p>,
    received: u64,
}

/// Where a page's binds come from.
enum Ready<'p> {
    /// Readied in the task that fetched the page.
    Ahead(&'p Readied),
    /// Built by the commit: none were readied, or not for these rows.
    Built(Readied),
}

impl<'p> Part<'p> {
    fn new(page: &'p PageCommit<'p>, module: Module) -> Part<'p> {
        let prepared = mirror::prepare(page.records);
        let ahead = page.prepared.and_then(|p| p.get::<Readied>());
        let readied = match ahead {
            Some(readied) if readied.binds.are_of(&prepared) => Ready::Ahead(readied),
            _ => Ready::Built(Readied::new(module, &prepared, page.zone)),
        };
        Part {
            page,
            prepared,
            readied,
            received: u64::try_from(page.records.len()).unwrap_or(u64::MAX),
        }
    }

    fn readied(&self) -> &Readied {
        match &self.readied {
            Ready::Ahead(readied) => readied,
            Ready::Built(readied) => readied,
        }
    }

    /// The page's rows that cannot be mirrored: undecodable, or without a usable id.
    fn letters(&self) -> impl Iterator<Item = Letter<'_>> {
        let bad = self.page.bad_rows.iter().map(|b| Letter {
            raw: &b.raw,
            error: &b.error,
            record_id: b.id,
        });
        let rejected = self.prepared.rejected.iter().map(|r| Letter {
            raw: &r.raw,
            error: r.error,
            record_id: None,
        });
        bad.chain(rejected)
    }
}

/// The labels the pages show, each with the join of its types.
fn observed(parts: &[Part<'_>]) -> fields_seen::Observed {
    let mut all = fields_seen::Observed::new();
    for part in parts {
        for (label, ty) in &part.readied().observed {
            let slot = all.entry(label.clone()).or_insert(*ty);
            *slot = FieldType::join_opt(*slot, *ty);
        }
    }
    all
}

/// What a legacy page's commit computes before it touches the database: the upsert's
/// binds and the labels (with their types) the page shows. `Loader::prepare` makes it
/// in the task that fetched the page; a commit without it makes it itself.
pub(super) struct Readied {
    binds: binds::Binds,
    observed: fields_seen::Observed,
}

impl Readied {
    fn new(module: Module, prepared: &mirror::Prepared<'_>, zone: chrono_tz::Tz) -> Readied {
        Readied {
            binds: binds::binds(super::schema::mirror_table(module), prepared, zone),
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
