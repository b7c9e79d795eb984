use super::*;
use crate::zoho::module::Module as SupportModule;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_toml(
        text,
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
}

#[test]
fn the_checked_in_sync_toml_loads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sync.toml")).unwrap();
    let config = load(&text, &[]).unwrap();
    let org = config.organisation(None).unwrap();
    assert_eq!(org.portal, "demo");
    assert_eq!(org.daily_limit, 250);
    assert_eq!(org.reserve, 10);
    assert_eq!(
        org.modules.first().map(|m| m.0),
        Some(SupportModule::Requests.into())
    );
    assert_eq!(org.modules.len(), 8);
    assert_eq!(config.database.schema, "zoho");
}

#[test]
fn environment_variables_override_the_file() {
    let config = load(
        BUILT_IN,
        &[
            ("ZOHO_SYNC__API__TIMEOUT_SECS", "7"),
            ("DATABASE_URL", "postgres://other/db"),
        ],
    )
    .unwrap();
    assert_eq!(config.api.timeout, Duration::from_secs(7));
    assert_eq!(config.database.url.expose(), "postgres://other/db");
}

#[test]
fn a_bad_value_names_its_key_and_the_problem() {
    let text = BUILT_IN.replace("edition = \"free\"", "edition = \"gold\"");
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("organisations[0].edition"), "{err}");
    assert!(err.contains("gold"), "{err}");

    let text = BUILT_IN.replace("timeout_secs = 30", "timeout_secs = \"soon\"");
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("api.timeout_secs"), "{err}");

    let text = BUILT_IN.replace("data_time_zone = \"UTC\"", "data_time_zone = \"Mars/Base\"");
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("organisations[0].data_time_zone"), "{err}");
}

#[test]
fn an_unknown_key_is_refused_with_its_path() {
    let text = BUILT_IN.replace("[api.retry]", "[api.retry]\nmax_retrys = 3");
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(
        err.contains("api.retry") && err.contains("max_retrys"),
        "{err}"
    );
}

#[test]
fn a_reserve_that_leaves_nothing_is_refused() {
    let text = BUILT_IN.replace("reserve = \"4%\"", "reserve = 250");
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("organisations[0].reserve"), "{err}");
}

