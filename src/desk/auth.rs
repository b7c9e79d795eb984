//! The OAuth 2.0 grants of Zoho Accounts (contract section 2, D2-D5): the refresh grant
//! (refresh token → access token) and the authorization-code grant (a self client's
//! grant code → refresh token), each one form-encoded POST to
//! `{accounts}/oauth/v2/token`. Every reply is checked here, at the edge: errors come
//! with HTTP 200 and an `error` field, so success is only a reply with a usable
//! `access_token` and a lifetime. Each error says what to do; only a throttle (or a
//! reply we cannot read) is worth retrying. Secrets travel in the POST body only, as
//! `Secret`s: no URL, log line, error or `Debug` output ever holds one. `api_domain` is
//! only logged (D1).

use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use url::Url;

use crate::desk::dc::{join, DataCentre};
use crate::desk::error::{clean, ErrorClass};
use crate::zoho::error::TransportError;
use crate::zoho::secret::Secret;

/// The largest token reply read; a real one is about 200 bytes.
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// The longest token accepted (Zoho's are about 70 characters).
const MAX_TOKEN_CHARS: usize = 4096;
/// A lifetime above this many seconds is read as milliseconds (some Zoho products send
/// millisecond lifetimes); above `MAX_LIFETIME_MS` milliseconds it is refused.
const MAX_LIFETIME_SECS: u64 = 86_400;
const MAX_LIFETIME_MS: u64 = 86_400_000;

/// A self client's id and secret.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// What is exchanged for an access token.
#[derive(Clone, Debug)]
pub enum Grant {
    /// `grant_type=refresh_token` (section 2.2).
    Refresh(Secret),
    /// `grant_type=authorization_code`: a self client's grant code (section 2.1).
    AuthorizationCode(Secret),
}

/// Which grant failed, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantKind {
    Refresh,
    AuthorizationCode,
}

impl Grant {
    pub fn kind(&self) -> GrantKind {
        match self {
            Grant::Refresh(_) => GrantKind::Refresh,
            Grant::AuthorizationCode(_) => GrantKind::AuthorizationCode,
        }
    }
}

/// A successful token reply, checked.
#[derive(Clone, Debug)]
pub struct TokenReply {
    pub access_token: Secret,
    /// The token's lifetime from the moment of the reply.
    pub expires_in: Duration,
    /// Only the authorization-code grant returns one (refresh tokens are not rotated).
    pub refresh_token: Option<Secret>,
    /// Logged, never used for routing (D1).
    pub api_domain: Option<String>,
    /// Optional in replies (D3).
    pub scope: Option<String>,
}

/// Why no token came back.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("Zoho Accounts refused the refresh token (invalid_code): it was revoked or belongs to another data centre; generate a new grant code in the API console (Self Client) and exchange it with `zoho-sync auth desk`")]
    RefreshTokenRefused,
    #[error("Zoho Accounts refused the grant code (invalid_code): a grant code works once and only for about 3 minutes; generate a new one in the API console of this data centre (Self Client > Generate Code)")]
    GrantCodeRefused,
    #[error("Zoho Accounts does not know client id `{client_id}` (invalid_client): check the client id and secret, and that the self client is enabled in this data centre (API console > Self Client > Settings)")]
    InvalidClient { client_id: String },
    #[error("Zoho Accounts refused the client secret of client id `{client_id}` (invalid_client_secret): check the client secret (API console > Self Client > Client Secret)")]
    InvalidClientSecret { client_id: String },
    #[error("Zoho Accounts throttled token requests (Access Denied: too many requests); try again after a pause")]
    Throttled,
    #[error("Zoho Accounts refused the token request: {0}")]
    Refused(String),
    #[error("the token reply gave no refresh token (was the grant code made for a self client?)")]
    NoRefreshToken,
    #[error("token request failed: {0}")]
    Transport(#[from] TransportError),
    #[error("the Zoho Accounts reply is not a token reply: {0}")]
    Malformed(String),
    #[error("invalid token request: {0}")]
    Invalid(String),
}

impl TokenError {
    /// Credentials a person must fix are `Auth`; a throttle or an unreadable reply is
    /// retried after a backoff (section 2.2: "otherwise back off").
    pub fn class(&self) -> ErrorClass {
        match self {
            TokenError::Throttled | TokenError::Refused(_) | TokenError::Malformed(_) => {
                ErrorClass::Transient
            }
            TokenError::Transport(e) if e.class().is_retryable() => ErrorClass::Transient,
            TokenError::Transport(_) | TokenError::Invalid(_) => ErrorClass::Permanent,
            TokenError::RefreshTokenRefused
            | TokenError::GrantCodeRefused
            | TokenError::InvalidClient { .. }
            | TokenError::InvalidClientSecret { .. }
            | TokenError::NoRefreshToken => ErrorClass::Auth,
        }
    }
}

/// The token endpoint of one data centre.
#[derive(Clone, Debug)]
pub struct Accounts {
    http: reqwest::Client,
    token_url: Url,
    dc: Option<DataCentre>,
    timeout: Duration,
}

