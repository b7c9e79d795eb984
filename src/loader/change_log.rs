//! The change log: one row per insert, update or delete the loader applies to a mirror
//! table, appended in the same transaction as the change. Appends first take a
//! transaction-scoped advisory lock, so transactions that append commit one after the
//! other and sequence numbers become visible in increasing order: a consumer that reads
//! `seq > last seen` never skips a change committed later with a smaller number.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{StoreError, StreamKey};

/// The advisory lock key that orders change-log appends ("zohosync" in ASCII).
pub(super) const APPEND_LOCK: i64 = 0x7a6f_686f_7379_6e63;

/// Takes the append lock for the rest of the transaction.
pub(super) async fn lock_for_append(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends a delete for each id (the caller has marked or removed the rows in the same
/// transaction, and holds the append lock).
pub(super) async fn log_deletes(
    conn: &mut PgConnection,
    stream: &StreamKey,
    ids: &[i64],
    run_id: Option<i64>,
    synced_at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let logged = sqlx::query(
        "INSERT INTO change_log (portal, department, module, record_id, op, synced_at, run_id) \
         SELECT $1, $2, $3, id, 'delete', $4, $5 FROM unnest($6::bigint[]) AS id",
    )
    .bind(&stream.portal)
    .bind(&stream.department)
    .bind(stream.module.key())
    .bind(synced_at)
    .bind(run_id)
    .bind(ids)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(logged)
}
