//! Any bytes, as an JSON answer of every module: see `roundtrip::check`.
#![no_main]

#[path = "roundtrip.rs"]
mod roundtrip;

use libfuzzer_sys::fuzz_target;
use zoho_sync::zoho::Format;

fuzz_target!(|data: &[u8]| roundtrip::check(Format::Json, data));
