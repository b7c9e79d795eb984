//! The XML answer decoder: one streaming pass with quick-xml over the body, no DOM. It
//! accepts what real servers varied in (names in any case, CDATA or escaped text, split
//! CDATA, character references, either quote style, optional prolog, whitespace between
//! elements) and nothing else: the root is `response` holding exactly one `result` or
//! `error`. A row that is well-formed but cannot become a `Record` (an id that is not an
//! id, a value with bytes that are not UTF-8 or a bad reference) is kept raw as a
//! `BadRow`, so one bad record never costs the rest of its page. An element the contract
//! does not name is skipped whole and noted as a stray.

pub(crate) mod cursor;
pub(crate) mod escape;

use cursor::{Cursor, Elem, Fault, FieldText};

use crate::zoho::codec::{Answer, BadRow, RowOutcome, Strays, Written};
use crate::zoho::error::{ApiCode, ApiError, DecodeError};
use crate::zoho::module::Module;
use crate::zoho::record::{Record, RecordId};

const FORMAT: &str = "xml";

/// Decodes an XML answer of `module`'s record API.
pub(crate) fn decode(module: Module, body: &[u8], strays: &Strays) -> Result<Answer, DecodeError> {
    let mut walk = Walk {
        cur: Cursor::new(body),
        module,
        body,
        strays,
    };
    walk.document().map_err(|fault| match fault {
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

/// One body's walk: the cursor and what every step needs.
struct Walk<'a, 's> {
    cur: Cursor<'a>,
    module: Module,
    body: &'a [u8],
    strays: &'s Strays,
}

impl<'a> Walk<'a, '_> {
    /// Skips an element the contract does not name where it stands, noting it.
    fn stray(&mut self, elem: &Elem<'_>, place: &'static str) -> Result<(), Fault> {
        self.strays.note(place, &elem.name());
        self.cur.skip(elem)
    }

    fn document(&mut self) -> Result<Answer, Fault> {
        let root = self.cur.root()?;
        if !root.is("response") {
            return shape(format!(
                "the root element is <{}>, not <response>",
                root.name()
            ));
        }
        let mut answer = None;
        while let Some(child) = self.cur.child(&root)? {
            if !(child.is("result") || child.is("error")) {
                self.stray(&child, "<response>")?;
                continue;
            }
            if answer.is_some() {
                return shape("<response> holds more than one result or error".into());
            }
            answer = Some(if child.is("result") {
                self.result(&child)?
            } else {
                Answer::Error(decode_error(&mut self.cur, &child, self.strays)?)
            });
        }
        let Some(answer) = answer else {
            return shape("<response> holds neither a result nor an error".into());
        };
        if let Some(extra) = self.cur.top_level()? {
            return shape(format!("unexpected <{}> after </response>", extra.name()));
        }
        Ok(answer)
    }

    fn is_module_key(&self, elem: &Elem<'_>) -> bool {
        elem.is(self.module.result_key()) || elem.is(self.module.url_name())
    }

    /// A result holds either the module's records or a write acknowledgement (and
    /// perhaps strays).
    fn result(&mut self, result: &Elem<'_>) -> Result<Answer, Fault> {
        let mut rows = None;
        let mut written: Option<Written> = None;
        let (mut code_seen, mut data_seen) = (false, false);
        while let Some(child) = self.cur.child(result)? {
            let acknowledges = child.is("responsecode") || child.is("responsedata");
            if self.is_module_key(&child) && rows.is_none() && written.is_none() {
                rows = Some(self.rows(&child)?);
            } else if child.is("responsecode") && rows.is_none() && !code_seen {
                code_seen = true;
                written.get_or_insert_with(Written::default).responsecode =
                    Some(read_code(&mut self.cur, &child)?);
            } else if child.is("responsedata") && rows.is_none() && !data_seen {
                data_seen = true;
                let ack = written.get_or_insert_with(Written::default);
                decode_ack(&mut self.cur, &child, self.module, ack)?;
            } else if self.is_module_key(&child) || acknowledges {
                return shape(format!(
                    "unexpected <{}> in <result> (expected <{}>, or <responsecode> and <responsedata> once each)",
                    child.name(),
                    self.module.result_key()
                ));
            } else {
                self.stray(&child, "<result>")?;
            }
        }
        match (rows, written) {
            (Some(rows), None) => Ok(Answer::Records(rows)),
            (None, Some(written)) => Ok(Answer::Written(written)),
            _ => shape("<result> is empty".into()),
        }
    }

    fn rows(&mut self, key: &Elem<'_>) -> Result<Vec<RowOutcome>, Fault> {
        let mut rows = Vec::new();
        while let Some(row) = self.cur.child(key)? {
            if row.is("row") {
                rows.push(self.row(&row)?);
            } else {
                self.stray(&row, "the records")?;
            }
        }
        Ok(rows)
    }

    /// Reads one row. Problems inside it (an `fl` without a readable `val`, with child
    /// elements or with unreadable text, an id that is not an id) make it a `BadRow`,
    /// not a failure; its id is kept when it could be read.
    fn row(&mut self, row: &Elem<'_>) -> Result<RowOutcome, Fault> {
        let mut pairs = Vec::with_capacity(16);
        let mut problem = None;
        while let Some(fl) = self.cur.child(row)? {
            if !fl.is("fl") {
                self.stray(&fl, "a row")?;
                continue;
            }
            let label = match fl.attr("val") {
                Ok(Some(label)) => label,
                Ok(None) => {
                    problem.get_or_insert_with(|| "an <fl> without a `val` attribute".into());
                    self.cur.skip(&fl)?;
                    continue;
                }
                Err(e) => {
                    problem.get_or_insert_with(|| format!("an unreadable field label: {e}"));
                    self.cur.skip(&fl)?;
                    continue;
                }
            };
            let mut value = String::new();
            match self.cur.read_field(&fl, &mut value)? {
                FieldText::Text => {}
                FieldText::HasElements => {
                    problem.get_or_insert_with(|| {
                        format!("field `{}` holds elements, not text", short(&label))
                    });
                }
                FieldText::Unreadable(why) => {
                    problem.get_or_insert_with(|| format!("field `{}` holds {why}", short(&label)));
                }
            }
            pairs.push((label, value));
        }
        let id_field = self.module.id_field();
        let id = pairs
            .iter()
            .find(|(label, _)| label.eq_ignore_ascii_case(id_field))
            .and_then(|(_, text)| RecordId::parse(text));
        let outcome = match problem {
            None => Record::from_wire(id_field, pairs),
            Some(problem) => Err(problem),
        };
        Ok(match outcome {
            Ok(record) => RowOutcome::Ok(record),
            Err(error) => {
                let raw = self
                    .body
                    .get(row.at..self.cur.position())
                    .unwrap_or_default();
                RowOutcome::Bad(BadRow {
                    raw: crate::zoho::codec::unnumbered(&String::from_utf8_lossy(raw)),
                    error,
                    id,
                })
            }
        })
    }
}

/// A label as messages quote it: a server chooses its length.
fn short(label: &str) -> String {
    label.chars().take(64).collect()
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

fn decode_error(
    cur: &mut Cursor<'_>,
    error: &Elem<'_>,
    strays: &Strays,
) -> Result<ApiError, Fault> {
    let (mut code, mut message) = (None, None);
    while let Some(child) = cur.child(error)? {
        if child.is("code") && code.is_none() {
            code = Some(read_code(cur, &child)?);
        } else if child.is("message") && message.is_none() {
            message = Some(read_text(cur, &child)?);
        } else if child.is("code") || child.is("message") {
            return shape(format!("unexpected <{}> in <error>", child.name()));
        } else {
            strays.note("<error>", &child.name());
            cur.skip(&child)?;
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