#[test]
fn the_database_url_never_shows_in_debug_output() {
    let config = load(BUILT_IN, &[("DATABASE_URL", "postgres://u:hunter2@h/db")]).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn sweeps_are_weekly_unless_the_organisation_or_a_module_says_otherwise() {
    let config = load(BUILT_IN, &[]).unwrap();
    let org = config.organisation(None).unwrap();
    assert_eq!(
        org.sweep_every(SupportModule::Tasks.into()),
        Some(chrono::TimeDelta::days(7))
    );
    assert!(!config.database.hard_delete);

    let text = BUILT_IN
        .replace("sweep_every_days = 7", "sweep_every_days = 2")
        .replace(
            "requests = { priority = 1 }",
            "requests = { priority = 1, sweep_every_days = 0 }",
        )
        .replace("hard_delete = false", "hard_delete = true");
    let config = load(&text, &[]).unwrap();
    let org = config.organisation(None).unwrap();
    assert_eq!(org.sweep_every(SupportModule::Requests.into()), None);
    assert_eq!(
        org.sweep_every(SupportModule::Tasks.into()),
        Some(chrono::TimeDelta::days(2))
    );
    assert!(config.database.hard_delete);
}

/// The error of the built-in file with `from` replaced by `to`.
fn refused(from: &str, to: &str) -> String {
    assert!(
        BUILT_IN.contains(from),
        "`{from}` is not in the built-in file"
    );
    load(&BUILT_IN.replace(from, to), &[])
        .map(|_| ())
        .expect_err(to)
        .to_string()
}

#[test]
fn api_settings_out_of_their_ranges_are_refused_naming_the_key() {
    for (from, to, key) in [
        ("read_ahead = 0", "read_ahead = 17", "api.read_ahead"),
        ("concurrency = 4", "concurrency = 0", "api.concurrency"),
        ("concurrency = 4", "concurrency = 65", "api.concurrency"),
        ("max_body_mib = 32", "max_body_mib = 0", "api.max_body_mib"),
        (
            "max_body_mib = 32",
            "max_body_mib = 1025",
            "api.max_body_mib",
        ),
        ("timeout_secs = 30", "timeout_secs = 0", "api.timeout_secs"),
        (
            "timeout_secs = 30",
            "timeout_secs = 601",
            "api.timeout_secs",
        ),
        (
            "connect_timeout_secs = 10",
            "connect_timeout_secs = 3600",
            "api.connect_timeout_secs",
        ),
    ] {
        let err = refused(from, to);
        assert!(err.contains(&format!("`{key}`")), "{err}");
        assert!(err.contains("out of range"), "{err}");
    }
    let edges = BUILT_IN
        .replace("read_ahead = 0", "read_ahead = 16")
        .replace("concurrency = 4", "concurrency = 64")
        .replace("max_body_mib = 32", "max_body_mib = 1024")
        .replace("timeout_secs = 30", "timeout_secs = 600");
    let config = load(&edges, &[]).unwrap();
    assert_eq!(
        (config.api.read_ahead.other, config.api.concurrency),
        (16, 64)
    );
}

#[test]
fn zero_licences_are_refused() {
    let err = refused("licences = 1", "licences = 0");
    assert!(err.contains("organisations[0].licences"), "{err}");
}

#[test]
fn a_schedule_that_never_fires_is_refused_wherever_it_is_set() {
    let err = refused("schedule = \"0 0 * * * *\"", "schedule = \"0 0 0 30 2 *\"");
    assert!(err.contains("`daemon.schedule`"), "{err}");
    assert!(err.contains("does not fire"), "{err}");

    let err = refused(
        "# schedule = \"0 */30 * * * *\"",
        "schedule = \"0 0 0 31 4 *\"",
    );
    assert!(err.contains("organisations[0].schedule"), "{err}");

    let err = refused(
        "requests = { priority = 1 }",
        "requests = { priority = 1, schedule = \"0 0 0 1 1 * 2020\" }",
    );
    assert!(
        err.contains("organisations[0].modules.requests.schedule"),
        "{err}"
    );
}

#[test]
fn two_organisations_on_one_portal_are_refused_naming_both() {
    let second = "\n[[organisations]]\nname = \"second\"\nportal = \"DEMO\"\n\
                  departments = [\"Sales\"]\nedition = \"free\"\n";
    let err = load(&format!("{BUILT_IN}{second}"), &[])
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("organisations[1].portal"), "{err}");
    assert!(err.contains("`demo`") && err.contains("`second`"), "{err}");

    let elsewhere = second.replace("DEMO", "other");
    assert!(load(&format!("{BUILT_IN}{elsewhere}"), &[]).is_ok());
}

#[test]
fn postgresql_system_schemas_are_refused_and_public_is_allowed() {
    for schema in [
        "pg_catalog",
        "pg_toast",
        "pg_temp_3",
        "pg_anything",
        "information_schema",
        "PG_CATALOG",
    ] {
        let err = refused("schema = \"zoho\"", &format!("schema = \"{schema}\""));
        assert!(err.contains("`database.schema`"), "{schema}: {err}");
    }
    let config = load(
        &BUILT_IN.replace("schema = \"zoho\"", "schema = \"public\""),
        &[],
    )
    .unwrap();
    assert_eq!(config.database.schema, "public");
}

const URL_LINE: &str = "url = \"postgres://postgres@127.0.0.1:5432/postgres\"";
const SECRET_URL: &str = "postgres://u:s3cr3t@h/db";

