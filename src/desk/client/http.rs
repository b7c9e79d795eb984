//! One HTTP exchange with the Desk API: the URL (`{base}/api/v1/{path}?{query}`), the
//! two headers every call carries (`Authorization: Zoho-oauthtoken …`, marked sensitive
//! so no debug output of the request shows it, and `orgId`, D6, D7), a JSON body for
//! writes, and the answer read whole but never past the size cap. What comes back is
//! the status, the headers decoded (`ReplyMeta`) and the bytes, or one `TransportError`
//! whose text holds no URL and no secret.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use url::Url;

use crate::desk::dc::join;
use crate::desk::reply::ReplyMeta;
use crate::desk::request::DeskRequest;
use crate::zoho::error::TransportError;
use crate::zoho::secret::Secret;

/// An answer as it arrived.
pub(super) struct RawReply {
    pub meta: ReplyMeta,
    pub bytes: Bytes,
}

/// `{base}/api/v1/{path}?{query}`.
pub(super) fn url(base: &Url, request: &DeskRequest) -> Option<Url> {
    let path = request.path();
    let mut segments = vec!["api", "v1"];
    segments.extend(path.iter().map(String::as_str));
    let mut url = join(base, &segments)?;
    let query = request.query();
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Some(url)
}

/// The `Authorization` header's value, sensitive; `None` if the token cannot be a
/// header value (a token that passed the reply check always can).
pub(super) fn authorization(token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Zoho-oauthtoken {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

pub(super) struct Call<'a> {
    pub http: &'a reqwest::Client,
    pub url: Url,
    pub request: &'a DeskRequest,
    pub authorization: HeaderValue,
    pub org_id: &'a str,
    pub timeout: Duration,
    pub cap: usize,
}

/// Sends the call and reads its answer whole.
pub(super) async fn exchange(call: Call<'_>) -> Result<RawReply, TransportError> {
    let host = call.url.host_str().unwrap_or("").to_string();
    let wrap = |e: reqwest::Error| crate::zoho::client::classify_transport(e, &host, call.timeout);
    let mut builder = call
        .http
        .request(call.request.method(), call.url.clone())
        .header(AUTHORIZATION, call.authorization)
        .header(ACCEPT, "application/json");
    if call.request.sends_org_id() {
        builder = builder.header("orgId", call.org_id);
    }
    if let Some(body) = call.request.body() {
        builder = builder
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let mut response = builder.send().await.map_err(wrap)?;
    let meta = ReplyMeta::from_headers(response.status().as_u16(), response.headers());
    if response
        .content_length()
        .is_some_and(|n| n > call.cap as u64)
    {
        return Err(TransportError::TooLarge {
            cap_bytes: call.cap,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(wrap)? {
        if body.len() + chunk.len() > call.cap {
            return Err(TransportError::TooLarge {
                cap_bytes: call.cap,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawReply {
        meta,
        bytes: Bytes::from(body),
    })
}
