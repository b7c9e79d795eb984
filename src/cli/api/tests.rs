use super::*;
use clap::Parser;

#[derive(Debug, Parser)]
struct Harness {
    #[command(flatten)]
    api: ApiArgs,
}

fn parse(line: &[&str]) -> Result<ApiArgs, clap::Error> {
    Harness::try_parse_from(std::iter::once("api").chain(line.iter().copied())).map(|h| h.api)
}

#[test]
fn a_full_getrecords_line_parses_into_typed_values() {
    let args = parse(&[
        "getrecords",
        "--module",
        "Cases",
        "--from",
        "1",
        "--to",
        "200",
        "--select",
        "Subject,Status",
        "--since",
        "2015-03-03 04:05:06",
        "--output",
        "jsonl",
    ])
    .unwrap();
    assert_eq!(args.method, Method::GetRecords);
    assert_eq!(args.module, Module::Requests);
    assert_eq!(args.output, Output::Jsonl);
    assert!(check_flags(&args).is_ok());
    let params = method_params(&args).unwrap();
    assert!(params.contains(&("lastmodifiedtime", "2015-03-03 04:05:06".into())));
}

#[test]
fn the_search_alias_and_fields_parse() {
    let args = parse(&[
        "searchrecords",
        "--module",
        "requests",
        "--search-field",
        "Request Id",
        "--search-value",
        "101",
    ])
    .unwrap();
    assert_eq!(args.method, Method::Search);
    assert!(method_params(&args)
        .unwrap()
        .contains(&("searchvalue", "101".into())));
    assert_eq!(
        parse_field("Subject=a=b"),
        Ok(("Subject".into(), Some("a=b".into())))
    );
    assert_eq!(parse_field("Email="), Ok(("Email".into(), None)));
    assert!(parse_field("=x").is_err());
}

#[test]
fn bad_times_methods_and_modules_are_usage_errors() {
    assert!(parse(&[
        "getrecords",
        "--module",
        "requests",
        "--since",
        "03/03/2015"
    ])
    .is_err());
    assert!(parse(&["getticket", "--module", "requests"]).is_err());
    assert!(parse(&["getrecords", "--module", "tickets"]).is_err());
}

#[test]
fn flags_the_method_does_not_use_are_refused_before_sending() {
    let cases: [&[&str]; 4] = [
        &[
            "getrecordsbyid",
            "--module",
            "requests",
            "--since",
            "2015-03-03 04:05:06",
            "--id",
            "1",
        ],
        &["getrecords", "--module", "requests", "--field", "Subject=x"],
        &["addrecords", "--module", "requests"],
        &[
            "deleterecords",
            "--module",
            "requests",
            "--id",
            "1",
            "--my-records",
        ],
    ];
    for line in cases {
        let err = check_flags(&parse(line).unwrap()).unwrap_err();
        assert_eq!(err.exit_code(), EXIT_USAGE, "{line:?}");
    }
    let no_id = parse(&["deleterecords", "--module", "requests"]).unwrap();
    assert!(matches!(
        method_params(&no_id),
        Err(ApiCommandError::Usage(_))
    ));
}
