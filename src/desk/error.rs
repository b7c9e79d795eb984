//! The Desk client's errors. Every failure of a call, from the token to the body's last
//! byte, becomes one `DeskError`, and every `DeskError` knows its `ErrorClass`, decided
//! by the answer's `errorCode` first and its HTTP status only when the code says nothing
//! (section 7), and by what the request was: a write whose fate is unknown is
//! `Ambiguous`, never `Transient`, so nothing retries a create that may have happened
//! (D23). No message carries a secret: server text is cut, stripped of control
//! characters and of the access token before it is kept.

use std::fmt;
use std::time::Duration;

use crate::desk::auth::TokenError;
use crate::desk::reply::ReplyMeta;
use crate::desk::request::Operation;
use crate::desk::token_cache::CacheError;
use crate::zoho::error::{DecodeError, TransportError};

/// What a caller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retry after a jittered backoff: a 5xx or timeout of a read, a concurrency 429
    /// (`TOO_MANY_REQUESTS`), a refused connection, a throttled token refresh.
    Transient,
    /// The day's credits are spent (`THRESHOLD_EXCEEDED`): nothing before `Retry-After`.
    QuotaExhausted,
    /// The organisation's credentials or token cannot do this; a person must act.
    Auth,
    /// A GET by id of a record this token cannot see: never existed, trashed or purged
    /// (D18); confirm through the recycle bin.
    NotVisible,
    /// A write that may or may not have happened (a timeout, a 5xx, a cut answer):
    /// check before repeating it, never retry blindly (D23).
    Ambiguous,
    /// The request itself is wrong or refused; sending it again gives the same answer.
    Permanent,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        self == ErrorClass::Transient
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::QuotaExhausted => "quota-exhausted",
            ErrorClass::Auth => "auth",
            ErrorClass::NotVisible => "not-visible",
            ErrorClass::Ambiguous => "ambiguous",
            ErrorClass::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `errorCode` enum of OAS-Common (section 7), and any other code as `Other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    InvalidOauth,
    ScopeMismatch,
    OauthOrgMismatch,
    Forbidden,
    LicenseAccessLimited,
    UrlNotFound,
    MethodNotAllowed,
    ResourceSizeExceeded,
    UnsupportedMediaType,
    InvalidData,
    EmptyPayload,
    UnprocessableEntity,
    OnlyLivechatUser,
    DuplicateContract,
    IntegrationAdminError,
    ThresholdExceeded,
    TooManyRequests,
    InternalServerError,
    /// A code the contract does not name (cut to 64 characters).
    Other(String),
}

const CODES: [(&str, ErrorCode); 20] = [
    ("BAD_REQUEST", ErrorCode::BadRequest),
    ("UNAUTHORIZED", ErrorCode::Unauthorized),
    ("INVALID_OAUTH", ErrorCode::InvalidOauth),
    ("SCOPE_MISMATCH", ErrorCode::ScopeMismatch),
    ("OAUTH_ORG_MISMATCH", ErrorCode::OauthOrgMismatch),
    ("FORBIDDEN", ErrorCode::Forbidden),
    ("LICENSE_ACCESS_LIMITED", ErrorCode::LicenseAccessLimited),
    ("URL_NOT_FOUND", ErrorCode::UrlNotFound),
    ("METHOD_NOT_ALLOWED", ErrorCode::MethodNotAllowed),
    ("RESOURCE_SIZE_EXCEEDED", ErrorCode::ResourceSizeExceeded),
    ("UNSUPPORTED_MEDIA_TYPE", ErrorCode::UnsupportedMediaType),
    ("INVALID_DATA", ErrorCode::InvalidData),
    ("EMPTY_PAYLOAD", ErrorCode::EmptyPayload),
    ("UNPROCESSABLE_ENTITY", ErrorCode::UnprocessableEntity),
    ("ONLY_LIVECHAT_USER", ErrorCode::OnlyLivechatUser),
    ("DUPLICATE_CONTRACT", ErrorCode::DuplicateContract),
    ("INTEGRATION_ADMIN_ERROR", ErrorCode::IntegrationAdminError),
    ("THRESHOLD_EXCEEDED", ErrorCode::ThresholdExceeded),
    ("TOO_MANY_REQUESTS", ErrorCode::TooManyRequests),
    ("INTERNAL_SERVER_ERROR", ErrorCode::InternalServerError),
];

impl ErrorCode {
    /// The code of the wire's text, in any case.
    pub fn parse(text: &str) -> ErrorCode {
        let text = text.trim();
        CODES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, code)| code.clone())
            .unwrap_or_else(|| ErrorCode::Other(clean(text, 64)))
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(text) => text,
            known => CODES
                .iter()
                .find(|(_, code)| code == known)
                .map_or("", |(name, _)| name),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of an error answer: by `errorCode` first, then by status, then by what the
/// request was (section 7, D18, D21, D22, D23).
pub fn classify(
    status: u16,
    code: Option<&ErrorCode>,
    operation: Operation,
    retry_after: Option<Duration>,
) -> ErrorClass {
    let write = operation.is_write();
    match code {
        Some(ErrorCode::ThresholdExceeded) => ErrorClass::QuotaExhausted,
        Some(ErrorCode::TooManyRequests) => ErrorClass::Transient,
        Some(
            ErrorCode::InvalidOauth
            | ErrorCode::Unauthorized
            | ErrorCode::ScopeMismatch
            | ErrorCode::OauthOrgMismatch,
        ) => ErrorClass::Auth,
        Some(ErrorCode::Forbidden | ErrorCode::UrlNotFound) if operation == Operation::ById => {
            ErrorClass::NotVisible
        }
        Some(ErrorCode::InternalServerError) if write => ErrorClass::Ambiguous,
        Some(ErrorCode::InternalServerError) => ErrorClass::Transient,
        Some(_) if status < 500 => ErrorClass::Permanent,
        _ => by_status(status, operation, retry_after),
    }
}

fn by_status(status: u16, operation: Operation, retry_after: Option<Duration>) -> ErrorClass {
    match status {
        401 => ErrorClass::Auth,
        403 | 404 if operation == Operation::ById => ErrorClass::NotVisible,
        // A 429 whose code was lost: the daily limit is the one that says when to return.
        429 if retry_after.is_some() => ErrorClass::QuotaExhausted,
        429 => ErrorClass::Transient,
        500..=599 if operation.is_write() => ErrorClass::Ambiguous,
        500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

/// An error the Desk API answered: its status, `errorCode` and message, and what the
/// answer's headers said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// `GET /tickets/search`: the method and the path below `/api/v1`, no query.
    pub request: String,
    pub status: u16,
    /// `None` when the body held no readable `errorCode`.
    pub code: Option<ErrorCode>,
    /// The server's message, cut and cleaned.
    pub message: String,
    /// What the user should do, when we know (the scopes to grant, ...).
    pub hint: Option<String>,
    pub class: ErrorClass,
    pub meta: ReplyMeta,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Zoho Desk refused {} (HTTP {}",
            self.request, self.status
        )?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        f.write_str(")")?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Any failure of one call of the Desk client.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("{0}")]
    Api(Box<ApiFailure>),
    #[error("{request}: {error}")]
    Transport {
        request: String,
        error: TransportError,
        class: ErrorClass,
    },
    #[error("{request}: {error}")]
    Decode {
        request: String,
        error: DecodeError,
        class: ErrorClass,
    },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("invalid Zoho Desk request: {0}")]
    Invalid(String),
}

impl DeskError {
    pub fn class(&self) -> ErrorClass {
        match self {
            DeskError::Api(failure) => failure.class,
            DeskError::Transport { class, .. } | DeskError::Decode { class, .. } => *class,
            DeskError::Token(e) => e.class(),
            DeskError::Cache(e) if e.is_retryable() => ErrorClass::Transient,
            DeskError::Cache(_) | DeskError::Invalid(_) => ErrorClass::Permanent,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// The answer's status, rate headers and clock, when the server answered.
    pub fn meta(&self) -> Option<&ReplyMeta> {
        match self {
            DeskError::Api(failure) => Some(&failure.meta),
            _ => None,
        }
    }

    /// How long the server asked us to wait (a `THRESHOLD_EXCEEDED`'s `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.meta().and_then(|m| m.retry_after)
    }

    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            DeskError::Api(failure) => failure.code.as_ref(),
            _ => None,
        }
    }
}

