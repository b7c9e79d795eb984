//! Runs: one row per invocation of backfill, sync or the daemon, with what it did (pages,
//! records, requests) and how it ended. A run without an outcome is in progress or was
//! killed before it could say. Page counters move inside each page's transaction, so they
//! always agree with the rows stored.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::{Loader, StoreError};
use crate::store::RunKind;
use crate::store::RunOutcome;

/// One run as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    pub id: i64,
    pub kind: RunKind,
    pub organisation: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `None` while running (or when the process died before finishing the run).
    pub outcome: Option<RunOutcome>,
    pub error: Option<String>,
    pub pages: i64,
    pub records: i64,
    pub requests: i64,
    /// The process that ran it; `None` for runs recorded before instances were.
    pub instance: Option<Instance>,
}

/// A process that ran a run: its host, pid and zoho-sync version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub host: String,
    pub pid: i32,
    pub version: String,
}

impl std::fmt::Display for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} pid {} v{}", self.host, self.pid, self.version)
    }
}

pub(super) const COLUMNS: &str =
    "id, kind, organisation, started_at, ended_at, outcome, error, pages, records, requests, \
     host, pid, version";

impl Loader {
    /// Opens a run and returns its id.
    pub async fn start_run(&self, kind: RunKind, org: &str) -> Result<i64, StoreError> {
        let this = crate::store::Holder::this_process();
        let id = sqlx::query_scalar(
            "INSERT INTO runs (kind, organisation, started_at, host, pid, version) \
             VALUES ($1, $2, now(), $3, $4, $5) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(super::values::clean_text(org))
        .bind(super::values::clean_text(&this.host))
        .bind(i32::try_from(this.pid).unwrap_or(i32::MAX))
        .bind(env!("CARGO_PKG_VERSION"))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Adds `n` requests (every request sent, whatever its answer) to the run.
    pub async fn add_run_requests(&self, run_id: i64, n: u32) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE runs SET requests = requests + $2 WHERE id = $1")
            .bind(run_id)
            .bind(i64::from(n))
            .execute(&self.pool)
            .await?;
        known_run(run_id, done.rows_affected())
    }

    /// Closes the run with its outcome and, for a failure, the error text.
    pub async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE runs SET ended_at = now(), outcome = $2, error = $3 WHERE id = $1")
                .bind(run_id)
                .bind(outcome.as_str())
                .bind(error.map(super::values::clean_text))
                .execute(&self.pool)
                .await?;
        known_run(run_id, done.rows_affected())
    }

    /// One run, if it exists.
    pub async fn run(&self, run_id: i64) -> Result<Option<RunSummary>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }
}

/// Counts one committed page of `records` records, in the page's transaction.
pub(super) async fn count_page(
    conn: &mut PgConnection,
    run_id: i64,
    records: u64,
) -> Result<(), StoreError> {
    let records = i64::try_from(records).unwrap_or(i64::MAX);
    let done =
        sqlx::query("UPDATE runs SET pages = pages + 1, records = records + $2 WHERE id = $1")
            .bind(run_id)
            .bind(records)
            .execute(conn)
            .await?;
    known_run(run_id, done.rows_affected())
}

fn known_run(run_id: i64, rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::UnknownRun(run_id))
    } else {
        Ok(())
    }
}

/// A run from a row selected with `COLUMNS`.
pub(super) fn from_row(row: &PgRow) -> Result<RunSummary, StoreError> {
    let kind: String = row.try_get("kind")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    let outcome = match outcome {
        None => None,
        Some(text) => {
            Some(RunOutcome::parse(&text).ok_or_else(|| StoreError::corrupt("run outcome", text))?)
        }
    };
    Ok(RunSummary {
        id: row.try_get("id")?,
        kind: RunKind::parse(&kind).ok_or_else(|| StoreError::corrupt("run kind", kind))?,
        organisation: row.try_get("organisation")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        outcome,
        error: row.try_get("error")?,
        pages: row.try_get("pages")?,
        records: row.try_get("records")?,
        requests: row.try_get("requests")?,
        instance: instance(row)?,
    })
}

fn instance(row: &PgRow) -> Result<Option<Instance>, StoreError> {
    let host: Option<String> = row.try_get("host")?;
    let pid: Option<i32> = row.try_get("pid")?;
    let version: Option<String> = row.try_get("version")?;
    Ok(match (host, pid, version) {
        (Some(host), Some(pid), Some(version)) => Some(Instance { host, pid, version }),
        _ => None,
    })
}
