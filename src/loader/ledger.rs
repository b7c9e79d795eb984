//! The quota ledger: requests used per organisation and quota day, shared by every
//! process syncing that organisation. A reservation is one atomic statement (the row
//! lock of `INSERT .. ON CONFLICT DO UPDATE` re-checks the budget against the latest
//! count), so processes racing for the last request can never pass the budget together.
//! A day marked spent (the server said 4421) takes no more reservations whatever its count.

use chrono::NaiveDate;
use sqlx::Row;

use super::{Loader, LoaderError};

/// One quota day of one organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerDay {
    /// Requests reserved so far.
    pub used: u32,
    /// The server said the day's quota is exhausted.
    pub spent: bool,
}

/// Inserts a first reservation of the day (only for a positive budget), or adds one to
/// the count while it is below the budget and the day is not spent.
const RESERVE: &str = "\
INSERT INTO quota_ledger AS q (organisation, day, used, spent, updated_at)
SELECT $1, $2, 1, false, now() WHERE $3::bigint > 0
ON CONFLICT (organisation, day) DO UPDATE SET used = q.used + 1, updated_at = now()
    WHERE q.used < $3::bigint AND NOT q.spent
RETURNING used";

impl Loader {
    /// Reserves one request of `day`'s budget: `Some(used after)` or `None` when the
    /// budget is reached or the day is spent.
    pub async fn reserve_request(
        &self,
        org: &str,
        day: NaiveDate,
        budget: u32,
    ) -> Result<Option<u32>, LoaderError> {
        let used: Option<i32> = sqlx::query_scalar(RESERVE)
            .bind(super::values::clean_text(org))
            .bind(day)
            .bind(i64::from(budget))
            .fetch_optional(&self.pool)
            .await?;
        used.map(|u| {
            u32::try_from(u).map_err(|_| LoaderError::corrupt("quota ledger used", u.to_string()))
        })
        .transpose()
    }

    /// Marks the day spent: no reservation succeeds for it any more.
    pub async fn mark_day_spent(&self, org: &str, day: NaiveDate) -> Result<(), LoaderError> {
        sqlx::query(
            "INSERT INTO quota_ledger AS q (organisation, day, used, spent, updated_at) \
             VALUES ($1, $2, 0, true, now()) \
             ON CONFLICT (organisation, day) DO UPDATE SET spent = true, updated_at = now()",
        )
        .bind(super::values::clean_text(org))
        .bind(day)
        .execute(&self.pool)
        .await?;
        tracing::info!(organisation = org, %day, "quota day marked spent");
        Ok(())
    }

    /// Moves one reserved request from day `from` to day `to`, when the server counted it
    /// on another quota day than we reserved it on (around midnight). `from` loses one
    /// (never below zero); `to` gains one even past its budget, as the request was made.
    pub async fn move_reservation(
        &self,
        org: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(), LoaderError> {
        if from == to {
            return Ok(());
        }
        sqlx::query(
            "WITH taken AS (UPDATE quota_ledger SET used = greatest(used - 1, 0), \
                 updated_at = now() WHERE organisation = $1 AND day = $2 RETURNING day) \
             INSERT INTO quota_ledger AS q (organisation, day, used, spent, updated_at) \
             VALUES ($1, $3, 1, false, now()) \
             ON CONFLICT (organisation, day) DO UPDATE SET used = q.used + 1, updated_at = now()",
        )
        .bind(super::values::clean_text(org))
        .bind(from)
        .bind(to)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The day's count and state; `(0, false)` for a day never used.
    pub async fn ledger_day(&self, org: &str, day: NaiveDate) -> Result<LedgerDay, LoaderError> {
        let row = sqlx::query(
            "SELECT used, spent FROM quota_ledger WHERE organisation = $1 AND day = $2",
        )
        .bind(org)
        .bind(day)
        .fetch_optional(&self.pool)
        .await?;
        row.map_or(Ok(LedgerDay::default()), |r| from_row(&r))
    }

    /// Every recorded day of the organisation, oldest first.
    pub async fn ledger_days(&self, org: &str) -> Result<Vec<(NaiveDate, LedgerDay)>, LoaderError> {
        let rows = sqlx::query(
            "SELECT day, used, spent FROM quota_ledger WHERE organisation = $1 ORDER BY day",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("day")?, from_row(r)?)))
            .collect()
    }
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<LedgerDay, LoaderError> {
    let used: i32 = row.try_get("used")?;
    Ok(LedgerDay {
        used: u32::try_from(used)
            .map_err(|_| LoaderError::corrupt("quota ledger used", used.to_string()))?,
        spent: row.try_get("spent")?,
    })
}
