//! `zoho-sync auth token`: generate an authtoken and print it, and only it, on stdout, so
//! that `TOKEN=$(zoho-sync auth token --email …)` works. The password comes from an
//! environment variable or a no-echo prompt; a password on the command line (visible in
//! `ps` and shell history) is refused.
//!
//! `zoho-sync auth desk`: exchange a Zoho Desk self client's grant code for a refresh
//! token and print it, and only it, on stdout, once (Zoho never shows it again). The
//! client secret comes from an environment variable or a no-echo prompt; every error
//! reply is one line saying what to do.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use url::Url;

use crate::desk::auth::{Accounts, ClientCredentials, Grant, TokenError};
use crate::desk::dc::{DataCentre, Endpoints};
use crate::desk::module::RECOMMENDED_SCOPES;
use crate::zoho::auth::{generate_token, AuthError, TokenRequest};
use crate::zoho::secret::Secret;

/// How long the grant-code exchange may take.
const DESK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
#[command(after_help = format!(
    "Create a Self Client in the API console of your data centre (api-console.zoho.<tld>), \
     then Generate Code with these scopes (the code is valid about 3 minutes, once):\n  {RECOMMENDED_SCOPES}"
))]
pub struct DeskArgs {
    /// The data centre of the Zoho account: us, eu, in, au, jp, ca, cn, sa, sg or ae.
    #[arg(long, value_name = "DC")]
    pub dc: DataCentre,
    /// The self client's id (`1000.…`).
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// The grant code from the API console (Self Client > Generate Code).
    #[arg(long, value_name = "GRANT", value_parser = secret)]
    pub code: Secret,
    /// The environment variable holding the client secret; when it is unset, the secret
    /// is asked for without echo.
    #[arg(long, value_name = "VAR", default_value = "ZOHO_CLIENT_SECRET")]
    pub client_secret_env: String,
    /// Zoho Accounts at another address than the data centre's (the emulator).
    #[arg(long, value_name = "URL")]
    pub accounts_url: Option<Url>,
}

/// Why `auth desk` printed no refresh token.
#[derive(Debug, thiserror::Error)]
pub enum DeskAuthError {
    #[error("{0}; generate it with these scopes: {RECOMMENDED_SCOPES}")]
    GrantCode(TokenError),
    #[error(transparent)]
    Token(TokenError),
    #[error("no client secret: {0}")]
    NoSecret(String),
    #[error("cannot write the refresh token: {0}")]
    Output(#[source] std::io::Error),
}

impl From<TokenError> for DeskAuthError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::GrantCodeRefused => DeskAuthError::GrantCode(error),
            other => DeskAuthError::Token(other),
        }
    }
}

/// Exchanges the grant code and prints the refresh token on stdout.
pub async fn run_desk(args: &DeskArgs) -> Result<(), DeskAuthError> {
    let client_secret =
        secret_from_env(&args.client_secret_env).map_or_else(|| prompt_client_secret(args), Ok)?;
    let accounts_url = args
        .accounts_url
        .clone()
        .unwrap_or_else(|| Endpoints::of(args.dc).accounts);
    let accounts = Accounts::new(&accounts_url, Some(args.dc), DESK_TIMEOUT)?;
    let credentials = ClientCredentials {
        client_id: args.client_id.trim().to_string(),
        client_secret,
    };
    let reply = accounts
        .grant(&credentials, &Grant::AuthorizationCode(args.code.clone()))
        .await?;
    let refresh_token = reply.refresh_token.ok_or(TokenError::NoRefreshToken)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", refresh_token.expose())
        .and_then(|()| stdout.flush())
        .map_err(DeskAuthError::Output)?;
    eprintln!(
        "This refresh token is shown once: store it where the organisation's `refresh_token_env` points (ZOHO_REFRESH_TOKEN by default).{}",
        reply
            .scope
            .map(|s| format!(" Scopes granted: {s}"))
            .unwrap_or_default()
    );
    Ok(())
}

fn prompt_client_secret(args: &DeskArgs) -> Result<Secret, DeskAuthError> {
    let var = &args.client_secret_env;
    let prompt = format!("Client secret of {}: ", args.client_id.trim());
    let typed = rpassword::prompt_password(prompt).map_err(|e| {
        DeskAuthError::NoSecret(format!(
            "${var} is not set and the terminal prompt failed: {e}"
        ))
    })?;
    let typed = Secret::new(typed.trim());
    if typed.is_empty() {
        return Err(DeskAuthError::NoSecret("the secret typed is empty".into()));
    }
    Ok(typed)
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The Zoho login name or e-mail address.
    #[arg(long, value_name = "E")]
    pub email: String,
    /// A label for the token in Zoho Accounts' token list.
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// The environment variable holding the password; when it is unset, the password is
    /// asked for without echo.
    #[arg(long, value_name = "VAR", default_value = "ZOHO_PASSWORD")]
    pub password_env: String,
    /// Refused: accepted only to explain why.
    #[arg(long, hide = true, value_name = "PASSWORD", value_parser = secret)]
    pub password: Option<Secret>,
}

