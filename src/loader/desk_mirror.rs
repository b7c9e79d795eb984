//! Committing a Zoho Desk page: one bulk upsert of the records into the module's table of
//! the Desk schema (created on first use, see `desk_schema`), in the same transaction as
//! the page's dead letters and checkpoint, as for legacy pages. A row is rewritten only
//! when its record differs from what is stored, so a row met again (a walk re-reads the
//! rows sharing a range's bound) changes nothing; the same statement appends every row it
//! inserts or rewrites to the change log, and keeps the stream's live row count and newest
//! modification time in `stream_stats`. The `cf` keys a page shows for the first time (or with a wider type)
//! are recorded in `fields_seen`, which gives them typed columns in the module's view. A row the recycle bin marked deleted is brought back only by a
//! version of its record modified after the deletion (`desk_deletions`). Rows are sent in ascending id order, so concurrent upserts lock rows
//! in the same order.

use std::borrow::Cow;

use std::collections::BTreeMap;

use serde_json::Value as Json;
use sqlx::{Executor, Row};

use super::control::{self, RunCount};
use super::dead_letters::Letter;
use super::desk_schema::{create_table, desk_table, FUNCTIONS};
use super::page::unknown_run;
use super::sql::quote_ident;
use super::values::clean_text;
use super::{
    change_log, desk_reconcile, fields_seen, runs, slow, stream_stats, Loader, PageCommit,
    PageStats, StoreError, StreamKey,
};
use crate::desk::module::{DeskModule, IncrementalRead};
use crate::desk::record::DeskRecord;
use crate::stream::PassKind;

/// Serialises the Desk schema's DDL across processes ("zs_desk_").
const DESK_DDL_LOCK: i64 = 0x7a73_5f64_6573_6b5f;

impl Loader {
    /// Stores one Desk page and moves its stream's checkpoint, atomically.
    pub(super) async fn commit_desk_page(
        &self,
        page: &PageCommit<'_>,
        module: DeskModule,
    ) -> Result<PageStats, StoreError> {
        let org_id: i64 = page.stream.portal.parse().map_err(|_| {
            StoreError::corrupt("Zoho Desk organisation id", page.stream.portal.clone())
        })?;
        self.ensure_desk_table(module).await?;
        // One row per id, the last occurrence wins, in ascending id order.
        let rows: BTreeMap<i64, &DeskRecord> =
            page.objects.iter().map(|r| (r.id.get(), r)).collect();
        let letters: Vec<Letter<'_>> = page
            .bad_rows
            .iter()
            .map(|b| Letter {
                raw: &b.raw,
                error: &b.error,
                record_id: b.id,
            })
            .collect();
        let started = std::time::Instant::now();
        let ids: Vec<i64> = rows.keys().copied().collect();
        let records: Vec<Json> = rows.values().map(|r| record_json(r)).collect();
        let schema = self.desk_schema_quoted()?;
        let sql = upsert_sql(&schema, module.name());
        // A full list (D15) sees every live record, as a reconciliation does.
        let reconciles =
            page.kind == PassKind::Sweep || module.incremental() == IncrementalRead::FullList;
        let retires = reconciles && !page.checkpoint.in_progress;
        let seen_as = crate::stream::Module::Desk(module);
        let novel = self
            .known_fields
            .novel(seen_as, &fields_seen::observe_cf(page.objects.iter()));
        let writes = !ids.is_empty() || retires;
        let received = rows.len() as u64;
        let mut tx = self.open_page().await?;
        let new_column = fields_seen::record(&mut tx, seen_as, &novel, page.synced_at, page.run_id)
            .await
            .map_err(|e| unknown_run(e, page.run_id))?;
        let run_count = if writes {
            RunCount::ByUpsert
        } else {
            RunCount::Here {
                pages: 1,
                records: received,
            }
        };
        let dead = control::write(&mut tx, page, &letters, run_count)
            .await
            .map_err(|e| unknown_run(e, page.run_id))?;
        let seen = if reconciles { ids.clone() } else { Vec::new() };
        let (mut inserted, mut updated) = (0, 0);
        if writes {
            // The append lock, then the rows, then the run's shared row, as a legacy page.
            change_log::lock_for_append(&mut tx).await?;
            let target = DeskTarget::of(page, module, org_id);
            (inserted, updated) = upsert_desk(&mut tx, &target, &sql, ids, records)
                .await
                .map_err(|e| unknown_run(e, page.run_id))?;
            if reconciles {
                let table = format!("{schema}.{}", module.name());
                reconcile(&mut tx, page, &table, org_id, &seen, module).await?;
            }
            runs::count_page(&mut tx, page.run_id, received).await?;
        }
        tx.commit().await?;
        slow::report_if_slow("page commit", module.name(), started);
        let table = format!("{schema}.{}", module.name());
        let keys = "org_id, id, modified_time, _deleted_at, _seen_at";
        self.statistics
            .refresh_if_due(&self.pool, (&table, keys), inserted + updated);
        self.known_fields.learn(seen_as, &novel);
        if new_column {
            // As for legacy pages: a view that fails to refresh must not fail the load; it
            // is refreshed with the next new field, or when this process next creates the
            // table's statement (`ensure_desk_table`).
            if let Err(error) = self.refresh_desk_view(module).await {
                tracing::warn!(module = module.name(), %error, "the module's view could not be refreshed");
            }
        }
        let sent = rows.len() as u64;
        Ok(PageStats {
            inserted,
            updated,
            unchanged: sent.saturating_sub(inserted + updated),
            dead_letters: dead,
        })
    }

