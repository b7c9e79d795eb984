//! Fresh planner statistics after large loads. A mirror table filled by a backfill, or
//! rewritten by a mass update at the source, has the statistics of what it was before
//! until autovacuum comes round (a minute at best, never while it is busy elsewhere), and
//! stale statistics turn lookups by key into scans of the table. So this process counts
//! the rows it writes to each table and runs `ANALYZE` on it when they reach 10,000 and
//! each time they double since: a handful of times over a load of millions (each one
//! reads a sample of 3,000 rows, `STATISTICS_TARGET`), never for the trickle of an
//! incremental pass. Only the columns our statements look rows up by are analysed (the
//! keys, the modification time, the deletion and sweep marks): the wide text and jsonb
//! columns would cost ten times as much, and autovacuum analyses them in its own time.
//! The `ANALYZE` runs after the page's commit, beside the load, on a connection of its
//! own; it gives up at once if another (autovacuum's) holds the table, and its failure is
//! only logged: statistics are an optimisation, never a reason to fail a load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Executor, PgPool};

/// Rows written to a table before its first `ANALYZE` by this process.
const FIRST: u64 = 10_000;

/// How long an `ANALYZE` waits for the table's lock before leaving it to autovacuum.
const LOCK_WAIT: Duration = Duration::from_millis(200);

/// The statistics target of our `ANALYZE` (PostgreSQL's default is 100), so it samples
/// 3,000 rows, not 30,000. A sample that large reads nearly every page of a mirror table
/// of 200,000 records (six to a page): the five `ANALYZE`s of a 200,000-record backfill
/// ran 1.4 s in all (pg_stat_statements, one backfill, against 13.7 s of CPU for all of
/// PostgreSQL), beside the load on the same cores; at 10, the last one took 15 ms instead
/// of 180 to 300. The key columns need only the row count, the null fractions and
/// whether ids are unique, which the smaller sample gives (`pg_stats` shows `n_distinct`
/// -1 for the ids either way); autovacuum, in its own time, analyses with the full
/// target.
const STATISTICS_TARGET: u32 = 10;

/// Rows written per table by this process, and when each is next analysed.
#[derive(Clone, Debug, Default)]
pub(super) struct Statistics {
    tables: Arc<Mutex<HashMap<String, Written>>>,
}

#[derive(Clone, Copy, Debug)]
struct Written {
    rows: u64,
    next: u64,
}

impl Statistics {
    /// Counts `rows` written to `table` (a qualified, quoted name); true when the table is
    /// due an `ANALYZE`.
    pub(super) fn wrote(&self, table: &str, rows: u64) -> bool {
        if rows == 0 {
            return false;
        }
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let written = tables.entry(table.to_string()).or_insert(Written {
            rows: 0,
            next: FIRST,
        });
        written.rows = written.rows.saturating_add(rows);
        if written.rows < written.next {
            return false;
        }
        written.next = written.rows.saturating_mul(2);
        true
    }

    /// Analyses `columns` of `table` in the background when `rows` more written make it
    /// due.
    pub(super) fn refresh_if_due(&self, pool: &PgPool, (table, columns): (&str, &str), rows: u64) {
        if !self.wrote(table, rows) {
            return;
        }
        let pool = pool.clone();
        let table = format!("{table} ({columns})");
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match analyze(&pool, &table).await {
                Ok(()) => tracing::debug!(
                    table,
                    millis = started.elapsed().as_millis(),
                    "statistics refreshed"
                ),
                Err(error) => tracing::debug!(table, %error, "statistics not refreshed"),
            }
        });
    }
}

/// `ANALYZE` in a transaction of its own, so that a lock wait that runs out leaves no
/// pooled connection in a failed transaction.
async fn analyze(pool: &PgPool, table: &str) -> Result<(), sqlx::Error> {
    let begin = format!(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL default_statistics_target = {}",
        LOCK_WAIT.as_millis(),
        STATISTICS_TARGET
    );
    let mut tx = pool.begin_with(begin).await?;
    (&mut *tx)
        .execute(format!("ANALYZE {table}").as_str())
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_analysed_at_ten_thousand_rows_then_each_time_they_double() {
        let statistics = Statistics::default();
        let due: Vec<u64> = (1..200)
            .map(|page| page * 200)
            .filter(|_| statistics.wrote("t", 200))
            .collect();
        assert_eq!(due, [10_000, 20_000]);
        let due: Vec<u64> = (200..=1_000)
            .map(|page| page * 200)
            .filter(|_| statistics.wrote("t", 200))
            .collect();
        assert_eq!(due, [40_000, 80_000, 160_000]);
    }

    #[test]
    fn tables_are_counted_apart_and_a_trickle_is_never_analysed() {
        let statistics = Statistics::default();
        assert!(!statistics.wrote("a", 9_999));
        assert!(!statistics.wrote("b", 9_999));
        assert!(!statistics.wrote("a", 0));
        assert!(statistics.wrote("a", 1));
    }
}