/// Generates a token and prints it on stdout.
pub async fn run_token(
    args: &TokenArgs,
    accounts_url: Url,
    timeout: Duration,
) -> Result<(), AuthError> {
    if args.password.is_some() {
        return Err(AuthError::NoPassword(format!(
            "a password on the command line leaks into `ps` and shell history; put it in ${} or type it at the prompt",
            args.password_env
        )));
    }
    let password = read_password(&args.password_env, &args.email)?;
    let request = TokenRequest {
        email: args.email.clone(),
        password,
        display_name: args.display_name.clone(),
    };
    let token = generate_token(&accounts_url, timeout, &request).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", token.expose())
        .and_then(|()| stdout.flush())
        .map_err(AuthError::Output)
}

/// The password from `var` when it is set and not empty, else from a no-echo prompt.
fn read_password(var: &str, email: &str) -> Result<Secret, AuthError> {
    if let Some(password) = password_from_env(var) {
        return Ok(password);
    }
    let prompt = format!("Zoho password for {email}: ");
    let typed = rpassword::prompt_password(prompt).map_err(|e| {
        AuthError::NoPassword(format!(
            "${var} is not set and the terminal prompt failed: {e}"
        ))
    })?;
    let typed = Secret::new(typed);
    if typed.is_empty() {
        return Err(AuthError::NoPassword("the password typed is empty".into()));
    }
    Ok(typed)
}

fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

fn secret_from_env(var: &str) -> Option<Secret> {
    password_from_env(var)
}

fn password_from_env(var: &str) -> Option<Secret> {
    std::env::var_os(var)
        .and_then(|v| v.into_string().ok())
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        token: TokenArgs,
    }

    #[derive(Debug, Parser)]
    struct DeskHarness {
        #[command(flatten)]
        desk: DeskArgs,
    }

    #[test]
    fn auth_desk_parses_its_data_centre_and_keeps_the_grant_code_out_of_debug_output() {
        let h = DeskHarness::try_parse_from([
            "desk",
            "--dc",
            "EU",
            "--client-id",
            "1000.ABC",
            "--code",
            "1000.grant-code",
        ])
        .unwrap();
        assert_eq!(h.desk.dc, DataCentre::Eu);
        assert_eq!(h.desk.client_secret_env, "ZOHO_CLIENT_SECRET");
        assert!(!format!("{h:?}").contains("grant-code"));
        let bad =
            DeskHarness::try_parse_from(["desk", "--dc", "uk", "--client-id", "c", "--code", "g"]);
        assert!(bad.unwrap_err().to_string().contains("no UK"));
    }

    #[test]
    fn a_refused_grant_code_names_the_scopes_to_grant() {
        let error = DeskAuthError::from(TokenError::GrantCodeRefused);
        let text = error.to_string();
        assert!(
            text.contains("invalid_code") && text.contains(RECOMMENDED_SCOPES),
            "{text}"
        );
        let other = DeskAuthError::from(TokenError::Throttled);
        assert!(!other.to_string().contains("Desk.tickets.READ"));
    }

    #[test]
    fn the_password_variable_defaults_to_zoho_password() {
        let h = Harness::try_parse_from(["token", "--email", "ada@example.invalid"]).unwrap();
        assert_eq!(h.token.password_env, "ZOHO_PASSWORD");
        assert!(h.token.password.is_none());
    }

    #[tokio::test]
    async fn a_password_given_as_an_argument_is_refused_without_being_echoed() {
        let h =
            Harness::try_parse_from(["token", "--email", "a@b", "--password", "hunter2"]).unwrap();
        assert!(!format!("{h:?}").contains("hunter2"));
        let url = Url::parse("http://127.0.0.1:9").unwrap();
        let err = run_token(&h.token, url, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::NoPassword(_)));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn an_empty_or_unset_variable_gives_no_password() {
        assert!(password_from_env("ZOHO_SYNC_TEST_SURELY_UNSET_VARIABLE").is_none());
        assert_eq!(
            password_from_env("PATH").map(|s| s.expose().to_string()),
            std::env::var("PATH").ok().filter(|p| !p.is_empty())
        );
    }
}
