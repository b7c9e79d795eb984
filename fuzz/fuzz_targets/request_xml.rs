//! Any text, as the `xml` parameter of a write: decoding never panics, and whatever rows
//! it yields encode and decode back to exactly the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zoho_sync::zoho::codec::request_xml::{decode_rows, encode};
use zoho_sync::zoho::Module;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rows) = decode_rows(text) else {
        return;
    };
    let as_sent: Vec<Vec<(String, Option<String>)>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|(l, v)| (l.clone(), Some(v.clone())))
                .collect()
        })
        .collect();
    let encoded = encode(Module::Requests, &as_sent);
    assert_eq!(
        decode_rows(&encoded).as_ref(),
        Ok(&rows),
        "encoded: {encoded}"
    );
});
