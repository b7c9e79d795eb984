//! What both decoder targets check: any bytes, as an answer of every module in `format`,
//! never make decoding panic, and whatever records they yield survive a round trip through
//! the emulator's renderer unchanged.

use zoho_sync::emulator::render::{records_answer, to_json, to_xml};
use zoho_sync::zoho::codec::{decode, Answer, RowOutcome};
use zoho_sync::zoho::{Format, Module, Record};

pub fn check(format: Format, data: &[u8]) {
    for module in Module::ALL {
        let Ok(Answer::Records(rows)) = decode(format, module, data) else {
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
        let answer = records_answer("/fuzz", module, fields);
        let body = match format {
            Format::Xml => to_xml(&answer),
            Format::Json => to_json(&answer),
        };
        let expected = Answer::Records(good.into_iter().map(RowOutcome::Ok).collect());
        assert_eq!(
            decode(format, module, &body),
            Ok(expected),
            "re-rendered body: {}",
            String::from_utf8_lossy(&body)
        );
    }
}
