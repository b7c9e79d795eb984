//! The mirror tables: one bulk upsert per page, built from the static schema. A page is
//! sent as one array per column and unnested server-side, so 200 rows cost one round trip,
//! never one statement per row. A row is rewritten only when its `fields` jsonb differs
//! from what is stored, so committing the same page twice changes nothing (not even
//! `_synced_at`, which is the time the row's content was last written). Rows are sent in
//! ascending id order, so concurrent upserts lock rows in the same order and cannot
//! deadlock on each other. The same statement appends every row it inserts or rewrites
//! to the change log (a data-modifying CTE), so the log never misses a change nor records
//! one that did not happen; a row marked deleted that is read again is live again, and
//! logged as an insert. It also keeps the stream's live row count and newest Modified
//! Time in `stream_stats` (see there), so nothing that reports them has to scan a mirror
//! table. Rows coming back from
//! deletion are looked up in a partial index of the deleted rows (migration 0015): on a
//! table whose statistics are missing or stale (a first load, a mass update before
//! autovacuum), the planner takes "deleted" for rare and the portal's rows for few, and
//! without that index read every row of the portal once per page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::{PgConnection, Row};

use super::binds::{fields_json, Binds, Merged};
use super::schema::{table_of, ColumnType, MirrorTable};
use super::values::clean_text;
use super::{stream_stats, Loader, StoreError, StreamKey};
use crate::zoho::record::{Record, RecordId};

/// One mirrored row: its id and every field as received (label → value, `None` for the
/// wire's empty), for comparisons with the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorRow {
    pub id: RecordId,
    pub fields: BTreeMap<String, Option<String>>,
}

/// What one upsert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Upserted {
    pub inserted: u64,
    pub updated: u64,
    /// Distinct ids sent.
    pub sent: u64,
}

/// A page split into the rows to upsert (one per id, the last occurrence wins, ascending
/// id) and the records that cannot be mirrored.
pub(super) struct Prepared<'a> {
    pub(super) rows: BTreeMap<i64, &'a Record>,
    pub rejected: Vec<Rejected>,
}

/// A record that cannot be mirrored: its fields as JSON text and why.
pub(super) struct Rejected {
    pub raw: String,
    pub error: &'static str,
}

impl Prepared<'_> {
    /// The records to upsert, one per id.
    pub(super) fn records(&self) -> impl Iterator<Item = &Record> {
        self.rows.values().copied()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Sorts a page's records into rows and dead letters. The bigint `id` column holds ids
/// up to `i64::MAX`; a record without an id, or with a larger one, is a dead letter.
pub(super) fn prepare<'a>(records: impl IntoIterator<Item = &'a Record>) -> Prepared<'a> {
    let mut prepared = Prepared {
        rows: BTreeMap::new(),
        rejected: Vec::new(),
    };
    for record in records {
        let reason = match record.id.map(|id| i64::try_from(id.0)) {
            Some(Ok(id)) => {
                prepared.rows.insert(id, record);
                continue;
            }
            Some(Err(_)) => "record id does not fit a bigint",
            None => "record has no id",
        };
        prepared.rejected.push(Rejected {
            raw: fields_json(record),
            error: reason,
        });
    }
    prepared
}

/// Where the upsert's CTEs find their inputs: SQL expressions (bind parameters) for the
/// stream's portal, department and module key, the write time, the run, the ids, the
/// `fields` JSON texts, and the number of the first typed column's array (the others
/// follow in the table's column order).
pub(super) struct Inputs {
    pub portal: &'static str,
    pub department: &'static str,
    pub module: &'static str,
    pub synced_at: &'static str,
    pub run: &'static str,
    pub ids: &'static str,
    pub fields: &'static str,
    pub first_array: usize,
    pub lock: LockAt,
}

