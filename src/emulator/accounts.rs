//! Zoho Accounts as the emulator plays it: the users of every portal, the tokens they hold,
//! and the auth-token endpoint's decision (contract section 2). Every token maps to exactly
//! one user, and through the user to one portal; issued tokens are derived from the seed
//! and become valid for the record API the moment they are handed out. The endpoint's
//! answer is the four-line properties body, in the exact line order parsers depend on.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::America::Los_Angeles;

use super::config::EmulatorConfig;
use super::seeds;
use crate::zoho::secret::Secret;

/// Why the endpoint refused a token (the `CAUSE` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    InvalidCredentials,
    NoSuchUser,
    InvalidPassword,
    NotConfirmed,
    WebLoginRequired,
    TooManyTokens,
    /// The literal `CAUSE=null` real servers sometimes sent.
    Unspecified,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::InvalidCredentials => "INVALID_CREDENTIALS",
            Cause::NoSuchUser => "NO_SUCH_USER",
            Cause::InvalidPassword => "INVALID_PASSWORD",
            Cause::NotConfirmed => "ACCOUNT_REGISTRATION_NOT_CONFIRMED",
            Cause::WebLoginRequired => "WEB_LOGIN_REQUIRED",
            Cause::TooManyTokens => "EXCEEDED_MAXIMUM_ALLOWED_AUTHTOKENS",
            Cause::Unspecified => "null",
        }
    }
}

/// The parameters of one token request; all optional on the wire.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub scope: Option<String>,
    pub email: Option<String>,
    pub password: Option<Secret>,
    pub display_name: Option<String>,
}

/// Who a valid token belongs to.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Index of the user's portal in the config.
    pub portal: usize,
    pub admin: bool,
    /// The owner name `myrecords` selects.
    pub owner: String,
}

#[derive(Debug)]
struct Account {
    email: String,
    password: Secret,
    app_password: Option<Secret>,
    confirmed: bool,
    two_factor: bool,
    broken: bool,
    tokens: usize,
    caller: Caller,
}

pub struct Accounts {
    seed: u64,
    max_tokens: usize,
    users: Vec<Account>,
    by_token: HashMap<String, usize>,
    issued: u64,
}

/// Counts only: the token index holds secrets.
impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("users", &self.users.len())
            .field("tokens", &self.by_token.len())
            .finish()
    }
}

impl Accounts {
    pub fn new(config: &EmulatorConfig) -> Accounts {
        let mut accounts = Accounts {
            seed: config.seed,
            max_tokens: config.max_tokens_per_user,
            users: Vec::new(),
            by_token: HashMap::new(),
            issued: 0,
        };
        for (portal_at, portal) in config.portals.iter().enumerate() {
            for (user_at, user) in portal.users.iter().enumerate() {
                let at = accounts.users.len();
                for token in &user.tokens {
                    accounts.by_token.insert(token.expose().to_string(), at);
                }
                accounts.users.push(Account {
                    email: user.email.clone(),
                    password: user.password.clone(),
                    app_password: user.app_password.clone(),
                    confirmed: user.confirmed,
                    two_factor: user.two_factor,
                    broken: user.broken,
                    tokens: user.tokens.len(),
                    caller: Caller {
                        portal: portal_at,
                        admin: user.admin,
                        owner: user.owner_name(user_at),
                    },
                });
            }
        }
        accounts
    }

    /// The user holding `token`, if any.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        let at = *self.by_token.get(token.trim())?;
        self.users.get(at).map(|a| a.caller.clone())
    }

    /// Decides a token request; on success the new token is registered and returned.
    pub fn create_token(&mut self, request: &TokenRequest) -> Result<Secret, Cause> {
        let (Some(_), Some(email), Some(password)) = (
            request.scope.as_deref().filter(|s| !s.trim().is_empty()),
            request.email.as_deref().filter(|s| !s.trim().is_empty()),
            request.password.as_ref().filter(|s| !s.is_empty()),
        ) else {
            return Err(Cause::InvalidCredentials);
        };
        let email = email.trim();
        let at = self
            .users
            .iter()
            .position(|a| a.email.eq_ignore_ascii_case(email))
            .ok_or(Cause::NoSuchUser)?;
        let account = self.users.get(at).ok_or(Cause::NoSuchUser)?;
        check_login(account, password)?;
        if account.tokens >= self.max_tokens {
            return Err(Cause::TooManyTokens);
        }
        let token = self.next_token(&account.email.clone());
        self.by_token.insert(token.clone(), at);
        if let Some(account) = self.users.get_mut(at) {
            account.tokens += 1;
        }
        Ok(Secret::new(token))
    }

    fn next_token(&mut self, email: &str) -> String {
        self.issued += 1;
        let mut attempt = 0;
        loop {
            let token = seeds::issued_token(self.seed, email, self.issued, attempt);
            if !self.by_token.contains_key(&token) {
                return token;
            }
            attempt += 1;
        }
    }
}

