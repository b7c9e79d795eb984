//! What an answer means, decided at the edge. A 2xx is decoded by what the request was
//! (a page, a record, a trashed acknowledgement); 204 and an empty body are an empty
//! page. Anything else, and a 2xx whose body is an error object (errors hidden in HTTP
//! 200, section 7's note), becomes an `ApiFailure` classed by its `errorCode` first,
//! with a hint saying what to do where we know it. A by-id GET of a record that is not
//! visible (D18) is an answer, `Lookup::NotVisible`, not an error. Server text is cut,
//! cleaned of control characters and of the access token before it is kept.

use serde_json::Value;

use super::http::RawReply;
use crate::desk::bin::{decode_bin_page, BinPage};
use crate::desk::error::{
    classify, clean, decode_class, transport_class, ApiFailure, DeskError, ErrorClass, ErrorCode,
};
use crate::desk::record::{decode_page, decode_record, Page, RecordOutcome};
use crate::desk::reply::{Reply, ReplyMeta};
use crate::desk::request::{DeskRequest, Operation, TimeField};
use crate::zoho::error::{DecodeError, TransportError};
use crate::zoho::secret::Secret;

/// The longest server message kept.
const MAX_MESSAGE_CHARS: usize = 300;

/// A GET by id: the record, or that this token cannot see it (D18).
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    Found(RecordOutcome),
    /// 403 `FORBIDDEN` or 404: never existed, trashed or purged; the recycle bin says which.
    NotVisible,
}

/// A decoded successful answer, by what the request was.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// List, search, organisations, agent time entries.
    Page(Page),
    Lookup(Lookup),
    /// Create or update: the whole record as the server now has it.
    Record(RecordOutcome),
    /// moveToTrash (204).
    Trashed,
    Bin(BinPage),
}

/// What the answer's interpretation needs to know besides the answer.
pub(super) struct Context<'a> {
    pub request: &'a DeskRequest,
    pub org_id: &'a str,
    /// Removed from any server text kept (a hostile server may echo it).
    pub token: &'a Secret,
}

pub(super) fn interpret(ctx: &Context<'_>, raw: RawReply) -> Result<Reply<Answer>, DeskError> {
    let operation = ctx.request.operation();
    let status = raw.meta.status;
    let body = raw.bytes.as_ref();
    if !(200..300).contains(&status) {
        return failure(ctx, raw.meta, body);
    }
    if status == 204 || body.iter().all(u8::is_ascii_whitespace) {
        return empty(ctx, raw.meta);
    }
    if crate::zoho::client::looks_like_html(body) {
        let error = TransportError::HtmlPage { status };
        let class = transport_class(&error, operation);
        return Err(DeskError::Transport {
            request: ctx.request.describe(),
            error,
            class,
        });
    }
    if hidden_error(body) {
        return failure(ctx, raw.meta, body);
    }
    let decoded = match operation {
        Operation::List
        | Operation::Search
        | Operation::Organizations
        | Operation::AgentTimeEntries => decode_page(body).map(Answer::Page),
        Operation::RecycleBin => decode_bin_page(body).map(Answer::Bin),
        Operation::ById => decode_record(body).map(|r| Answer::Lookup(Lookup::Found(r))),
        Operation::Create | Operation::Update => decode_record(body).map(Answer::Record),
        Operation::Trash => Ok(Answer::Trashed),
    };
    match decoded {
        Ok(value) => Ok(Reply {
            value,
            meta: raw.meta,
        }),
        Err(error) => Err(decode_failure(ctx, error)),
    }
}

/// A 204 (or an empty 2xx): nothing matched, or a write acknowledged.
fn empty(ctx: &Context<'_>, meta: ReplyMeta) -> Result<Reply<Answer>, DeskError> {
    let value = match ctx.request.operation() {
        Operation::List
        | Operation::Search
        | Operation::Organizations
        | Operation::AgentTimeEntries => Answer::Page(Page::default()),
        Operation::RecycleBin => Answer::Bin(BinPage::default()),
        Operation::Trash => Answer::Trashed,
        Operation::ById => Answer::Lookup(Lookup::NotVisible),
        Operation::Create | Operation::Update => {
            let error = DecodeError::Shape {
                format: "json",
                detail: "a write was answered without the record".into(),
            };
            return Err(decode_failure(ctx, error));
        }
    };
    Ok(Reply { value, meta })
}

fn decode_failure(ctx: &Context<'_>, error: DecodeError) -> DeskError {
    DeskError::Decode {
        request: ctx.request.describe(),
        class: decode_class(&error, ctx.request.operation()),
        error,
    }
}