/// Where a statement built on the upsert's CTEs takes the change log's append lock.
#[derive(Clone, Copy, Debug)]
pub(super) enum LockAt {
    /// Before the first row is written: an init plan of the rows' one-time filter.
    FirstRow,
    /// After the rows are written, before the change log: the statement's CTE `locked`
    /// takes it (its `ok` false when the statement's gate is shut and it did not), in the
    /// statement's output, which the change log and `stream_stats` wait for. The rows'
    /// one-time filter evaluates `first` instead (SQL: the lock that says a commit is
    /// under way).
    AfterRows { first: &'static str },
}

/// The upsert's CTEs, `retired`, `upserted`, `logged` and `stats`, for `table`: the rows
/// upserted, their changes logged, and the stream's row of `stream_stats` kept (the rows
/// inserted or revived added to the live count, the newest Modified Time moved forward;
/// rows not changed are already counted there). That row is the stream's own, and every
/// other writer of it holds the append lock too, so writing it after the lock (with the
/// change log, once the statement's main query has run) adds no way to deadlock.
///
/// The change log's append lock is held from before the first change is numbered until
/// `COMMIT`. With `LockAt::FirstRow` the CTEs take it themselves, before the first write:
/// an init plan of the rows' one-time filter, evaluated before the first row is read
/// (even when there is none). With `LockAt::AfterRows` the statement takes it once the
/// rows are written (see `batch`), and the change log and `stream_stats` are written only
/// under it. A statement built on them must read `upserted` in its main query and touch
/// rows that streams share (the run's) only after the lock, in a subquery of its output:
/// taking a shared row before the lock could deadlock against a commit holding it.
pub(super) fn upsert_ctes(table: &MirrorTable, at: &Inputs) -> String {
    let cols = table.columns;
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    let arrays: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + at.first_array, c.ty.bind_array()))
        .collect();
    let selected: Vec<String> = cols
        .iter()
        .map(|c| match c.ty {
            ColumnType::Numeric => format!("u.{}::numeric", c.name),
            _ => format!("u.{}", c.name),
        })
        .collect();
    let sets: Vec<String> = cols
        .iter()
        .map(|c| format!("{0} = EXCLUDED.{0}", c.name))
        .collect();
    let (lock, when) = match at.lock {
        LockAt::FirstRow => (
            format!(
                "(SELECT pg_advisory_xact_lock({})) IS NOT NULL",
                super::change_log::APPEND_LOCK
            ),
            "true",
        ),
        LockAt::AfterRows { first } => (
            format!("(SELECT {first}) IS NOT NULL"),
            "(SELECT ok FROM locked)",
        ),
    };
    let Inputs {
        portal,
        department,
        module,
        synced_at,
        run,
        ids,
        fields,
        ..
    } = at;
    format!(
        "retired AS (\n\
         SELECT id FROM {table} WHERE portal = {portal} AND department = {department}\n\
         AND id = ANY({ids}::bigint[]) AND _deleted_at IS NOT NULL),\n\
         upserted AS (\n\
         INSERT INTO {table} AS m (portal, department, id, fields, _synced_at, {names})\n\
         SELECT {portal}::text, {department}::text, u.id, u.fields, {synced_at}::timestamptz, {selected}\n\
         FROM UNNEST({ids}::bigint[], {fields}::text[]::jsonb[], {arrays}) AS u(id, fields, {names})\n\
         WHERE {lock}\n\
         ON CONFLICT (portal, department, id) DO UPDATE SET\n\
         fields = EXCLUDED.fields, _synced_at = EXCLUDED._synced_at, _deleted_at = NULL, {sets}\n\
         WHERE m.fields IS DISTINCT FROM EXCLUDED.fields OR m._deleted_at IS NOT NULL\n\
         RETURNING m.id, (xmax = 0) AS inserted, m.modified_time),\n\
         logged AS (\n\
         INSERT INTO change_log\n\
         (portal, department, module, record_id, op, modified_time, synced_at, run_id)\n\
         SELECT {portal}::text, {department}::text, {module}::text, up.id,\n\
         CASE WHEN up.inserted OR up.id IN (SELECT id FROM retired) THEN 'insert'\n\
         ELSE 'update' END, up.modified_time, {synced_at}::timestamptz, {run}::bigint\n\
         FROM upserted up WHERE {when} ORDER BY up.id),\n\
         {stats}",
        table = table.name,
        names = names.join(", "),
        selected = selected.join(", "),
        arrays = arrays.join(", "),
        sets = sets.join(", "),
        stats = stream_stats::counted_by_upsert(
            (
                &format!("{portal}::text"),
                &format!("{department}::text"),
                &format!("{module}::text"),
            ),
            when,
        ),
    )
}

