//! The wire client's errors. Every failure of a call, from the socket to the body's last
//! byte, becomes one `ZohoError`, and every `ZohoError` knows its `ErrorClass`; the class,
//! never the message text, decides whether a call is retried (only `Transient` is).

use std::fmt;

/// What a caller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The window or id holds nothing: the end of paging, or a missing record.
    NoData,
    /// The organisation's requests for this Pacific day are spent.
    QuotaExhausted,
    /// The authtoken is wrong, revoked, or sent to the wrong host.
    Auth,
    /// The token's user may not do this.
    Permission,
    /// The request itself is wrong; sending it again gives the same answer.
    BadRequest,
    /// Worth retrying: the network, a gateway or the server hiccuped.
    Transient,
    /// The server is broken in a way a retry will not mend.
    Server,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        self == ErrorClass::Transient
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::NoData => "no-data",
            ErrorClass::QuotaExhausted => "quota-exhausted",
            ErrorClass::Auth => "auth",
            ErrorClass::Permission => "permission",
            ErrorClass::BadRequest => "bad-request",
            ErrorClass::Transient => "transient",
            ErrorClass::Server => "server",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error codes of the contract's table (section 5.2), and any other code as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiCode {
    UseAuthtoken,
    NoPermission,
    NoSuchRecord,
    MandatoryMissing,
    CrmNoData,
    BadSearch,
    QuotaExceeded,
    SearchLimit,
    Internal,
    ApiKeyInactive,
    NotInEdition,
    BadParameter,
    RateLimit,
    MissingParameter,
    NoData,
    InvalidTicket,
    XmlParse,
    WrongApiKey,
    Other(u32),
}

/// The wire's text for "no data"; any code carrying it means no data (contract section 0).
pub const NO_DATA_MESSAGE: &str = "There is no data to show";

impl ApiCode {
    pub fn from_number(n: u32) -> ApiCode {
        match n {
            4000 => ApiCode::UseAuthtoken,
            4001 => ApiCode::NoPermission,
            4103 => ApiCode::NoSuchRecord,
            4401 => ApiCode::MandatoryMissing,
            4420 => ApiCode::BadSearch,
            4421 => ApiCode::QuotaExceeded,
            4422 => ApiCode::CrmNoData,
            4423 => ApiCode::SearchLimit,
            4500 => ApiCode::Internal,
            4501 => ApiCode::ApiKeyInactive,
            4502 => ApiCode::NotInEdition,
            4600 => ApiCode::BadParameter,
            4820 => ApiCode::RateLimit,
            4831 => ApiCode::MissingParameter,
            4832 => ApiCode::NoData,
            4834 => ApiCode::InvalidTicket,
            4835 => ApiCode::XmlParse,
            4890 => ApiCode::WrongApiKey,
            other => ApiCode::Other(other),
        }
    }

    pub fn number(self) -> u32 {
        match self {
            ApiCode::UseAuthtoken => 4000,
            ApiCode::NoPermission => 4001,
            ApiCode::NoSuchRecord => 4103,
            ApiCode::MandatoryMissing => 4401,
            ApiCode::BadSearch => 4420,
            ApiCode::QuotaExceeded => 4421,
            ApiCode::CrmNoData => 4422,
            ApiCode::SearchLimit => 4423,
            ApiCode::Internal => 4500,
            ApiCode::ApiKeyInactive => 4501,
            ApiCode::NotInEdition => 4502,
            ApiCode::BadParameter => 4600,
            ApiCode::RateLimit => 4820,
            ApiCode::MissingParameter => 4831,
            ApiCode::NoData => 4832,
            ApiCode::InvalidTicket => 4834,
            ApiCode::XmlParse => 4835,
            ApiCode::WrongApiKey => 4890,
            ApiCode::Other(n) => n,
        }
    }

    pub fn class(self) -> ErrorClass {
        match self {
            ApiCode::NoData | ApiCode::CrmNoData | ApiCode::NoSuchRecord => ErrorClass::NoData,
            ApiCode::QuotaExceeded => ErrorClass::QuotaExhausted,
            ApiCode::InvalidTicket
            | ApiCode::UseAuthtoken
            | ApiCode::ApiKeyInactive
            | ApiCode::WrongApiKey => ErrorClass::Auth,
            ApiCode::NoPermission | ApiCode::NotInEdition => ErrorClass::Permission,
            ApiCode::MandatoryMissing
            | ApiCode::BadSearch
            | ApiCode::SearchLimit
            | ApiCode::BadParameter
            | ApiCode::MissingParameter
            | ApiCode::XmlParse => ErrorClass::BadRequest,
            // 4500 is the server's own "internal error" and 4820 a short-term rate limit:
            // both pass with time, so both are retried.
            ApiCode::Internal | ApiCode::RateLimit => ErrorClass::Transient,
            ApiCode::Other(_) => ErrorClass::Server,
        }
    }
}