/// A 2xx body that is an error object: `errorCode` and neither `data` nor `id`.
fn hidden_error(body: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => {
            o.contains_key("errorCode") && !o.contains_key("data") && !o.contains_key("id")
        }
        _ => false,
    }
}

/// An error answer, classed; a by-id GET's "not visible" is the answer `NotVisible`.
fn failure(ctx: &Context<'_>, meta: ReplyMeta, body: &[u8]) -> Result<Reply<Answer>, DeskError> {
    let operation = ctx.request.operation();
    let (code, message) = error_body(body, ctx.token);
    let class = classify(meta.status, code.as_ref(), operation, meta.retry_after);
    if class == ErrorClass::NotVisible {
        return Ok(Reply {
            value: Answer::Lookup(Lookup::NotVisible),
            meta,
        });
    }
    let hint = hint(ctx, code.as_ref(), class, &meta).or_else(|| refused_range(ctx, &message));
    Err(DeskError::Api(Box::new(ApiFailure {
        request: ctx.request.describe(),
        status: meta.status,
        code,
        message,
        hint,
        class,
        meta,
    })))
}

/// `{"errorCode": …, "message": …, "errors": [...]}`, each part optional; a body that is
/// not such an object (an HTML page, a proxy's text) gives no code and no message.
fn error_body(body: &[u8], token: &Secret) -> (Option<ErrorCode>, String) {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return (None, String::new());
    };
    let code = match object.get("errorCode") {
        Some(Value::String(s)) => Some(ErrorCode::parse(s)),
        Some(Value::Number(n)) => Some(ErrorCode::parse(&n.to_string())),
        _ => None,
    };
    let mut message = object
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // INVALID_DATA names its fields: the first few say what to fix.
    let fields = object.get("errors").and_then(Value::as_array);
    for field in fields.into_iter().flatten().take(3) {
        let part = |key| field.get(key).and_then(Value::as_str).unwrap_or("");
        message.push_str(&format!(
            " [{} {}: {}]",
            part("fieldName"),
            part("errorType"),
            part("errorMessage")
        ));
    }
    (code, scrub(&message, token))
}

fn scrub(text: &str, token: &Secret) -> String {
    let text = if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token.expose(), "***")
    };
    clean(&text, MAX_MESSAGE_CHARS)
}

/// A search refused for its time range: the contract assumes, without confirmation, that
/// every module's search takes `modifiedTimeRange` (Q8); where an organisation's does not,
/// that module cannot be read incrementally, and every round would fail the same way.
fn refused_range(ctx: &Context<'_>, message: &str) -> Option<String> {
    let DeskRequest::Search { module, query } = ctx.request else {
        return None;
    };
    let param = query.range.field.range_param();
    if !message.contains(param) {
        return None;
    }
    let what = match query.range.field {
        TimeField::ModifiedTime => format!(
            "zoho-sync cannot read `{}` incrementally; remove it from [organisations.modules]",
            module.name()
        ),
        TimeField::CreatedTime => format!(
            "`{}` cannot be reconciled; set its `sweep_every_days = 0`",
            module.name()
        ),
        TimeField::CustomerResponseTime => return None,
    };
    Some(format!(
        "this organisation's search of {module} refuses `{param}` (the contract assumes it, Q8): {what}"
    ))
}

/// What the user should do, where the code tells.
fn hint(
    ctx: &Context<'_>,
    code: Option<&ErrorCode>,
    class: ErrorClass,
    meta: &ReplyMeta,
) -> Option<String> {
    let hint = match code? {
        ErrorCode::ScopeMismatch => format!(
            "the token lacks a scope this request needs ({}): generate a new grant code with them (`zoho-sync auth desk --help` lists every scope to grant)",
            ctx.request.scopes().join(", ")
        ),
        ErrorCode::OauthOrgMismatch => format!(
            "the token is not valid for organisation {}: check `org_id` (GET /organizations lists the token's organisations)",
            ctx.org_id
        ),
        ErrorCode::InvalidOauth => "the access token was refused".to_string(),
        ErrorCode::ThresholdExceeded => match meta.retry_after {
            Some(wait) => format!("the day's API credits are spent; they return in {} s", wait.as_secs()),
            None => "the day's API credits are spent".to_string(),
        },
        ErrorCode::LicenseAccessLimited => {
            "the organisation's Zoho Desk edition does not offer this".to_string()
        }
        ErrorCode::Forbidden if class == ErrorClass::Permanent => {
            "the authorising user's profile may not do this".to_string()
        }
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests;
