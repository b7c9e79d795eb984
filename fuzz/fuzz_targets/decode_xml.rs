//! Any bytes, as an XML answer of every module: decoding never panics, and whatever
//! records it yields survive a round trip through the emulator's renderer unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zoho_sync::emulator::render::{records_answer, to_xml};
use zoho_sync::zoho::codec::{decode, Answer, RowOutcome};
use zoho_sync::zoho::{Format, Module, Record};

fuzz_target!(|data: &[u8]| {
    for module in Module::ALL {
        let Ok(Answer::Records(rows)) = decode(Format::Xml, module, data) else {
            continue;
        };
        let good: Vec<Record> = rows
            .into_iter()
            .filter_map(|row| match row {
                RowOutcome::Ok(record) => Some(record),
                RowOutcome::Bad(_) => None,
            })
            .collect();
        let fields = good.iter().map(|record| {
            record
                .fields
                .iter()
                .map(|f| (f.label.clone(), f.value.clone()))
                .collect()
        });
        let body = to_xml(&records_answer("/fuzz", module, fields));
        let expected = Answer::Records(good.into_iter().map(RowOutcome::Ok).collect());
        assert_eq!(
            decode(Format::Xml, module, &body),
            Ok(expected),
            "re-rendered body: {}",
            String::from_utf8_lossy(&body)
        );
    }
});
