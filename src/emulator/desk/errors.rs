//! Every error the Desk API answers, as one enum whose variants carry what varies (a
//! parameter name, a range, field errors) and render to the exact status and body of the
//! contract's section 7 (D9, D11, D18, D21). No other module writes an error body, so the
//! wording is kept in one place and tests can compare bytes with the contract.

use axum::http::StatusCode;
use serde_json::json;

/// One entry of an `INVALID_DATA` answer; `field` is a JSON Pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub kind: FieldErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    Invalid,
    Duplicate,
    Missing,
}

/// A refused Desk API request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    #[error("no Authorization header")]
    Unauthorized,
    #[error("invalid OAuth token")]
    InvalidOauth,
    #[error("the token belongs to another organisation")]
    OrgMismatch,
    #[error("the token lacks a scope")]
    ScopeMismatch,
    #[error("the record is not visible")]
    Forbidden,
    #[error("no such URL")]
    UrlNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("extra query parameter `{0}`")]
    ExtraParam(String),
    #[error("`{field}` outside `{range}`")]
    OutOfRange { field: String, range: String },
    #[error("invalid value of `{0}`")]
    InvalidValue(String),
    #[error("search window past 5000")]
    SearchCap,
    #[error("search value of `{0}` shorter than 3")]
    TooShort(String),
    #[error("the body does not validate")]
    InvalidData(Vec<FieldError>),
    #[error("empty body")]
    EmptyPayload,
    #[error("body is not JSON")]
    BadRequest,
    #[error("too many concurrent calls")]
    TooManyRequests,
    #[error("the day's credits are spent")]
    ThresholdExceeded { retry_after_secs: u64 },
    #[error("internal server error")]
    Internal,
}

