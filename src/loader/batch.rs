//! A legacy commit's one statement: the pages' rows upserted, with their changes logged
//! and `stream_stats` kept (`mirror::upsert_ctes`), and the commit's control rows (the
//! lease renewal, the stream's checkpoint, the pages' dead letters, the run's counters),
//! in one round trip however many pages the commit holds. The pages' rows go as one set
//! of arrays (`binds::Merged`): one row per id, ascending, so concurrent commits lock rows
//! in the same order.
//!
//! The order of locks inside the statement is what keeps it free of deadlocks. Its main
//! query reads `upserted`: the stream's own rows are written first. Its output then
//! takes, in this order, the gate (below), the change log's append lock (even for a
//! commit without rows), and the control rows; the change log and `stream_stats` are
//! written last, under the lock. The run's row, which every stream of a run shares, is
//! therefore always taken after the lock, as every other writer of it does; the stream's
//! own rows (mirror rows, lease, checkpoint, letters) are taken by no other stream's
//! commit, and the statements that take over a lease hold no append lock, so taking them
//! before or after it adds no cycle.
//!
//! A commit may be sent while the one before it, of the same stream, is still committing
//! on another connection (`CommitOrder`): its rows are bound and written while the
//! other's are, on two backends. Each ordered commit holds an advisory lock keyed by its
//! token (the two-key form) from its first row to its end. The gate of the commit sent
//! behind waits for that lock, then reads the stream's checkpoint row (locked, so the
//! latest version) and checks it carries the earlier commit's token. If not (the earlier
//! commit failed, or had not begun when the gate was reached), the gate is shut: the
//! statement takes no append lock, writes no change, control row or count, and the
//! caller rolls back and sends it again once the earlier commit's fate is known. The two
//! commits write no row in common (the pipeline leaves out the anchor row they share,
//! `CommitOrder::shared`, and sends a batch that shares any other row only after the
//! earlier one), so the later one never waits on the earlier one's rows, and the earlier
//! one never waits on anything the later one holds.

use sqlx::{PgConnection, Row};

use super::binds::Merged;
use super::checkpoint;
use super::dead_letters::{self, Letter};
use super::mirror::{upsert_ctes, Inputs, LockAt};
use super::schema::MirrorTable;
use super::{PageCommit, StoreError};
use crate::store::CommitOrder;

/// What a commit's statement did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Written {
    pub inserted: u64,
    pub updated: u64,
    /// Dead letters not stored before.
    pub lettered: u64,
}

/// How a commit's statement ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Statement {
    Written(Written),
    /// The commit it follows is not stored: nothing was written, and the transaction
    /// must be rolled back.
    Behind,
}

/// The pages a commit counts in its run, and the records they received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Counted {
    pub pages: u64,
    pub records: u64,
}

