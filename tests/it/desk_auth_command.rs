//! `zoho-sync auth desk`, the real binary against the stand-in Zoho Accounts: the refresh
//! token on stdout and nothing else, the client secret from the environment, and a
//! refused grant code explained in one line that lists the scopes to grant.

use std::process::Stdio;

use crate::support::desk::{FakeDesk, CLIENT_ID, CLIENT_SECRET, GRANT_CODE, REFRESH_TOKEN};

async fn auth_desk(fake: &FakeDesk, code: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_zoho-sync"))
        .args([
            "auth",
            "desk",
            "--dc",
            "eu",
            "--client-id",
            CLIENT_ID,
            "--code",
            code,
        ])
        .args(["--accounts-url", fake.url.as_str()])
        .env("ZOHO_CLIENT_SECRET", CLIENT_SECRET)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run zoho-sync")
}

#[tokio::test]
async fn a_grant_code_is_exchanged_and_only_the_refresh_token_is_printed() {
    let fake = FakeDesk::start().await;
    let out = auth_desk(&fake, GRANT_CODE).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{REFRESH_TOKEN}\n")
    );
    assert!(stderr.contains("shown once"), "{stderr}");
    assert!(!stderr.contains(CLIENT_SECRET) && !stderr.contains(REFRESH_TOKEN));
}

#[tokio::test]
async fn a_refused_grant_code_is_one_line_naming_the_scopes_and_exit_1() {
    let fake = FakeDesk::start().await;
    let out = auth_desk(&fake, "1000.stale-code").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("invalid_code") && error[0].contains("Desk.search.READ"),
        "{stderr}"
    );
    assert!(!stderr.contains(CLIENT_SECRET));
}
