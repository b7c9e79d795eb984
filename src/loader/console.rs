//! What the status page reads that the other reports do not: the day's reservations by
//! hour, the latest runs, each stream's dead letters and what its last sweep found (its
//! live rows come from `stream_stats`). Small reads only: every query reads control
//! tables, never a mirror table, so the page stays fast on a mirror of millions of rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::runs::{self, RunSummary};
use super::status::stream_key;
use super::{Loader, StoreError};
use crate::stream::StreamKey;

impl Loader {
    /// Units reserved by `organisation` in each hour from `from` to `to` (hour start,
    /// units), oldest first.
    pub async fn quota_hours(
        &self,
        organisation: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT hour, used FROM quota_hours \
             WHERE organisation = $1 AND hour >= date_trunc('hour', $2::timestamptz) \
             AND hour < $3 ORDER BY hour",
        )
        .bind(super::values::clean_text(organisation))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let used: i32 = r.try_get("used")?;
                Ok((r.try_get("hour")?, u32::try_from(used).unwrap_or(0)))
            })
            .collect()
    }

    /// The latest `n` runs, newest first.
    pub async fn recent_runs(&self, n: i64) -> Result<Vec<RunSummary>, StoreError> {
        let sql = format!(
            "SELECT {} FROM runs ORDER BY id DESC LIMIT $1",
            runs::COLUMNS
        );
        let rows = sqlx::query(&sql).bind(n).fetch_all(&self.pool).await?;
        rows.iter().map(runs::from_row).collect()
    }

    /// Dead letters kept per stream.
    pub async fn dead_letters_by_stream(&self) -> Result<HashMap<StreamKey, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, count(*) AS n FROM dead_letters \
             GROUP BY portal, department, module",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .filter_map(|r| match stream_key(r) {
                Ok(key) => Some(r.try_get("n").map(|n| (key, n)).map_err(StoreError::from)),
                // The recycle bin's letters name no module of a stream.
                Err(_) => None,
            })
            .collect()
    }

    /// What each stream's last complete sweep found deleted.
    pub async fn sweeps_found(&self) -> Result<HashMap<StreamKey, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, found FROM checkpoints \
             WHERE kind = 'sweep' AND found IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((stream_key(r)?, r.try_get("found")?)))
            .collect()
    }
}
