//! Starting a resync: a stream whose backfill is complete reads its whole history again,
//! as a backfill pass of its own checkpoint (so it resumes like one, across processes and
//! quota days), and a sweep is set to follow it (sweeps wait for a complete backfill), to
//! find the records gone at the source. The mirror is kept: rows read again unchanged
//! log nothing. Both checkpoints move in one transaction.

use super::{Loader, StoreError, StreamKey};

/// Where a stream's resync stands once asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    /// Its backfill checkpoint now starts a new pass from the first row.
    Started,
    /// A resync or a backfill of it is already in progress: it continues.
    Continuing,
    /// It was never backfilled: a backfill reads it, not a resync.
    NotBackfilled,
}

const START: &str = "\
UPDATE checkpoints SET in_progress = true, next_index = 1, last_id = NULL,
    id_order = DEFAULT, seek = NULL, pass_started_at = NULL, updated_at = now()
WHERE portal = $1 AND department = $2 AND module = $3 AND kind = 'backfill'
    AND NOT in_progress AND completed_at IS NOT NULL";

const SWEEP_AFTER: &str = "\
INSERT INTO checkpoints AS c (portal, department, module, kind, next_index, in_progress,
    passes, updated_at)
VALUES ($1, $2, $3, 'sweep', 1, true, 0, now())
ON CONFLICT (portal, department, module, kind) DO UPDATE SET in_progress = true,
    next_index = 1, last_id = NULL, id_order = DEFAULT, seek = NULL, pass_started_at = NULL,
    updated_at = now()";

impl Loader {
    /// Starts `stream`'s resync, unless one is in progress or it was never backfilled.
    pub async fn start_resync(&self, stream: &StreamKey) -> Result<Resync, StoreError> {
        let backfill = self
            .checkpoint(stream, crate::stream::PassKind::Backfill)
            .await?;
        if backfill.in_progress {
            return Ok(Resync::Continuing);
        }
        if backfill.completed_at.is_none() {
            return Ok(Resync::NotBackfilled);
        }
        let mut tx = self.pool.begin().await?;
        let started = sqlx::query(START)
            .bind(&stream.portal)
            .bind(&stream.department)
            .bind(stream.module.key())
            .execute(&mut *tx)
            .await?;
        if started.rows_affected() == 0 {
            // Another process started it (or a pass) between the read and the update.
            return Ok(Resync::Continuing);
        }
        sqlx::query(SWEEP_AFTER)
            .bind(&stream.portal)
            .bind(&stream.department)
            .bind(stream.module.key())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Resync::Started)
    }
}