fn check_login(account: &Account, password: &Secret) -> Result<(), Cause> {
    if account.broken {
        return Err(Cause::Unspecified);
    }
    let app_password_ok = account.app_password.as_ref() == Some(password);
    let password_ok = account.password == *password;
    if account.two_factor && !app_password_ok {
        return Err(if password_ok {
            Cause::WebLoginRequired
        } else {
            Cause::InvalidPassword
        });
    }
    if !account.two_factor && !password_ok {
        return Err(Cause::InvalidPassword);
    }
    if !account.confirmed {
        return Err(Cause::NotConfirmed);
    }
    Ok(())
}

/// The endpoint's four-line body: `#`, the Pacific timestamp, then `AUTHTOKEN=` or
/// `CAUSE=`, then `RESULT=`.
pub fn properties_body(at: DateTime<Utc>, outcome: &Result<Secret, Cause>) -> String {
    let stamp = at
        .with_timezone(&Los_Angeles)
        .format("%a %b %d %H:%M:%S %Z %Y");
    match outcome {
        Ok(token) => format!("#\n#{stamp}\nAUTHTOKEN={}\nRESULT=TRUE\n", token.expose()),
        Err(cause) => format!("#\n#{stamp}\nCAUSE={}\nRESULT=FALSE\n", cause.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::config::UserConfig;
    use chrono::TimeZone;

    fn accounts() -> Accounts {
        let mut config = EmulatorConfig {
            max_tokens_per_user: 2,
            ..EmulatorConfig::default()
        };
        let users = &mut config.portals[0].users;
        users.push(UserConfig {
            confirmed: false,
            ..UserConfig::new("new@demo.example", "pw")
        });
        users.push(UserConfig {
            two_factor: true,
            app_password: Some(Secret::new("app")),
            ..UserConfig::new("tfa@demo.example", "pw")
        });
        users.push(UserConfig {
            broken: true,
            ..UserConfig::new("odd@demo.example", "pw")
        });
        Accounts::new(&config)
    }

    fn ask(accounts: &mut Accounts, email: &str, password: &str) -> Result<Secret, Cause> {
        accounts.create_token(&TokenRequest {
            scope: Some("ZohoSupport/supportapi".into()),
            email: Some(email.into()),
            password: Some(Secret::new(password)),
            display_name: None,
        })
    }

    #[test]
    fn every_cause_is_reachable() {
        let mut a = accounts();
        let missing = a.create_token(&TokenRequest::default());
        assert_eq!(missing.unwrap_err(), Cause::InvalidCredentials);
        assert_eq!(ask(&mut a, "who@x", "pw").unwrap_err(), Cause::NoSuchUser);
        assert_eq!(
            ask(&mut a, "admin@demo.example", "no").unwrap_err(),
            Cause::InvalidPassword
        );
        assert_eq!(
            ask(&mut a, "new@demo.example", "pw").unwrap_err(),
            Cause::NotConfirmed
        );
        assert_eq!(
            ask(&mut a, "tfa@demo.example", "pw").unwrap_err(),
            Cause::WebLoginRequired
        );
        assert_eq!(
            ask(&mut a, "odd@demo.example", "pw").unwrap_err(),
            Cause::Unspecified
        );
        // The admin already holds the demo token; the limit is 2.
        assert!(ask(&mut a, "ADMIN@demo.example", "demo-password").is_ok());
        let over = ask(&mut a, "admin@demo.example", "demo-password");
        assert_eq!(over.unwrap_err(), Cause::TooManyTokens);
    }

    #[test]
    fn an_issued_token_is_valid_at_once_and_an_app_password_passes_two_factor() {
        let mut a = accounts();
        let token = ask(&mut a, "tfa@demo.example", "app").unwrap();
        assert_eq!(token.expose().len(), 32);
        let caller = a.caller(token.expose()).unwrap();
        assert!(!caller.admin);
        assert!(a.caller(&seeds::demo_token()).is_some_and(|c| c.admin));
    }

    #[test]
    fn the_body_has_four_lines_with_a_pacific_timestamp() {
        let winter = Utc.with_ymd_and_hms(2015, 3, 3, 12, 5, 6).unwrap();
        let body = properties_body(winter, &Err(Cause::InvalidPassword));
        assert_eq!(
            body,
            "#\n#Tue Mar 03 04:05:06 PST 2015\nCAUSE=INVALID_PASSWORD\nRESULT=FALSE\n"
        );
        let summer = Utc.with_ymd_and_hms(2015, 7, 3, 12, 5, 6).unwrap();
        let body = properties_body(summer, &Ok(Secret::new("ab")));
        assert_eq!(
            body,
            "#\n#Fri Jul 03 05:05:06 PDT 2015\nAUTHTOKEN=ab\nRESULT=TRUE\n"
        );
    }
}
