use chrono::TimeZone;

use super::*;
use crate::store::memory::MemoryStore;
use crate::stream::Checkpoint;
use crate::zoho::module::Module as SupportModule;

fn config(extra: &str, modules: &str) -> Config {
    let text = format!(
        "[daemon]\n{extra}\n[[organisations]]\nname = \"o\"\nportal = \"p\"\n\
         departments = [\"d\"]\nedition = \"free\"\n[organisations.modules]\n{modules}"
    );
    Config::from_toml(&text, std::iter::empty()).expect("a valid config")
}

fn key(module: SupportModule) -> StreamKey {
    StreamKey {
        portal: "p".into(),
        department: "d".into(),
        module: module.into(),
    }
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1, hour, 0, 0).unwrap()
}

fn completed(store: &MemoryStore, module: SupportModule, kind: PassKind, when: DateTime<Utc>) {
    let checkpoint = Checkpoint {
        completed_at: Some(when),
        passes: 1,
        ..Checkpoint::default()
    };
    store.set_checkpoint(&key(module), kind, checkpoint);
}

#[tokio::test]
async fn a_busier_module_is_due_sooner_and_a_backfilling_one_waits_for_the_schedule() {
    let config = config(
        "",
        "requests = {}\ncontacts = {}\ntasks = {}\nsolutions = { polling = \"fixed\" }\n",
    );
    let org = &config.organisations[0];
    let adaptive = Adaptive::of(&config, org).expect("adaptive by default");
    assert_eq!(
        adaptive.modules(),
        [
            SupportModule::Requests.into(),
            SupportModule::Contacts.into(),
            SupportModule::Tasks.into()
        ],
        "a module that asks for the fixed schedule keeps it"
    );
    let store = MemoryStore::new();
    for module in [SupportModule::Requests, SupportModule::Contacts] {
        completed(&store, module, PassKind::Backfill, at(1));
        completed(&store, module, PassKind::Incremental, at(2));
    }
    let hour = Duration::from_secs(3_600);
    for _ in 0..20 {
        store
            .observe_changes(&key(SupportModule::Requests), 100, hour)
            .await
            .unwrap();
        store
            .observe_changes(&key(SupportModule::Contacts), 1, hour)
            .await
            .unwrap();
    }
    let plans = adaptive.plan(org, &store).await.unwrap();
    let (requests, contacts, tasks) = (&plans[0], &plans[1], &plans[2]);
    assert!(
        requests.rate_per_day > 20.0 * contacts.rate_per_day,
        "{plans:?}"
    );
    assert!(requests.interval < contacts.interval / 3, "{plans:?}");
    assert_eq!(
        requests.due_at,
        Some(at(2) + TimeDelta::from_std(requests.interval).unwrap())
    );
    assert_eq!(tasks.due_at, None, "still to be backfilled: {plans:?}");
    let budget = f64::from(org.budget().per_day) * crate::scheduler::freshness::INCREMENTAL_SHARE;
    let planned: f64 = plans
        .iter()
        .map(|p| p.passes_per_day + p.rate_per_day / 199.0)
        .sum();
    assert!(planned <= budget + 1e-6, "{planned} > {budget}");
}

#[test]
fn the_fixed_setting_or_a_schedule_of_their_own_takes_modules_out_of_the_adaptive_plan() {
    let fixed = config("polling = \"fixed\"", "requests = {}\n");
    assert!(Adaptive::of(&fixed, &fixed.organisations[0]).is_none());
    let own = config("", "requests = { schedule = \"0 */5 * * * *\" }\n");
    assert!(Adaptive::of(&own, &own.organisations[0]).is_none());
}

#[test]
fn bad_polling_settings_name_their_key() {
    for (extra, key) in [
        ("polling = \"sometimes\"", "daemon.polling"),
        ("min_interval_secs = 0", "daemon.min_interval_secs"),
        (
            "min_interval_secs = 600\nmax_interval_secs = 60",
            "daemon.max_interval_secs",
        ),
        ("incremental_share = 1.5", "daemon.incremental_share"),
    ] {
        let text = format!(
            "[daemon]\n{extra}\n[[organisations]]\nname = \"o\"\nportal = \"p\"\n\
             departments = [\"d\"]\nedition = \"free\"\n"
        );
        let error = Config::from_toml(&text, std::iter::empty()).unwrap_err();
        assert!(error.to_string().contains(key), "{extra}: {error}");
    }
}
