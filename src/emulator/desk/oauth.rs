//! Zoho Accounts for the Desk side (section 2, D2-D5): the self clients of every
//! organisation, their refresh tokens, the access tokens they mint and the grant codes an
//! admin call hands out. Limits as Zoho states them: at most 10 successful refreshes per
//! refresh token in any 600 s, at most 30 live access tokens per refresh token (the 31st
//! invalidates the oldest), 20 refresh tokens per client (the 21st invalidates the oldest),
//! access tokens live 3600 s and grant codes 180 s by the emulated clock. Every token maps
//! to exactly one organisation and carries the scopes its grant was consented for (the
//! configured refresh tokens hold all). Tokens are secrets: nothing here formats one.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::config::DeskConfig;
use super::scopes::Scopes;
use crate::emulator::seeds;
use crate::zoho::secret::Secret;

pub const ACCESS_LIFETIME_SECS: i64 = 3_600;
pub const GRANT_LIFETIME_SECS: i64 = 180;
const REFRESH_WINDOW_SECS: i64 = 600;
const REFRESHES_PER_WINDOW: usize = 10;
const LIVE_ACCESS_TOKENS: usize = 30;
const REFRESH_TOKENS_PER_CLIENT: usize = 20;

/// The parameters of a token request, from the form body or the query string (D2).
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub code: Option<Secret>,
}

/// Why the token endpoint said no (D4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unknown, revoked, used or expired refresh token or grant code")]
    InvalidCode,
    #[error("unknown client id")]
    InvalidClient,
    #[error("wrong client secret")]
    InvalidClientSecret,
    #[error("more than 10 refreshes of one refresh token in 600 s")]
    Throttled,
    #[error("a grant type other than refresh_token or authorization_code")]
    UnsupportedGrantType,
}

impl TokenError {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::InvalidCode => "invalid_code",
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidClientSecret => "invalid_client_secret",
            TokenError::Throttled => "throttled",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// Tokens handed out by a successful request.
#[derive(Debug)]
pub struct Granted {
    pub access_token: Secret,
    /// Only for an exchanged grant code.
    pub refresh_token: Option<Secret>,
}

#[derive(Debug)]
struct Client {
    id: String,
    secret: Secret,
    org: usize,
    /// Refresh tokens, oldest first.
    refresh_tokens: VecDeque<String>,
}

struct Refresh {
    client: usize,
    scopes: Scopes,
    successes: VecDeque<DateTime<Utc>>,
    /// Access tokens minted from it, oldest first.
    live: VecDeque<String>,
}

struct Access {
    org: usize,
    scopes: Scopes,
    expires: DateTime<Utc>,
}

struct Grant {
    client: usize,
    scopes: Scopes,
    expires: DateTime<Utc>,
}

pub struct Oauth {
    seed: u64,
    clients: Vec<Client>,
    refresh: HashMap<String, Refresh>,
    access: HashMap<String, Access>,
    grants: HashMap<String, Grant>,
    issued: u64,
}

/// Counts only: the maps hold secrets.
impl fmt::Debug for Oauth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oauth")
            .field("clients", &self.clients.len())
            .field("refresh_tokens", &self.refresh.len())
            .field("access_tokens", &self.access.len())
            .finish()
    }
}

impl Oauth {
    pub fn new(config: &DeskConfig, seed: u64) -> Oauth {
        let mut oauth = Oauth {
            seed,
            clients: Vec::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            grants: HashMap::new(),
            issued: 0,
        };
        for (org, c) in config.organisations.iter().enumerate() {
            let client = &c.self_client;
            let token = client.refresh_token.expose().to_string();
            oauth.clients.push(Client {
                id: client.client_id.clone(),
                secret: client.client_secret.clone(),
                org,
                refresh_tokens: VecDeque::from([token.clone()]),
            });
            oauth
                .refresh
                .insert(token, Refresh::new(oauth.clients.len() - 1, Scopes::All));
        }
        oauth
    }

    /// The organisation (index) of a live access token at `now`, and its scopes.
    pub fn caller(&self, token: &str, now: DateTime<Utc>) -> Option<(usize, Scopes)> {
        self.access
            .get(token)
            .filter(|a| now < a.expires)
            .map(|a| (a.org, a.scopes.clone()))
    }