/// An error the API answered in its body (HTTP 200, `response.error`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Zoho error {code}: {message}", code = self.code.number())]
pub struct ApiError {
    pub code: ApiCode,
    pub message: String,
}

impl ApiError {
    pub fn class(&self) -> ErrorClass {
        if self.message.trim() == NO_DATA_MESSAGE {
            return ErrorClass::NoData;
        }
        self.code.class()
    }
}

/// Failures below the API: the connection, HTTP, or a body that is not an answer at all.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    #[error("no answer within {secs} s")]
    Timeout { secs: u64 },
    #[error("TLS failure talking to {host}: {detail}")]
    Tls { host: String, detail: String },
    #[error("the connection was lost mid-answer: {detail}")]
    ConnectionLost { detail: String },
    #[error("HTTP {status} from the server")]
    HttpStatus { status: u16 },
    #[error("the server answered with an HTML page (HTTP {status}), not an API answer")]
    HtmlPage { status: u16 },
    #[error("the server answered with content type `{content_type}`, expected {expected}")]
    UnexpectedContentType {
        content_type: String,
        expected: &'static str,
    },
    #[error("the server answered with an empty body")]
    EmptyBody,
    #[error("the answer is larger than the {cap_bytes}-byte cap")]
    TooLarge { cap_bytes: usize },
}

impl TransportError {
    pub fn class(&self) -> ErrorClass {
        match self {
            TransportError::Tls { .. } | TransportError::TooLarge { .. } => ErrorClass::Server,
            TransportError::HttpStatus { status } if *status < 500 && *status != 429 => {
                ErrorClass::Server
            }
            _ => ErrorClass::Transient,
        }
    }
}

/// A body that arrived whole over HTTP but is not a well-formed answer of the contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the {format} answer ends early (truncated after {at} bytes)")]
    Truncated { format: &'static str, at: usize },
    #[error("the {format} answer is malformed at byte {at}: {detail}")]
    Malformed {
        format: &'static str,
        at: usize,
        detail: String,
    },
    #[error("the {format} answer is well-formed but not of the contract's shape: {detail}")]
    Shape {
        format: &'static str,
        detail: String,
    },
}

impl DecodeError {
    pub fn class(&self) -> ErrorClass {
        match self {
            // A cut or garbled body is what a flaky proxy produces; the same request
            // usually succeeds the next time.
            DecodeError::Truncated { .. } | DecodeError::Malformed { .. } => ErrorClass::Transient,
            DecodeError::Shape { .. } => ErrorClass::Server,
        }
    }
}

/// Any failure of one call of the wire client.
#[derive(Debug, thiserror::Error)]
pub enum ZohoError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl ZohoError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ZohoError::Api(e) => e.class(),
            ZohoError::Transport(e) => e.class(),
            ZohoError::Decode(e) => e.class(),
            ZohoError::Invalid(_) => ErrorClass::BadRequest,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// The API code, when the server answered with one.
    pub fn api_code(&self) -> Option<ApiCode> {
        match self {
            ZohoError::Api(e) => Some(e.code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_code_round_trips_and_has_a_class() {
        let codes = [
            4000, 4001, 4103, 4401, 4420, 4421, 4422, 4423, 4500, 4501, 4502, 4600, 4820, 4831,
            4832, 4834, 4835, 4890,
        ];
        for n in codes {
            let code = ApiCode::from_number(n);
            assert!(!matches!(code, ApiCode::Other(_)), "{n}");
            assert_eq!(code.number(), n);
        }
        assert_eq!(ApiCode::from_number(4834).class(), ErrorClass::Auth);
        assert_eq!(
            ApiCode::from_number(4421).class(),
            ErrorClass::QuotaExhausted
        );
        assert_eq!(ApiCode::from_number(9999).class(), ErrorClass::Server);
    }

    #[test]
    fn the_no_data_message_means_no_data_whatever_the_code() {
        let e = ApiError {
            code: ApiCode::Other(1),
            message: NO_DATA_MESSAGE.into(),
        };
        assert_eq!(e.class(), ErrorClass::NoData);
    }
}