    /// Creates the Desk schema, its functions and the module's table, once per process
    /// and module.
    pub(super) async fn ensure_desk_table(&self, module: DeskModule) -> Result<(), StoreError> {
        if self
            .desk_ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&module)
        {
            return Ok(());
        }
        let schema = self.desk_schema_quoted()?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(DESK_DDL_LOCK)
            .execute(&mut *tx)
            .await?;
        let ddl = format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}; {FUNCTIONS}; {}",
            create_table(&desk_table(module), &schema)
        );
        // Several statements: the simple query protocol of a plain string runs them all.
        (&mut *tx).execute(ddl.as_str()).await?;
        tx.commit().await?;
        self.count_desk_table(module).await?;
        // Once per process and module, like the legacy views at start (a refresh that
        // failed before is retried; one that has nothing to do issues no DDL).
        if let Err(error) = self.refresh_desk_view(module).await {
            tracing::warn!(module = module.name(), %error, "the module's view could not be refreshed");
        }
        self.desk_ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(module);
        Ok(())
    }

    /// A Desk stream's mirror: id → the record as stored, live rows only (for
    /// comparisons with the source).
    pub async fn desk_rows(&self, stream: &StreamKey) -> Result<BTreeMap<i64, Json>, StoreError> {
        let Some(module) = stream.module.desk() else {
            return Ok(BTreeMap::new());
        };
        let org_id: i64 = stream
            .portal
            .parse()
            .map_err(|_| StoreError::corrupt("Zoho Desk organisation id", stream.portal.clone()))?;
        self.ensure_desk_table(module).await?;
        let sql = format!(
            "SELECT id, record FROM {}.{} WHERE org_id = $1 AND _deleted_at IS NULL",
            self.desk_schema_quoted()?,
            module.name()
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("record")?)))
            .collect()
    }

    /// Rows of a Desk stream modified after `since` (the change rate `plan` uses).
    pub(super) async fn desk_modified_since(
        &self,
        stream: &StreamKey,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StoreError> {
        let Some(module) = stream.module.desk() else {
            return Ok(0);
        };
        let org_id: i64 = stream.portal.parse().unwrap_or(-1);
        self.ensure_desk_table(module).await?;
        let sql = format!(
            "SELECT count(*) FROM {}.{} WHERE org_id = $1 AND modified_time > $2",
            self.desk_schema_quoted()?,
            module.name()
        );
        let count = sqlx::query_scalar(&sql)
            .bind(org_id)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// The Desk schema's name, quoted for SQL.
    pub(super) fn desk_schema_quoted(&self) -> Result<String, StoreError> {
        quote_ident(&self.desk_schema)
            .map_err(|_| StoreError::SchemaName(self.desk_schema.to_string()))
    }
}

/// A reconciliation's page: its ids stamped seen; on its last page, the rows it did not
/// see retired.
async fn reconcile(
    conn: &mut sqlx::PgConnection,
    page: &PageCommit<'_>,
    table: &str,
    org_id: i64,
    ids: &[i64],
    module: DeskModule,
) -> Result<(), StoreError> {
    let checkpoint = page.checkpoint;
    let start = checkpoint
        .pass_started_at
        .ok_or_else(|| StoreError::corrupt("reconciliation start", page.stream.to_string()))?;
    desk_reconcile::stamp_seen(conn, table, org_id, ids, start).await?;
    if checkpoint.in_progress {
        return Ok(());
    }
    // A walk judges the records created within its range; a full list, those created
    // before it began (a later one may sit past the page that ended it).
    let hi = match (checkpoint.seek, module.incremental()) {
        (Some(seek), _) => seek.hi,
        (None, IncrementalRead::FullList) => start,
        (None, _) => {
            return Err(StoreError::corrupt(
                "reconciliation range",
                page.stream.to_string(),
            ))
        }
    };
    let unseen = desk_reconcile::Unseen { start, hi };
    let retired =
        desk_reconcile::retire_unseen(conn, table, org_id, &unseen, page, module.name()).await?;
    tracing::info!(module = module.name(), retired, "reconciliation complete");
    Ok(())
}

/// Where a Desk upsert writes and in whose name: the organisation (its id, and as text
/// the change log's `portal`), the module, when, and the run.
pub(super) struct DeskTarget<'a> {
    pub org_id: i64,
    pub portal: &'a str,
    pub module: DeskModule,
    pub synced_at: chrono::DateTime<chrono::Utc>,
    pub run_id: i64,
}