/// The upsert of `table` on its own: `$1` portal, `$2` department, `$3` synced_at, `$4`
/// ids, `$5` fields (JSON text), `$6` module, `$7` run id, `$8` the page's records, then
/// one array per typed column. Returns (inserted, updated, counted), the run's counters
/// moved after the lock (a subquery on the counted rows, evaluated once the upsert has
/// run). A page's commit uses `batch`, which adds the control rows to the same CTEs.
fn upsert_sql(table: &MirrorTable) -> String {
    let inputs = Inputs {
        portal: "$1",
        department: "$2",
        synced_at: "$3",
        ids: "$4",
        fields: "$5",
        module: "$6",
        run: "$7",
        first_array: 9,
        lock: LockAt::FirstRow,
    };
    format!(
        "WITH {ctes},\n\
         counted AS (\n\
         UPDATE runs SET pages = pages + 1, records = records + $8 WHERE id = $7 RETURNING id)\n\
         SELECT a.inserted, a.updated, (SELECT count(*) FROM counted c WHERE c.id = a.run) AS counted\n\
         FROM (SELECT count(*) FILTER (WHERE inserted) AS inserted,\n\
         count(*) FILTER (WHERE NOT inserted) AS updated, $7::bigint AS run FROM upserted) AS a",
        ctes = upsert_ctes(table, &inputs),
    )
}

/// Upserts the rows of `binds`, logs their changes and counts the page (`received`
/// records) in its run, in one statement on `conn` (a transaction whose other statements
/// have run: this one takes the change log's append lock): a dead letter's record read
/// again. Rows with nothing to upsert send nothing.
pub(super) async fn upsert(
    conn: &mut PgConnection,
    stream: &StreamKey,
    binds: &Binds,
    synced_at: DateTime<Utc>,
    (run_id, received): (i64, u64),
) -> Result<Upserted, StoreError> {
    let n = binds.len();
    if n == 0 {
        return Ok(Upserted::default());
    }
    let table = table_of(stream)?;
    let sql = upsert_sql(table);
    let rows = Merged::of(&[binds], None);
    let query = sqlx::query(&sql)
        .bind(clean_text(&stream.portal))
        .bind(clean_text(&stream.department))
        .bind(synced_at)
        .bind(rows.ids())
        .bind(rows.fields())
        .bind(stream.module.key())
        .bind(run_id)
        .bind(i64::try_from(received).unwrap_or(i64::MAX));
    let row = rows.bind_columns(query).fetch_one(conn).await?;
    let count = |name: &str| -> Result<u64, StoreError> {
        let n: i64 = row.try_get(name)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    if count("counted")? != 1 {
        return Err(StoreError::UnknownRun(run_id));
    }
    Ok(Upserted {
        inserted: count("inserted")?,
        updated: count("updated")?,
        sent: u64::try_from(n).unwrap_or(u64::MAX),
    })
}

impl Loader {
    /// The stream's mirrored rows in id order, fields as stored in the jsonb.
    pub async fn mirror_rows(&self, stream: &StreamKey) -> Result<Vec<MirrorRow>, StoreError> {
        let table = table_of(stream)?.name;
        let sql = format!(
            "SELECT id, fields FROM {table} WHERE portal = $1 AND department = $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(&stream.portal)
            .bind(&stream.department)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mirror_row).collect()
    }

    /// How many rows the stream has in its mirror table.
    pub async fn mirror_count(&self, stream: &StreamKey) -> Result<i64, StoreError> {
        let table = table_of(stream)?.name;
        let sql = format!("SELECT count(*) FROM {table} WHERE portal = $1 AND department = $2");
        let count = sqlx::query_scalar(&sql)
            .bind(&stream.portal)
            .bind(&stream.department)
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Rows of a stream whose Modified Time is after `since`: the change rate `plan` uses.
    pub async fn modified_since(
        &self,
        stream: &StreamKey,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        if stream.module.desk().is_some() {
            return self.desk_modified_since(stream, since).await;
        }
        let table = table_of(stream)?.name;
        let sql = format!(
            "SELECT count(*) FROM {table} \
             WHERE portal = $1 AND department = $2 AND modified_time > $3"
        );
        let count = sqlx::query_scalar(&sql)
            .bind(&stream.portal)
            .bind(&stream.department)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }
}

fn mirror_row(row: &sqlx::postgres::PgRow) -> Result<MirrorRow, StoreError> {
    let id: i64 = row.try_get("id")?;
    let id = u64::try_from(id)
        .map(RecordId)
        .map_err(|_| StoreError::corrupt("mirror id", id.to_string()))?;
    let fields: Json = row.try_get("fields")?;
    let Json::Object(map) = fields else {
        return Err(StoreError::corrupt("mirror fields", fields.to_string()));
    };
    let fields = map
        .into_iter()
        .map(|(label, value)| {
            let value = match value {
                Json::Null => None,
                Json::String(s) => Some(s),
                other => Some(other.to_string()),
            };
            (label, value)
        })
        .collect();
    Ok(MirrorRow { id, fields })
}
