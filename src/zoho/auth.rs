//! The Zoho Accounts token flow (contract section 2): one form POST of the user's e-mail
//! and password to `/apiauthtoken/nb/create`, answered by a Java-properties body that is
//! read by key, never by line position. Every documented CAUSE becomes its own variant
//! with the action the user should take. The password is a `Secret` and travels only in
//! the POST body; neither it nor the token ever appears in an error or a log line.

use std::time::{Duration, Instant};

use url::Url;

use crate::zoho::client::RawBody;
use crate::zoho::error::TransportError;
use crate::zoho::secret::{redact_url, Secret};

/// The scope of a Support API token.
pub const SCOPE: &str = "ZohoSupport/supportapi";
/// The largest token answer read; a real one is about 100 bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the token flow can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the user must confirm the Zoho account (the link in Zoho's registration e-mail) before a token can be generated")]
    RegistrationNotConfirmed,
    #[error("Zoho rejected the password (INVALID_PASSWORD)")]
    InvalidPassword,
    #[error("Zoho knows no user with that e-mail address or login name (NO_SUCH_USER)")]
    NoSuchUser,
    #[error("Zoho rejected the e-mail and password combination (INVALID_CREDENTIALS)")]
    InvalidCredentials,
    #[error("two-factor authentication is on for this account: use an application-specific password (generated in Zoho Accounts) instead of the login password")]
    WebLoginRequired,
    #[error("the user already holds the maximum number of authtokens: delete some under Zoho Accounts > Active Authtokens, then try again")]
    TooManyTokens,
    #[error("Zoho refused to generate a token without saying why (CAUSE=null)")]
    Unspecified,
    #[error("Zoho refused to generate a token: {0}")]
    Unknown(String),
    #[error("token request failed: {0}")]
    Transport(#[from] TransportError),
    #[error("the Zoho Accounts answer is not a token answer: {0}")]
    Malformed(String),
    #[error("invalid token request: {0}")]
    Invalid(String),
    #[error("no password: {0}")]
    NoPassword(String),
    #[error("cannot write the token: {0}")]
    Output(#[source] std::io::Error),
}

/// The parameters of one token request.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub email: String,
    pub password: Secret,
    pub display_name: Option<String>,
}

/// `{accounts_url}/apiauthtoken/nb/create`, keeping any path prefix.
pub fn create_url(accounts_url: &Url) -> Result<Url, AuthError> {
    let mut url = accounts_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AuthError::Invalid(
            "the accounts URL must be http or https".into(),
        ));
    }
    url.path_segments_mut()
        .map_err(|()| AuthError::Invalid("the accounts URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(["apiauthtoken", "nb", "create"]);
    Ok(url)
}

/// The form body of a token request (it holds the password: never log it).
pub fn form(request: &TokenRequest) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("SCOPE", SCOPE)
        .append_pair("EMAIL_ID", &request.email)
        .append_pair("PASSWORD", request.password.expose());
    if let Some(name) = &request.display_name {
        form.append_pair("DISPLAY_NAME", name);
    }
    form.finish()
}

/// Asks Zoho Accounts for a new authtoken.
pub async fn generate_token(
    accounts_url: &Url,
    timeout: Duration,
    request: &TokenRequest,
) -> Result<Secret, AuthError> {
    if request.email.trim().is_empty() {
        return Err(AuthError::Invalid("the e-mail address is empty".into()));
    }
    if request.password.is_empty() {
        return Err(AuthError::NoPassword("the password is empty".into()));
    }
    let url = create_url(accounts_url)?;
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| {
            AuthError::Invalid(format!("cannot build the HTTP client: {}", e.without_url()))
        })?;
    let started = Instant::now();
    let raw = crate::zoho::client::post_form(&http, &url, form(request), timeout, MAX_ANSWER_BYTES)
        .await?;
    tracing::debug!(
        url = %redact_url(url.as_str()), status = raw.status, bytes = raw.bytes.len(),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "token request answered"
    );
    check(&raw)?;
    let body = std::str::from_utf8(&raw.bytes)
        .map_err(|_| AuthError::Malformed("the body is not UTF-8 text".into()))?;
    parse_answer(body)
}

