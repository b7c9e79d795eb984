//! A Zoho Desk line of `zoho-sync api` turned into the one request it sends: the flags
//! each Desk method uses (any other is a usage error, as for the legacy methods), writes
//! refused for the modules that take none (`DeskModule::is_writable`), and the body of a
//! create or update from `--json` and `--field`s (`cf_*` keys inside `cf`, D24).
//! Invariant: everything here is decided before the database or the network is touched,
//! so a refused line costs no credit.

use serde_json::{Map, Value};

use super::args::{ApiArgs, ApiModule, DeskMethod};
use super::{usage, ApiCommandError};
use crate::desk::module::MAX_TRASH_IDS;
use crate::desk::{DeskId, DeskModule, DeskRequest};

/// Refuses flags the Desk method does not use, writes to modules that take none, writes
/// without a body and the wrong number of ids.
pub(super) fn check_flags(args: &ApiArgs, method: DeskMethod) -> Result<(), ApiCommandError> {
    let name = method.name();
    let legacy_only = [
        ("--from", args.from.is_some()),
        ("--to", args.to.is_some()),
        ("--select", args.select.is_some()),
        ("--since", args.since.is_some()),
        ("--my-records", args.my_records),
        ("--search-field", args.search_field.is_some()),
        ("--search-value", args.search_value.is_some()),
        ("--days", args.days.is_some()),
        // Desk departments are data (a record's `departmentId`), not a setting.
        ("--department", args.department.is_some()),
    ];
    if let Some((flag, _)) = legacy_only.iter().find(|(_, given)| *given) {
        return Err(usage(&format!("{flag} does not apply to {name}")));
    }
    let module = desk_module(args)?;
    if method != DeskMethod::Get && !module.is_writable() {
        return Err(usage(&format!(
            "{name} does not apply to {}: Zoho Desk writes here are for tickets, contacts and accounts",
            module.url_name()
        )));
    }
    let writes = matches!(method, DeskMethod::Create | DeskMethod::Update);
    let has_body = !args.fields.is_empty() || args.json.is_some();
    if writes && !has_body {
        return Err(usage(&format!(
            "{name} needs at least one --field KEY=VALUE or --json '{{...}}'"
        )));
    }
    if !writes && has_body {
        return Err(usage(&format!("--field and --json do not apply to {name}")));
    }
    let ids = args.desk_ids.len();
    let fits = match method {
        DeskMethod::Create => ids == 0,
        DeskMethod::Get | DeskMethod::Update => ids == 1,
        DeskMethod::Trash => (1..=MAX_TRASH_IDS).contains(&ids),
    };
    if !fits {
        return Err(usage(&match method {
            DeskMethod::Create => "--id does not apply to create".to_string(),
            DeskMethod::Trash => format!("trash takes 1 to {MAX_TRASH_IDS} --id"),
            _ => format!("{name} takes exactly one --id"),
        }));
    }
    Ok(())
}

/// The request the checked line sends, itself checked (`DeskRequest::validate`).
pub(super) fn request(args: &ApiArgs, method: DeskMethod) -> Result<DeskRequest, ApiCommandError> {
    let module = desk_module(args)?;
    let request = match method {
        DeskMethod::Get => DeskRequest::ById {
            module,
            id: one_id(args)?,
        },
        DeskMethod::Create => DeskRequest::Create {
            module,
            body: body(args)?,
        },
        DeskMethod::Update => DeskRequest::Update {
            module,
            id: one_id(args)?,
            body: body(args)?,
        },
        DeskMethod::Trash => DeskRequest::Trash {
            module,
            ids: args.desk_ids.clone(),
        },
    };
    request
        .validate()
        .map_err(|e| usage(&format!("{} of {}: {e}", method.name(), module.url_name())))?;
    Ok(request)
}

