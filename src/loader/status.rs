//! What `zoho-sync status` shows, per stream: live rows mirrored (as `stream_stats` keeps
//! them), dead letters, both checkpoints and the last run that committed a page of it. A
//! stream is any (portal, department, module) with a checkpoint or a row in
//! `stream_stats`. Read-only, a handful of statements whatever the number of streams, and
//! none reads a mirror table.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{checkpoint, runs, Checkpoint, Loader, PassKind, RunSummary, StoreError, StreamKey};
use crate::stream::Module as StreamModule;

/// One stream's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStatus {
    pub stream: StreamKey,
    /// Live rows in the mirror (not marked deleted), as `stream_stats` keeps them.
    pub rows: i64,
    pub dead_letters: i64,
    pub backfill: Option<Checkpoint>,
    pub incremental: Option<Checkpoint>,
    /// The sweep that finds deleted records.
    pub sweep: Option<Checkpoint>,
    /// When either checkpoint was last written.
    pub updated_at: Option<DateTime<Utc>>,
    /// The latest run that committed a page of this stream.
    pub last_run: Option<RunSummary>,
}

impl StreamStatus {
    pub fn empty(stream: StreamKey) -> StreamStatus {
        StreamStatus {
            stream,
            rows: 0,
            dead_letters: 0,
            backfill: None,
            incremental: None,
            sweep: None,
            updated_at: None,
            last_run: None,
        }
    }
}

impl Loader {
    /// Every stream's state, ordered by portal, department and module, with its live rows
    /// as `stream_stats` keeps them (no mirror table is read).
    pub async fn status(&self) -> Result<Vec<StreamStatus>, StoreError> {
        let mut streams: BTreeMap<StreamKey, StreamStatus> = self
            .checkpointed()
            .await?
            .into_iter()
            .map(|s| (s.stream.clone(), s))
            .collect();
        for (key, stats) in self.stream_stats().await? {
            streams
                .entry(key.clone())
                .or_insert_with(|| StreamStatus::empty(key))
                .rows = stats.live_rows;
        }
        for (key, n) in self.dead_letter_counts().await? {
            if let Some(status) = streams.get_mut(&key) {
                status.dead_letters = n;
            }
        }
        Ok(streams.into_values().collect())
    }

    /// Every stream with a checkpoint, its checkpoints and latest run, ordered; rows and
    /// dead letters left at 0 (nothing here reads more than the control tables).
    pub async fn checkpointed(&self) -> Result<Vec<StreamStatus>, StoreError> {
        let mut streams: BTreeMap<StreamKey, StreamStatus> = BTreeMap::new();
        let mut run_of: HashMap<StreamKey, i64> = HashMap::new();
        let sql = format!(
            "SELECT portal, department, module, kind, last_run_id, updated_at, {} \
             FROM checkpoints",
            checkpoint::COLUMNS
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let key = stream_key(&row)?;
            let kind: String = row.try_get("kind")?;
            let cp = checkpoint::from_row(&row)?;
            let updated_at: DateTime<Utc> = row.try_get("updated_at")?;
            if let Some(run) = row.try_get::<Option<i64>, _>("last_run_id")? {
                let latest = run_of.entry(key.clone()).or_insert(run);
                *latest = (*latest).max(run);
            }
            let status = streams
                .entry(key.clone())
                .or_insert_with(|| StreamStatus::empty(key));
            status.updated_at = status.updated_at.max(Some(updated_at));
            match PassKind::parse(&kind) {
                Some(PassKind::Backfill) => status.backfill = Some(cp),
                Some(PassKind::Incremental) => status.incremental = Some(cp),
                Some(PassKind::Sweep) => status.sweep = Some(cp),
                None => return Err(StoreError::corrupt("checkpoint kind", kind)),
            }
        }
        let runs = self.runs_by_id(run_of.values().copied().collect()).await?;
        for (key, run) in run_of {
            if let Some(status) = streams.get_mut(&key) {
                status.last_run = runs.get(&run).cloned();
            }
        }
        Ok(streams.into_values().collect())
    }

    async fn dead_letter_counts(&self) -> Result<Vec<(StreamKey, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, count(*) AS n FROM dead_letters \
             WHERE NOT (department = '' AND module = $1) \
             GROUP BY portal, department, module",
        )
        .bind(super::dead_letters::RECYCLE_BIN)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((stream_key(r)?, r.try_get("n")?)))
            .collect()
    }

    async fn runs_by_id(&self, ids: Vec<i64>) -> Result<HashMap<i64, RunSummary>, StoreError> {
        let sql = format!("SELECT {} FROM runs WHERE id = ANY($1)", runs::COLUMNS);
        let rows = sqlx::query(&sql).bind(ids).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| runs::from_row(r).map(|run| (run.id, run)))
            .collect()
    }
}

pub(super) fn stream_key(row: &sqlx::postgres::PgRow) -> Result<StreamKey, StoreError> {
    let module: String = row.try_get("module")?;
    let department: String = row.try_get("department")?;
    Ok(StreamKey {
        portal: row.try_get("portal")?,
        module: StreamModule::from_key(&department, &module)
            .ok_or_else(|| StoreError::corrupt("module", module))?,
        department,
    })
}

impl Loader {
    /// Whether the database answers (the daemon's readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
