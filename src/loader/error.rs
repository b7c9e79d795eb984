//! The loader's one error type and its retry classification. Failures the database may
//! not repeat (a lost or refused connection, a pool timeout, a serialization failure, a
//! deadlock, a shutting-down server) are retryable; everything else is a bug or a
//! misconfiguration that retrying would only repeat. Error text never carries the
//! database password: connection failures are rendered once, at the edge, with the URL's
//! secret parts scrubbed.

use sqlx::migrate::MigrateError;

use crate::zoho::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
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
}

impl LoaderError {
    /// Whether the same operation may succeed if simply tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            LoaderError::Connect { retryable, .. } => *retryable,
            LoaderError::Absent | LoaderError::LeaseRace { .. } => true,
            LoaderError::Database(e) => sqlx_is_retryable(e),
            LoaderError::Migrate(MigrateError::Execute(e))
            | LoaderError::Migrate(MigrateError::ExecuteMigration(e, _)) => sqlx_is_retryable(e),
            LoaderError::Migrate(_)
            | LoaderError::SchemaName(_)
            | LoaderError::UnknownRun(_)
            | LoaderError::LeaseLost { .. }
            | LoaderError::Corrupt { .. } => false,
        }
    }

    /// A connection failure rendered with every form of the password removed.
    pub(super) fn connect(error: &sqlx::Error, url: &Secret) -> LoaderError {
        LoaderError::Connect {
            detail: scrub(&error.to_string(), url),
            retryable: sqlx_is_retryable(error),
        }
    }

    pub(super) fn corrupt(what: &'static str, detail: impl Into<String>) -> LoaderError {
        LoaderError::Corrupt {
            what,
            detail: detail.into(),
        }
    }
}

impl From<MigrateError> for LoaderError {
    fn from(e: MigrateError) -> Self {
        LoaderError::Migrate(e)
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
pub const DATABASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs `op`, and while it fails with a retryable error (a lost connection, a restarting
/// server) tries it again with backoff, for up to `DATABASE_PATIENCE`. The operations
/// passed here are idempotent (a page commit, a reservation not yet used), so trying one
/// again after an unknown outcome is safe.
pub async fn patiently<T, F, Fut>(what: &str, mut op: F) -> Result<T, LoaderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, LoaderError>>,
{
    let started = std::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(200);
    loop {
        match op().await {
            Err(e) if e.is_retryable() && started.elapsed() < DATABASE_PATIENCE => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database unavailable during {what}; waiting");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
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
        assert!(LoaderError::Database(io).is_retryable());
        assert!(!LoaderError::UnknownRun(3).is_retryable());
    }
}
