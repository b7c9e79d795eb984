//! Committing pages: the mirror upsert, the pages' dead letters, the stream's checkpoint
//! and the run's counters, all in one transaction, so the checkpoint never runs ahead of
//! the rows (a crash re-reads the page) nor behind them by more than the pages being
//! written. Three round trips a commit, however many pages it holds (a backfill's batch
//! of pages fetched together, or one page): `BEGIN` with the commit's limits, the one
//! statement of `batch` (every page's rows, their change log, the lease, the checkpoint
//! of the last page, the letters, the run's counters), `COMMIT`; and one more when the
//! pages bring labels never seen (`fields_seen`), in which case the module's view is
//! refreshed after commit. The statement takes the change log's append lock, which
//! orders every stream's commits, once its rows are written: it is held for the change
//! log, the control rows and the `COMMIT`, nothing else. Of the rows streams share,
//! `fields_seen` rows are taken first, before the lock, and the run's row last, after
//! it, so no two commits can wait on each other in a circle. A Zoho Desk page takes the same steps around its own upsert
//! (`desk_mirror`), one page a transaction.

use sqlx::{Postgres, Transaction};

use super::binds;
use super::dead_letters::Letter;
use super::field_type::FieldType;
use super::limits::{self, Work};
use super::{batch, fields_seen, mirror, slow, Loader, PageCommit, PageStats, StoreError};
use crate::store::{CommitOrder, Ordered, Prepared};
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
                let page = std::slice::from_ref(page);
                unordered(self.commit_support_pages(page, module, None).await?)
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
                unordered(self.commit_support_pages(pages, module, None).await?)
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

    /// Stores pages of one stream in order, after the commit `order` follows when it
    /// names one (on another connection, perhaps still committing): `Behind`, having
    /// written nothing, when that commit is not stored, or when these pages bring labels
    /// never seen (their `fields_seen` rows would be taken before the gate, where the
    /// earlier commit may be waiting for them).
    pub async fn commit_in_order(
        &self,
        pages: &[PageCommit<'_>],
        order: CommitOrder,
    ) -> Result<Ordered, StoreError> {
        let one_stream = pages.windows(2).all(|w| w[0].stream == w[1].stream);
        match pages.first().map(|p| p.stream.module) {
            Some(StreamModule::Support(module)) if one_stream => {
                self.commit_support_pages(pages, module, Some(order)).await
            }
            _ if order.after.is_some() => Ok(Ordered::Behind),
            _ => self.commit_pages(pages).await.map(Ordered::Stored),
        }
    }

    async fn commit_support_pages(
        &self,
        pages: &[PageCommit<'_>],
        module: Module,
        order: Option<CommitOrder>,
    ) -> Result<Ordered, StoreError> {
        let Some(last) = pages.last() else {
            return Ok(Ordered::Stored(PageStats::default()));
        };
        let parts: Vec<Part<'_>> = pages.iter().map(|p| Part::new(p, module)).collect();
        let letters: Vec<Letter<'_>> = parts.iter().flat_map(Part::letters).collect();
        let seen_as = crate::stream::Module::Support(module);
        let novel = self.known_fields.novel(seen_as, &observed(&parts));
        if !novel.is_empty() && order.is_some_and(|o| o.after.is_some()) {
            return Ok(Ordered::Behind);
        }
        let table = super::schema::mirror_table(module);
        let binds: Vec<&binds::Binds> = parts.iter().map(|p| &p.readied().binds).collect();
        // A row the commit sent before stores the same is left out: the two commits, which
        // may run side by side, then write no row in common.
        let shared = order
            .filter(|o| o.after.is_some())
            .and_then(|o| o.shared)
            .and_then(|id| i64::try_from(id.0).ok());
        let rows = binds::Merged::of(&binds, shared);
        // Each page's rows count as sent, an anchor row in each of its two pages, as
        // upserts page by page would count them.
        let sent: u64 = binds.iter().map(|b| b.len() as u64).sum();
        let counted = batch::Counted {
            pages: u64::try_from(parts.len()).unwrap_or(u64::MAX),
            records: parts.iter().map(|p| p.received).sum(),
        };
        let started = std::time::Instant::now();
        let mut tx = self.open_page().await?;
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, last.synced_at, last.run_id)
            .await
            .map_err(|e| unknown_run(e, last.run_id))?;
        let written = batch::write(&mut tx, table, last, (&rows, &letters), (counted, order))
            .await
            .map_err(|e| unknown_run(e, last.run_id))?;
        let batch::Statement::Written(written) = written else {
            tx.rollback().await?;
            return Ok(Ordered::Behind);
        };
        tx.commit().await?;
        slow::report_if_slow("page commit", module.url_name(), started);
        let keys = "portal, department, id, modified_time, _deleted_at, _swept_at";
        self.statistics.refresh_if_due(
            &self.pool,
            (table.name, keys),
            written.inserted + written.updated,
        );
        self.known_fields.learn(seen_as, &novel);
        if new_column {
            // The page is stored; a view that fails to refresh now is refreshed with the
            // next new field or at the next start, and must not fail the load.
            if let Err(error) = self.refresh_view(module).await {
                tracing::warn!(%module, %error, "the module's view could not be refreshed");
            }
        }
        let stats = PageStats {
            inserted: written.inserted,
            updated: written.updated,
            unchanged: sent.saturating_sub(written.inserted + written.updated),
            dead_letters: written.lettered,
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
        Ok(Ordered::Stored(stats))
    }
}

/// The stats of a commit that follows no other, which is never behind one.
fn unordered(stored: Ordered) -> Result<PageStats, StoreError> {
    match stored {
        Ordered::Stored(stats) => Ok(stats),
        Ordered::Behind => Err(StoreError::Refused(
            "a commit that follows no other was found behind one".into(),
        )),
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
