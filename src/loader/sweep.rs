//! Sweeps and deletions. The API lists no deletions, so a sweep reads every id of a
//! module and stamps each mirror row it sees with the sweep's start (`_swept_at`, one
//! bulk update per page, in the transaction of the page's checkpoint). A sweep judges
//! only the rows the mirror held when it started: its first page enlists them (a row
//! never swept gets `-infinity`; rows written later keep NULL until the next sweep). When
//! the sweep completes, in its last page's transaction, an enlisted row it did not stamp
//! is deleted at the source, unless the mirror saw it modified at or after the sweep's
//! start (the sweep may have passed its place before it was written): such rows are
//! spared until the next sweep. A deletion marks the row (`_deleted_at`) or removes it,
//! takes it off the stream's live count in the same statement, and appends a delete to
//! the change log in the same transaction, so the log, the count and the mirror agree.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::change_log::{lock_for_append, log_deletes};
use super::limits::{self, Work};
use super::schema::table_of;
use super::{checkpoint, leases, runs, stream_stats, Loader, PassKind, StoreError, StreamKey};
use crate::store::DeleteMode;
use crate::store::SweepCommit;
use crate::store::SweepStats;
use crate::zoho::record::RecordId;

/// Which rows a deletion applies to, besides the stream (bound as `$3`).
pub(super) enum Target<'a> {
    /// Rows the sweep that started at this moment did not see and that were not modified
    /// since it started.
    NotSweptSince(DateTime<Utc>),
    /// These ids.
    Ids(&'a [i64]),
}

impl Target<'_> {
    fn condition(&self) -> &'static str {
        match self {
            Target::NotSweptSince(_) => {
                "_swept_at < $3 AND (modified_time IS NULL OR modified_time < $3)"
            }
            Target::Ids(_) => "id = ANY($3)",
        }
    }
}

impl Loader {
    /// Stamps the page's rows as seen and moves the sweep's checkpoint, atomically; on
    /// the sweep's last page, also applies the deletions it found.
    pub async fn commit_sweep_page(
        &self,
        page: &SweepCommit<'_>,
    ) -> Result<SweepStats, StoreError> {
        let start = page.checkpoint.pass_started_at.ok_or_else(|| {
            StoreError::corrupt("sweep checkpoint", "a sweep page without the sweep's start")
        })?;
        let ids = bigint_ids(page.ids);
        let mut tx = limits::begin(&self.pool, Work::Sweep).await?;
        if let Some(lease) = page.lease {
            leases::renew(&mut tx, lease).await?;
        }
        if page.starts {
            enlist(&mut tx, page.stream).await?;
        }
        let seen = stamp(&mut tx, page.stream, start, &ids).await?;
        checkpoint::save(
            &mut tx,
            page.stream,
            PassKind::Sweep,
            page.checkpoint,
            Some(page.run_id),
        )
        .await?;
        let mut deleted = 0;
        if !page.checkpoint.in_progress {
            // The append lock first, as a page commit takes it before its upsert: the
            // other order could deadlock against a page of the same stream.
            lock_for_append(&mut tx).await?;
            let target = Target::NotSweptSince(start);
            let retired =
                retire(&mut tx, page.stream, page.deletes, &target, page.synced_at).await?;
            deleted = log(
                &mut tx,
                page.stream,
                &retired,
                Some(page.run_id),
                page.synced_at,
            )
            .await?;
            record_found(&mut tx, page.stream, deleted).await?;
        }
        runs::count_page(&mut tx, page.run_id, 0).await?;
        tx.commit().await?;
        Ok(SweepStats { seen, deleted })
    }

    /// Reflects deletions made through the API at once (`api deleterecords`): the rows are
    /// marked or removed and the deletes logged. Returns how many rows were live.
    pub async fn delete_records(
        &self,
        stream: &StreamKey,
        ids: &[RecordId],
        mode: DeleteMode,
        synced_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let ids = bigint_ids(ids);
        let mut tx = self.pool.begin().await?;
        lock_for_append(&mut tx).await?;
        let retired = retire(&mut tx, stream, mode, &Target::Ids(&ids), synced_at).await?;
        let logged = log(&mut tx, stream, &retired, None, synced_at).await?;
        tx.commit().await?;
        Ok(logged)
    }

    /// The ids of the stream's rows marked deleted, ascending.
    pub async fn deleted_ids(&self, stream: &StreamKey) -> Result<Vec<RecordId>, StoreError> {
        let sql = format!(
            "SELECT id FROM {} WHERE portal = $1 AND department = $2 \
             AND _deleted_at IS NOT NULL ORDER BY id",
            table_of(stream)?.name
        );
        let ids: Vec<i64> = sqlx::query_scalar(&sql)
            .bind(&stream.portal)
            .bind(&stream.department)
            .fetch_all(&self.pool)
            .await?;
        ids.into_iter()
            .map(|id| {
                u64::try_from(id)
                    .map(RecordId)
                    .map_err(|_| StoreError::corrupt("mirror id", id.to_string()))
            })
            .collect()
    }
}