/// The class of a transport failure: a request that never left (a refused connection)
/// may always be sent again; one that may have reached the server is a transient
/// failure of a read and an ambiguous one of a write.
pub(crate) fn transport_class(error: &TransportError, operation: Operation) -> ErrorClass {
    match error {
        TransportError::Connect { .. } => ErrorClass::Transient,
        TransportError::Tls { .. } | TransportError::TooLarge { .. } => ErrorClass::Permanent,
        TransportError::HttpStatus { status } if *status < 500 && *status != 429 => {
            ErrorClass::Permanent
        }
        _ if operation.is_write() => ErrorClass::Ambiguous,
        _ => ErrorClass::Transient,
    }
}

/// The class of a body that arrived but could not be read: a cut or garbled read is
/// transient (a flaky proxy), a write's is ambiguous (it was answered, so it probably
/// happened), a body of the wrong shape is permanent.
pub(crate) fn decode_class(error: &DecodeError, operation: Operation) -> ErrorClass {
    match error {
        _ if operation.is_write() => ErrorClass::Ambiguous,
        DecodeError::Truncated { .. } | DecodeError::Malformed { .. } => ErrorClass::Transient,
        DecodeError::Shape { .. } => ErrorClass::Permanent,
    }
}

/// At most `max` characters of a server's text, control characters replaced by spaces.
pub(crate) fn clean(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;
