use super::*;

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
    assert_eq!(org.modules.first().map(|m| m.0), Some(Module::Requests));
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
        org.sweep_every(Module::Tasks),
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
    assert_eq!(org.sweep_every(Module::Requests), None);
    assert_eq!(
        org.sweep_every(Module::Tasks),
        Some(chrono::TimeDelta::days(2))
    );
    assert!(config.database.hard_delete);
}
