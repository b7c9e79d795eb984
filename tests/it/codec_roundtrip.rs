//! The renderer and the decoders agree: any records the emulator renders, in either
//! format, decode back to exactly the same records, whatever the values hold (unicode,
//! control characters, `]]>`, markup characters, empty strings, absent values).

use proptest::prelude::*;
use zoho_sync::emulator::render::{records_answer, to_json, to_xml};
use zoho_sync::zoho::codec::{decode, Answer, RowOutcome};
use zoho_sync::zoho::{Field, Format, Module, Record, RecordId};

/// The fields of one row as the renderer takes them.
type Fields = Vec<(String, Option<String>)>;
/// A generated record: its id and its other fields.
type Generated = (u64, Fields);

/// Text that is awkward for XML and JSON, mixed with arbitrary unicode.
fn awkward_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"' \\]\\[\\\\/\r\n\t\u{0}-\u{1f}\u{7f}\u{fffe}\u{ffff}a-zé😀]{0,16}",
        Just(String::new()),
        Just("]]>".to_string()),
        Just("a]]>b]]]]>c".to_string()),
        Just("&amp; &#x1; <![CDATA[x]]>".to_string()),
    ]
}

fn value() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(awkward_text().prop_filter("`null` is the wire's absent", |v| v != "null"))
}

fn module() -> impl Strategy<Value = Module> {
    proptest::sample::select(Module::ALL.to_vec())
}

/// One record of `module`: its id field first, then fields with other labels.
fn record(module: Module) -> impl Strategy<Value = Generated> {
    let label = awkward_text().prop_filter("labels are non-empty and not the id field", move |l| {
        !l.is_empty() && !l.eq_ignore_ascii_case(module.id_field())
    });
    (
        any::<u64>(),
        proptest::collection::vec((label, value()), 0..8),
    )
}

fn page(rows: std::ops::Range<usize>) -> impl Strategy<Value = (Module, Vec<Generated>)> {
    module().prop_flat_map(move |m| (Just(m), proptest::collection::vec(record(m), rows.clone())))
}

fn wire_rows(module: Module, rows: &[Generated]) -> Vec<Fields> {
    rows.iter()
        .map(|(id, fields)| {
            let mut all = vec![(module.id_field().to_string(), Some(id.to_string()))];
            all.extend(fields.iter().cloned());
            all
        })
        .collect()
}

fn expected(rows: &[Fields]) -> Vec<RowOutcome> {
    rows.iter()
        .map(|fields| {
            let id = fields
                .first()
                .and_then(|(_, v)| v.as_deref())
                .and_then(RecordId::parse);
            RowOutcome::Ok(Record {
                id,
                fields: fields
                    .iter()
                    .map(|(label, value)| Field {
                        label: label.into(),
                        value: value.as_deref().map(Into::into),
                    })
                    .collect(),
            })
        })
        .collect()
}

fn round_trip(module: Module, rows: Vec<Fields>) -> Result<(), TestCaseError> {
    let want = Answer::Records(expected(&rows));
    let answer = records_answer("/api/xml/m/getrecords", module, rows);
    for (format, body) in [
        (Format::Xml, to_xml(&answer)),
        (Format::Json, to_json(&answer)),
    ] {
        let got = decode(format, module, &body);
        prop_assert_eq!(
            got.as_ref(),
            Ok(&want),
            "{} body: {}",
            format,
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rendered_pages_decode_back_to_the_same_records((module, rows) in page(0..6)) {
        round_trip(module, wire_rows(module, &rows))?;
    }

    #[test]
    fn a_rendered_single_row_decodes_back_to_the_same_record((module, rows) in page(1..2)) {
        round_trip(module, wire_rows(module, &rows))?;
    }
}
