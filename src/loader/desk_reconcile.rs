//! A Zoho Desk reconciliation's share of a page commit (contract §4.5). A reconciliation
//! is the sweep of a Desk stream: a walk by creation time over every record, whose pages
//! are stored like any pass's and whose ids are stamped `_seen_at` with the walk's start
//! (the server's time at its first answer), in the page's transaction. Its last page then
//! retires the rows it could judge and did not see: live, created by the end of its range,
//! and not modified since it started (a record modified after the start is newer than
//! anything the walk could have missed). That finds what the recycle bin cannot show:
//! records purged from the bin before a walk of it read them, or deleted outright.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{stream_stats, PageCommit, StoreError};
use crate::store::DeleteMode;

/// Stamps the page's rows as seen by the reconciliation that started at `start`.
pub(super) async fn stamp_seen(
    conn: &mut PgConnection,
    table: &str,
    org_id: i64,
    ids: &[i64],
    start: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {table} SET _seen_at = $3 WHERE org_id = $1 AND id = ANY($2::bigint[]) \
         AND _seen_at IS DISTINCT FROM $3"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .bind(ids)
        .bind(start)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the reconciliation's last page judges: the rows created by `hi` that it did not
/// see, unless modified since `start`.
pub(super) struct Unseen {
    pub start: DateTime<Utc>,
    pub hi: DateTime<Utc>,
}

/// Marks (or removes) the unseen rows, logs a delete for each and takes them off the
/// stream's live count (`stream_stats`), in one statement; how many were live.
pub(super) async fn retire_unseen(
    conn: &mut PgConnection,
    table: &str,
    org_id: i64,
    unseen: &Unseen,
    page: &PageCommit<'_>,
    module: &str,
) -> Result<u64, StoreError> {
    let judged = "m.org_id = $1 AND (m._seen_at IS NULL OR m._seen_at < $2) \
                  AND m.created_time <= $3 AND (m.modified_time IS NULL OR m.modified_time < $2)";
    let gone = match page.deletes {
        DeleteMode::Mark => format!(
            "UPDATE {table} AS m SET _deleted_at = $2 WHERE {judged} AND m._deleted_at IS NULL \
             RETURNING m.id, true AS live"
        ),
        DeleteMode::Remove => format!(
            "DELETE FROM {table} AS m WHERE {judged} RETURNING m.id, m._deleted_at IS NULL AS live"
        ),
    };
    let sql = format!(
        "WITH gone AS ({gone}),\n{uncounted}\n\
         INSERT INTO change_log\n\
         (portal, department, module, record_id, op, modified_time, synced_at, run_id)\n\
         SELECT $4::text, '', $5::text, g.id, 'delete', $2, $6::timestamptz, $7::bigint\n\
         FROM gone g WHERE g.live ORDER BY g.id",
        uncounted = stream_stats::uncounted_by_retire("$4::text", "''", "$5::text"),
    );
    let done = sqlx::query(&sql)
        .bind(org_id)
        .bind(unseen.start)
        .bind(unseen.hi)
        .bind(&page.stream.portal)
        .bind(module)
        .bind(page.synced_at)
        .bind(page.run_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
