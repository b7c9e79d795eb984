//! Checkpoints: one row per (stream, pass kind) saying where its pass stands. The row is
//! written in the transaction of the page it describes (`save`), so a stored checkpoint
//! never points past rows that are not stored. `last_id` is `numeric(20,0)`: a record id
//! is any unsigned 64-bit number and must never fail the save that records it.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};

use super::{Checkpoint, Loader, PassKind, StoreError, StreamKey};
use crate::stream::cursor::{Cursor, Order};
use crate::stream::seek::Seek;
use crate::zoho::record::RecordId;

/// The columns `from_row` reads, for every query that loads checkpoints.
pub(super) const COLUMNS: &str = "next_index, last_id::text AS last_id, id_order, seek, \
     in_progress, watermark, pass_started_at, completed_at, passes";

pub(super) const UPSERT: &str = "\
INSERT INTO checkpoints (portal, department, module, kind, next_index, last_id, in_progress,
    watermark, pass_started_at, completed_at, passes, last_run_id, id_order, seek, updated_at,
    commit_token)
VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11, $12, $13, $14, now(), NULL)
ON CONFLICT (portal, department, module, kind) DO UPDATE SET
    next_index = EXCLUDED.next_index,
    last_id = EXCLUDED.last_id,
    id_order = EXCLUDED.id_order,
    seek = EXCLUDED.seek,
    in_progress = EXCLUDED.in_progress,
    watermark = EXCLUDED.watermark,
    pass_started_at = EXCLUDED.pass_started_at,
    completed_at = EXCLUDED.completed_at,
    passes = EXCLUDED.passes,
    last_run_id = COALESCE(EXCLUDED.last_run_id, checkpoints.last_run_id),
    updated_at = now(),
    commit_token = EXCLUDED.commit_token";

/// `UPSERT` marking the row with `token` (a SQL expression: the commit's token), for a
/// statement that holds it.
pub(super) fn upsert_marked(token: &str) -> String {
    UPSERT.replace(", now(), NULL)", &format!(", now(), {token})"))
}

impl Loader {
    /// The saved checkpoint, or the default (no pass ever run) when there is none.
    pub async fn checkpoint(
        &self,
        stream: &StreamKey,
        kind: PassKind,
    ) -> Result<Checkpoint, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM checkpoints \
             WHERE portal = $1 AND department = $2 AND module = $3 AND kind = $4"
        );
        let row = sqlx::query(&sql)
            .bind(&stream.portal)
            .bind(&stream.department)
            .bind(stream.module.key())
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map_or_else(|| Ok(Checkpoint::default()), |row| from_row(&row))
    }

    /// Saves a checkpoint outside any page (e.g. a pass that completed on an empty page
    /// already committed, or a reset).
    pub async fn save_checkpoint(
        &self,
        stream: &StreamKey,
        kind: PassKind,
        cp: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        save(&mut conn, stream, kind, cp, None).await
    }
}

/// Upserts the checkpoint on `conn` (a page's transaction); `run_id` names the run that
/// last moved it, kept when `None`.
pub(super) async fn save(
    conn: &mut PgConnection,
    stream: &StreamKey,
    kind: PassKind,
    cp: &Checkpoint,
    run_id: Option<i64>,
) -> Result<(), StoreError> {
    bind(sqlx::query(UPSERT), (stream, kind, cp, run_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Binds `UPSERT`'s parameters, `$1` to `$14`, to `query` (`UPSERT` alone, or a statement
/// that holds it).
pub(super) fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    (stream, kind, cp, run_id): (&'q StreamKey, PassKind, &'q Checkpoint, Option<i64>),
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(super::values::clean_text(&stream.portal))
        .bind(super::values::clean_text(&stream.department))
        .bind(stream.module.key())
        .bind(kind.as_str())
        .bind(i64::from(cp.cursor.next))
        .bind(cp.cursor.last_id.map(|id| id.0.to_string()))
        .bind(cp.in_progress)
        .bind(cp.watermark)
        .bind(cp.pass_started_at)
        .bind(cp.completed_at)
        .bind(cp.passes)
        .bind(run_id)
        .bind(order_text(cp.cursor.order))
        .bind(cp.seek.map(sqlx::types::Json))
}

/// A checkpoint from a row selected with `COLUMNS`.
pub(super) fn from_row(row: &PgRow) -> Result<Checkpoint, StoreError> {
    let next: i64 = row.try_get("next_index")?;
    let next = u32::try_from(next)
        .map_err(|_| StoreError::corrupt("checkpoint next_index", next.to_string()))?;
    let last_id = match row.try_get::<Option<String>, _>("last_id")? {
        None => None,
        Some(text) => Some(
            RecordId::parse(&text)
                .ok_or_else(|| StoreError::corrupt("checkpoint last_id", text))?,
        ),
    };
    let order: String = row.try_get("id_order")?;
    let order = match order.as_str() {
        "ascending" => Order::Ascending,
        "unordered" => Order::Unordered,
        _ => return Err(StoreError::corrupt("checkpoint id_order", order)),
    };
    let seek: Option<sqlx::types::Json<Seek>> = row.try_get("seek")?;
    Ok(Checkpoint {
        seek: seek.map(|s| s.0),
        cursor: Cursor {
            next,
            last_id,
            order,
        },
        in_progress: row.try_get("in_progress")?,
        watermark: row.try_get("watermark")?,
        pass_started_at: row.try_get("pass_started_at")?,
        completed_at: row.try_get("completed_at")?,
        passes: row.try_get("passes")?,
    })
}

fn order_text(order: Order) -> &'static str {
    match order {
        Order::Ascending => "ascending",
        Order::Unordered => "unordered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marked_upsert_writes_the_token_where_the_plain_one_writes_null() {
        let marked = upsert_marked("$25");
        assert_ne!(marked, UPSERT);
        assert!(marked.contains("now(), $25)"), "{marked}");
        assert_eq!(marked.replace("now(), $25)", "now(), NULL)"), UPSERT);
    }
}