impl Accounts {
    /// `accounts` is the Accounts root (`https://accounts.zoho.eu`, or the emulator's);
    /// `dc`, when known, is only compared with replies' `api_domain`.
    pub fn new(
        accounts: &Url,
        dc: Option<DataCentre>,
        timeout: Duration,
    ) -> Result<Accounts, TokenError> {
        let token_url = join(accounts, &["oauth", "v2", "token"])
            .ok_or_else(|| TokenError::Invalid("the accounts URL must be http or https".into()))?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            // A redirect could carry the form (and its secrets) to another host.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("zoho-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                TokenError::Invalid(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(Accounts {
            http,
            token_url,
            dc,
            timeout,
        })
    }

    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// One grant: POST the form, check the reply.
    pub async fn grant(
        &self,
        credentials: &ClientCredentials,
        grant: &Grant,
    ) -> Result<TokenReply, TokenError> {
        if credentials.client_id.trim().is_empty() || credentials.client_secret.is_empty() {
            return Err(TokenError::Invalid(
                "the client id or secret is empty".into(),
            ));
        }
        let started = Instant::now();
        let raw = crate::zoho::client::post_form(
            &self.http,
            &self.token_url,
            form(credentials, grant),
            self.timeout,
            MAX_REPLY_BYTES,
        )
        .await?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let reply = decode_reply(raw.status, &raw.bytes, grant.kind(), &credentials.client_id);
        match &reply {
            Ok(reply) => self.log_success(grant.kind(), reply, elapsed_ms),
            // The caller reports the error; this line adds the status and the timing.
            Err(error) => tracing::debug!(
                url = %self.token_url, status = raw.status, elapsed_ms, class = %error.class(),
                %error, "token request refused"
            ),
        }
        reply
    }

    fn log_success(&self, kind: GrantKind, reply: &TokenReply, elapsed_ms: u64) {
        let api_domain = reply.api_domain.as_deref().unwrap_or("");
        if let (Some(dc), false) = (self.dc, api_domain.is_empty()) {
            if !dc.matches_api_domain(api_domain) {
                tracing::warn!(
                    %dc, api_domain,
                    "the token's api_domain is not of the configured data centre; requests still go to the data centre's Desk host"
                );
            }
        }
        tracing::info!(
            ?kind,
            expires_in_secs = reply.expires_in.as_secs(),
            api_domain,
            elapsed_ms,
            "Zoho Accounts issued an access token"
        );
    }
}

/// The form body (it holds secrets: never log it).
pub fn form(credentials: &ClientCredentials, grant: &Grant) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    match grant {
        Grant::Refresh(token) => form
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", token.expose()),
        Grant::AuthorizationCode(code) => form
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code.expose()),
    };
    form.append_pair("client_id", &credentials.client_id)
        .append_pair("client_secret", credentials.client_secret.expose());
    form.finish()
}

/// Reads a token reply: an `error` field wins whatever the status; then only a 200 with
/// a usable `access_token` and lifetime is a success.
pub fn decode_reply(
    status: u16,
    body: &[u8],
    kind: GrantKind,
    client_id: &str,
) -> Result<TokenReply, TokenError> {
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        _ if status != 200 => return Err(TransportError::HttpStatus { status }.into()),
        _ if crate::zoho::client::looks_like_html(body) => {
            return Err(TransportError::HtmlPage { status }.into())
        }
        Ok(_) => {
            return Err(TokenError::Malformed(
                "the reply is not a JSON object".into(),
            ))
        }
        Err(_) => return Err(TokenError::Malformed("the reply is not JSON".into())),
    };
    if let Some(error) = object.get("error") {
        return Err(refusal(error, &object, kind, client_id));
    }
    if status != 200 {
        return Err(TransportError::HttpStatus { status }.into());
    }
    let access_token = token(object.get("access_token"))
        .ok_or_else(|| TokenError::Malformed("no usable `access_token`".into()))?;
    let lifetime = object
        .get("expires_in")
        .or_else(|| object.get("expires_in_sec"));
    let expires_in = lifetime.ok_or_else(|| TokenError::Malformed("no `expires_in`".into()))?;
    Ok(TokenReply {
        access_token,
        expires_in: lifetime_of(expires_in)?,
        refresh_token: token(object.get("refresh_token")),
        api_domain: text(object.get("api_domain")),
        scope: text(object.get("scope")),
    })
}

fn refusal(
    error: &Value,
    object: &Map<String, Value>,
    kind: GrantKind,
    client_id: &str,
) -> TokenError {
    let code = match error {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    };
    let description = text(object.get("error_description")).unwrap_or_default();
    let client_id = clean(client_id, 100);
    match code.to_ascii_lowercase().as_str() {
        "invalid_code" if kind == GrantKind::Refresh => TokenError::RefreshTokenRefused,
        "invalid_code" => TokenError::GrantCodeRefused,
        "invalid_client" => TokenError::InvalidClient { client_id },
        "invalid_client_secret" => TokenError::InvalidClientSecret { client_id },
        "access denied" | "access_denied" => TokenError::Throttled,
        _ if description
            .to_ascii_lowercase()
            .contains("too many requests") =>
        {
            TokenError::Throttled
        }
        _ if description.is_empty() => TokenError::Refused(clean(&code, 100)),
        _ => TokenError::Refused(format!("{}: {description}", clean(&code, 100))),
    }
}

/// A token value: a non-empty string of visible ASCII, short enough for a header.
fn token(value: Option<&Value>) -> Option<Secret> {
    let text = value?.as_str()?;
    let usable = !text.is_empty()
        && text.len() <= MAX_TOKEN_CHARS
        && text.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| Secret::new(text))
}

fn text(value: Option<&Value>) -> Option<String> {
    value?.as_str().map(|s| clean(s, 200))
}

/// A lifetime in seconds (number or digit string); see `MAX_LIFETIME_SECS`.
fn lifetime_of(value: &Value) -> Result<Duration, TokenError> {
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match n {
        Some(secs @ 1..=MAX_LIFETIME_SECS) => Ok(Duration::from_secs(secs)),
        Some(ms @ 1..=MAX_LIFETIME_MS) => Ok(Duration::from_millis(ms)),
        _ => Err(TokenError::Malformed(
            "`expires_in` is not a lifetime between 1 s and a day".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