/// `--json`'s object (or an empty one) with each `--field` set on it: the value as a
/// JSON string, `key=` as null, a `cf_*` key inside the `cf` object (D24).
pub(super) fn body(args: &ApiArgs) -> Result<Map<String, Value>, ApiCommandError> {
    let mut body = args.json.clone().unwrap_or_default();
    for (key, value) in &args.fields {
        let value = value.clone().map_or(Value::Null, Value::String);
        if !key.starts_with("cf_") {
            body.insert(key.clone(), value);
            continue;
        }
        let cf = body
            .entry("cf")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(cf) = cf else {
            return Err(usage(&format!(
                "--field {key}: the body's `cf` is not an object"
            )));
        };
        cf.insert(key.clone(), value);
    }
    Ok(body)
}

pub(super) fn desk_module(args: &ApiArgs) -> Result<DeskModule, ApiCommandError> {
    match args.module {
        ApiModule::Desk(module) => Ok(module),
        ApiModule::Legacy(module) => Err(usage(&format!(
            "{module} is a legacy module, not one of Zoho Desk"
        ))),
    }
}

fn one_id(args: &ApiArgs) -> Result<DeskId, ApiCommandError> {
    match args.desk_ids.as_slice() {
        [id] => Ok(*id),
        _ => Err(usage("give exactly one --id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::api::ApiMethod;
    use crate::cli::EXIT_USAGE;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        api: ApiArgs,
    }

    fn parse(line: &[&str]) -> ApiArgs {
        let words = std::iter::once("api").chain(line.iter().copied());
        Harness::try_parse_from(words)
            .expect("a line clap reads")
            .api
    }

    fn checked(line: &[&str]) -> Result<DeskRequest, ApiCommandError> {
        let args = parse(line);
        let ApiMethod::Desk(method) = args.method else {
            panic!("not a Desk line: {line:?}");
        };
        check_flags(&args, method)?;
        request(&args, method)
    }

    #[test]
    fn fields_become_json_strings_nulls_and_custom_fields_inside_cf() {
        let line = [
            "update",
            "--module",
            "tickets",
            "--id",
            "42",
            "--field",
            "subject=Printer down",
            "--field",
            "phone=",
            "--field",
            "cf_region=North",
            "--json",
            r#"{"priority":"High","cf":{"cf_team":"A"}}"#,
        ];
        let Ok(DeskRequest::Update { body, .. }) = checked(&line) else {
            panic!("an update");
        };
        let expected = serde_json::json!({
            "subject": "Printer down", "phone": null, "priority": "High",
            "cf": { "cf_team": "A", "cf_region": "North" },
        });
        assert_eq!(Value::Object(body), expected);
    }

    #[test]
    fn trash_takes_several_ids_and_costs_six_credits_each() {
        let request = checked(&["trash", "--module", "contacts", "--id", "1", "--id", "2"]);
        assert_eq!(request.map(|r| r.cost()).ok(), Some(12));
    }

    #[test]
    fn lines_a_desk_method_cannot_use_are_usage_errors() {
        let cases: [&[&str]; 7] = [
            &["create", "--module", "products", "--field", "productName=x"],
            &["trash", "--module", "agents", "--id", "1"],
            &["create", "--module", "tickets"],
            &["get", "--module", "tickets", "--id", "1", "--field", "a=b"],
            &[
                "get",
                "--module",
                "tickets",
                "--id",
                "1",
                "--since",
                "2015-03-03 04:05:06",
            ],
            &["update", "--module", "tickets", "--field", "subject=x"],
            &[
                "create",
                "--module",
                "tickets",
                "--id",
                "1",
                "--field",
                "subject=x",
            ],
        ];
        for line in cases {
            let error = checked(line).expect_err("a usage error");
            assert_eq!(error.exit_code(), EXIT_USAGE, "{line:?}");
        }
    }

    #[test]
    fn a_method_of_one_api_with_a_module_of_only_the_other_does_not_parse() {
        let words = |line: &[&'static str]| {
            Harness::try_parse_from(std::iter::once("api").chain(line.iter().copied()))
        };
        assert!(words(&["get", "--module", "requests", "--id", "1"]).is_err());
        assert!(words(&["get", "--module", "tickets", "--id", "x1"]).is_err());
        assert!(words(&[
            "deleterecords",
            "--module",
            "requests",
            "--id",
            "1",
            "--id",
            "2"
        ])
        .is_err());
    }
}
