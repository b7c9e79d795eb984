//! The emulator's auth-token endpoint: the four-line properties body with a Pacific
//! timestamp, every CAUSE of the contract, and issued tokens valid for the record API.

use zoho_sync::emulator::{EmulatorConfig, UserConfig};
use zoho_sync::zoho::secret::Secret;

use crate::emulator_client::Emu;

const PATH: &str = "/apiauthtoken/nb/create";
const SCOPE: &str = "ZohoSupport/supportapi";

async fn emu() -> Emu {
    let mut config = EmulatorConfig::default().with_records(2);
    config.max_tokens_per_user = 2;
    let users = &mut config.portals[0].users;
    users.push(UserConfig {
        confirmed: false,
        ..UserConfig::new("new@demo.example", "pw")
    });
    users.push(UserConfig {
        two_factor: true,
        app_password: Some(Secret::new("app-pw")),
        ..UserConfig::new("tfa@demo.example", "pw")
    });
    users.push(UserConfig {
        broken: true,
        ..UserConfig::new("odd@demo.example", "pw")
    });
    Emu::with_config(config).await
}

async fn ask(emu: &Emu, email: &str, password: &str) -> String {
    let query = [
        ("SCOPE", SCOPE),
        ("EMAIL_ID", email),
        ("PASSWORD", password),
    ];
    let response = emu
        .http
        .post(emu.url(PATH))
        .form(&query)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("a body")
}

fn failure(stamp: &str, cause: &str) -> String {
    format!("#\n#{stamp}\nCAUSE={cause}\nRESULT=FALSE\n")
}

#[tokio::test]
async fn every_cause_is_answered_with_the_exact_body() {
    let emu = emu().await;
    emu.set_clock("2015-03-03T12:05:06Z").await;
    let stamp = "Tue Mar 03 04:05:06 PST 2015";
    assert_eq!(
        ask(&emu, "who@demo.example", "pw").await,
        failure(stamp, "NO_SUCH_USER")
    );
    assert_eq!(
        ask(&emu, "admin@demo.example", "wrong").await,
        failure(stamp, "INVALID_PASSWORD")
    );
    let unconfirmed = ask(&emu, "new@demo.example", "pw").await;
    assert_eq!(
        unconfirmed,
        failure(stamp, "ACCOUNT_REGISTRATION_NOT_CONFIRMED")
    );
    assert_eq!(
        ask(&emu, "tfa@demo.example", "pw").await,
        failure(stamp, "WEB_LOGIN_REQUIRED")
    );
    assert_eq!(
        ask(&emu, "odd@demo.example", "pw").await,
        failure(stamp, "null")
    );
    let missing = emu
        .http
        .get(emu.url(PATH))
        .query(&[("EMAIL_ID", "admin@demo.example")])
        .send()
        .await;
    let missing = missing.expect("an answer").text().await.expect("a body");
    assert_eq!(missing, failure(stamp, "INVALID_CREDENTIALS"));
    // The admin holds the demo token; the limit is 2.
    assert!(ask(&emu, "admin@demo.example", "demo-password")
        .await
        .contains("RESULT=TRUE"));
    let over = ask(&emu, "admin@demo.example", "demo-password").await;
    assert_eq!(over, failure(stamp, "EXCEEDED_MAXIMUM_ALLOWED_AUTHTOKENS"));
}

#[tokio::test]
async fn an_issued_token_is_hex_shows_pdt_in_summer_and_works_at_once() {
    let emu = emu().await;
    emu.set_clock("2015-07-03T12:05:06Z").await;
    let query = format!("SCOPE={SCOPE}&EMAIL_ID=tfa%40demo.example&PASSWORD=app-pw");
    let body = emu.get_raw(PATH, &query).await.body;
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4, "{body}");
    assert_eq!(&lines[..2], ["#", "#Fri Jul 03 05:05:06 PDT 2015"]);
    assert_eq!(lines[3], "RESULT=TRUE");
    let token = lines[2].strip_prefix("AUTHTOKEN=").expect("a token line");
    assert!(
        token.len() == 32
            && token
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{token}"
    );
    // A non-admin user: the token is valid (charged) but the API is refused with 4001.
    let uri = "/api/json/requests/getrecords";
    let answer = emu
        .get_raw(
            uri,
            &format!("authtoken={token}&portal=demo&department=Support"),
        )
        .await;
    assert!(answer.body.contains(r#""code":"4001""#), "{}", answer.body);
    assert_eq!(emu.quota_used().await, 1);
}

#[tokio::test]
async fn an_admin_token_issued_over_http_reads_records() {
    let emu = emu().await;
    let body = ask(&emu, "ADMIN@demo.example", "demo-password").await;
    let token = body
        .lines()
        .nth(2)
        .and_then(|l| l.strip_prefix("AUTHTOKEN="))
        .expect("a token");
    assert_ne!(token, emu.token);
    let uri = "/api/xml/tasks/getrecords";
    let answer = emu
        .get_raw(
            uri,
            &format!("authtoken={token}&portal=demo&department=Support"),
        )
        .await;
    assert!(answer.body.contains("<Tasks>"), "{}", answer.body);
}
