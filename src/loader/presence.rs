//! This process's presence in the database: a session-level advisory lock on a random
//! 64-bit key, held on one connection of its own (outside the pool, whose connections
//! come and go) for as long as the `Loader` lives. Lease rows carry the key, so any
//! process can tell a live holder (its lock is held) from a dead one (PostgreSQL dropped
//! the lock with the session), and takes a dead holder's streams at once instead of
//! waiting for the lease to expire.
//!
//! Invariant: no lease is taken while `alive` is false, and `alive` turns false within
//! `CHECK_EVERY` (plus `CHECK_TIMEOUT`) of the lock session's loss; a lease taken before
//! the loss is noticed names a key nobody holds, so others may take it at once, which is
//! safe for the reason that follows. The lock is a liveness *hint*; the fencing never
//! depends on it. A page commits only if its transaction's `renew` finds the lease row
//! still naming this holder, and a takeover rewrites that row under the same row lock, so
//! whatever happens to the lock session, two processes never both commit pages of one
//! stream past each other. So when the lock connection is lost (a database restart, a
//! cut network), the database sees our leases as free from that moment, which is the
//! truth: we no longer prove that we are alive; the watchdog marks us absent. Passes
//! in progress go on; if another process takes one of their streams meanwhile, their
//! next commit is refused as a lost lease. The watchdog then takes the *same* key again
//! on a new connection (retrying while an old session of ours that the server has not yet
//! noticed is gone still holds it), so the lease rows we kept name a live holder again,
//! and lease taking resumes.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{watch, Mutex};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::StoreError;

/// How often the watchdog checks that the lock session is still there.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// A check that takes longer counts as a lost session.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two attempts to take the key again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The lock session (started on first use) and what the rest of the loader may know
/// about it.
#[derive(Default)]
pub(super) struct Presence {
    started: Mutex<Option<Watchdog>>,
}

/// The running watchdog: our key, whether its lock is held now, and the guard that stops
/// the watchdog (closing the session, which releases the lock) when the loader goes.
struct Watchdog {
    key: i64,
    alive: watch::Receiver<bool>,
    _stop: DropGuard,
}

impl Presence {
    /// Our key, once its lock is held (on a session to the pool's database, started on
    /// first use); a retryable error while a lost session is being replaced.
    pub(super) async fn key(&self, pool: &PgPool) -> Result<i64, StoreError> {
        let mut started = self.started.lock().await;
        if let Some(watchdog) = started.as_ref() {
            return if *watchdog.alive.borrow() {
                Ok(watchdog.key)
            } else {
                Err(StoreError::Absent)
            };
        }
        let options = PgConnectOptions::clone(&pool.connect_options());
        let (key, session) = first_lock(&options).await?;
        let (alive_tx, alive) = watch::channel(true);
        let stop = CancellationToken::new();
        tokio::spawn(watch_session(session, options, key, alive_tx, stop.clone()));
        *started = Some(Watchdog {
            key,
            alive,
            _stop: stop.drop_guard(),
        });
        Ok(key)
    }
}

/// A new key and its locked session (a key some session already holds, which only a
/// 1 in 2^64 draw gives, is drawn again).
async fn first_lock(options: &PgConnectOptions) -> Result<(i64, PgConnection), StoreError> {
    loop {
        let key: i64 = rand::random();
        if let Some(session) = lock(options, key).await? {
            tracing::debug!(key, "presence lock taken");
            return Ok((key, session));
        }
    }
}

/// A new session holding `key`, or `None` when another session holds it.
async fn lock(options: &PgConnectOptions, key: i64) -> Result<Option<PgConnection>, StoreError> {
    let mut session = PgConnection::connect_with(options).await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut session)
        .await?;
    if locked {
        Ok(Some(session))
    } else {
        // Closing a session we do not need: a failure only loses it sooner.
        let _ = session.close().await;
        Ok(None)
    }
}

/// Checks the lock session every `CHECK_EVERY`; when it is lost, says so and takes the
/// same key again on a new session. Ends (closing the session) when `stop` fires.
async fn watch_session(
    mut session: PgConnection,
    options: PgConnectOptions,
    key: i64,
    alive: watch::Sender<bool>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                let _ = session.close().await;
                return;
            }
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
        let checked = tokio::time::timeout(CHECK_TIMEOUT, session.ping()).await;
        if matches!(checked, Ok(Ok(()))) {
            continue;
        }
        alive.send_replace(false);
        tracing::warn!(
            key,
            "lost the database session that proves this process alive; its leases look free until it is back"
        );
        drop(session);
        let Some(again) = relock(&options, key, &stop).await else {
            return;
        };
        session = again;
        alive.send_replace(true);
        tracing::info!(key, "the presence lock is held again");
    }
}

/// Takes `key` again on a new session, with backoff; `None` when stopped first.
async fn relock(
    options: &PgConnectOptions,
    key: i64,
    stop: &CancellationToken,
) -> Option<PgConnection> {
    let mut delay = Duration::from_millis(200);
    loop {
        let attempt = tokio::select! {
            () = stop.cancelled() => return None,
            attempt = lock(options, key) => attempt,
        };
        match attempt {
            Ok(Some(session)) => return Some(session),
            Ok(None) => tracing::debug!(key, "an old session still holds the key; waiting"),
            Err(error) => tracing::debug!(%error, "cannot take the presence lock yet"),
        }
        tokio::select! {
            () = stop.cancelled() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}
