//! Settling a dead letter whose record was read again by id (`dead-letters --retry`): in
//! one transaction, under the stream's lease (renewed, and the whole refused if it was
//! lost), the record's letters are cleared and its row written through the very upsert
//! a page uses (`mirror`, `desk_mirror`), so the change log and `stream_stats` move as
//! for any page; or, when the source no longer has the record, its letters are cleared
//! and (legacy) its mirror row retired as a sweep would, a Desk row being left to the
//! walk of the recycle bin; or, still bad, its letters are kept with the latest reason. No checkpoint moves: a retry
//! is not a pass, and the next pass reads what it would have read anyway. Each settle
//! counts one page in the retry's run.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::desk_mirror::{self, DeskTarget};
use super::page::unknown_run;
use super::sweep::{self, Target};
use super::{
    binds, change_log, dead_letters, fields_seen, leases, mirror, runs, Loader, StoreError,
    StreamKey,
};
use crate::desk::module::DeskModule;
use crate::desk::record::DeskRecord;
use crate::store::{DeleteMode, Lease};
use crate::stream::Module as StreamModule;
use crate::zoho::module::Module;
use crate::zoho::record::{Record, RecordId};

/// What reading a letter's record again found.
#[derive(Clone, Debug, PartialEq)]
pub enum Reread {
    /// The record decodes now.
    Loaded(Fresh),
    /// It is still refused, for this reason.
    StillBad(String),
    /// The source no longer has it (no data for its id; Desk: not visible).
    Gone,
}

/// A record that decodes: a legacy record or a Desk object.
#[derive(Clone, Debug, PartialEq)]
pub enum Fresh {
    Record(Record),
    Object(DeskRecord),
}

/// One re-read record to settle, and the stream, lease and run it is settled under.
#[derive(Clone, Copy, Debug)]
pub struct Settle<'a> {
    pub stream: &'a StreamKey,
    pub record_id: RecordId,
    pub reread: &'a Reread,
    pub run_id: i64,
    pub lease: &'a Lease,
    /// The portal's data time zone (legacy date-times are written in it).
    pub zone: Tz,
    /// The server's time of the answer.
    pub synced_at: DateTime<Utc>,
    /// What becomes of the mirror row of a record gone at the source.
    pub deletes: DeleteMode,
}

/// What settling did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Letters deleted (the record loaded or gone).
    pub cleared: u64,
    /// Letters whose reason changed (still bad).
    pub reworded: u64,
    /// Mirror rows written: inserted or updated (loaded), or retired (gone).
    pub written: u64,
}

impl Loader {
    /// Settles one re-read record, atomically.
    pub async fn settle_letters(&self, settle: &Settle<'_>) -> Result<Settled, StoreError> {
        match (settle.reread, settle.stream.module) {
            (Reread::Loaded(Fresh::Record(record)), StreamModule::Support(module)) => {
                self.load_record(settle, module, record).await
            }
            (Reread::Loaded(Fresh::Object(object)), StreamModule::Desk(module)) => {
                self.load_object(settle, module, object).await
            }
            (Reread::Loaded(_), _) => Err(StoreError::corrupt(
                "re-read record",
                format!("a record of the other API for {}", settle.stream),
            )),
            (Reread::StillBad(error), _) => self.reword(settle, error).await,
            (Reread::Gone, _) => self.retire_gone(settle).await,
        }
    }

