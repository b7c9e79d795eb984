//! Stream leases: the rows that let any number of processes share one database while
//! each stream is worked by one of them at a time. A lease is taken (or renewed) by one
//! atomic upsert that succeeds only when the stream is free, expired, held by a process
//! that is no longer alive (its presence lock is gone, see `presence`), or already ours;
//! every page commit renews it inside the page's transaction and aborts the page if the
//! lease was lost meanwhile, so a process that stalled past its lease, or whose presence
//! lapsed while another took its stream, can never commit over the process that took the
//! stream over. A row names its holder's host, pid and since when it holds the stream, so
//! a process that finds a stream taken can say by whom.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::limits::{self, Work};
use super::{Loader, StoreError, StreamKey};
use crate::store::Claim;
use crate::store::Holder;
use crate::store::Holding;
use crate::store::Lease;
use crate::stream::Module as StreamModule;

/// A lease row and whether it still counts (unexpired, its holder alive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamLease {
    pub stream: StreamKey,
    pub holding: Holding,
    pub live: bool,
}

/// Takes the stream, or reports the row that kept us from it. `before` is read in the
/// statement's snapshot, so it is the row the upsert found (unless that row was inserted
/// by a transaction that committed after the snapshot: then neither part returns a row,
/// and the caller asks again).
const TAKE: &str = "\
    WITH before AS ( \
        SELECT holder, host, pid, acquired_at FROM stream_leases \
        WHERE portal = $1 AND department = $2 AND module = $3 \
    ), taken AS ( \
        INSERT INTO stream_leases AS l \
            (portal, department, module, holder, host, pid, holder_key, expires_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8)) \
        ON CONFLICT (portal, department, module) DO UPDATE \
            SET holder = EXCLUDED.holder, host = EXCLUDED.host, pid = EXCLUDED.pid, \
                holder_key = EXCLUDED.holder_key, expires_at = EXCLUDED.expires_at, \
                acquired_at = CASE WHEN l.holder = EXCLUDED.holder \
                              THEN l.acquired_at ELSE now() END \
            WHERE l.holder = EXCLUDED.holder OR l.expires_at < now() \
               OR (l.holder_key IS NOT NULL AND NOT zoho_sync_holder_alive(l.holder_key)) \
        RETURNING holder, host, pid, acquired_at \
    ) \
    SELECT true, holder, host, pid, acquired_at FROM taken \
    UNION ALL \
    SELECT false, holder, host, pid, acquired_at FROM before \
    WHERE NOT EXISTS (SELECT 1 FROM taken)";

/// A lease counts while it is unexpired and its holder is alive (rows without a key:
/// until they expire). `take` frees exactly the rows this says are not live.
const LIVE: &str =
    "expires_at >= now() AND (holder_key IS NULL OR zoho_sync_holder_alive(holder_key))";

const RENEW: &str = "\
    UPDATE stream_leases SET expires_at = now() + make_interval(secs => $5) \
    WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $4";

/// Attempts at `take` before giving up (retryably): each failed one saw a row appear and
/// vanish between two statements, which only a burst of takes and releases does.
const TAKE_ATTEMPTS: usize = 5;

type TakeRow = (bool, String, Option<String>, Option<i32>, DateTime<Utc>);

impl Loader {
    /// Takes the stream for `holder` for `ttl` (proving this process alive to others
    /// through its presence lock), or says who holds it.
    pub async fn take_lease(
        &self,
        stream: &StreamKey,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let key = self.presence.key(&self.pool).await?;
        for _ in 0..TAKE_ATTEMPTS {
            let mut tx = limits::begin(&self.pool, Work::Page).await?;
            let row: Option<TakeRow> = sqlx::query_as(TAKE)
                .bind(&stream.portal)
                .bind(&stream.department)
                .bind(stream.module.key())
                .bind(&holder.name)
                .bind(&holder.host)
                .bind(i32::try_from(holder.pid).ok())
                .bind(key)
                .bind(ttl.as_secs_f64())
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            match row {
                Some((true, name, ..)) => {
                    return Ok(Claim::Taken(Lease {
                        stream: stream.clone(),
                        holder: name,
                        ttl,
                    }))
                }
                Some((false, holder, host, pid, since)) => {
                    return Ok(Claim::Held(Holding {
                        holder,
                        host,
                        pid,
                        since,
                    }))
                }
                None => continue,
            }
        }
        Err(StoreError::LeaseRace {
            stream: stream.to_string(),
        })
    }

    /// Gives the stream up (a stop, or the end of its pass).
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut tx = limits::begin(&self.pool, Work::Page).await?;
        sqlx::query(
            "DELETE FROM stream_leases \
             WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $4",
        )
        .bind(&lease.stream.portal)
        .bind(&lease.stream.department)
        .bind(lease.stream.module.key())
        .bind(&lease.holder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who holds each stream now (expired leases and dead holders excluded).
    pub async fn lease_holders(&self) -> Result<Vec<(StreamKey, String)>, StoreError> {
        Ok(self
            .leases()
            .await?
            .into_iter()
            .filter(|l| l.live)
            .map(|l| (l.stream, l.holding.holder))
            .collect())
    }

    /// Every lease row, live or not, by stream.
    pub async fn leases(&self) -> Result<Vec<StreamLease>, StoreError> {
        let sql = format!(
            "SELECT portal, department, module, holder, host, pid, acquired_at, {LIVE} \
             FROM stream_leases ORDER BY portal, department, module"
        );
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<i32>,
            DateTime<Utc>,
            bool,
        );
        let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(portal, department, module, holder, host, pid, since, live)| {
                    Some(StreamLease {
                        stream: StreamKey {
                            portal,
                            module: StreamModule::from_key(&department, &module)?,
                            department,
                        },
                        holding: Holding {
                            holder,
                            host,
                            pid,
                            since,
                        },
                        live,
                    })
                },
            )
            .collect())
    }
}

/// Renews `lease` inside a page's transaction; fails the page if the lease was lost.
pub(super) async fn renew(conn: &mut sqlx::PgConnection, lease: &Lease) -> Result<(), StoreError> {
    let renewed = sqlx::query(RENEW)
        .bind(&lease.stream.portal)
        .bind(&lease.stream.department)
        .bind(lease.stream.module.key())
        .bind(&lease.holder)
        .bind(lease.ttl.as_secs_f64())
        .execute(conn)
        .await?
        .rows_affected();
    if renewed == 1 {
        Ok(())
    } else {
        Err(StoreError::LeaseLost {
            stream: lease.stream.to_string(),
        })
    }
}
