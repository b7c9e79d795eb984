//! The Zoho Desk REST API v1 wire client (contract `zoho-desk-api.md`): the modules and
//! data centres, OAuth 2.0 (grants, a token cache shared across processes with one
//! refresh at a time), the requests with their credit cost, and every answer decoded at
//! the edge into checked types (records kept whole as JSON, bad records set aside,
//! rate headers) or a `DeskError` that knows its class. Like `zoho`, it never retries,
//! reserves or sleeps on its own (but for the one forced token refresh of a 401): the
//! caller prices a request, reserves it, sends it and acts on the error's class.
//!
//! How the pipeline uses it: build an `Accounts` and a `TokenSource` (with a
//! `TokenCache`: `loader::desk_tokens::PgTokenCache` in production) per organisation,
//! a `DeskClient` on them, then for each call a `DeskRequest`: `cost()`, reserve,
//! `send` (or the typed methods), read `Reply::meta` for the credits left.

pub mod auth;
pub mod bin;
pub mod client;
pub mod dc;
pub mod error;
pub mod module;
pub mod record;
pub mod reply;
pub mod request;
pub mod seal;
pub mod token_cache;
pub mod tokens;

pub use auth::{Accounts, ClientCredentials, Grant, TokenError, TokenReply};
pub use bin::{BinEntry, BinOutcome, BinPage};
pub use client::{Answer, DeskClient, DeskSettings, Lookup, TOO_MANY_REQUESTS_RETRY};
pub use dc::{DataCentre, Endpoints};
pub use error::{ApiFailure, DeskError, ErrorClass, ErrorCode};
pub use module::{Access, DeskModule, IncrementalRead};
pub use record::{BadRecord, DeskId, DeskRecord, Page, RecordOutcome};
pub use reply::{Reply, ReplyMeta};
pub use request::{DeskRequest, Operation, SearchQuery, TimeField, TimeRange};
pub use token_cache::{
    CacheError, MemoryTokenCache, RefreshLock, StoredToken, TokenCache, TokenKey,
};
pub use tokens::{AccessToken, TokenSource};
