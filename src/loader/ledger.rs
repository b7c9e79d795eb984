//! The quota ledger: requests used per organisation and quota day, shared by every
//! process syncing that organisation. A reservation is one atomic statement (the row
//! lock of `INSERT .. ON CONFLICT DO UPDATE` re-checks the budget against the latest
//! count), so processes racing for the last request can never pass the budget together.
//! A day marked spent (the server said 4421) takes no more reservations whatever its count.

use chrono::NaiveDate;
use sqlx::Row;

use super::{Loader, StoreError};
use crate::store::LedgerDay;

/// Inserts a first reservation of the day (only when the budget holds the cost), or adds
/// the cost to the count while the budget still holds it and the day is not spent; a
/// reservation made is also added to its hour in `quota_hours` (the status page's chart).
const RESERVE: &str = "\
WITH reserved AS (
    INSERT INTO quota_ledger AS q (organisation, day, used, spent, updated_at)
    SELECT $1, $2, $4, false, now() WHERE $4::bigint <= $3::bigint
    ON CONFLICT (organisation, day) DO UPDATE SET used = q.used + $4, updated_at = now()
        WHERE q.used + $4 <= $3::bigint AND NOT q.spent
    RETURNING used
), hourly AS (
    INSERT INTO quota_hours AS h (organisation, hour, used)
    SELECT $1, date_trunc('hour', now()), $4 FROM reserved
    ON CONFLICT (organisation, hour) DO UPDATE SET used = h.used + $4
)
SELECT used FROM reserved";

impl Loader {
    /// Reserves `cost` units of `day`'s budget: `Some(used after)` or `None` when the
    /// budget does not hold them or the day is spent.
    pub async fn reserve(
        &self,
        org: &str,
        day: NaiveDate,
        cost: u32,
        budget: u32,
    ) -> Result<Option<u32>, StoreError> {
        let used: Option<i32> = sqlx::query_scalar(RESERVE)
            .bind(super::values::clean_text(org))
            .bind(day)
            .bind(i64::from(budget))
            .bind(i32::try_from(cost).unwrap_or(i32::MAX))
            .fetch_optional(&self.pool)
            .await?;
        used.map(|u| {
            u32::try_from(u).map_err(|_| StoreError::corrupt("quota ledger used", u.to_string()))
        })
        .transpose()
    }

    /// Marks the day spent: no reservation succeeds for it any more.
    pub async fn mark_day_spent(&self, org: &str, day: NaiveDate) -> Result<(), StoreError> {
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

    /// Moves `cost` reserved units from day `from` to day `to`, when the server counted the
    /// request on another quota day than we reserved it on (around midnight). `from` loses
    /// them (never below zero); `to` gains them even past its budget, as the request was
    /// made.
    pub async fn move_reservation(
        &self,
        org: &str,
        from: NaiveDate,
        to: NaiveDate,
        cost: u32,
    ) -> Result<(), StoreError> {
        if from == to {
            return Ok(());
        }
        sqlx::query(
            "WITH taken AS (UPDATE quota_ledger SET used = greatest(used - $4, 0), \
                 updated_at = now() WHERE organisation = $1 AND day = $2 RETURNING day) \
             INSERT INTO quota_ledger AS q (organisation, day, used, spent, updated_at) \
             VALUES ($1, $3, $4, false, now()) \
             ON CONFLICT (organisation, day) DO UPDATE SET used = q.used + $4, updated_at = now()",
        )
        .bind(super::values::clean_text(org))
        .bind(from)
        .bind(to)
        .bind(i32::try_from(cost).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The day's count and state; `(0, false)` for a day never used.
    pub async fn ledger_day(&self, org: &str, day: NaiveDate) -> Result<LedgerDay, StoreError> {
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
    pub async fn ledger_days(&self, org: &str) -> Result<Vec<(NaiveDate, LedgerDay)>, StoreError> {
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

fn from_row(row: &sqlx::postgres::PgRow) -> Result<LedgerDay, StoreError> {
    let used: i32 = row.try_get("used")?;
    Ok(LedgerDay {
        used: u32::try_from(used)
            .map_err(|_| StoreError::corrupt("quota ledger used", used.to_string()))?,
        spent: row.try_get("spent")?,
    })
}