impl<'a> DeskTarget<'a> {
    fn of(page: &'a PageCommit<'a>, module: DeskModule, org_id: i64) -> DeskTarget<'a> {
        DeskTarget {
            org_id,
            portal: &page.stream.portal,
            module,
            synced_at: page.synced_at,
            run_id: page.run_id,
        }
    }
}

/// Upserts `records` (one per id, ascending) with `sql` (`upsert_sql` of the target's
/// table); the caller holds the change log's append lock. Returns (inserted, updated).
pub(super) async fn upsert_desk(
    conn: &mut sqlx::PgConnection,
    target: &DeskTarget<'_>,
    sql: &str,
    ids: Vec<i64>,
    records: Vec<Json>,
) -> Result<(u64, u64), StoreError> {
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let row = sqlx::query(sql)
        .bind(target.org_id)
        .bind(target.synced_at)
        .bind(ids)
        .bind(records)
        .bind(clean_text(target.portal))
        .bind(target.module.name())
        .bind(target.run_id)
        .fetch_one(conn)
        .await?;
    let count = |name: &str| -> Result<u64, StoreError> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok((count("inserted")?, count("updated")?))
}

/// The record as stored: the object as received, with NULs removed from its strings and
/// keys (jsonb refuses them).
pub(super) fn record_json(record: &DeskRecord) -> Json {
    clean(Json::Object(record.object.clone()))
}

fn clean(value: Json) -> Json {
    match value {
        Json::String(s) => Json::String(cleaned(s)),
        Json::Array(items) => Json::Array(items.into_iter().map(clean).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (cleaned(k), clean(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The text itself when it holds no NUL, as it almost always does.
fn cleaned(text: String) -> String {
    match clean_text(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(replaced) => replaced,
    }
}

/// The upsert: a row marked deleted comes back only with a version modified at or after
/// its deletion (a restore is a write); a search that still shows the record as it was
/// before (the index lags) leaves it deleted. A version modified in the very second of the
/// deletion is taken for a restore: if it was not one, the recycle bin, which the next
/// walk reads again an hour back, marks it deleted again. `$1` org id, `$2` synced_at, `$3` ids, `$4` records, `$5` the org id as
/// text (the change log's `portal`), `$6` the module's name, `$7` the run. Returns
/// (inserted, updated). The rows inserted or revived are added to the stream's live count
/// (`stream_stats`), in the same statement.
pub(super) fn upsert_sql(schema: &str, table: &str) -> String {
    format!(
        "WITH retired AS (\n\
         SELECT id FROM {schema}.{table} WHERE org_id = $1\n\
         AND id = ANY($3::bigint[]) AND _deleted_at IS NOT NULL),\n\
         upserted AS (\n\
         INSERT INTO {schema}.{table} AS m (org_id, id, record, _synced_at)\n\
         SELECT $1::bigint, u.id, u.record, $2::timestamptz\n\
         FROM UNNEST($3::bigint[], $4::jsonb[]) AS u(id, record)\n\
         ON CONFLICT (org_id, id) DO UPDATE SET\n\
         record = EXCLUDED.record, _synced_at = EXCLUDED._synced_at, _deleted_at = NULL\n\
         WHERE (m._deleted_at IS NULL AND m.record IS DISTINCT FROM EXCLUDED.record)\n\
         OR {schema}.zoho_desk_time(EXCLUDED.record ->> 'modifiedTime') >= m._deleted_at\n\
         RETURNING m.id, (xmax = 0) AS inserted, m.modified_time),\n\
         logged AS (\n\
         INSERT INTO change_log\n\
         (portal, department, module, record_id, op, modified_time, synced_at, run_id)\n\
         SELECT $5::text, '', $6::text, up.id,\n\
         CASE WHEN up.inserted OR up.id IN (SELECT id FROM retired) THEN 'insert'\n\
         ELSE 'update' END, up.modified_time, $2::timestamptz, $7::bigint\n\
         FROM upserted up ORDER BY up.id),\n\
         {stats}\n\
         SELECT count(*) FILTER (WHERE inserted) AS inserted,\n\
         count(*) FILTER (WHERE NOT inserted) AS updated FROM upserted",
        stats = stream_stats::counted_by_upsert(("$5::text", "''", "$6::text"), "true"),
    )
}