    async fn load_record(
        &self,
        settle: &Settle<'_>,
        module: Module,
        record: &Record,
    ) -> Result<Settled, StoreError> {
        let prepared = mirror::prepare(std::iter::once(record));
        if prepared.is_empty() {
            // Only a record with an id that fits the mirror is judged loaded.
            return Err(StoreError::corrupt("re-read record", "no usable id"));
        }
        let binds = binds::binds(super::schema::mirror_table(module), &prepared, settle.zone);
        let seen_as = settle.stream.module;
        let novel = self
            .known_fields
            .novel(seen_as, &fields_seen::observe(prepared.records()));
        let run_id = settle.run_id;
        let mut tx = self.open_page().await?;
        // The order of a page's commit: labels, the stream's own rows, then the upsert
        // (the append lock, the rows, the run's shared row).
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, settle.synced_at, run_id)
            .await
            .map_err(|e| unknown_run(e, run_id))?;
        leases::renew(&mut tx, settle.lease).await?;
        let cleared = dead_letters::clear(&mut tx, settle.stream, settle.record_id).await?;
        let done = mirror::upsert(
            &mut tx,
            settle.stream,
            &binds,
            settle.synced_at,
            (run_id, 1),
        )
        .await
        .map_err(|e| unknown_run(e, run_id))?;
        tx.commit().await?;
        self.known_fields.learn(seen_as, &novel);
        if new_column {
            // As after a page: the row is stored; a view refreshed later is no failure.
            if let Err(error) = self.refresh_view(module).await {
                tracing::warn!(%module, %error, "the module's view could not be refreshed");
            }
        }
        Ok(Settled {
            cleared,
            reworded: 0,
            written: done.inserted + done.updated,
        })
    }

    async fn load_object(
        &self,
        settle: &Settle<'_>,
        module: DeskModule,
        object: &DeskRecord,
    ) -> Result<Settled, StoreError> {
        let org_id = desk_org(settle.stream)?;
        self.ensure_desk_table(module).await?;
        let seen_as = settle.stream.module;
        let novel = self
            .known_fields
            .novel(seen_as, &fields_seen::observe_cf(std::iter::once(object)));
        let sql = desk_mirror::upsert_sql(&self.desk_schema_quoted()?, module.name());
        let target = DeskTarget {
            org_id,
            portal: &settle.stream.portal,
            module,
            synced_at: settle.synced_at,
            run_id: settle.run_id,
        };
        let record = vec![desk_mirror::record_json(object)];
        let mut tx = self.open_page().await?;
        let new_column =
            fields_seen::record(&mut tx, seen_as, &novel, settle.synced_at, settle.run_id)
                .await
                .map_err(|e| unknown_run(e, settle.run_id))?;
        leases::renew(&mut tx, settle.lease).await?;
        let cleared = dead_letters::clear(&mut tx, settle.stream, settle.record_id).await?;
        change_log::lock_for_append(&mut tx).await?;
        let (inserted, updated) =
            desk_mirror::upsert_desk(&mut tx, &target, &sql, vec![object.id.get()], record)
                .await
                .map_err(|e| unknown_run(e, settle.run_id))?;
        runs::count_page(&mut tx, settle.run_id, 1).await?;
        tx.commit().await?;
        self.known_fields.learn(seen_as, &novel);
        if new_column {
            if let Err(error) = self.refresh_desk_view(module).await {
                tracing::warn!(module = module.name(), %error, "the module's view could not be refreshed");
            }
        }
        Ok(Settled {
            cleared,
            reworded: 0,
            written: inserted + updated,
        })
    }

    async fn reword(&self, settle: &Settle<'_>, error: &str) -> Result<Settled, StoreError> {
        let mut tx = self.open_page().await?;
        leases::renew(&mut tx, settle.lease).await?;
        let reworded =
            dead_letters::reword(&mut tx, settle.stream, settle.record_id, error).await?;
        runs::count_page(&mut tx, settle.run_id, 1).await?;
        tx.commit().await?;
        Ok(Settled {
            reworded,
            ..Settled::default()
        })
    }

    async fn retire_gone(&self, settle: &Settle<'_>) -> Result<Settled, StoreError> {
        let mut tx = self.open_page().await?;
        leases::renew(&mut tx, settle.lease).await?;
        let cleared = dead_letters::clear(&mut tx, settle.stream, settle.record_id).await?;
        let written = match settle.stream.module {
            StreamModule::Support(_) => {
                change_log::lock_for_append(&mut tx).await?;
                retire_support(&mut tx, settle).await?
            }
            // A Desk GET that finds nothing does not say the record was deleted (D18:
            // never visible, trashed or purged alike): the walk of the recycle bin marks
            // its row, with the deletion's time. The letter, of a record we can no longer
            // read, goes.
            StreamModule::Desk(_) => 0,
        };
        runs::count_page(&mut tx, settle.run_id, 0).await?;
        tx.commit().await?;
        Ok(Settled {
            cleared,
            reworded: 0,
            written,
        })
    }
}

/// Marks (or removes) a legacy mirror row as a sweep does, logging its delete.
async fn retire_support(
    conn: &mut sqlx::PgConnection,
    settle: &Settle<'_>,
) -> Result<u64, StoreError> {
    let Ok(id) = i64::try_from(settle.record_id.0) else {
        // Larger ids are never mirrored: nothing to retire.
        return Ok(0);
    };
    let ids = [id];
    let (stream, at) = (settle.stream, settle.synced_at);
    let live = sweep::retire(conn, stream, settle.deletes, &Target::Ids(&ids), at).await?;
    sweep::log(conn, stream, &live, Some(settle.run_id), at).await
}

/// A Desk stream's organisation id (its `portal`).
fn desk_org(stream: &StreamKey) -> Result<i64, StoreError> {
    stream
        .portal
        .parse()
        .map_err(|_| StoreError::corrupt("Zoho Desk organisation id", stream.portal.clone()))
}