fn check(raw: &RawBody) -> Result<(), AuthError> {
    if raw.status != 200 {
        return Err(TransportError::HttpStatus { status: raw.status }.into());
    }
    let html_type = raw
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"));
    if html_type || crate::zoho::client::looks_like_html(&raw.bytes) {
        return Err(TransportError::HtmlPage { status: raw.status }.into());
    }
    if raw.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TransportError::EmptyBody.into());
    }
    Ok(())
}

/// Reads the properties body: `#` comment lines and blank lines are skipped, the rest must
/// be `KEY=VALUE` with each key at most once; `RESULT` decides. Error text names lines by
/// number, never by content, because a line may hold the token.
pub fn parse_answer(body: &str) -> Result<Secret, AuthError> {
    let mut token = None;
    let mut cause = None;
    let mut result = None;
    for (n, line) in body.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(AuthError::Malformed(format!(
                "line {} is not KEY=VALUE",
                n + 1
            )));
        };
        let slot = match key.trim() {
            "AUTHTOKEN" => &mut token,
            "CAUSE" => &mut cause,
            "RESULT" => &mut result,
            _ => continue,
        };
        if slot.replace(value.trim().to_string()).is_some() {
            return Err(AuthError::Malformed(format!(
                "line {} repeats a key",
                n + 1
            )));
        }
    }
    match result.as_deref() {
        Some("TRUE") => match token {
            Some(t) if !t.is_empty() && !t.contains(char::is_whitespace) => Ok(Secret::new(t)),
            _ => Err(AuthError::Malformed(
                "RESULT=TRUE without a usable AUTHTOKEN".into(),
            )),
        },
        Some("FALSE") => Err(cause
            .map(|c| cause_error(&c))
            .unwrap_or_else(|| AuthError::Malformed("RESULT=FALSE without a CAUSE".into()))),
        Some(_) => Err(AuthError::Malformed(
            "RESULT is neither TRUE nor FALSE".into(),
        )),
        None => Err(AuthError::Malformed("there is no RESULT line".into())),
    }
}

