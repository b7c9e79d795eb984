//! The JSON answer decoder: serde_json visitors over the borrowed body, no `Value` tree
//! for records. It accepts what real servers varied in (`row` and `fl` as object or array,
//! `code` as string or number, key names in any case) and expects every other scalar to
//! be a string. Each row is captured as raw text first, so a row that cannot become a
//! `Record` is kept verbatim as a `BadRow` and never costs the rest of its page. Bytes
//! that are not UTF-8 are replaced by a lone surrogate escape before parsing, which
//! cannot decode either: the row holding them becomes a `BadRow`, the rest of the page
//! loads. A key the contract does not name is skipped and noted as a stray.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::Value;

use crate::zoho::codec::{Answer, Strays, Written};
use crate::zoho::error::{ApiCode, ApiError, DecodeError};
use crate::zoho::module::Module;

const FORMAT: &str = "json";

/// Implements `DeserializeSeed` for a seed (holding a `Ctx<'s>`) that is its own map
/// visitor.
macro_rules! map_seed {
    ($seed:ident) => {
        impl<'de, 's> DeserializeSeed<'de> for $seed<'s> {
            type Value = <$seed<'s> as Visitor<'de>>::Value;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
        }
    };
}

mod ack;
mod rows;

use ack::walk_ack;
use rows::Rows;

/// What every seed of one body shares: the module, where strays are noted, whether
/// bytes that were not UTF-8 were replaced (`NOT_UTF8`), and how `row` is read.
#[derive(Clone, Copy)]
struct Ctx<'s> {
    module: Module,
    strays: &'s Strays,
    tainted: bool,
    rows: RowsPass<'s>,
}

/// How `row` is read. A page's rows are an array but for a one-row page, which may be a
/// lone object: `Direct` takes an array's elements in the one pass over the body and, on
/// meeting anything else, skips it and raises its flag so that the body is decoded again
/// with `Whole`, which takes `row`'s text first and splits it after.
#[derive(Clone, Copy)]
enum RowsPass<'s> {
    Direct(&'s std::cell::Cell<bool>),
    Whole,
}

/// What replaces each byte sequence that is not UTF-8: a lone surrogate escape, which no
/// string decodes, so the row (or document) holding it fails where it stands.
const NOT_UTF8: &str = "\\ud800";

/// Decodes a JSON answer of `module`'s record API.
pub(crate) fn decode(module: Module, body: &[u8], strays: &Strays) -> Result<Answer, DecodeError> {
    let replaced;
    let (body, tainted) = match std::str::from_utf8(body) {
        Ok(text) => (text, false),
        Err(_) => {
            replaced = replace_invalid_utf8(body);
            (replaced.as_str(), true)
        }
    };
    let not_an_array = std::cell::Cell::new(false);
    let ctx = Ctx {
        module,
        strays,
        tainted,
        rows: RowsPass::Direct(&not_an_array),
    };
    match decode_with(ctx, body) {
        _ if not_an_array.get() => decode_with(
            Ctx {
                rows: RowsPass::Whole,
                ..ctx
            },
            body,
        ),
        answer => answer,
    }
}

/// Decodes a body already checked as UTF-8: from `str`, so that its strings are not
/// checked again one by one.
fn decode_with(ctx: Ctx<'_>, body: &str) -> Result<Answer, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(body);
    Document(ctx)
        .deserialize(&mut de)
        .and_then(|answer| de.end().map(|()| answer))
        .map_err(|e| decode_error(&e, body.as_bytes()))
}

/// The body with every byte sequence that is not UTF-8 replaced by `NOT_UTF8`.
fn replace_invalid_utf8(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    for chunk in body.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push_str(NOT_UTF8);
        }
    }
    out
}

fn decode_error(error: &serde_json::Error, body: &[u8]) -> DecodeError {
    match error.classify() {
        Category::Eof => DecodeError::Truncated {
            format: FORMAT,
            at: body.len(),
        },
        Category::Syntax | Category::Io => DecodeError::Malformed {
            format: FORMAT,
            at: byte_offset(body, error.line(), error.column()),
            detail: error.to_string(),
        },
        Category::Data => DecodeError::Shape {
            format: FORMAT,
            detail: error.to_string(),
        },
    }
}

/// serde_json reports 1-based lines and byte columns; the contract's errors want offsets.
fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line.checked_sub(2) {
        None => 0,
        Some(newlines_before) => body
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(newlines_before)
            .map_or(body.len(), |(at, _)| at + 1),
    };
    (line_start + column.saturating_sub(1)).min(body.len())
}

/// An object key, borrowed when it has no escapes; matched case-insensitively.
struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name)
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

