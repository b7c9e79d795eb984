//! How long our writes may wait inside PostgreSQL. A page commit, a sweep page and a
//! lease statement set a lock timeout and a statement timeout on their own transaction
//! (`SET LOCAL`, so pooled connections keep the server's defaults for everything else,
//! migrations included). The client side of a stop never waits on them (a stop drops the
//! wait, see `patiently`); these bound the *server* side: a transaction left waiting on
//! a lock by a process that stopped or died ends by itself within `LOCK_TIMEOUT`, and so
//! releases the lease row it renewed, instead of holding it until the lock is granted.
//! Both timeouts fail retryably (SQLSTATE 55P03, 57014), so a wait that runs out is tried
//! again, patiently, while nobody asked us to stop. `begin` sets them with the `BEGIN`
//! itself, in one round trip.

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;

/// The longest a statement of ours waits for a lock (a row, a table, the change log's
/// append lock) before it fails and is tried again.
pub(super) const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one statement of a transaction may run.
#[derive(Clone, Copy, Debug)]
pub(super) enum Work {
    /// A page's rows, a lease: a few hundred rows at most.
    Page,
    /// A sweep page, whose last one marks every record the sweep did not see: a scan of
    /// the whole mirror table.
    Sweep,
}

impl Work {
    fn statement_timeout(self) -> Duration {
        match self {
            Work::Page => Duration::from_secs(60),
            Work::Sweep => Duration::from_secs(600),
        }
    }
}

/// Begins a transaction with its timeouts set, in one round trip (the simple query
/// protocol runs the settings with the `BEGIN`).
pub(super) async fn begin(
    pool: &PgPool,
    work: Work,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let statement = format!(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'",
        LOCK_TIMEOUT.as_millis(),
        work.statement_timeout().as_millis()
    );
    Ok(pool.begin_with(statement).await?)
}
