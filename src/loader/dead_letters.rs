//! Dead letters: rows that reached us but could not be mirrored (undecodable, or without
//! a usable record id), kept with their raw text and the reason, so nothing received is
//! silently lost. A page's dead letters are written in one statement inside the page's
//! transaction, each raw row once per stream: a row met again (the anchor of the next
//! window, a step back, the next pass) is not counted again.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::values::clean_text;
use super::{Loader, StoreError, StreamKey};
use crate::zoho::record::RecordId;

/// One stored dead letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub run_id: Option<i64>,
    /// The record's id, when the row's id could be read.
    pub record_id: Option<RecordId>,
    pub raw: String,
    pub error: String,
    pub created_at: DateTime<Utc>,
}

/// A row to store as a dead letter: its raw text, why it was refused, and its record id
/// when known.
pub(super) struct Letter<'a> {
    pub raw: &'a str,
    pub error: &'a str,
    pub record_id: Option<RecordId>,
}

impl Loader {
    /// The stream's dead letters, oldest first.
    pub async fn dead_letters(&self, stream: &StreamKey) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, run_id, record_id::text AS record_id, raw, error, created_at \
             FROM dead_letters \
             WHERE portal = $1 AND department = $2 AND module = $3 ORDER BY id",
        )
        .bind(&stream.portal)
        .bind(&stream.department)
        .bind(stream.module.key())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let record_id: Option<String> = r.try_get("record_id")?;
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    run_id: r.try_get("run_id")?,
                    record_id: record_id.as_deref().and_then(RecordId::parse),
                    raw: r.try_get("raw")?,
                    error: r.try_get("error")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// Where the rows of an organisation's recycle bin that cannot be read are kept: the
/// organisation's (department-less) `recycle_bin`, which is no module.
pub(super) const RECYCLE_BIN: &str = "recycle_bin";

/// The statement that stores letters, its parameters named by the caller (portal,
/// department, module, run id, then the arrays of raw text, error and record id): once a
/// raw text per (portal, department, module), in the order received.
pub(super) fn insert_sql(
    [portal, department, module, run, raws, errors, ids]: [&str; 7],
) -> String {
    format!(
        "INSERT INTO dead_letters (portal, department, module, run_id, raw, error, record_id) \
         SELECT {portal}, {department}, {module}, {run}, d.raw, d.error, d.id::numeric FROM ( \
             SELECT DISTINCT ON (md5(u.raw)) u.raw, u.error, u.id, u.n \
             FROM UNNEST({raws}::text[], {errors}::text[], {ids}::text[]) \
             WITH ORDINALITY AS u(raw, error, id, n) \
             ORDER BY md5(u.raw), u.n) AS d \
         ORDER BY d.n \
         ON CONFLICT (portal, department, module, md5(raw)) DO NOTHING"
    )
}

/// The letters' raw texts, errors and record ids, as the statement's arrays.
pub(super) fn arrays(letters: &[Letter<'_>]) -> (Vec<String>, Vec<String>, Vec<Option<String>>) {
    let raws = letters
        .iter()
        .map(|l| clean_text(l.raw).into_owned())
        .collect();
    let errors = letters
        .iter()
        .map(|l| clean_text(l.error).into_owned())
        .collect();
    let ids = letters
        .iter()
        .map(|l| l.record_id.map(|id| id.0.to_string()))
        .collect();
    (raws, errors, ids)
}

/// Stores `letters` under (portal, department) and `module` (a module's key, or
/// `RECYCLE_BIN`).
pub(super) async fn store_in(
    conn: &mut PgConnection,
    (portal, department): (&str, &str),
    module: &str,
    run_id: i64,
    letters: &[Letter<'_>],
) -> Result<u64, StoreError> {
    if letters.is_empty() {
        return Ok(0);
    }
    let (raws, errors, ids) = arrays(letters);
    let sql = insert_sql(["$1", "$2", "$3", "$4", "$5", "$6", "$7"]);
    let done = sqlx::query(&sql)
        .bind(clean_text(portal))
        .bind(clean_text(department))
        .bind(module)
        .bind(run_id)
        .bind(raws)
        .bind(errors)
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes the stream's letters of record `id` (its record is mirrored now, or gone);
/// how many there were.
pub(super) async fn clear(
    conn: &mut PgConnection,
    stream: &StreamKey,
    id: RecordId,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM dead_letters WHERE portal = $1 AND department = $2 AND module = $3 \
         AND record_id = ($4::text)::numeric",
    )
    .bind(&stream.portal)
    .bind(&stream.department)
    .bind(stream.module.key())
    .bind(id.0.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Gives the stream's letters of record `id` the reason its record was refused this time,
/// where it differs; how many changed. The raw text kept is the one first received.
pub(super) async fn reword(
    conn: &mut PgConnection,
    stream: &StreamKey,
    id: RecordId,
    error: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE dead_letters SET error = $5 WHERE portal = $1 AND department = $2 \
         AND module = $3 AND record_id = ($4::text)::numeric AND error IS DISTINCT FROM $5",
    )
    .bind(&stream.portal)
    .bind(&stream.department)
    .bind(stream.module.key())
    .bind(id.0.to_string())
    .bind(clean_text(error))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