/// Ids as the mirror's bigint keys; larger ids are never mirrored (they are dead letters).
fn bigint_ids(ids: &[RecordId]) -> Vec<i64> {
    ids.iter()
        .filter_map(|id| i64::try_from(id.0).ok())
        .collect()
}

/// Makes the rows no sweep has judged yet judged by the one starting.
async fn enlist(conn: &mut PgConnection, stream: &StreamKey) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE {} SET _swept_at = '-infinity' WHERE portal = $1 AND department = $2 \
         AND _swept_at IS NULL",
        table_of(stream)?.name
    );
    sqlx::query(&sql)
        .bind(&stream.portal)
        .bind(&stream.department)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stamps the rows with these ids as seen by the sweep that started at `start`.
async fn stamp(
    conn: &mut PgConnection,
    stream: &StreamKey,
    start: DateTime<Utc>,
    ids: &[i64],
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE {} SET _swept_at = $3 WHERE portal = $1 AND department = $2 \
         AND id = ANY($4) AND _swept_at IS DISTINCT FROM $3",
        table_of(stream)?.name
    );
    let done = sqlx::query(&sql)
        .bind(&stream.portal)
        .bind(&stream.department)
        .bind(start)
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Marks or removes the target rows, and takes the live ones off the stream's count in
/// `stream_stats` in the same statement; the ids of those that were live (a row already
/// marked deleted was logged, and uncounted, when it was marked).
pub(super) async fn retire(
    conn: &mut PgConnection,
    stream: &StreamKey,
    mode: DeleteMode,
    target: &Target<'_>,
    at: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let sql = retire_sql(table_of(stream)?.name, mode, target);
    let mut query = sqlx::query(&sql)
        .bind(&stream.portal)
        .bind(&stream.department);
    query = match target {
        Target::NotSweptSince(start) => query.bind(*start),
        Target::Ids(ids) => query.bind(*ids),
    };
    query = query.bind(stream.module.key());
    if mode == DeleteMode::Mark {
        query = query.bind(at);
    }
    let mut live = Vec::new();
    for row in query.fetch_all(&mut *conn).await? {
        if row.try_get::<bool, _>("live")? {
            live.push(row.try_get::<i64, _>("id")?);
        }
    }
    live.sort_unstable();
    Ok(live)
}

/// The retirement of `target`'s rows: `$1` portal, `$2` department, `$3` the target,
/// `$4` the module's key, `$5` (marking only) the time of the deletion.
fn retire_sql(table: &str, mode: DeleteMode, target: &Target<'_>) -> String {
    let condition = target.condition();
    let gone = match mode {
        DeleteMode::Mark => format!(
            "UPDATE {table} SET _deleted_at = $5 WHERE portal = $1 AND department = $2 \
             AND _deleted_at IS NULL AND {condition} RETURNING id, true AS live"
        ),
        DeleteMode::Remove => format!(
            "DELETE FROM {table} WHERE portal = $1 AND department = $2 AND {condition} \
             RETURNING id, _deleted_at IS NULL AS live"
        ),
    };
    format!(
        "WITH gone AS ({gone}),\n{}\nSELECT id, live FROM gone",
        stream_stats::uncounted_by_retire("$1::text", "$2::text", "$4::text")
    )
}

/// Appends a delete per id to the change log (the caller holds the append lock).
pub(super) async fn log(
    conn: &mut PgConnection,
    stream: &StreamKey,
    ids: &[i64],
    run_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    log_deletes(conn, stream, ids, run_id, at).await
}

/// Keeps what the sweep just completed found, on its checkpoint (the status page shows it).
async fn record_found(
    tx: &mut PgConnection,
    stream: &StreamKey,
    deleted: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE checkpoints SET found = $4 WHERE portal = $1 AND department = $2 \
         AND module = $3 AND kind = 'sweep'",
    )
    .bind(&stream.portal)
    .bind(&stream.department)
    .bind(stream.module.key())
    .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
    .execute(tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_of_retirement_take_only_the_live_rows_off_the_count() {
        for mode in [DeleteMode::Mark, DeleteMode::Remove] {
            let sql = retire_sql("requests", mode, &Target::Ids(&[]));
            assert!(sql.starts_with("WITH gone AS ("), "{sql}");
            assert!(sql.contains("count(*) AS n FROM gone WHERE live"), "{sql}");
            assert!(sql.contains("s.module = $4::text"), "{sql}");
        }
    }

    #[test]
    fn ids_too_large_for_the_mirror_are_left_out() {
        let ids = [RecordId(1), RecordId(u64::MAX), RecordId(7)];
        assert_eq!(bigint_ids(&ids), [1, 7]);
    }
}
