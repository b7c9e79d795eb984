//! The store's one error type and its retry classification. Failures the database may
//! not repeat (a lost or refused connection, a pool timeout, a serialization failure, a
//! deadlock, a shutting-down server) are retryable; everything else is a bug or a
//! misconfiguration that retrying would only repeat. Error text never carries the
//! database password: connection failures are rendered once, at the edge, with the URL's
//! secret parts scrubbed.

use std::time::Duration;

use sqlx::migrate::MigrateError;
use tokio_util::sync::CancellationToken;

use crate::zoho::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The first connection failed; `detail` is already scrubbed of the password.
    #[error("cannot connect to PostgreSQL: {detail}")]
    Connect { detail: String, retryable: bool },
    #[error("invalid schema name `{0}`: it must be 1 to 63 bytes without NUL")]
    SchemaName(String),
    #[error("database migration failed: {0}")]
    Migrate(#[source] MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("run {0} does not exist")]
    UnknownRun(i64),
    /// Another process took the stream over (this one stalled past its lease).
    #[error("the lease on {stream} was lost to another process")]
    LeaseLost { stream: String },
    /// A stored value no writer of ours can have produced.
    #[error("stored {what} is invalid: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// The session proving this process alive was lost and is being replaced; no lease
    /// is taken meanwhile.
    #[error("this process's presence lock on the database is being taken again")]
    Absent,
    /// The stream's lease row kept changing hands while this process tried to take it.
    #[error("the lease on {stream} changed hands while it was being taken")]
    LeaseRace { stream: String },
    /// A stop was asked for while waiting (see `patiently`).
    #[error("stopped while waiting for {waiting_for}")]
    Cancelled { waiting_for: String },
    /// A write the store refused for good (the in-memory store's injected failures).
    #[error("the store refused the write: {0}")]
    Refused(String),
}

impl StoreError {
    /// Whether the same operation may succeed if simply tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Connect { retryable, .. } => *retryable,
            StoreError::Absent | StoreError::LeaseRace { .. } => true,
            StoreError::Database(e) => sqlx_is_retryable(e),
            StoreError::Migrate(MigrateError::Execute(e))
            | StoreError::Migrate(MigrateError::ExecuteMigration(e, _)) => sqlx_is_retryable(e),
            StoreError::Migrate(_)
            | StoreError::SchemaName(_)
            | StoreError::UnknownRun(_)
            | StoreError::LeaseLost { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Cancelled { .. }
            | StoreError::Refused(_) => false,
        }
    }

    /// A connection failure rendered with every form of the password removed.
    pub(crate) fn connect(error: &sqlx::Error, url: &Secret) -> StoreError {
        StoreError::Connect {
            detail: scrub(&error.to_string(), url),
            retryable: sqlx_is_retryable(error),
        }
    }

    pub(crate) fn corrupt(what: &'static str, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            what,
            detail: detail.into(),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(e: MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

/// SQLSTATEs worth a retry: connection exceptions (class 08), serialization failure,
/// deadlock, the server shutting down or starting, too many connections, and our own
/// lock and statement timeouts (`limits`): the lock or the load may be gone next time.
fn retryable_state(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300" | "55P03" | "57014"
        )
}

fn sqlx_is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| retryable_state(&c)),
        _ => false,
    }
}

/// Removes the URL, its password (raw and percent-decoded) and any `password=` query
/// parameter from a message.
fn scrub(message: &str, url: &Secret) -> String {
    let mut out = crate::zoho::secret::redact_url(message);
    let text = url.expose();
    let mut secrets = vec![text.to_string()];
    if let Ok(parsed) = url::Url::parse(text) {
        if let Some(raw) = parsed.password() {
            secrets.push(raw.to_string());
            secrets.push(percent_decode(raw));
        }
    }
    for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
        out = out.replace(&secret, "***");
    }
    out
}

/// `%XX` escapes decoded, as the driver decodes the password before using it.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How long an operation waits out a database that is restarting or unreachable.
pub const DATABASE_PATIENCE: Duration = Duration::from_secs(300);

/// Runs `op`, and while it fails with a retryable error (a lost connection, a restarting
/// server, a lock timeout) tries it again with backoff, for up to `DATABASE_PATIENCE`.
/// The operations passed here are idempotent (a page commit, a reservation not yet used),
/// so trying one again after an unknown outcome is safe. A stop (`cancel`) ends it with
/// `StoreError::Cancelled`: no retry starts after the stop, and the attempt in flight
/// gets `shutdown::IN_FLIGHT` to finish (a page commit usually lands) before it is
/// dropped; a transaction dropped mid-way rolls back (or, if its commit was already
/// sent, is committed whole), so the state it leaves is one a crash could leave too.
pub async fn patiently<T, F, Fut>(
    what: &str,
    cancel: &CancellationToken,
    op: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    patiently_cut(what, cancel, crate::shutdown::IN_FLIGHT, op).await
}