fn cause_error(cause: &str) -> AuthError {
    match cause {
        "ACCOUNT_REGISTRATION_NOT_CONFIRMED" => AuthError::RegistrationNotConfirmed,
        "INVALID_PASSWORD" => AuthError::InvalidPassword,
        "NO_SUCH_USER" => AuthError::NoSuchUser,
        "INVALID_CREDENTIALS" => AuthError::InvalidCredentials,
        "WEB_LOGIN_REQUIRED" => AuthError::WebLoginRequired,
        "EXCEEDED_MAXIMUM_ALLOWED_AUTHTOKENS" => AuthError::TooManyTokens,
        "null" | "" => AuthError::Unspecified,
        other => AuthError::Unknown(other.chars().take(100).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(cause: &str) -> AuthError {
        let body = format!("#\n#Tue Mar 03 04:05:06 PST 2015\nCAUSE={cause}\nRESULT=FALSE\n");
        parse_answer(&body).unwrap_err()
    }

    #[test]
    fn a_success_answer_yields_the_token_with_crlf_and_a_trailing_blank_line() {
        let body = "#\r\n#Tue Mar 03 04:05:06 PDT 2015\r\nAUTHTOKEN=0f1e2d3c4b5a69788796a5b4c3d2e1f0\r\nRESULT=TRUE\r\n\r\n";
        let token = parse_answer(body).unwrap();
        assert_eq!(token.expose(), "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    }

    #[test]
    fn lines_are_read_by_key_in_any_order() {
        let token = parse_answer("RESULT=TRUE\nAUTHTOKEN=abc123\n").unwrap();
        assert_eq!(token.expose(), "abc123");
    }

    #[test]
    fn every_documented_cause_has_its_own_error() {
        assert!(matches!(
            failure("ACCOUNT_REGISTRATION_NOT_CONFIRMED"),
            AuthError::RegistrationNotConfirmed
        ));
        assert!(matches!(
            failure("INVALID_PASSWORD"),
            AuthError::InvalidPassword
        ));
        assert!(matches!(failure("NO_SUCH_USER"), AuthError::NoSuchUser));
        assert!(matches!(
            failure("INVALID_CREDENTIALS"),
            AuthError::InvalidCredentials
        ));
        assert!(matches!(
            failure("WEB_LOGIN_REQUIRED"),
            AuthError::WebLoginRequired
        ));
        assert!(matches!(
            failure("EXCEEDED_MAXIMUM_ALLOWED_AUTHTOKENS"),
            AuthError::TooManyTokens
        ));
        assert!(matches!(failure("null"), AuthError::Unspecified));
        assert!(matches!(failure("SOMETHING_NEW"), AuthError::Unknown(c) if c == "SOMETHING_NEW"));
    }

    #[test]
    fn the_messages_tell_the_user_what_to_do() {
        assert!(failure("ACCOUNT_REGISTRATION_NOT_CONFIRMED")
            .to_string()
            .contains("registration e-mail"));
        assert!(failure("WEB_LOGIN_REQUIRED")
            .to_string()
            .contains("application-specific password"));
        assert!(failure("EXCEEDED_MAXIMUM_ALLOWED_AUTHTOKENS")
            .to_string()
            .contains("Active Authtokens"));
    }

    #[test]
    fn bodies_without_a_usable_result_are_malformed_and_never_quote_the_token() {
        let bad = [
            "#\nAUTHTOKEN=secret42\n",
            "AUTHTOKEN=secret42\nRESULT=MAYBE\n",
            "RESULT=TRUE\n",
            "RESULT=FALSE\n",
            "AUTHTOKEN=secret42\nRESULT=TRUE\nRESULT=TRUE\n",
            "AUTHTOKEN secret42\nRESULT=TRUE\n",
            "<html>",
        ];
        for body in bad {
            let err = parse_answer(body).unwrap_err();
            assert!(matches!(err, AuthError::Malformed(_)), "{body:?}: {err:?}");
            assert!(!err.to_string().contains("secret42"));
        }
    }

    #[tokio::test]
    async fn a_token_is_fetched_by_form_post_from_the_accounts_server() {
        use axum::http::Uri;
        let router = axum::Router::new().fallback(|uri: Uri, body: String| async move {
            let asked = uri.path() == "/apiauthtoken/nb/create"
                && uri.query().is_none()
                && body.contains("EMAIL_ID=ada%40example.invalid&PASSWORD=pw");
            let cause = if asked {
                "AUTHTOKEN=abc123"
            } else {
                "CAUSE=NO_SUCH_USER"
            };
            format!(
                "#\n#Tue Mar 03 04:05:06 PST 2015\n{cause}\nRESULT={}\n",
                if asked { "TRUE" } else { "FALSE" }
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let request = TokenRequest {
            email: "ada@example.invalid".into(),
            password: Secret::new("pw"),
            display_name: None,
        };
        let token = generate_token(&url, Duration::from_secs(5), &request)
            .await
            .unwrap();
        assert_eq!(token.expose(), "abc123");
    }

    #[test]
    fn the_form_sends_the_upper_case_parameters_and_the_url_keeps_its_prefix() {
        let request = TokenRequest {
            email: "ada@example.invalid".into(),
            password: Secret::new("p&ss w"),
            display_name: Some("zoho sync".into()),
        };
        assert_eq!(
            form(&request),
            "SCOPE=ZohoSupport%2Fsupportapi&EMAIL_ID=ada%40example.invalid&PASSWORD=p%26ss+w&DISPLAY_NAME=zoho+sync"
        );
        assert!(!format!("{request:?}").contains("p&ss"));
        let url = create_url(&Url::parse("http://127.0.0.1:8089/accounts/").unwrap()).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8089/accounts/apiauthtoken/nb/create"
        );
    }
}
