//! The XML answer decoder: one streaming pass with quick-xml over the body, no DOM. It
//! accepts what real servers varied in (names in any case, CDATA or escaped text, split
//! CDATA, character references, either quote style, optional prolog, whitespace between
//! elements) and nothing else: the root is `response` holding exactly one `result` or
//! `error`. A row that is well-formed but cannot become a `Record` is kept raw as a
//! `BadRow`, so one bad record never costs the rest of its page.

pub(crate) mod cursor;
pub(crate) mod escape;

use cursor::{Cursor, Elem, Fault};

use crate::zoho::codec::{Answer, BadRow, RowOutcome, Written};
use crate::zoho::error::{ApiCode, ApiError, DecodeError};
use crate::zoho::module::Module;
use crate::zoho::record::{Record, RecordId};

const FORMAT: &str = "xml";

/// Decodes an XML answer of `module`'s record API.
pub fn decode(module: Module, body: &[u8]) -> Result<Answer, DecodeError> {
    decode_document(module, body).map_err(|fault| match fault {
        Fault::Truncated { at } => DecodeError::Truncated { format: FORMAT, at },
        Fault::Malformed { at, detail } => DecodeError::Malformed {
            format: FORMAT,
            at,
            detail,
        },
        Fault::Shape(detail) => DecodeError::Shape {
            format: FORMAT,
            detail,
        },
    })
}

fn shape<T>(detail: String) -> Result<T, Fault> {
    Err(Fault::Shape(detail))
}

fn decode_document(module: Module, body: &[u8]) -> Result<Answer, Fault> {
    let mut cur = Cursor::new(body);
    let root = cur.root()?;
    if !root.is("response") {
        return shape(format!(
            "the root element is <{}>, not <response>",
            root.name()
        ));
    }
    let mut answer = None;
    while let Some(child) = cur.child(&root)? {
        if answer.is_some() {
            return shape("<response> holds more than one result or error".into());
        }
        answer = Some(if child.is("result") {
            decode_result(&mut cur, &child, module, body)?
        } else if child.is("error") {
            Answer::Error(decode_error(&mut cur, &child)?)
        } else {
            return shape(format!("unexpected <{}> in <response>", child.name()));
        });
    }
    let Some(answer) = answer else {
        return shape("<response> holds neither a result nor an error".into());
    };
    if let Some(extra) = cur.top_level()? {
        return shape(format!("unexpected <{}> after </response>", extra.name()));
    }
    Ok(answer)
}

fn is_module_key(elem: &Elem<'_>, module: Module) -> bool {
    elem.is(module.result_key()) || elem.is(module.url_name())
}

/// A result holds either the module's records or a write acknowledgement.
fn decode_result(
    cur: &mut Cursor<'_>,
    result: &Elem<'_>,
    module: Module,
    body: &[u8],
) -> Result<Answer, Fault> {
    let Some(first) = cur.child(result)? else {
        return shape("<result> is empty".into());
    };
    if is_module_key(&first, module) {
        let rows = decode_rows(cur, &first, module, body)?;
        if let Some(extra) = cur.child(result)? {
            return shape(format!("unexpected <{}> after the records", extra.name()));
        }
        return Ok(Answer::Records(rows));
    }
    let mut written = Written::default();
    let (mut code_seen, mut data_seen) = (false, false);
    let mut next = Some(first);
    while let Some(child) = next {
        if child.is("responsecode") && !code_seen {
            code_seen = true;
            written.responsecode = Some(read_code(cur, &child)?);
        } else if child.is("responsedata") && !data_seen {
            data_seen = true;
            decode_ack(cur, &child, module, &mut written)?;
        } else {
            return shape(format!(
                "unexpected <{}> in <result> (expected <{}>, or <responsecode> and <responsedata> once each)",
                child.name(),
                module.result_key()
            ));
        }
        next = cur.child(result)?;
    }
    Ok(Answer::Written(written))
}

fn decode_rows(
    cur: &mut Cursor<'_>,
    key: &Elem<'_>,
    module: Module,
    body: &[u8],
) -> Result<Vec<RowOutcome>, Fault> {
    let mut rows = Vec::new();
    while let Some(row) = cur.child(key)? {
        if !row.is("row") {
            return shape(format!("unexpected <{}> in <{}>", row.name(), key.name()));
        }
        rows.push(decode_row(cur, &row, module, body)?);
    }
    Ok(rows)
}

