//! `zoho-sync auth token`: generate an authtoken and print it, and only it, on stdout, so
//! that `TOKEN=$(zoho-sync auth token --email …)` works. The password comes from an
//! environment variable or a no-echo prompt; a password on the command line (visible in
//! `ps` and shell history) is refused.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use url::Url;

use crate::zoho::auth::{generate_token, AuthError, TokenRequest};
use crate::zoho::secret::Secret;

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
