//! Streams' learned change rates (`scheduler::freshness::RateEstimate`) in
//! `stream_rates`. An observation is one statement: the decay of what was known and the
//! addition of what a pass found happen under the row's lock, so two processes observing
//! the same stream each add theirs.

use std::time::Duration;

use sqlx::Row;

use super::status::stream_key;
use super::{Loader, StoreError};
use crate::scheduler::freshness::{RateEstimate, HALF_LIFE};
use crate::stream::StreamKey;

/// Decays the row by `0.5 ^ (exposure / half-life)` and adds the pass's changes and
/// exposure, as `RateEstimate::observe` does.
const OBSERVE: &str = "\
INSERT INTO stream_rates AS r (portal, department, module, changes, exposure_secs, observed_at)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (portal, department, module) DO UPDATE SET
    changes = r.changes * power(0.5, $5 / $6) + $4,
    exposure_secs = r.exposure_secs * power(0.5, $5 / $6) + $5,
    observed_at = now()";

impl Loader {
    /// Adds an incremental pass's finding: `changes` rows inserted or updated, made over
    /// `exposure` (since the pass before).
    pub async fn observe_changes(
        &self,
        stream: &StreamKey,
        changes: u64,
        exposure: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(OBSERVE)
            .bind(super::values::clean_text(&stream.portal))
            .bind(super::values::clean_text(&stream.department))
            .bind(stream.module.key())
            .bind(changes as f64)
            .bind(exposure.as_secs_f64())
            .bind(HALF_LIFE.as_secs_f64())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every stream of `portal` with a learned rate.
    pub async fn change_rates(
        &self,
        portal: &str,
    ) -> Result<Vec<(StreamKey, RateEstimate)>, StoreError> {
        let rows = sqlx::query(
            "SELECT portal, department, module, changes, exposure_secs \
             FROM stream_rates WHERE portal = $1",
        )
        .bind(super::values::clean_text(portal))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    stream_key(row)?,
                    RateEstimate {
                        changes: row.try_get("changes")?,
                        exposure_secs: row.try_get("exposure_secs")?,
                    },
                ))
            })
            .collect()
    }
}