impl DeskError {
    pub fn status(&self) -> StatusCode {
        match self {
            DeskError::Unauthorized | DeskError::InvalidOauth => StatusCode::UNAUTHORIZED,
            DeskError::OrgMismatch | DeskError::ScopeMismatch | DeskError::Forbidden => {
                StatusCode::FORBIDDEN
            }
            DeskError::UrlNotFound => StatusCode::NOT_FOUND,
            DeskError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            DeskError::BadRequest => StatusCode::BAD_REQUEST,
            DeskError::TooManyRequests | DeskError::ThresholdExceeded { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            DeskError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The `errorCode` of the body.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::Unauthorized => "UNAUTHORIZED",
            DeskError::InvalidOauth => "INVALID_OAUTH",
            DeskError::OrgMismatch => "OAUTH_ORG_MISMATCH",
            DeskError::ScopeMismatch => "SCOPE_MISMATCH",
            DeskError::Forbidden => "FORBIDDEN",
            DeskError::UrlNotFound => "URL_NOT_FOUND",
            DeskError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            DeskError::InvalidData(_) => "INVALID_DATA",
            DeskError::EmptyPayload => "EMPTY_PAYLOAD",
            DeskError::BadRequest => "BAD_REQUEST",
            DeskError::TooManyRequests => "TOO_MANY_REQUESTS",
            DeskError::ThresholdExceeded { .. } => "THRESHOLD_EXCEEDED",
            DeskError::Internal => "INTERNAL_SERVER_ERROR",
            _ => "UNPROCESSABLE_ENTITY",
        }
    }

    /// The `message` of the body, worded as the contract records it.
    pub fn message(&self) -> String {
        match self {
            DeskError::Unauthorized => "You are not authenticated to perform this operation.".into(),
            DeskError::InvalidOauth => "The OAuth Token you provided is invalid.".into(),
            DeskError::OrgMismatch => "The OAuthToken is not valid for specified organization.".into(),
            DeskError::ScopeMismatch => {
                "The OAuth Token does not contain the scope to perform this operation.".into()
            }
            DeskError::Forbidden => "You are not authorized to access this resource.".into(),
            DeskError::UrlNotFound => "The URL you requested could not be found.".into(),
            DeskError::MethodNotAllowed => "The requested method is not allowed for this URL.".into(),
            DeskError::ExtraParam(name) => {
                format!("Extra query parameter '{name}' is present in the input.")
            }
            DeskError::OutOfRange { field, range } => {
                format!("The value passed for field '{field}' exceeds the range of '{range}'.")
            }
            DeskError::InvalidValue(name) => {
                format!("The value passed for the '{name}' query parameter is invalid.")
            }
            DeskError::SearchCap => "Max search result iterable is 5000".into(),
            DeskError::TooShort(name) => format!(
                "The value passed for field '{name}' is less than the specified minimum length of '3'."
            ),
            DeskError::InvalidData(_) => {
                "The data does not comply to the validation restrictions defined.".into()
            }
            DeskError::EmptyPayload => "The payload is empty.".into(),
            DeskError::BadRequest => "The request body is not valid JSON.".into(),
            DeskError::TooManyRequests => {
                "The maximum number of Concurrent API Calls that can be made has been exceeded."
                    .into()
            }
            DeskError::ThresholdExceeded { .. } => {
                "The API credit limit for the day has been exceeded.".into()
            }
            DeskError::Internal => {
                "An internal server error occurred while performing this operation.".into()
            }
        }
    }

    /// The body as bytes, keys in the contract's order (`errorCode`, `message`, extras).
    pub fn body(&self) -> Vec<u8> {
        let code = json!(self.code()).to_string();
        let message = json!(self.message()).to_string();
        let mut text = format!(r#"{{"errorCode":{code},"message":{message}"#);
        if let DeskError::InvalidData(errors) = self {
            let items: Vec<String> = errors.iter().map(field_error).collect();
            text.push_str(r#","errors":["#);
            text.push_str(&items.join(","));
            text.push(']');
        }
        text.push('}');
        text.into_bytes()
    }
}

fn field_error(error: &FieldError) -> String {
    let kind = match error.kind {
        FieldErrorKind::Invalid => "invalid",
        FieldErrorKind::Duplicate => "duplicate",
        FieldErrorKind::Missing => "missing",
    };
    // Written by hand: serde_json would sort the keys, the contract orders them.
    format!(
        r#"{{"fieldName":{},"errorType":"{kind}","errorMessage":{}}}"#,
        json!(error.field),
        json!(error.message)
    )
}

impl FieldError {
    pub fn new(field: &str, kind: FieldErrorKind, message: &str) -> FieldError {
        FieldError {
            field: field.to_string(),
            kind,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(error: &DeskError) -> String {
        String::from_utf8_lossy(&error.body()).into_owned()
    }

    #[test]
    fn the_bodies_of_section_seven_are_exact() {
        assert_eq!(
            text(&DeskError::ExtraParam("sortOrder".into())),
            r#"{"errorCode":"UNPROCESSABLE_ENTITY","message":"Extra query parameter 'sortOrder' is present in the input."}"#
        );
        assert_eq!(
            text(&DeskError::OutOfRange {
                field: "limit".into(),
                range: "1-100".into()
            }),
            r#"{"errorCode":"UNPROCESSABLE_ENTITY","message":"The value passed for field 'limit' exceeds the range of '1-100'."}"#
        );
        assert_eq!(
            text(&DeskError::InvalidOauth),
            r#"{"errorCode":"INVALID_OAUTH","message":"The OAuth Token you provided is invalid."}"#
        );
        assert_eq!(
            text(&DeskError::TooManyRequests),
            r#"{"errorCode":"TOO_MANY_REQUESTS","message":"The maximum number of Concurrent API Calls that can be made has been exceeded."}"#
        );
        assert_eq!(DeskError::Forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            DeskError::SearchCap.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn invalid_data_lists_its_field_errors_in_the_contract_key_order() {
        let error = DeskError::InvalidData(vec![FieldError::new(
            "/contactId",
            FieldErrorKind::Missing,
            "contactId or contact is required",
        )]);
        assert_eq!(
            text(&error),
            r#"{"errorCode":"INVALID_DATA","message":"The data does not comply to the validation restrictions defined.","errors":[{"fieldName":"/contactId","errorType":"missing","errorMessage":"contactId or contact is required"}]}"#
        );
    }
}
