//! Stream leases: the rows that let any number of processes share one database while
//! each stream is worked by one of them at a time. A lease is taken (or renewed) by one
//! atomic upsert that succeeds only when the stream is free, expired, or already ours;
//! every page commit renews it inside the page's transaction and aborts the page if the
//! lease was lost meanwhile, so a process that stalled past its lease can never commit
//! over the process that took the stream over.

use std::time::Duration;

use super::{Loader, LoaderError, StreamKey};

/// A lease this process holds on a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub stream: StreamKey,
    pub holder: String,
    pub ttl: Duration,
}

const TAKE: &str = "\
    INSERT INTO stream_leases AS l (portal, department, module, holder, expires_at) \
    VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) \
    ON CONFLICT (portal, department, module) DO UPDATE \
        SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, \
            acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END \
        WHERE l.holder = EXCLUDED.holder OR l.expires_at < now() \
    RETURNING holder";

const RENEW: &str = "\
    UPDATE stream_leases SET expires_at = now() + make_interval(secs => $5) \
    WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $4";

impl Loader {
    /// Takes the stream for `holder` for `ttl`, or `None` while another holds it.
    pub async fn take_lease(
        &self,
        stream: &StreamKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, LoaderError> {
        let taken: Option<String> = sqlx::query_scalar(TAKE)
            .bind(&stream.portal)
            .bind(&stream.department)
            .bind(stream.module.url_name())
            .bind(holder)
            .bind(ttl.as_secs_f64())
            .fetch_optional(&self.pool)
            .await?;
        Ok(taken.map(|holder| Lease {
            stream: stream.clone(),
            holder,
            ttl,
        }))
    }

    /// Gives the stream up (a stop, or the end of its pass).
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), LoaderError> {
        sqlx::query(
            "DELETE FROM stream_leases \
             WHERE portal = $1 AND department = $2 AND module = $3 AND holder = $4",
        )
        .bind(&lease.stream.portal)
        .bind(&lease.stream.department)
        .bind(lease.stream.module.url_name())
        .bind(&lease.holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Who holds each stream now (expired leases excluded), for `status`.
    pub async fn lease_holders(&self) -> Result<Vec<(StreamKey, String)>, LoaderError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT portal, department, module, holder FROM stream_leases \
             WHERE expires_at >= now() ORDER BY portal, department, module",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(portal, department, module, holder)| {
                let module = crate::zoho::module::Module::parse(&module)?;
                Some((
                    StreamKey {
                        portal,
                        department,
                        module,
                    },
                    holder,
                ))
            })
            .collect())
    }
}

/// Renews `lease` inside a page's transaction; fails the page if the lease was lost.
pub(super) async fn renew(conn: &mut sqlx::PgConnection, lease: &Lease) -> Result<(), LoaderError> {
    let renewed = sqlx::query(RENEW)
        .bind(&lease.stream.portal)
        .bind(&lease.stream.department)
        .bind(lease.stream.module.url_name())
        .bind(&lease.holder)
        .bind(lease.ttl.as_secs_f64())
        .execute(conn)
        .await?
        .rows_affected();
    if renewed == 1 {
        Ok(())
    } else {
        Err(LoaderError::LeaseLost {
            stream: lease.stream.to_string(),
        })
    }
}
