//! Reading the change log for consumers outside PostgreSQL: batches of changes after a
//! sequence number, each with the record's current fields from its mirror table. Appends
//! commit in sequence order (see `change_log`), so the committed rows always form a
//! prefix of the sequence: reading up to the highest number visible at the start, in
//! keyset batches, never skips a change and always ends.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::Row;

use super::schema::mirror_tables;
use super::sql::quote_literal;
use super::{Loader, StoreError, StreamKey};
use crate::desk::DeskModule;
use crate::stream::Module as StreamModule;
use crate::zoho::record::RecordId;

/// What a change did to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOp {
    Insert,
    Update,
    Delete,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Insert => "insert",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<ChangeOp> {
        match text {
            "insert" => Some(ChangeOp::Insert),
            "update" => Some(ChangeOp::Update),
            "delete" => Some(ChangeOp::Delete),
            _ => None,
        }
    }
}

/// One entry of the change log.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub stream: StreamKey,
    pub record_id: RecordId,
    pub op: ChangeOp,
    /// The record's Modified Time when the change was applied.
    pub modified_time: Option<DateTime<Utc>>,
    /// When the sync applied it.
    pub synced_at: DateTime<Utc>,
    pub run_id: Option<i64>,
    /// The record's fields as the mirror holds them now (jsonb); `None` for a delete and
    /// for a record no longer in the mirror (a later delete removed it).
    pub fields: Option<Json>,
}

impl Loader {
    /// The highest sequence number committed (0 when the log is empty).
    pub async fn last_change_seq(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM change_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// Up to `limit` changes with `after < seq <= upto`, in sequence order, of the
    /// modules named `module` (a legacy or a Desk module's key) or all.
    pub async fn changes_between(
        &self,
        after: i64,
        upto: i64,
        module: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        let desk = self.desk_tables().await?;
        let sql = changes_sql(&self.desk_schema_quoted()?, &desk);
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(upto)
            .bind(module)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(change).collect()
    }

    /// The Desk modules whose mirror table exists (they are created when first needed).
    async fn desk_tables(&self) -> Result<Vec<DeskModule>, StoreError> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
        )
        .bind(self.desk_schema.as_ref())
        .fetch_all(&self.pool)
        .await?;
        Ok(DeskModule::ALL
            .into_iter()
            .filter(|m| names.iter().any(|n| n == m.name()))
            .collect())
    }
}

/// One lateral lookup per change, in the one mirror table its module names (the other
/// branches are cut by a one-time filter), so a batch costs an index probe per change.
/// A Desk change (no department) looks in the Desk schema's table, by organisation id.
fn changes_sql(desk_schema: &str, desk: &[DeskModule]) -> String {
    let desk_lookups = desk.iter().map(|m| {
        let name = m.name();
        format!(
            "SELECT m.record FROM {desk_schema}.{name} m WHERE c.department = '' \
             AND c.module = '{name}' AND m.id = c.record_id AND m.org_id = \
             (CASE WHEN c.portal ~ '^[0-9]{{1,18}}$' THEN c.portal::bigint END)"
        )
    });
    let lookups: Vec<String> = mirror_tables()
        .map(|t| {
            let module = quote_literal(t.module.url_name())
                .expect("a module's name is a fixed word without NUL");
            format!(
                "SELECT m.fields FROM {table} m WHERE c.module = {module} \
                 AND m.portal = c.portal AND m.department = c.department AND m.id = c.record_id",
                table = t.name,
            )
        })
        .chain(desk_lookups)
        .collect();
    format!(
        "SELECT c.seq, c.portal, c.department, c.module, c.record_id, c.op, c.modified_time, \
         c.synced_at, c.run_id, CASE WHEN c.op = 'delete' THEN NULL ELSE f.fields END AS fields \
         FROM (SELECT * FROM change_log WHERE seq > $1 AND seq <= $2 \
         AND ($3::text IS NULL OR module = $3) ORDER BY seq LIMIT $4) AS c \
         LEFT JOIN LATERAL ({}) AS f ON true ORDER BY c.seq",
        lookups.join(" UNION ALL ")
    )
}

fn change(row: &sqlx::postgres::PgRow) -> Result<Change, StoreError> {
    let module: String = row.try_get("module")?;
    let op: String = row.try_get("op")?;
    let id: i64 = row.try_get("record_id")?;
    let department: String = row.try_get("department")?;
    Ok(Change {
        seq: row.try_get("seq")?,
        stream: StreamKey {
            portal: row.try_get("portal")?,
            module: StreamModule::from_key(&department, &module)
                .ok_or_else(|| StoreError::corrupt("module", module))?,
            department,
        },
        record_id: u64::try_from(id)
            .map(RecordId)
            .map_err(|_| StoreError::corrupt("change record id", id.to_string()))?,
        op: ChangeOp::parse(&op).ok_or_else(|| StoreError::corrupt("change op", op))?,
        modified_time: row.try_get("modified_time")?,
        synced_at: row.try_get("synced_at")?,
        run_id: row.try_get("run_id")?,
        fields: row.try_get("fields")?,
    })
}
