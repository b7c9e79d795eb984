//! A Zoho Desk page's control rows in one statement, one round trip (a legacy commit
//! writes them in its one statement with the rows, `batch`): the lease renewal, the
//! stream's checkpoint, the page's dead letters and, when the page writes no mirror
//! rows, the run's counters. Every row it touches belongs to the stream (its
//! lease, its checkpoint, its letters), so it runs before the change log's append lock
//! and never holds up another stream's commit; the run's row, which every stream of a run
//! shares, is counted here only when the commit takes no append lock, and otherwise after
//! the lock (the lock first, then the shared row, on every path).

use sqlx::{PgConnection, Row};

use super::checkpoint;
use super::dead_letters::{self, Letter};
use super::{PageCommit, StoreError};

/// Which pages the control statement counts in their run's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RunCount {
    /// Pages that write no mirror rows, with the records they received: counted here.
    Here { pages: u64, records: u64 },
    /// Every page is counted by its upsert, after the append lock.
    ByUpsert,
}

/// `$1`–`$14` are the checkpoint's (as in `checkpoint::save`), `$15` the lease holder
/// (null: no lease), `$16` its time to live, `$17`–`$19` the letters' raw text, error
/// and record id, `$20` the records and `$21` the pages to count in the run here.
fn control_sql() -> String {
    format!(
        "WITH saved AS ({upsert} RETURNING 1),\n\
         renewed AS (UPDATE stream_leases SET expires_at = now() + make_interval(secs => $16)\n\
         WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $15 RETURNING 1),\n\
         lettered AS ({letters} RETURNING 1),\n\
         counted AS (UPDATE runs SET pages = pages + $21, records = records + $20\n\
         WHERE id = $12 AND $21 > 0 RETURNING 1)\n\
         SELECT (SELECT count(*) FROM renewed) AS renewed,\n\
         (SELECT count(*) FROM lettered) AS lettered,\n\
         (SELECT count(*) FROM counted) AS counted,\n\
         (SELECT count(*) FROM saved) AS saved",
        upsert = checkpoint::UPSERT,
        letters = dead_letters::insert_sql(["$1", "$2", "$3", "$12", "$17", "$18", "$19"]),
    )
}

/// Writes the page's control rows; how many of its letters were new. Fails the page when
/// its lease was lost or its run is unknown.
pub(super) async fn write(
    tx: &mut PgConnection,
    page: &PageCommit<'_>,
    letters: &[Letter<'_>],
    run_count: RunCount,
) -> Result<u64, StoreError> {
    let cp = page.checkpoint;
    let stream = page.stream;
    let (raws, errors, ids) = dead_letters::arrays(letters);
    let (pages, received) = match run_count {
        RunCount::Here { pages, records } => (pages, records),
        RunCount::ByUpsert => (0, 0),
    };
    let (pages, received) = (
        i64::try_from(pages).unwrap_or(i64::MAX),
        i64::try_from(received).unwrap_or(i64::MAX),
    );
    let sql = control_sql();
    let checkpoint = (stream, page.kind, cp, Some(page.run_id));
    let row = checkpoint::bind(sqlx::query(&sql), checkpoint)
        .bind(page.lease.map(|l| l.holder.as_str()))
        .bind(page.lease.map_or(0.0, |l| l.ttl.as_secs_f64()))
        .bind(raws)
        .bind(errors)
        .bind(ids)
        .bind(received)
        .bind(pages)
        .fetch_one(tx)
        .await?;
    let count = |name: &str| -> Result<i64, StoreError> { Ok(row.try_get::<i64, _>(name)?) };
    if page.lease.is_some() && count("renewed")? != 1 {
        return Err(StoreError::LeaseLost {
            stream: stream.to_string(),
        });
    }
    if pages > 0 && count("counted")? != 1 {
        return Err(StoreError::UnknownRun(page.run_id));
    }
    Ok(u64::try_from(count("lettered")?).unwrap_or(0))
}
