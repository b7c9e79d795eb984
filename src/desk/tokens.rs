//! One organisation's access token, as every request of its `DeskClient`s gets it. A
//! token is reused until `REFRESH_MARGIN` before it expires (D5); a new one is made by
//! the refresh grant under the cache's refresh lock, after the cache was read again
//! under that lock, so however many callers (tasks of this process, or other processes
//! sharing the cache) need a token at once, one refresh is made and the rest reuse it.
//! In this process the callers also queue on one mutex first, so that at most one
//! of them waits on the cache's lock (a database connection) at a time.
//!
//! A token the API refused (401 `INVALID_OAUTH`) is replaced by `replace`, which
//! refreshes only if the cache still holds that very token: a refusal seen by many
//! callers at once causes one refresh, and the callers retry once with the new token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::desk::auth::{Accounts, ClientCredentials, Grant};
use crate::desk::error::DeskError;
use crate::desk::seal::Sealer;
use crate::desk::token_cache::{StoredToken, TokenCache, TokenKey};
use crate::zoho::secret::Secret;

/// How long before its expiry a token is no longer used (D5).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An access token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// Whether the token may still be used at `now`: more than `REFRESH_MARGIN` left.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        chrono::Duration::from_std(REFRESH_MARGIN)
            .ok()
            .and_then(|margin| now.checked_add_signed(margin))
            .is_some_and(|limit| limit < self.expires_at)
    }
}

/// The access tokens of one organisation and self client.
#[derive(Debug)]
pub struct TokenSource {
    key: TokenKey,
    accounts: Accounts,
    credentials: ClientCredentials,
    refresh_token: Secret,
    cache: Arc<dyn TokenCache>,
    sealer: Sealer,
    /// This process's copy, and the queue of its callers.
    current: tokio::sync::Mutex<Option<AccessToken>>,
    refreshes: AtomicU64,
}

impl TokenSource {
    pub fn new(
        org_id: &str,
        accounts: Accounts,
        credentials: ClientCredentials,
        refresh_token: Secret,
        cache: Arc<dyn TokenCache>,
    ) -> TokenSource {
        let key = TokenKey {
            org_id: org_id.to_string(),
            client_id: credentials.client_id.clone(),
        };
        let sealer = Sealer::new(&refresh_token, &credentials.client_secret, &key);
        TokenSource {
            key,
            accounts,
            credentials,
            refresh_token,
            cache,
            sealer,
            current: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    pub fn key(&self) -> &TokenKey {
        &self.key
    }

    /// How many refresh grants this source has made.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// A token fresh enough to send: this process's, the cache's, or a new one.
    pub async fn token(&self) -> Result<AccessToken, DeskError> {
        let mut current = self.current.lock().await;
        let now = Utc::now();
        if let Some(token) = current.as_ref().filter(|t| t.is_fresh(now)) {
            return Ok(token.clone());
        }
        let cached = self.cache.load(&self.key).await?;
        if let Some(token) = self.open(cached).filter(|t| t.is_fresh(now)) {
            *current = Some(token.clone());
            return Ok(token);
        }
        let token = self.refresh_unless_replaced(None).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// A token other than `rejected`, which the API refused: one another caller stored
    /// meanwhile, or a new one.
    pub async fn replace(&self, rejected: &AccessToken) -> Result<AccessToken, DeskError> {
        let mut current = self.current.lock().await;
        let now = Utc::now();
        let replaced = current
            .as_ref()
            .filter(|t| t.is_fresh(now) && t.token != rejected.token);
        if let Some(token) = replaced {
            return Ok(token.clone());
        }
        let token = self.refresh_unless_replaced(Some(&rejected.token)).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// Under the cache's lock: the cached token if it is fresh and not `rejected`, else
    /// a refresh, stored before the lock is released.
    async fn refresh_unless_replaced(
        &self,
        rejected: Option<&Secret>,
    ) -> Result<AccessToken, DeskError> {
        let mut lock = self.cache.lock(&self.key).await?;
        let started = Utc::now();
        let usable = self
            .open(lock.load().await?)
            .filter(|t| t.is_fresh(started) && Some(&t.token) != rejected);
        if let Some(token) = usable {
            return Ok(token);
        }
        let grant = Grant::Refresh(self.refresh_token.clone());
        // On failure the lock is dropped, so released: the next caller tries again.
        let reply = self.accounts.grant(&self.credentials, &grant).await?;
        // Counted from before the request: the token surely expires no earlier.
        let lifetime = chrono::Duration::from_std(reply.expires_in).unwrap_or_default();
        let token = AccessToken {
            token: reply.access_token,
            expires_at: started + lifetime,
        };
        lock.store(StoredToken {
            sealed: self.sealer.seal(&token.token),
            expires_at: token.expires_at,
        })
        .await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            org_id = %self.key.org_id, expires_at = %token.expires_at,
            "refreshed the Zoho Desk access token"
        );
        Ok(token)
    }

    /// A cached token, if it opens with this source's credentials.
    fn open(&self, stored: Option<StoredToken>) -> Option<AccessToken> {
        let stored = stored?;
        match self.sealer.open(&stored.sealed) {
            Some(token) => Some(AccessToken {
                token,
                expires_at: stored.expires_at,
            }),
            None => {
                tracing::info!(
                    org_id = %self.key.org_id,
                    "the cached access token was sealed under other credentials; it is replaced"
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring_in(secs: i64) -> AccessToken {
        AccessToken {
            token: Secret::new("t"),
            expires_at: Utc::now() + chrono::Duration::seconds(secs),
        }
    }

    #[test]
    fn a_token_is_fresh_only_with_more_than_five_minutes_left() {
        let now = Utc::now();
        assert!(expiring_in(3600).is_fresh(now));
        assert!(expiring_in(310).is_fresh(now));
        assert!(!expiring_in(290).is_fresh(now));
        assert!(!expiring_in(-10).is_fresh(now));
    }

    #[test]
    fn times_at_the_ends_of_the_calendar_never_overflow() {
        let far = AccessToken {
            token: Secret::new("t"),
            expires_at: DateTime::<Utc>::MAX_UTC,
        };
        assert!(far.is_fresh(Utc::now()));
        assert!(!far.is_fresh(DateTime::<Utc>::MAX_UTC));
    }
}