    /// Serves one token request at `now`.
    pub fn token(
        &mut self,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<Granted, TokenError> {
        let grant = request.grant_type.as_deref();
        if !matches!(grant, Some("refresh_token" | "authorization_code")) {
            return Err(TokenError::UnsupportedGrantType);
        }
        let client = self.client(request)?;
        if grant == Some("authorization_code") {
            return self.exchange(client, request, now);
        }
        let token = request
            .refresh_token
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default();
        let refresh = self.refresh.get_mut(token).filter(|r| r.client == client);
        let refresh = refresh.ok_or(TokenError::InvalidCode)?;
        let since = now - TimeDelta::seconds(REFRESH_WINDOW_SECS);
        refresh.successes.retain(|t| *t > since);
        if refresh.successes.len() >= REFRESHES_PER_WINDOW {
            return Err(TokenError::Throttled);
        }
        refresh.successes.push_back(now);
        let access = self.mint_access(token.to_string(), client, now);
        Ok(Granted {
            access_token: access,
            refresh_token: None,
        })
    }

    fn client(&self, request: &TokenRequest) -> Result<usize, TokenError> {
        let id = request.client_id.as_deref().unwrap_or_default();
        let at = self
            .clients
            .iter()
            .position(|c| c.id == id)
            .ok_or(TokenError::InvalidClient)?;
        let secret = request.client_secret.as_ref().map(Secret::expose);
        match self.clients.get(at) {
            Some(c) if Some(c.secret.expose()) == secret => Ok(at),
            _ => Err(TokenError::InvalidClientSecret),
        }
    }

    fn exchange(
        &mut self,
        client: usize,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<Granted, TokenError> {
        let code = request
            .code
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default();
        let scopes = match self.grants.remove(code) {
            Some(grant) if grant.client == client && now < grant.expires => grant.scopes,
            _ => return Err(TokenError::InvalidCode),
        };
        let refresh_token = self.fresh_token(1);
        self.refresh
            .insert(refresh_token.clone(), Refresh::new(client, scopes));
        if let Some(c) = self.clients.get_mut(client) {
            c.refresh_tokens.push_back(refresh_token.clone());
            if c.refresh_tokens.len() > REFRESH_TOKENS_PER_CLIENT {
                if let Some(oldest) = c.refresh_tokens.pop_front() {
                    self.revoke_token(&oldest);
                }
            }
        }
        let access = self.mint_access(refresh_token.clone(), client, now);
        Ok(Granted {
            access_token: access,
            refresh_token: Some(Secret::new(refresh_token)),
        })
    }

    /// Mints an access token for `refresh`, invalidating its oldest past the 30th.
    fn mint_access(&mut self, refresh: String, client: usize, now: DateTime<Utc>) -> Secret {
        let token = self.fresh_token(0);
        let org = self.clients.get(client).map_or(0, |c| c.org);
        let expires = now + TimeDelta::seconds(ACCESS_LIFETIME_SECS);
        let scopes = self
            .refresh
            .get(&refresh)
            .map_or(Scopes::Some(Vec::new()), |r| r.scopes.clone());
        self.access.insert(
            token.clone(),
            Access {
                org,
                scopes,
                expires,
            },
        );
        if let Some(state) = self.refresh.get_mut(&refresh) {
            state
                .live
                .retain(|t| self.access.get(t).is_some_and(|a| now < a.expires));
            state.live.push_back(token.clone());
            while state.live.len() > LIVE_ACCESS_TOKENS {
                if let Some(oldest) = state.live.pop_front() {
                    self.access.remove(&oldest);
                }
            }
        }
        Secret::new(token)
    }

    /// A grant code for the client `client_id` consented for `scopes`, valid 180 s
    /// (section 2.1).
    pub fn mint_grant(
        &mut self,
        client_id: &str,
        scopes: Scopes,
        now: DateTime<Utc>,
    ) -> Option<Secret> {
        let client = self.clients.iter().position(|c| c.id == client_id)?;
        let code = self.fresh_token(2);
        let expires = now + TimeDelta::seconds(GRANT_LIFETIME_SECS);
        self.grants.insert(
            code.clone(),
            Grant {
                client,
                scopes,
                expires,
            },
        );
        Some(Secret::new(code))
    }

    /// Revokes a refresh token and every access token it minted; false if unknown.
    pub fn revoke(&mut self, refresh_token: &str) -> bool {
        for client in &mut self.clients {
            client.refresh_tokens.retain(|t| t != refresh_token);
        }
        self.revoke_token(refresh_token)
    }

    fn revoke_token(&mut self, refresh_token: &str) -> bool {
        let Some(state) = self.refresh.remove(refresh_token) else {
            return false;
        };
        for token in state.live {
            self.access.remove(&token);
        }
        true
    }

    /// Live access tokens of a refresh token at `now` (admin view).
    pub fn live_access_tokens(&self, refresh_token: &str, now: DateTime<Utc>) -> usize {
        self.refresh.get(refresh_token).map_or(0, |r| {
            r.live
                .iter()
                .filter(|t| self.caller(t, now).is_some())
                .count()
        })
    }

    /// A token never handed out before: `1000.` and two 32-hex parts, from the seed.
    fn fresh_token(&mut self, kind: u64) -> String {
        loop {
            self.issued += 1;
            let key = seeds::mix_all(&[self.seed, kind, self.issued]);
            let token = format!("1000.{}.{}", seeds::token_hex(key), seeds::token_hex(!key));
            let taken = self.access.contains_key(&token)
                || self.refresh.contains_key(&token)
                || self.grants.contains_key(&token);
            if !taken {
                return token;
            }
        }
    }
}

impl Refresh {
    fn new(client: usize, scopes: Scopes) -> Refresh {
        Refresh {
            client,
            scopes,
            successes: VecDeque::new(),
            live: VecDeque::new(),
        }
    }
}

#[cfg(test)]
mod tests;
