//! The one internal tree every answer of the emulator is built as, and its two renderings.
//! Both formats come from the same `Element`, so they cannot drift: XML with one element
//! per line after the prolog (contract sections 3.1-3.6, 5.1), and compact JSON by the
//! mechanical mapping of section 4.3 (attributes become keys, text becomes `content` or a
//! plain string, repeated children become arrays, key order is document order). Record
//! values go in CDATA unless they hold characters CDATA cannot carry, which are then
//! written as escaped text with character references; the decoders read both back.

use std::borrow::Cow;

use crate::zoho::codec::xml::escape::{cdata_safe, push_attr, push_cdata, push_text};
use crate::zoho::module::Module;
use crate::zoho::record::NULL_TEXT;

/// What an element holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Nothing: `<record id="1"/>`, JSON `{"id":"1"}`.
    Empty,
    /// A record field value: CDATA in XML (split around `]]>`), `content` in JSON.
    Cdata(String),
    /// Plain text, entity-escaped in XML (`<code>4834</code>`, the write messages).
    Text(String),
    /// Child elements in order.
    Children(Vec<Element>),
}

/// One element of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// Names and attribute keys are nearly always literals: no allocation per field.
    pub name: Cow<'static, str>,
    pub attrs: Vec<(Cow<'static, str>, String)>,
    pub content: Content,
    /// Render as a JSON array even when it is the only child of its name (the `fl` of the
    /// write acknowledgements in contract sections 3.4 and 3.5).
    pub json_array: bool,
}

impl Element {
    pub fn new(name: impl Into<Cow<'static, str>>, content: Content) -> Element {
        Element {
            name: name.into(),
            attrs: Vec::new(),
            content,
            json_array: false,
        }
    }

    /// An element holding `children`.
    pub fn parent(name: impl Into<Cow<'static, str>>, children: Vec<Element>) -> Element {
        Element::new(name, Content::Children(children))
    }

    /// Adds an attribute after the existing ones.
    pub fn with_attr(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Element {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Marks the element to be rendered as a JSON array even when alone.
    pub fn as_json_array(mut self) -> Element {
        self.json_array = true;
        self
    }
}

/// The answer to a read: `response > result > <ModuleKey> > row* > fl*`, rows numbered
/// from 1 in the order given, `None` values written as the text `null`.
pub fn records_answer(
    uri: &str,
    module: Module,
    rows: impl IntoIterator<Item = Vec<(String, Option<String>)>>,
) -> Element {
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(index, fields)| {
            let fields = fields
                .into_iter()
                .map(|(label, value)| {
                    let value = value.unwrap_or_else(|| NULL_TEXT.to_string());
                    Element::new("fl", Content::Cdata(value)).with_attr("val", label)
                })
                .collect();
            Element::parent("row", fields).with_attr("no", (index + 1).to_string())
        })
        .collect();
    let key = Element::parent(module.result_key(), rows);
    envelope(uri, Element::parent("result", vec![key]))
}

/// An API error: `response > error > (code, message)`.
pub fn error_answer(uri: &str, code: u32, message: &str) -> Element {
    let error = Element::parent(
        "error",
        vec![
            Element::new("code", Content::Text(code.to_string())),
            Element::new("message", Content::Text(message.to_string())),
        ],
    );
    envelope(uri, error)
}

/// A write acknowledgement (contract 3.4-3.6): the optional `responsecode`, then
/// `responsedata > <ModuleKey>` with the message `fl` and one `record@id` per id.
pub fn written_answer(
    uri: &str,
    module: Module,
    responsecode: Option<u32>,
    message: &str,
    ids: &[u64],
) -> Element {
    let mut data = Vec::with_capacity(ids.len() + 1);
    data.push(
        Element::new("fl", Content::Text(message.to_string()))
            .with_attr("val", "message")
            .as_json_array(),
    );
    data.extend(
        ids.iter()
            .map(|id| Element::new("record", Content::Empty).with_attr("id", id.to_string())),
    );
    let mut result = Vec::with_capacity(2);
    if let Some(code) = responsecode {
        result.push(Element::new(
            "responsecode",
            Content::Text(code.to_string()),
        ));
    }
    result.push(Element::parent(
        "responsedata",
        vec![Element::parent(module.result_key(), data)],
    ));
    envelope(uri, Element::parent("result", result))
}

fn envelope(uri: &str, inner: Element) -> Element {
    Element::parent("response", vec![inner]).with_attr("uri", uri)
}

/// Renders the XML answer: the prolog line, then one element per line.
pub fn to_xml(root: &Element) -> Vec<u8> {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
    write_xml(&mut out, root);
    out.push('\n');
    out.into_bytes()
}

fn write_xml(out: &mut String, element: &Element) {
    out.push('<');
    out.push_str(&element.name);
    for (key, value) in &element.attrs {
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        push_attr(out, value);
        out.push('"');
    }
    match &element.content {
        Content::Empty => {
            out.push_str("/>");
            return;
        }
        Content::Text(text) => {
            out.push('>');
            push_text(out, text);
        }
        Content::Cdata(text) => {
            out.push('>');
            if cdata_safe(text) {
                push_cdata(out, text);
            } else {
                push_text(out, text);
            }
        }
        Content::Children(children) => {
            out.push_str(">\n");
            for child in children {
                write_xml(out, child);
                out.push('\n');
            }
        }
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

/// Renders the JSON answer: compact, `{"<root>": …}`, every scalar a string.
pub fn to_json(root: &Element) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.push(b'{');
    push_json_str(&mut out, &root.name);
    out.push(b':');
    write_json(&mut out, root);
    out.push(b'}');
    out
}

fn write_json(out: &mut Vec<u8>, element: &Element) {
    if element.attrs.is_empty() {
        match &element.content {
            Content::Text(text) | Content::Cdata(text) => return push_json_str(out, text),
            Content::Empty => return out.extend_from_slice(b"\"\""),
            Content::Children(children) if children.is_empty() => {
                return out.extend_from_slice(b"\"\"")
            }
            Content::Children(_) => {}
        }
    }
    out.push(b'{');
    let mut first = true;
    for (key, value) in &element.attrs {
        push_key(out, &mut first, key);
        push_json_str(out, value);
    }
    match &element.content {
        Content::Text(text) | Content::Cdata(text) => {
            push_key(out, &mut first, "content");
            push_json_str(out, text);
        }
        Content::Children(children) => write_json_children(out, &mut first, children),
        Content::Empty => {}
    }
    out.push(b'}');
}

/// Children grouped by name at the place of the first of each name: one child stays an
/// object, several (or a `json_array` one) become an array.
fn write_json_children(out: &mut Vec<u8>, first: &mut bool, children: &[Element]) {
    let mut written: Vec<&str> = Vec::new();
    for (index, child) in children.iter().enumerate() {
        if written.contains(&child.name.as_ref()) {
            continue;
        }
        written.push(&child.name);
        let mut same = children[index..].iter().filter(|c| c.name == child.name);
        push_key(out, first, &child.name);
        let several = children[index + 1..].iter().any(|c| c.name == child.name);
        if !several && !child.json_array {
            write_json(out, child);
            continue;
        }
        out.push(b'[');
        if let Some(head) = same.next() {
            write_json(out, head);
        }
        for other in same {
            out.push(b',');
            write_json(out, other);
        }
        out.push(b']');
    }
}

fn push_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    push_json_str(out, key);
    out.push(b':');
}

/// A JSON string with serde_json's escaping (the one the sync's decoder reads back), which
/// is table-driven: a byte-by-byte match here was the emulator's costliest function.
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail, nor can serialising a str.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests;
