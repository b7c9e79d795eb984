//! The integration tests: one binary, real servers. The client is pointed at the
//! emulator (never a mock of our code) and tests that need PostgreSQL get a fresh
//! database of their own from `support`.

mod codec_roundtrip;
mod harness;
mod support;