#[test]
fn a_syntax_error_never_echoes_the_database_password() {
    let with_secret = BUILT_IN.replace(URL_LINE, &format!("url = \"{SECRET_URL}\""));
    for broken in [
        with_secret.replace("lease_secs = 120", "lease_secs = = 120"),
        with_secret.replace(&format!("\"{SECRET_URL}\""), SECRET_URL),
        with_secret.replace(&format!("\"{SECRET_URL}\""), &format!("\"{SECRET_URL}")),
        with_secret.replace(&format!("\"{SECRET_URL}\""), &format!("\"{SECRET_URL}\" x")),
        with_secret.replace("lease_secs = 120", &format!("url = \"{SECRET_URL}\"")),
    ] {
        let err = load(&broken, &[]).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn a_wrong_type_or_unknown_key_never_echoes_the_database_password() {
    let with_secret = BUILT_IN.replace(URL_LINE, &format!("url = \"{SECRET_URL}\""));
    for (broken, key) in [
        (
            with_secret.replace(
                "lease_secs = 120",
                "lease_secs = 120\npassword = \"s3cr3t\"",
            ),
            "password",
        ),
        (
            with_secret.replace(&format!("\"{SECRET_URL}\""), &format!("[\"{SECRET_URL}\"]")),
            "database.url",
        ),
        (
            with_secret.replace(
                "lease_secs = 120",
                &format!("lease_secs = \"{SECRET_URL}\""),
            ),
            "database.lease_secs",
        ),
        (
            with_secret.replace(&format!("\"{SECRET_URL}\""), "\"u:s3cr3t@h/db\""),
            "database.url",
        ),
    ] {
        let err = load(&broken, &[]).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}

#[test]
fn environment_overrides_never_echo_a_secret() {
    for (name, value, key) in [
        (
            "ZOHO_SYNC__DATABASE__LEASE_SECS",
            SECRET_URL,
            "database.lease_secs",
        ),
        (
            "ZOHO_SYNC__DATABASE__URL__PASSWORD",
            "s3cr3t",
            "database.url",
        ),
        ("DATABASE_URL", "u:s3cr3t@h/db", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://u:s3cr3t@h/db", "DATABASE_URL"),
        (
            "ZOHO_SYNC__DATABASE__URL",
            "s3cr3t://u:s3cr3t@h/db",
            "database.url",
        ),
    ] {
        let err = load(BUILT_IN, &[(name, value)])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{name}: {err}");
        assert!(!err.contains("s3cr3t"), "{name}: {err}");
    }
}

#[test]
fn an_authtoken_written_as_the_variable_name_is_refused_unquoted() {
    let token = "f03b0f8fcc070237e1e40daa5a01d31e";
    let err = refused(
        "authtoken_env = \"ZOHO_AUTHTOKEN\"",
        &format!("authtoken_env = \"{token}\""),
    );
    assert!(err.contains("organisations[0].authtoken_env"), "{err}");
    assert!(!err.contains(token), "{err}");
}

const DESK: &str = r#"
[[organisations]]
name = "acme"
api = "desk"
dc = "eu"
org_id = "20071234567"
client_id = "1000.ABC"
edition = "professional"
agents = 12
"#;

#[test]
fn a_desk_organisation_gets_its_credits_reserve_streams_and_searchable_modules() {
    let config = load(DESK, &[]).unwrap();
    let org = config.organisation(None).unwrap();
    assert_eq!(org.daily_limit, 81_000);
    assert_eq!(org.reserve, 24_300, "30% by default");
    assert_eq!(
        (org.portal.as_str(), org.departments.clone()),
        ("20071234567", vec![String::new()])
    );
    assert!(org
        .modules
        .iter()
        .all(|(m, _)| m.desk().is_some_and(|d| d.has_search())));
    assert_eq!(org.modules.len(), 7);
    let SourceConfig::Desk(desk) = &org.source else {
        panic!("a Desk organisation");
    };
    assert_eq!(desk.desk_url.as_str(), "https://desk.zoho.eu/");
    assert_eq!(desk.accounts_url.as_str(), "https://accounts.zoho.eu/");
    assert_eq!(desk.client_secret.env, "ZOHO_CLIENT_SECRET");
    assert_eq!(
        org.sweep_every(org.modules[0].0),
        Some(chrono::TimeDelta::days(7)),
        "a weekly reconciliation"
    );
}

#[test]
fn a_desk_organisation_refuses_the_legacy_keys_and_what_it_cannot_mirror_yet() {
    let cases = [
        (
            DESK.replace("agents = 12", "agents = 12\nportal = \"x\""),
            "portal",
        ),
        (DESK.replace("dc = \"eu\"", "dc = \"uk\""), "dc"),
        (
            DESK.replace("org_id = \"20071234567\"", "org_id = \"acme\""),
            "org_id",
        ),
        (
            DESK.replace("edition = \"professional\"", "edition = \"gold\""),
            "edition",
        ),
        (
            format!("{DESK}[organisations.modules]\nrequests = {{ priority = 1 }}\n"),
            "modules.requests",
        ),
    ];
    for (text, key) in cases {
        let err = load(&text, &[]).unwrap_err().to_string();
        assert!(
            err.contains(&format!("organisations[0].{key}")),
            "{key}: {err}"
        );
    }
    let legacy_with_desk_key =
        BUILT_IN.replace("format = \"json\"", "format = \"json\"\ndc = \"eu\"");
    let err = load(&legacy_with_desk_key, &[]).unwrap_err().to_string();
    assert!(err.contains("organisations[0].dc"), "{err}");
}
