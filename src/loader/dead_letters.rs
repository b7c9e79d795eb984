//! Dead letters: rows that reached us but could not be mirrored (undecodable, or without
//! a usable record id), kept with their raw text and the reason, so nothing received is
//! silently lost. A page's dead letters are written in one statement inside the page's
//! transaction.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::values::clean_text;
use super::{Loader, LoaderError, StreamKey};

/// One stored dead letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub run_id: Option<i64>,
    pub raw: String,
    pub error: String,
    pub created_at: DateTime<Utc>,
}

/// A row to store as a dead letter: its raw text and why it was refused.
pub(super) struct Letter<'a> {
    pub raw: &'a str,
    pub error: &'a str,
}

impl Loader {
    /// The stream's dead letters, oldest first.
    pub async fn dead_letters(&self, stream: &StreamKey) -> Result<Vec<DeadLetter>, LoaderError> {
        let rows = sqlx::query(
            "SELECT id, run_id, raw, error, created_at FROM dead_letters \
             WHERE portal = $1 AND department = $2 AND module = $3 ORDER BY id",
        )
        .bind(&stream.portal)
        .bind(&stream.department)
        .bind(stream.module.url_name())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    run_id: r.try_get("run_id")?,
                    raw: r.try_get("raw")?,
                    error: r.try_get("error")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// Stores `letters` for the stream in one statement; returns how many were stored.
pub(super) async fn store(
    conn: &mut PgConnection,
    stream: &StreamKey,
    run_id: i64,
    letters: &[Letter<'_>],
) -> Result<u64, LoaderError> {
    if letters.is_empty() {
        return Ok(0);
    }
    let raws: Vec<String> = letters.iter().map(|l| clean_text(l.raw)).collect();
    let errors: Vec<String> = letters.iter().map(|l| clean_text(l.error)).collect();
    let done = sqlx::query(
        "INSERT INTO dead_letters (portal, department, module, run_id, raw, error) \
         SELECT $1, $2, $3, $4, u.raw, u.error FROM UNNEST($5::text[], $6::text[]) AS u(raw, error)",
    )
    .bind(clean_text(&stream.portal))
    .bind(clean_text(&stream.department))
    .bind(stream.module.url_name())
    .bind(run_id)
    .bind(raws)
    .bind(errors)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