fn unexpected<E: de::Error>(key: &Key<'_>, place: &str) -> E {
    E::custom(format_args!("unexpected key `{}` in {place}", key.0))
}

/// Skips the value of a key the contract does not name, noting it as a stray.
fn skip_stray<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: Ctx<'_>,
    key: &Key<'_>,
    place: &'static str,
) -> Result<(), A::Error> {
    ctx.strays.note(place, &key.0);
    map.next_value::<IgnoredAny>()?;
    Ok(())
}

/// The whole body: `{"response": …}`.
#[derive(Clone, Copy)]
struct Document<'s>(Ctx<'s>);
map_seed!(Document);

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Answer;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object holding `response`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut answer = None;
        while let Some(key) = map.next_key::<Key>()? {
            if !key.is("response") {
                skip_stray(&mut map, self.0, &key, "the document")?;
            } else if answer.is_some() {
                return Err(unexpected(&key, "the document"));
            } else {
                answer = Some(map.next_value_seed(Response(self.0))?);
            }
        }
        answer.ok_or_else(|| de::Error::custom("the document has no `response`"))
    }
}

/// `response`: `uri` and exactly one of `result` or `error`.
#[derive(Clone, Copy)]
struct Response<'s>(Ctx<'s>);
map_seed!(Response);

impl<'de> Visitor<'de> for Response<'_> {
    type Value = Answer;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a `response` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut answer = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("uri") {
                map.next_value::<IgnoredAny>()?;
            } else if !(key.is("result") || key.is("error")) {
                skip_stray(&mut map, self.0, &key, "`response`")?;
            } else if answer.is_some() {
                return Err(unexpected(&key, "`response`"));
            } else if key.is("result") {
                answer = Some(map.next_value_seed(ResultSeed(self.0))?);
            } else {
                answer = Some(Answer::Error(map.next_value_seed(ErrorSeed(self.0))?));
            }
        }
        answer.ok_or_else(|| de::Error::custom("`response` holds neither a result nor an error"))
    }
}

/// `result`: the module's rows, or a write acknowledgement.
#[derive(Clone, Copy)]
struct ResultSeed<'s>(Ctx<'s>);
map_seed!(ResultSeed);

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = Answer;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a `result` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let module = self.0.module;
        let mut records = None;
        let mut written: Option<Written> = None;
        let (mut code_seen, mut data_seen) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            let is_module_key = key.is(module.result_key()) || key.is(module.url_name());
            let named = is_module_key || key.is("responsecode") || key.is("responsedata");
            if !named {
                skip_stray(&mut map, self.0, &key, "`result`")?;
            } else if is_module_key && records.is_none() && written.is_none() {
                records = Some(map.next_value_seed(Rows(self.0))?);
            } else if key.is("responsecode") && records.is_none() && !code_seen {
                code_seen = true;
                let code = map.next_value_seed(Code)?;
                written.get_or_insert_with(Written::default).responsecode = Some(code);
            } else if key.is("responsedata") && records.is_none() && !data_seen {
                data_seen = true;
                let data: Value = map.next_value()?;
                let ack = written.get_or_insert_with(Written::default);
                walk_ack(&data, module, ack).map_err(de::Error::custom)?;
            } else {
                return Err(unexpected(&key, "`result`"));
            }
        }
        match (records, written) {
            (Some(rows), None) => Ok(Answer::Records(rows)),
            (None, Some(written)) => Ok(Answer::Written(written)),
            _ => Err(de::Error::custom("`result` is empty")),
        }
    }
}

/// `response.error`: `code` (string or number) and `message`.
#[derive(Clone, Copy)]
struct ErrorSeed<'s>(Ctx<'s>);
map_seed!(ErrorSeed);

impl<'de> Visitor<'de> for ErrorSeed<'_> {
    type Value = ApiError;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an `error` object with `code` and `message`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApiError, A::Error> {
        let (mut code, mut message) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("code") && code.is_none() {
                code = Some(map.next_value_seed(Code)?);
            } else if key.is("message") && message.is_none() {
                message = Some(map.next_value::<String>()?);
            } else if key.is("code") || key.is("message") {
                return Err(unexpected(&key, "`error`"));
            } else {
                skip_stray(&mut map, self.0, &key, "`error`")?;
            }
        }
        match (code, message) {
            (Some(code), Some(message)) => Ok(ApiError {
                code: ApiCode::from_number(code),
                message,
            }),
            _ => Err(de::Error::custom("`error` needs both `code` and `message`")),
        }
    }
}

/// A numeric code sent as a string (`"4834"`) or a number (`4834`).
#[derive(Clone, Copy)]
struct Code;

impl<'de> DeserializeSeed<'de> for Code {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Code {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a numeric code as a string or a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests;
