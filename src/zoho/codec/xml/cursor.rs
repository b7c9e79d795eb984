//! A thin, allocation-free walk over an XML body with quick-xml, shared by the answer
//! decoder and the request-`xml` decoder. It owns the classification of what goes wrong:
//! a body that stops inside markup or inside an open element is `Truncated`, broken
//! syntax is `Malformed` with the byte offset, and a well-formed body in the wrong place
//! is `Shape`. Names are compared ASCII-case-insensitively everywhere, as servers varied.

use std::borrow::Cow;

use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::escape::unescape_into;

/// Why a body could not be walked; each layer maps it onto its own error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Fault {
    #[error("the body ends early, after {at} bytes")]
    Truncated { at: usize },
    #[error("malformed at byte {at}: {detail}")]
    Malformed { at: usize, detail: String },
    #[error("{0}")]
    Shape(String),
}

/// One element as met: its start tag, whether it has content to read (`<a>` rather than
/// `<a/>`), and the byte offset of its `<`.
pub(crate) struct Elem<'a> {
    pub tag: BytesStart<'a>,
    pub open: bool,
    pub at: usize,
}

impl Elem<'_> {
    /// Whether the element's name is `name`, in any case.
    pub fn is(&self, name: &str) -> bool {
        self.tag
            .name()
            .as_ref()
            .eq_ignore_ascii_case(name.as_bytes())
    }

    /// The element name for messages.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(self.tag.name().as_ref()).into_owned()
    }

    /// The unescaped value of attribute `name` (any case), if present.
    pub fn attr(&self, name: &str) -> Result<Option<String>, Fault> {
        for attr in self.tag.attributes() {
            let attr = attr.map_err(|e| Fault::Malformed {
                at: self.at,
                detail: e.to_string(),
            })?;
            if attr.key.as_ref().eq_ignore_ascii_case(name.as_bytes()) {
                let raw = std::str::from_utf8(&attr.value).map_err(|e| Fault::Malformed {
                    at: self.at,
                    detail: format!("attribute `{name}` is not UTF-8: {e}"),
                })?;
                let mut value = String::with_capacity(raw.len());
                unescape_into(&mut value, raw).map_err(|e| Fault::Malformed {
                    at: self.at,
                    detail: format!("attribute `{name}`: {e}"),
                })?;
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

/// What `Cursor::next` yields; comments, processing instructions, the declaration and a
/// DOCTYPE are skipped.
enum Node<'a> {
    Elem(Elem<'a>),
    Close,
    Text(&'a [u8], usize),
    CData(&'a [u8], usize),
    End,
}

pub(crate) struct Cursor<'a> {
    reader: Reader<&'a [u8]>,
    len: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(body: &'a [u8]) -> Cursor<'a> {
        let mut reader = Reader::from_reader(body);
        reader.config_mut().check_end_names = true;
        Cursor {
            reader,
            len: body.len(),
            depth: 0,
        }
    }

    /// The byte offset just past the last thing read.
    pub fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(self.len)
    }

    fn next(&mut self) -> Result<Node<'a>, Fault> {
        loop {
            let at = self.position();
            let event = self.reader.read_event().map_err(|e| self.fault(e))?;
            let node = match event {
                Event::Start(tag) => {
                    self.depth += 1;
                    Node::Elem(Elem {
                        tag,
                        open: true,
                        at,
                    })
                }
                Event::Empty(tag) => Node::Elem(Elem {
                    tag,
                    open: false,
                    at,
                }),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Node::Close
                }
                Event::Text(text) => {
                    if self.depth > 0 && self.position() >= self.len {
                        return Err(Fault::Truncated { at: self.len });
                    }
                    match text.into_inner() {
                        Cow::Borrowed(raw) => Node::Text(raw, at),
                        // A slice reader always borrows; the other arm cannot happen
                        // but is reported rather than unwrapped.
                        Cow::Owned(_) => return Err(self.malformed(at, "text")),
                    }
                }
                Event::CData(data) => match data.into_inner() {
                    Cow::Borrowed(raw) => Node::CData(raw, at),
                    Cow::Owned(_) => return Err(self.malformed(at, "CDATA")),
                },
                Event::Eof if self.depth > 0 => return Err(Fault::Truncated { at: self.len }),
                Event::Eof => Node::End,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
            };
            return Ok(node);
        }
    }

    fn malformed(&self, at: usize, what: &str) -> Fault {
        Fault::Malformed {
            at,
            detail: format!("unreadable {what}"),
        }
    }

    fn fault(&self, error: XmlError) -> Fault {
        let at = usize::try_from(self.reader.error_position()).unwrap_or(self.len);
        let at_end = match &error {
            XmlError::Syntax(SyntaxError::InvalidBangMarkup) => at + 2 >= self.len,
            XmlError::Syntax(_) => true,
            _ => false,
        };
        if at_end {
            Fault::Truncated { at: self.len }
        } else {
            Fault::Malformed {
                at,
                detail: error.to_string(),
            }
        }
    }

    /// The first element of the document; only whitespace may come before it.
    pub fn root(&mut self) -> Result<Elem<'a>, Fault> {
        match self.top_level()? {
            Some(elem) => Ok(elem),
            None => Err(Fault::Truncated { at: self.len }),
        }
    }

    /// The next element outside any element, or `None` at the end of the body.
    pub fn top_level(&mut self) -> Result<Option<Elem<'a>>, Fault> {
        loop {
            match self.next()? {
                Node::Elem(elem) => return Ok(Some(elem)),
                Node::Text(raw, at) => expect_blank(raw, at, "outside the root element")?,
                Node::CData(_, at) => {
                    return Err(Fault::Shape(format!(
                        "unexpected CDATA at byte {at} outside the root element"
                    )))
                }
                Node::Close => {
                    return Err(Fault::Shape(
                        "unexpected end tag outside the root element".into(),
                    ))
                }
                Node::End => return Ok(None),
            }
        }
    }

    /// The next child element of the element just opened, or `None` when it closes.
    /// Whitespace between children is skipped; other text is a `Shape` fault.
    pub fn child(&mut self, parent: &Elem<'_>) -> Result<Option<Elem<'a>>, Fault> {
        if !parent.open {
            return Ok(None);
        }
        loop {
            match self.next()? {
                Node::Elem(elem) => return Ok(Some(elem)),
                Node::Close => return Ok(None),
                Node::Text(raw, at) => {
                    expect_blank(raw, at, &format!("inside <{}>", parent.name()))?
                }
                Node::CData(_, at) => {
                    return Err(Fault::Shape(format!(
                        "unexpected CDATA at byte {at} inside <{}>",
                        parent.name()
                    )))
                }
                Node::End => return Err(Fault::Truncated { at: self.len }),
            }
        }
    }

    /// Like `child`, but text and CDATA between children are skipped, whatever they hold.
    pub fn child_ignoring_text(&mut self, parent: &Elem<'_>) -> Result<Option<Elem<'a>>, Fault> {
        if !parent.open {
            return Ok(None);
        }
        loop {
            match self.next()? {
                Node::Elem(elem) => return Ok(Some(elem)),
                Node::Close => return Ok(None),
                Node::Text(..) | Node::CData(..) => {}
                Node::End => return Err(Fault::Truncated { at: self.len }),
            }
        }
    }

    /// Consumes the rest of `elem`, whatever it holds.
    pub fn skip(&mut self, elem: &Elem<'_>) -> Result<(), Fault> {
        if !elem.open {
            return Ok(());
        }
        let mut open = 1usize;
        while open > 0 {
            match self.next()? {
                Node::Elem(inner) if inner.open => open += 1,
                Node::Close => open -= 1,
                Node::End => return Err(Fault::Truncated { at: self.len }),
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends the text of `elem` (escaped text and CDATA sections, concatenated in order)
    /// to `out` and consumes it. Returns `false` when the element also held child
    /// elements, which are skipped: a value never has children.
    pub fn read_value(&mut self, elem: &Elem<'_>, out: &mut String) -> Result<bool, Fault> {
        if !elem.open {
            return Ok(true);
        }
        let mut flat = true;
        loop {
            match self.next()? {
                Node::Text(raw, at) => {
                    let text = utf8(raw, at)?;
                    unescape_into(out, text).map_err(|e| Fault::Malformed {
                        at: at + e.offset,
                        detail: e.detail,
                    })?;
                }
                Node::CData(raw, at) => out.push_str(utf8(raw, at)?),
                Node::Elem(inner) => {
                    flat = false;
                    self.skip(&inner)?;
                }
                Node::Close => return Ok(flat),
                Node::End => return Err(Fault::Truncated { at: self.len }),
            }
        }
    }
}

/// What a row's field held, read by `Cursor::read_field`.
pub(crate) enum FieldText {
    /// Text only, appended to the output.
    Text,
    /// Child elements too (skipped): a value never has children.
    HasElements,
    /// Text that cannot be read (bytes that are not UTF-8, a bad reference): why.
    Unreadable(String),
}

impl Cursor<'_> {
    /// Like `read_value`, but text that cannot be read is the field's problem, not the
    /// body's: the element is consumed whole and the reason returned, so that only its
    /// row is set aside.
    pub fn read_field(&mut self, elem: &Elem<'_>, out: &mut String) -> Result<FieldText, Fault> {
        if !elem.open {
            return Ok(FieldText::Text);
        }
        let mut outcome = FieldText::Text;
        loop {
            let problem = match self.next()? {
                Node::Text(raw, _) => match std::str::from_utf8(raw) {
                    Ok(text) => unescape_into(out, text).err().map(|e| e.to_string()),
                    Err(_) => Some("bytes that are not UTF-8".to_string()),
                },
                Node::CData(raw, _) => match std::str::from_utf8(raw) {
                    Ok(text) => {
                        out.push_str(text);
                        None
                    }
                    Err(_) => Some("bytes that are not UTF-8".to_string()),
                },
                Node::Elem(inner) => {
                    self.skip(&inner)?;
                    if matches!(outcome, FieldText::Text) {
                        outcome = FieldText::HasElements;
                    }
                    None
                }
                Node::Close => return Ok(outcome),
                Node::End => return Err(Fault::Truncated { at: self.len }),
            };
            if let Some(problem) = problem {
                if !matches!(outcome, FieldText::Unreadable(_)) {
                    outcome = FieldText::Unreadable(problem);
                }
            }
        }
    }
}

fn utf8(raw: &[u8], at: usize) -> Result<&str, Fault> {
    std::str::from_utf8(raw).map_err(|e| Fault::Malformed {
        at: at + e.valid_up_to(),
        detail: "invalid UTF-8".into(),
    })
}

fn expect_blank(raw: &[u8], at: usize, place: &str) -> Result<(), Fault> {
    if raw
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        Ok(())
    } else {
        Err(Fault::Shape(format!(
            "unexpected text at byte {at} {place}"
        )))
    }
}
