//! The token cache seam: where an organisation's access token is kept between requests
//! and between processes, and the lock that makes its refresh single-flight (D5). Zoho
//! grants 10 refreshes per refresh token per 10 minutes and answers the 11th with a
//! throttle, so a fleet of processes must share one token.
//!
//! The contract every implementation keeps: `load` returns the last token stored for a
//! key, never waiting on a refresh; `lock` returns only once its caller is the one
//! holder of the key's refresh lock among every caller of every process sharing the
//! cache, and the lock is released when the `RefreshLock` is stored through or dropped
//! (a crashed holder's lock is released too). A caller that wants a new token takes the
//! lock, re-reads the cache under it, refreshes only if the token there is still not
//! good enough, stores, and releases: so N callers needing a token at once cause one
//! refresh. `TokenSource` is that caller; `MemoryTokenCache` (one process, tests) and
//! `loader::desk_tokens::PgTokenCache` (every process on one database) implement it.
//! Caches hold tokens sealed (`desk::seal`), never in clear.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Which token: one per organisation and self client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// The organisation's id (digits).
    pub org_id: String,
    pub client_id: String,
}

/// An access token as caches keep it: sealed, with its expiry in clear (so a cache can
/// say how old its token is without the credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub sealed: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("sealed_bytes", &self.sealed.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A cache that cannot be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the access-token cache failed: {detail}")]
pub struct CacheError {
    /// Free of secrets (the database URL's password is scrubbed by the loader).
    pub detail: String,
    pub retryable: bool,
}

impl CacheError {
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// Where access tokens are shared; see the module's contract.
#[async_trait::async_trait]
pub trait TokenCache: Send + Sync + fmt::Debug {
    /// The token last stored for `key`, without waiting on a refresh in progress.
    async fn load(&self, key: &TokenKey) -> Result<Option<StoredToken>, CacheError>;

    /// Becomes the one holder of `key`'s refresh lock, waiting while another holds it.
    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn RefreshLock>, CacheError>;
}

/// The refresh lock of one key, held until stored through or dropped.
#[async_trait::async_trait]
pub trait RefreshLock: Send {
    /// The token stored for the key, read under the lock.
    async fn load(&mut self) -> Result<Option<StoredToken>, CacheError>;

    /// Stores a new token for the key and releases the lock.
    async fn store(self: Box<Self>, token: StoredToken) -> Result<(), CacheError>;
}

/// The cache of one process: a token and a lock per key.
#[derive(Debug, Default)]
pub struct MemoryTokenCache {
    slots: Mutex<HashMap<TokenKey, Arc<Slot>>>,
}

#[derive(Debug, Default)]
struct Slot {
    token: Mutex<Option<StoredToken>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
}

impl MemoryTokenCache {
    pub fn new() -> MemoryTokenCache {
        MemoryTokenCache::default()
    }

    fn slot(&self, key: &TokenKey) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }
}

#[async_trait::async_trait]
impl TokenCache for MemoryTokenCache {
    async fn load(&self, key: &TokenKey) -> Result<Option<StoredToken>, CacheError> {
        Ok(self.slot(key).read())
    }

    async fn lock(&self, key: &TokenKey) -> Result<Box<dyn RefreshLock>, CacheError> {
        let slot = self.slot(key);
        let guard = slot.refresh.clone().lock_owned().await;
        Ok(Box::new(MemoryLock {
            slot,
            _guard: guard,
        }))
    }
}

impl Slot {
    fn read(&self) -> Option<StoredToken> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct MemoryLock {
    slot: Arc<Slot>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

#[async_trait::async_trait]
impl RefreshLock for MemoryLock {
    async fn load(&mut self) -> Result<Option<StoredToken>, CacheError> {
        Ok(self.slot.read())
    }

    async fn store(self: Box<Self>, token: StoredToken) -> Result<(), CacheError> {
        *self.slot.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key() -> TokenKey {
        TokenKey {
            org_id: "1".into(),
            client_id: "c".into(),
        }
    }

    #[tokio::test]
    async fn a_second_lock_waits_until_the_first_is_stored_through_and_then_sees_its_token() {
        let cache = Arc::new(MemoryTokenCache::new());
        let first = cache.lock(&key()).await.unwrap();
        let waiter = {
            let cache = cache.clone();
            tokio::spawn(async move {
                let mut second = cache.lock(&key()).await.unwrap();
                second.load().await.unwrap()
            })
        };
        // The second caller cannot hold the lock while the first does.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), cache.lock(&key()))
                .await
                .is_err()
        );
        assert!(!waiter.is_finished());
        let token = StoredToken {
            sealed: vec![1, 2, 3],
            expires_at: Utc::now(),
        };
        first.store(token.clone()).await.unwrap();
        assert_eq!(waiter.await.unwrap(), Some(token.clone()));
        assert_eq!(cache.load(&key()).await.unwrap(), Some(token));
    }

    #[tokio::test]
    async fn a_dropped_lock_is_released_without_storing() {
        let cache = MemoryTokenCache::new();
        drop(cache.lock(&key()).await.unwrap());
        let mut again = cache.lock(&key()).await.unwrap();
        assert_eq!(again.load().await.unwrap(), None);
    }
}
