//! Applying a page of a Zoho Desk organisation's deletions (its recycle bin): per module,
//! one statement marks the live rows of the deleted records `_deleted_at` (or removes
//! them), takes them off the stream's live count and appends a delete to the change log
//! for each, in the transaction that also
//! stores the page's unreadable rows and, on the walk's last page, moves the
//! organisation's cursor. A row whose record was modified after the deletion is left
//! alone: the record was restored (a restore is a write), and the mirror already holds
//! it. A row already marked is not marked or logged again, so a page applied twice
//! changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::dead_letters::{self, Letter, RECYCLE_BIN};
use super::limits::{self, Work};
use super::page::unknown_run;
use super::values::clean_text;
use super::{change_log, slow, stream_stats, Loader, StoreError};
use crate::desk::module::DeskModule;
use crate::store::{DeleteMode, DeletionStats, DeletionsCommit};

/// Where an organisation's walk of its deletions stands, for `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletionsStatus {
    pub portal: String,
    /// Deletions up to here are applied.
    pub deleted_through: DateTime<Utc>,
    /// When the last walk completed (our clock).
    pub walked_at: DateTime<Utc>,
    /// Rows of the bin that could not be read.
    pub dead_letters: i64,
}

impl Loader {
    /// Every organisation's walk, by organisation.
    pub async fn deletions_status(&self) -> Result<Vec<DeletionsStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.portal, c.deleted_through, c.walked_at, \
             (SELECT count(*) FROM dead_letters d WHERE d.portal = c.portal \
              AND d.department = '' AND d.module = $1) AS dead_letters \
             FROM deletion_cursors c ORDER BY c.portal",
        )
        .bind(RECYCLE_BIN)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeletionsStatus {
                    portal: r.try_get("portal")?,
                    deleted_through: r.try_get("deleted_through")?,
                    walked_at: r.try_get("walked_at")?,
                    dead_letters: r.try_get("dead_letters")?,
                })
            })
            .collect()
    }

    /// The organisation's cursor; `None` before its first walk.
    pub async fn deletions_cursor(
        &self,
        portal: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at =
            sqlx::query_scalar("SELECT deleted_through FROM deletion_cursors WHERE portal = $1")
                .bind(portal)
                .fetch_optional(&self.pool)
                .await?;
        Ok(at)
    }

    /// Applies one page of deletions, atomically with its dead letters and the cursor.
    pub async fn commit_deletions(
        &self,
        page: &DeletionsCommit<'_>,
    ) -> Result<DeletionStats, StoreError> {
        let org_id: i64 = page
            .portal
            .parse()
            .map_err(|_| StoreError::corrupt("Zoho Desk organisation id", page.portal))?;
        let by_module = by_module(page);
        for module in by_module.keys() {
            self.ensure_desk_table(*module).await?;
        }
        let schema = self.desk_schema_quoted()?;
        let started = std::time::Instant::now();
        let mut tx = slow::timed(
            "connection wait",
            "BEGIN",
            limits::begin(&self.pool, Work::Page),
        )
        .await?;
        change_log::lock_for_append(&mut tx).await?;
        let mut stats = DeletionStats::default();
        for (module, deleted) in by_module {
            let sql = retire_sql(&schema, module.name(), page.deletes);
            let (ids, times): (Vec<i64>, Vec<DateTime<Utc>>) = deleted.into_iter().unzip();
            let done = sqlx::query(&sql)
                .bind(org_id)
                .bind(ids)
                .bind(times)
                .bind(clean_text(page.portal))
                .bind(module.name())
                .bind(page.synced_at)
                .bind(page.run_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| unknown_run(e.into(), page.run_id))?;
            stats.deleted += done.rows_affected();
        }
        let letters: Vec<Letter<'_>> = page
            .bad_rows
            .iter()
            .map(|b| Letter {
                raw: &b.raw,
                error: &b.error,
                record_id: b.id,
            })
            .collect();
        let home = (page.portal, "");
        stats.dead_letters =
            dead_letters::store_in(&mut tx, home, RECYCLE_BIN, page.run_id, &letters)
                .await
                .map_err(|e| unknown_run(e, page.run_id))?;
        if let Some(through) = page.deleted_through {
            sqlx::query(
                "INSERT INTO deletion_cursors AS c (portal, deleted_through, walked_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (portal) DO UPDATE SET \
                 deleted_through = GREATEST(c.deleted_through, EXCLUDED.deleted_through), \
                 walked_at = EXCLUDED.walked_at",
            )
            .bind(page.portal)
            .bind(through)
            .bind(page.synced_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        slow::report_if_slow("deletions commit", RECYCLE_BIN, started);
        Ok(stats)
    }
}

impl Loader {
    /// Marks (or removes) the live mirror rows of records the API just moved to the
    /// recycle bin at `at`, logging a delete for each (no run: a command did it), by the
    /// statement the walk of the bin uses; so the walk later finds them done. Nothing
    /// when the module's table does not exist yet: none of its rows is mirrored.
    pub async fn retire_desk_records(
        &self,
        org_id: &str,
        module: DeskModule,
        ids: &[i64],
        at: DateTime<Utc>,
        mode: DeleteMode,
    ) -> Result<u64, StoreError> {
        let org: i64 = org_id
            .parse()
            .map_err(|_| StoreError::corrupt("Zoho Desk organisation id", org_id))?;
        let schema = self.desk_schema_quoted()?;
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(format!("{schema}.{}", module.name()))
            .fetch_one(&self.pool)
            .await?;
        if exists.is_none() {
            return Ok(0);
        }
        let sql = retire_sql(&schema, module.name(), mode);
        let mut tx = self.pool.begin().await?;
        change_log::lock_for_append(&mut tx).await?;
        let done = sqlx::query(&sql)
            .bind(org)
            .bind(ids)
            .bind(vec![at; ids.len()])
            .bind(clean_text(org_id))
            .bind(module.name())
            .bind(at)
            .bind(None::<i64>)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

/// The page's deletions of Desk modules, per module: id → when it was deleted (the
/// latest, if the page names a record twice).
fn by_module(page: &DeletionsCommit<'_>) -> BTreeMap<DeskModule, BTreeMap<i64, DateTime<Utc>>> {
    let mut by_module: BTreeMap<DeskModule, BTreeMap<i64, DateTime<Utc>>> = BTreeMap::new();
    for tombstone in page.tombstones {
        let Some(module) = tombstone.module.and_then(|m| m.desk()) else {
            continue;
        };
        let at = by_module
            .entry(module)
            .or_default()
            .entry(tombstone.id)
            .or_insert(tombstone.deleted_at);
        *at = (*at).max(tombstone.deleted_at);
    }
    by_module
}

/// Marks (or removes) the live rows deleted, unless modified after their deletion, logs a
/// delete for each and takes them off the stream's live count (`stream_stats`). `$1` org id, `$2` ids, `$3` deletion times, `$4` the org id as
/// text (the change log's `portal`), `$5` the module, `$6` synced_at, `$7` the run.
fn retire_sql(schema: &str, table: &str, mode: DeleteMode) -> String {
    let gone = match mode {
        DeleteMode::Mark => format!(
            "UPDATE {schema}.{table} AS m SET _deleted_at = d.at\n\
             FROM UNNEST($2::bigint[], $3::timestamptz[]) AS d(id, at)\n\
             WHERE m.org_id = $1 AND m.id = d.id AND m._deleted_at IS NULL\n\
             AND (m.modified_time IS NULL OR m.modified_time <= d.at)\n\
             RETURNING m.id, d.at, true AS live"
        ),
        DeleteMode::Remove => format!(
            "DELETE FROM {schema}.{table} AS m\n\
             USING UNNEST($2::bigint[], $3::timestamptz[]) AS d(id, at)\n\
             WHERE m.org_id = $1 AND m.id = d.id\n\
             AND (m.modified_time IS NULL OR m.modified_time <= d.at)\n\
             RETURNING m.id, d.at, m._deleted_at IS NULL AS live"
        ),
    };
    format!(
        "WITH gone AS ({gone}),\n{uncounted}\n\
         INSERT INTO change_log\n\
         (portal, department, module, record_id, op, modified_time, synced_at, run_id)\n\
         SELECT $4::text, '', $5::text, g.id, 'delete', g.at, $6::timestamptz, $7::bigint\n\
         FROM gone g WHERE g.live ORDER BY g.id",
        uncounted = stream_stats::uncounted_by_retire("$4::text", "''", "$5::text"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_spares_rows_modified_after_it_and_rows_already_marked() {
        let sql = retire_sql("\"zoho_desk\"", "tickets", DeleteMode::Mark);
        assert!(sql.contains("m._deleted_at IS NULL"), "{sql}");
        assert!(sql.contains("m.modified_time <= d.at"), "{sql}");
        let sql = retire_sql("\"zoho_desk\"", "tickets", DeleteMode::Remove);
        assert!(sql.contains("DELETE FROM \"zoho_desk\".tickets"), "{sql}");
        assert!(sql.contains("WHERE g.live"), "{sql}");
        assert!(sql.contains("count(*) AS n FROM gone WHERE live"), "{sql}");
    }
}
