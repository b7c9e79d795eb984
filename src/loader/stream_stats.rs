//! `stream_stats`: one small row per stream (legacy: portal, department, module; Desk: the
//! organisation's id, `''`, the module's name) with the newest Modified Time mirrored and
//! the count of live rows (not marked deleted), so that the lag gauge, the status page and
//! `status` never count or scan a mirror table. The invariant: `live_rows` equals the
//! stream's rows whose `_deleted_at` is NULL, at every commit. Every statement that changes
//! which rows are live moves the count by exactly what it did, in the same statement, by
//! one of the two CTEs built here: `counted_by_upsert` (rows inserted or revived) and
//! `uncounted_by_retire` (live rows marked or removed). Both write the row only when the
//! figures move, and every writer holds the change log's append lock, so the row is
//! never a point of deadlock between streams. A stream's row exists once the stream has
//! had a live row (the upsert that brought it created it), so a retirement only updates.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::status::stream_key;
use super::{change_log, Loader, StoreError, StreamKey};
use crate::desk::module::DeskModule;

/// A stream's figures as `stream_stats` keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamStats {
    /// Rows of the mirror not marked deleted.
    pub live_rows: i64,
    /// The newest Modified Time mirrored (none while no row had one).
    pub newest_modified: Option<DateTime<Utc>>,
}

/// The upsert's CTE `stats`, after CTEs `retired` (ids of the page's rows marked deleted
/// before it) and `upserted` (`id`, `inserted`, `modified_time` of every row written):
/// adds the rows inserted and revived to the stream's count and moves its newest Modified
/// Time forward. Plain updates do not count; a page that changed nothing writes nothing
/// (its `upserted` is empty), and one whose changes move neither figure leaves the row as
/// it was. `retired` is read in the statement's snapshot, as the change log's `op` is: a
/// legacy upsert, which takes the append lock after its snapshot, would miss a revival
/// only if the row were marked deleted by a transaction committed in between (an `api`
/// delete of a record of the very page being committed). `portal`, `department` and
/// `module` are SQL expressions (bind parameters), `when` a condition the row is written
/// under at all (`true`: always).
pub(super) fn counted_by_upsert(
    (portal, department, module): (&str, &str, &str),
    when: &str,
) -> String {
    format!(
        "stats AS (\n\
         INSERT INTO stream_stats AS s (portal, department, module, newest_modified, live_rows)\n\
         SELECT {portal}, {department}, {module}, t.newest, t.came FROM (\n\
         SELECT max(up.modified_time) AS newest,\n\
         count(*) FILTER (WHERE up.inserted OR up.id IN (SELECT id FROM retired)) AS came\n\
         FROM upserted up) AS t\n\
         WHERE (t.newest IS NOT NULL OR t.came > 0) AND {when}\n\
         ON CONFLICT (portal, department, module) DO UPDATE SET\n\
         newest_modified = GREATEST(s.newest_modified, EXCLUDED.newest_modified),\n\
         live_rows = s.live_rows + EXCLUDED.live_rows\n\
         WHERE EXCLUDED.live_rows <> 0\n\
         OR EXCLUDED.newest_modified > coalesce(s.newest_modified, '-infinity'))"
    )
}

/// A retirement's CTE `uncounted`, after a CTE `gone` that marked or removed rows and
/// returns `live` (whether each row was live before): takes the live ones off the
/// stream's count; nothing when none was.
pub(super) fn uncounted_by_retire(portal: &str, department: &str, module: &str) -> String {
    format!(
        "uncounted AS (\n\
         UPDATE stream_stats AS s SET live_rows = s.live_rows - g.n\n\
         FROM (SELECT count(*) AS n FROM gone WHERE live) AS g\n\
         WHERE g.n > 0 AND s.portal = {portal} AND s.department = {department}\n\
         AND s.module = {module})"
    )
}

impl Loader {
    /// Counts a Desk module's live rows into `stream_stats`, once per Desk schema and
    /// module: a table created before the counts were kept is counted when this version
    /// first prepares it (a table it creates holds no row yet). The count is taken under
    /// the append lock, which every statement that changes a row's liveness holds, so no
    /// commit falls between the count and its writing.
    pub(super) async fn count_desk_table(&self, module: DeskModule) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let first = sqlx::query(
            "INSERT INTO desk_rows_counted (desk_schema, module) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(self.desk_schema.as_ref())
        .bind(module.name())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !first {
            return Ok(());
        }
        change_log::lock_for_append(&mut tx).await?;
        let sql = format!(
            "INSERT INTO stream_stats AS s \
             (portal, department, module, newest_modified, live_rows) \
             SELECT org_id::text, '', $1, max(modified_time), \
             count(*) FILTER (WHERE _deleted_at IS NULL) FROM {}.{} GROUP BY org_id \
             ON CONFLICT (portal, department, module) DO UPDATE SET \
             live_rows = EXCLUDED.live_rows, \
             newest_modified = GREATEST(s.newest_modified, EXCLUDED.newest_modified)",
            self.desk_schema_quoted()?,
            module.name()
        );
        let organisations = sqlx::query(&sql)
            .bind(module.name())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        tracing::info!(
            module = module.name(),
            organisations,
            "counted the live rows of a Desk table"
        );
        Ok(())
    }

    /// Each stream's kept figures, in one read of `stream_stats` (no mirror table is
    /// read).
    pub async fn stream_stats(&self) -> Result<Vec<(StreamKey, StreamStats)>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, live_rows, newest_modified FROM stream_stats \
             ORDER BY portal, department, module",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let stats = StreamStats {
                    live_rows: r.try_get("live_rows")?,
                    newest_modified: r.try_get("newest_modified")?,
                };
                Ok((stream_key(r)?, stats))
            })
            .collect()
    }

    /// The newest mirrored Modified Time of every stream with one (the daemon's lag
    /// gauge): one small row per stream, kept by the pages' upserts, never a scan of the
    /// mirror tables.
    pub async fn newest_modified(&self) -> Result<Vec<(StreamKey, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, newest_modified FROM stream_stats \
             WHERE newest_modified IS NOT NULL ORDER BY portal, department, module",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((stream_key(r)?, r.try_get("newest_modified")?)))
            .collect()
    }

    /// Counts the Desk tables that exist but were created before the counts were kept
    /// (by preparing each as its first use would): `status` and the page are exact from
    /// the first command after an upgrade. One catalogue read when there are none.
    pub(super) async fn count_uncounted_desk_tables(&self) -> Result<(), StoreError> {
        let names: Vec<&str> = DeskModule::ALL.iter().map(|m| m.name()).collect();
        let uncounted: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p') \
             AND NOT EXISTS (SELECT 1 FROM desk_rows_counted d \
             WHERE d.desk_schema = $1 AND d.module = c.relname::text)",
        )
        .bind(self.desk_schema.as_ref())
        .bind(&names)
        .fetch_all(&self.pool)
        .await?;
        for module in DeskModule::ALL {
            if uncounted.iter().any(|name| name == module.name()) {
                self.ensure_desk_table(module).await?;
            }
        }
        Ok(())
    }
}
