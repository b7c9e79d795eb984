//! The Zoho Support source: the wire contract's types (modules, methods, records), the
//! decoders of its answers, the HTTP client with its retry policy, and the Zoho Accounts
//! token flow. Untrusted bytes from the server are decoded here, at the edge; everything
//! this module hands out is a checked value or a typed, classed `ZohoError`.

pub mod auth;
pub mod client;
pub mod codec;
pub mod error;
pub mod module;
pub mod record;
pub mod retry;
pub mod secret;

pub use error::{ApiCode, ApiError, ErrorClass, ZohoError};
pub use module::{Format, Method, Module};
pub use record::{Field, Record, RecordId};
pub use secret::Secret;