/// `$1`–`$14` are the checkpoint's (as in `checkpoint::save`; `$1` portal, `$2`
/// department, `$3` module, `$4` kind, `$12` run), `$15` the lease holder (null: no
/// lease), `$16` its time to live, `$17`–`$19` the letters' raw text, error and record id,
/// `$20` the records and `$21` the pages to count in the run, `$22` the write time, `$23`
/// the ids, `$24` the `fields` JSON texts, `$25` the commit's token, `$26` the token of the
/// commit it follows (null: none), `$27`–`$28` and `$29`–`$30` the two tokens as the
/// halves of an advisory lock's key, then one array per typed column of `table`.
fn batch_sql(table: &MirrorTable) -> String {
    let inputs = Inputs {
        portal: "$1",
        department: "$2",
        module: "$3",
        run: "$12",
        synced_at: "$22",
        ids: "$23",
        fields: "$24",
        first_array: 31,
        // Says "this commit is under way" until it ends, for the commit sent behind it.
        lock: LockAt::AfterRows {
            first: "CASE WHEN $27::int IS NULL THEN true\n\
                    ELSE pg_advisory_xact_lock($27::int, $28::int) IS NOT NULL END",
        },
    };
    let letters = "(CASE WHEN (SELECT ok FROM locked) THEN $17::text[] ELSE '{}'::text[] END)";
    format!(
        // CTEs may only name those listed before them; each runs when first read: the
        // gate and the lock once the rows are written (the output's first column).
        "WITH prior AS (SELECT commit_token FROM checkpoints\n\
         WHERE portal = $1 AND department = $2 AND module = $3 AND kind = $4 FOR UPDATE),\n\
         gate AS (SELECT CASE WHEN $26::bigint IS NULL THEN true\n\
         WHEN (SELECT pg_advisory_xact_lock_shared($29::int, $30::int)) IS NULL THEN false\n\
         ELSE EXISTS (SELECT 1 FROM prior WHERE commit_token = $26::bigint) END AS ok),\n\
         locked AS (SELECT CASE WHEN g.ok THEN pg_advisory_xact_lock({append}) IS NOT NULL\n\
         ELSE false END AS ok FROM gate g),\n\
         {ctes},\n\
         saved AS ({checkpoint} WHERE (SELECT ok FROM locked) RETURNING 1),\n\
         renewed AS (UPDATE stream_leases SET expires_at = now() + make_interval(secs => $16)\n\
         WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $15\n\
         AND (SELECT ok FROM locked) RETURNING 1),\n\
         lettered AS ({letters} RETURNING 1),\n\
         counted AS (UPDATE runs SET pages = pages + $21, records = records + $20\n\
         WHERE id = $12 AND (SELECT ok FROM locked) RETURNING 1)\n\
         SELECT (SELECT ok FROM locked) AS ok, a.inserted, a.updated,\n\
         (SELECT count(*) FROM counted) AS counted,\n\
         (SELECT count(*) FROM renewed) AS renewed,\n\
         (SELECT count(*) FROM lettered) AS lettered,\n\
         (SELECT count(*) FROM saved) AS saved\n\
         FROM (SELECT count(*) FILTER (WHERE inserted) AS inserted,\n\
         count(*) FILTER (WHERE NOT inserted) AS updated FROM upserted) AS a",
        ctes = upsert_ctes(table, &inputs),
        append = super::change_log::APPEND_LOCK,
        checkpoint = checkpoint::upsert_marked("$25"),
        letters = dead_letters::insert_sql(["$1", "$2", "$3", "$12", letters, "$18", "$19"]),
    )
}

/// A commit token as the two halves of an advisory lock's key (the two-key form, which
/// no other lock of ours uses).
fn halves(token: Option<i64>) -> (Option<i32>, Option<i32>) {
    match token {
        Some(t) => (Some((t >> 32) as i32), Some(t as i32)),
        None => (None, None),
    }
}

/// Writes a commit's rows and control rows into `table`, `last` being the commit's last
/// page (its checkpoint is the stream's from now on), after the commit `order` follows
/// when it names one. Fails the commit when its lease was lost or its run is unknown.
pub(super) async fn write(
    tx: &mut PgConnection,
    table: &MirrorTable,
    last: &PageCommit<'_>,
    (rows, letters): (&Merged<'_>, &[Letter<'_>]),
    (counted, order): (Counted, Option<CommitOrder>),
) -> Result<Statement, StoreError> {
    let stream = last.stream;
    let (raws, errors, ids) = dead_letters::arrays(letters);
    let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let sql = batch_sql(table);
    let checkpoint = (stream, last.kind, last.checkpoint, Some(last.run_id));
    let query = checkpoint::bind(sqlx::query(&sql), checkpoint)
        .bind(last.lease.map(|l| l.holder.as_str()))
        .bind(last.lease.map_or(0.0, |l| l.ttl.as_secs_f64()))
        .bind(raws)
        .bind(errors)
        .bind(ids)
        .bind(whole(counted.records))
        .bind(whole(counted.pages))
        .bind(last.synced_at)
        .bind(rows.ids())
        .bind(rows.fields())
        .bind(order.map(|o| o.token))
        .bind(order.and_then(|o| o.after));
    // A commit outside any order is not marked: no commit waits on it.
    let (mine, after) = (order.map(|o| o.token), order.and_then(|o| o.after));
    let query = query
        .bind(halves(mine).0)
        .bind(halves(mine).1)
        .bind(halves(after).0)
        .bind(halves(after).1);
    let row = rows.bind_columns(query).fetch_one(tx).await?;
    let count = |name: &str| -> Result<u64, StoreError> {
        let n: i64 = row.try_get(name)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    if !row.try_get::<bool, _>("ok")? {
        return Ok(Statement::Behind);
    }
    if last.lease.is_some() && count("renewed")? != 1 {
        return Err(StoreError::LeaseLost {
            stream: stream.to_string(),
        });
    }
    if count("counted")? != 1 {
        return Err(StoreError::UnknownRun(last.run_id));
    }
    Ok(Statement::Written(Written {
        inserted: count("inserted")?,
        updated: count("updated")?,
        lettered: count("lettered")?,
    }))
}