/// `patiently`, an attempt in flight at a stop cut after `in_flight`.
async fn patiently_cut<T, F, Fut>(
    what: &str,
    cancel: &CancellationToken,
    in_flight: Duration,
    mut op: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let _named = crate::shutdown::waiting(what);
    let cancelled = || StoreError::Cancelled {
        waiting_for: what.to_string(),
    };
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let outcome = tokio::select! {
            outcome = op() => outcome,
            () = crate::shutdown::cut(cancel, in_flight) => return Err(cancelled()),
        };
        match outcome {
            Err(e) if e.is_retryable() && started.elapsed() < DATABASE_PATIENCE => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database unavailable during {what}; waiting");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => return Err(cancelled()),
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_scrubbed_in_every_spelling() {
        let url = Secret::new("postgres://app:p%40ss@db:5432/x");
        let text = scrub(
            "failed for postgres://app:p%40ss@db:5432/x: p@ss p%40ss",
            &url,
        );
        assert!(!text.contains("p@ss") && !text.contains("p%40ss"), "{text}");
    }

    #[test]
    fn deadlocks_and_lost_connections_are_retryable_and_bad_runs_are_not() {
        assert!(retryable_state("40P01") && retryable_state("08006"));
        assert!(!retryable_state("23505"));
        let io = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(StoreError::Database(io).is_retryable());
        assert!(!StoreError::UnknownRun(3).is_retryable());
    }

    fn lost_connection() -> StoreError {
        StoreError::Database(sqlx::Error::Io(
            std::io::ErrorKind::ConnectionRefused.into(),
        ))
    }

    #[tokio::test]
    async fn patiently_waits_out_a_lost_connection_until_it_is_back() {
        let cancel = CancellationToken::new();
        let mut attempts = 0;
        let outcome = patiently("a test commit", &cancel, || {
            attempts += 1;
            let fails = attempts < 3;
            async move {
                if fails {
                    Err(lost_connection())
                } else {
                    Ok(attempts)
                }
            }
        })
        .await;
        assert_eq!(outcome.unwrap(), 3);
    }

    /// Cancels `cancel` after `delay`.
    fn stop_after(cancel: &CancellationToken, delay: Duration) {
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            stopper.cancel();
        });
    }

    #[tokio::test]
    async fn patiently_stops_waiting_for_a_database_that_is_down_when_cancelled() {
        let cancel = CancellationToken::new();
        stop_after(&cancel, Duration::from_millis(300));
        let started = std::time::Instant::now();
        let outcome: Result<(), _> = patiently("a test commit", &cancel, || async {
            Err(lost_connection())
        })
        .await;
        let Err(StoreError::Cancelled { waiting_for }) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(waiting_for, "a test commit");
        // Not the five minutes of its patience, nor the next backoff.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn patiently_lets_an_attempt_in_flight_at_a_stop_finish() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let in_flight = Duration::from_secs(5);
        let outcome = patiently_cut("a commit under way", &cancel, in_flight, || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(7)
        })
        .await;
        assert_eq!(outcome.unwrap(), 7);
        let retried: Result<(), _> =
            patiently_cut("a failing commit", &cancel, in_flight, || async {
                Err(lost_connection())
            })
            .await;
        assert!(
            matches!(retried, Err(StoreError::Cancelled { .. })),
            "no retry after a stop: {retried:?}"
        );
    }

    #[tokio::test]
    async fn patiently_abandons_an_attempt_that_hangs_past_the_stop() {
        let cancel = CancellationToken::new();
        stop_after(&cancel, Duration::from_millis(100));
        let in_flight = Duration::from_millis(200);
        let outcome: Result<(), _> = patiently_cut("a locked commit", &cancel, in_flight, || {
            std::future::pending::<Result<(), StoreError>>()
        })
        .await;
        assert!(
            matches!(outcome, Err(StoreError::Cancelled { .. })),
            "{outcome:?}"
        );
        let stop = StoreError::Cancelled {
            waiting_for: String::new(),
        };
        assert!(!stop.is_retryable(), "a stop is not retried");
    }

    #[test]
    fn lock_and_statement_timeouts_are_retryable() {
        assert!(retryable_state("55P03") && retryable_state("57014"));
    }
}
