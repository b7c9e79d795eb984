//! The Zoho Desk token cache in PostgreSQL (`desk_tokens`), shared by every process on
//! the database: the production `desk::TokenCache`. Its lock is the token row's own
//! lock: `lock` opens a transaction, makes sure the row exists and takes it `FOR
//! UPDATE`; the refresh happens while the transaction is open, and `store` writes the
//! new token and commits, which releases the lock. A holder that dies (or drops its
//! lock after a failed refresh) rolls back, so the next waiter goes on at once. A waiter
//! gives up after `LOCK_WAIT` with a retryable error rather than hang behind a stuck one.
//!
//! The access token is kept in the database, but sealed (`desk::seal`): encrypted and
//! authenticated under a key derived from the refresh token and client secret, which
//! every process that may use the token holds anyway and the database never sees. A
//! reader of the table (a backup, a reporting user) gets ciphertext and an expiry; and
//! a token is worth at most an hour even to one who also stole the credentials, who
//! could mint tokens of their own.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use super::{Loader, StoreError};
use crate::desk::token_cache::{CacheError, RefreshLock, StoredToken, TokenCache, TokenKey};

/// How long `lock` waits for another process's refresh (one token request) to end.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '60s'";

const ENSURE_ROW: &str =
    "INSERT INTO desk_tokens (org_id, client_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const READ: &str =
    "SELECT sealed_token, expires_at FROM desk_tokens WHERE org_id = $1 AND client_id = $2";
const STORE: &str = "UPDATE desk_tokens \
    SET sealed_token = $3, expires_at = $4, refreshed_at = now(), refreshes = refreshes + 1 \
    WHERE org_id = $1 AND client_id = $2";

/// The token cache of one database.
#[derive(Clone)]
pub struct PgTokenCache {
    pool: PgPool,
}

impl std::fmt::Debug for PgTokenCache {
    // The pool's options hold the database password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTokenCache").finish_non_exhaustive()
    }
}

impl Loader {
    /// The Desk token cache on this loader's database and schema.
    pub fn desk_tokens(&self) -> PgTokenCache {
        PgTokenCache {
            pool: self.pool.clone(),
        }
    }
}

type Row = (Option<Vec<u8>>, Option<DateTime<Utc>>);

fn stored(row: Option<Row>) -> Option<StoredToken> {
    match row? {
        (Some(sealed), Some(expires_at)) => Some(StoredToken { sealed, expires_at }),
        _ => None,
    }
}

fn cache_error(error: sqlx::Error) -> CacheError {
    let error = StoreError::Database(error);
    CacheError {
        detail: error.to_string(),
        retryable: error.is_retryable(),
    }
}

#[async_trait::async_trait]
impl TokenCache for PgTokenCache {
    async fn load(&self, key: &TokenKey) -> Result<Option<StoredToken>, CacheError> {
        let row: Option<Row> = sqlx::query_as(READ)
            .bind(&key.org_id)
            .bind(&key.client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(cache_error)?;
        Ok(stored(row))
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn RefreshLock>, CacheError> {
        let mut tx = self.pool.begin().await.map_err(cache_error)?;
        sqlx::query(LOCK_WAIT)
            .execute(&mut *tx)
            .await
            .map_err(cache_error)?;
        sqlx::query(ENSURE_ROW)
            .bind(&key.org_id)
            .bind(&key.client_id)
            .execute(&mut *tx)
            .await
            .map_err(cache_error)?;
        sqlx::query(&format!("{READ} FOR UPDATE"))
            .bind(&key.org_id)
            .bind(&key.client_id)
            .execute(&mut *tx)
            .await
            .map_err(cache_error)?;
        Ok(Box::new(PgLock {
            tx,
            key: key.clone(),
        }))
    }
}

/// An open transaction holding the key's row lock.
struct PgLock {
    tx: Transaction<'static, Postgres>,
    key: TokenKey,
}

#[async_trait::async_trait]
impl RefreshLock for PgLock {
    async fn load(&mut self) -> Result<Option<StoredToken>, CacheError> {
        let row: Option<Row> = sqlx::query_as(READ)
            .bind(&self.key.org_id)
            .bind(&self.key.client_id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(cache_error)?;
        Ok(stored(row))
    }

    async fn store(mut self: Box<Self>, token: StoredToken) -> Result<(), CacheError> {
        sqlx::query(STORE)
            .bind(&self.key.org_id)
            .bind(&self.key.client_id)
            .bind(&token.sealed)
            .bind(token.expires_at)
            .execute(&mut *self.tx)
            .await
            .map_err(cache_error)?;
        self.tx.commit().await.map_err(cache_error)
    }
}