/// Reads one row. Problems inside it (an element other than `fl`, an `fl` without `val`
/// or with child elements, an id that is not an id) make it a `BadRow`, not a failure.
fn decode_row(
    cur: &mut Cursor<'_>,
    row: &Elem<'_>,
    module: Module,
    body: &[u8],
) -> Result<RowOutcome, Fault> {
    let mut pairs = Vec::with_capacity(16);
    let mut problem = None;
    while let Some(fl) = cur.child(row)? {
        if problem.is_some() {
            cur.skip(&fl)?;
            continue;
        }
        if !fl.is("fl") {
            problem = Some(format!("unexpected <{}> in a row", fl.name()));
            cur.skip(&fl)?;
            continue;
        }
        let Some(label) = fl.attr("val")? else {
            problem = Some("an <fl> without a `val` attribute".to_string());
            cur.skip(&fl)?;
            continue;
        };
        let mut value = String::new();
        if !cur.read_value(&fl, &mut value)? {
            problem = Some(format!("field `{label}` holds elements, not text"));
        }
        pairs.push((label, value));
    }
    let outcome = match problem {
        None => Record::from_wire(module.id_field(), pairs),
        Some(problem) => Err(problem),
    };
    Ok(match outcome {
        Ok(record) => RowOutcome::Ok(record),
        Err(error) => {
            let raw = body.get(row.at..cur.position()).unwrap_or_default();
            RowOutcome::Bad(BadRow {
                raw: String::from_utf8_lossy(raw).into_owned(),
                error,
            })
        }
    })
}

/// Walks `responsedata` at any depth without relying on its inner layout (contract 3.4):
/// ids come from every `record@id` and from `fl`s labelled with the id field or `Id`;
/// text outside those is ignored.
fn decode_ack(
    cur: &mut Cursor<'_>,
    data: &Elem<'_>,
    module: Module,
    written: &mut Written,
) -> Result<(), Fault> {
    // An explicit stack of open elements: the depth comes from the server, not from us.
    let mut open: Vec<Elem<'_>> = Vec::new();
    loop {
        let parent = open.last().unwrap_or(data);
        let Some(elem) = cur.child_ignoring_text(parent)? else {
            if open.pop().is_none() {
                return Ok(());
            }
            continue;
        };
        if elem.is("fl") {
            read_ack_field(cur, &elem, module, written)?;
            continue;
        }
        if elem.is("record") {
            if let Some(id) = elem.attr("id")? {
                written.ids.push(parse_id(&id)?);
            }
        }
        if elem.open {
            open.push(elem);
        }
    }
}

fn read_ack_field(
    cur: &mut Cursor<'_>,
    fl: &Elem<'_>,
    module: Module,
    written: &mut Written,
) -> Result<(), Fault> {
    let label = fl.attr("val")?.unwrap_or_default();
    let mut value = String::new();
    if !cur.read_value(fl, &mut value)? {
        return shape(format!("acknowledgement field `{label}` holds elements"));
    }
    if label.eq_ignore_ascii_case("message") {
        written.message = Some(value);
    } else if label.eq_ignore_ascii_case(module.id_field()) || label.eq_ignore_ascii_case("id") {
        written.ids.push(parse_id(&value)?);
    }
    Ok(())
}

fn parse_id(text: &str) -> Result<RecordId, Fault> {
    RecordId::parse(text).ok_or_else(|| {
        Fault::Shape(format!(
            "`{text}` in the acknowledgement is not a record id"
        ))
    })
}

fn read_code(cur: &mut Cursor<'_>, elem: &Elem<'_>) -> Result<u32, Fault> {
    let text = read_text(cur, elem)?;
    text.trim()
        .parse()
        .map_err(|_| Fault::Shape(format!("<{}> holds `{text}`, not a number", elem.name())))
}

fn read_text(cur: &mut Cursor<'_>, elem: &Elem<'_>) -> Result<String, Fault> {
    let mut text = String::new();
    if cur.read_value(elem, &mut text)? {
        Ok(text)
    } else {
        shape(format!("<{}> holds elements, not text", elem.name()))
    }
}

fn decode_error(cur: &mut Cursor<'_>, error: &Elem<'_>) -> Result<ApiError, Fault> {
    let (mut code, mut message) = (None, None);
    while let Some(child) = cur.child(error)? {
        if child.is("code") && code.is_none() {
            code = Some(read_code(cur, &child)?);
        } else if child.is("message") && message.is_none() {
            message = Some(read_text(cur, &child)?);
        } else {
            return shape(format!("unexpected <{}> in <error>", child.name()));
        }
    }
    match (code, message) {
        (Some(code), Some(message)) => Ok(ApiError {
            code: ApiCode::from_number(code),
            message,
        }),
        _ => shape("<error> needs both <code> and <message>".into()),
    }
}

#[cfg(test)]
mod tests;
