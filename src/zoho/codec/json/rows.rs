//! The rows of a records answer. Each row is taken as raw text first and decoded on its
//! own, so a row that cannot become a `Record` (a non-string value, an `fl` without
//! `val`, an id that is not an id, a lone surrogate escape, bytes that were not UTF-8) is
//! kept verbatim as a `BadRow` while its page survives. A bad row's id is still read
//! when it can be (its other values' escapes neutralised), so the cursor knows where it
//! stands and the dead letter names its record.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{skip_stray, unexpected, Ctx, Key, RowsPass, NOT_UTF8};
use crate::zoho::codec::{BadRow, RowOutcome, Strays};
use crate::zoho::record::{Record, RecordId, Text};

/// The module key's value: `{"row": object-or-array}` (or an empty element's `""`).
#[derive(Clone, Copy)]
pub(super) struct Rows<'s>(pub(super) Ctx<'s>);

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = Vec<RowOutcome>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = Vec<RowOutcome>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object holding `row`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            Ok(Vec::new())
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rows = None;
        while let Some(key) = map.next_key::<Key>()? {
            if !key.is("row") {
                skip_stray(&mut map, self.0, &key, "the records")?;
                continue;
            }
            if rows.is_some() {
                return Err(unexpected(&key, self.0.module.result_key()));
            }
            rows = Some(match self.0.rows {
                RowsPass::Direct(not_an_array) => map.next_value_seed(RowArray {
                    ctx: self.0,
                    not_an_array,
                })?,
                RowsPass::Whole => {
                    let raw: &'de RawValue = map.next_value()?;
                    split_rows(raw, self.0).map_err(de::Error::custom)?
                }
            });
        }
        Ok(rows.unwrap_or_default())
    }
}

/// `row` read in the one pass over the body when it is an array: each element's text is
/// taken as it comes and decoded on its own. Anything else is skipped, and the flag
/// asks for the body to be decoded again the `Whole` way.
struct RowArray<'s> {
    ctx: Ctx<'s>,
    not_an_array: &'s Cell<bool>,
}

impl RowArray<'_> {
    fn not_an_array<E>(self) -> Result<Vec<RowOutcome>, E> {
        self.not_an_array.set(true);
        Ok(Vec::new())
    }
}

impl<'de> DeserializeSeed<'de> for RowArray<'_> {
    type Value = Vec<RowOutcome>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowArray<'_> {
    type Value = Vec<RowOutcome>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(200).min(1_000));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            rows.push(decode_row(raw, self.ctx));
        }
        Ok(rows)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.not_an_array()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.not_an_array()
    }
}

fn split_rows(raw: &RawValue, ctx: Ctx<'_>) -> Result<Vec<RowOutcome>, String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => Ok(vec![decode_row(raw, ctx)]),
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Ok(items.into_iter().map(|r| decode_row(r, ctx)).collect())
        }
        _ => Err(format!(
            "`row` is neither an object nor an array: {}",
            text.chars().take(64).collect::<String>()
        )),
    }
}

fn decode_row(raw: &RawValue, ctx: Ctx<'_>) -> RowOutcome {
    let id_field = ctx.module.id_field();
    let record =
        row_pairs(raw.get(), ctx.strays).and_then(|pairs| Record::from_wire(id_field, pairs));
    match record {
        Ok(record) => RowOutcome::Ok(record),
        Err(error) => {
            let not_utf8 = ctx.tainted && raw.get().contains(NOT_UTF8);
            RowOutcome::Bad(BadRow {
                raw: crate::zoho::codec::unnumbered(raw.get()),
                error: if not_utf8 {
                    format!("the row holds bytes that are not UTF-8 ({error})")
                } else {
                    error
                },
                id: salvage_id(raw.get(), id_field),
            })
        }
    }
}

fn row_pairs(text: &str, strays: &Strays) -> Result<Vec<(Text, Text)>, String> {
    RowSeed(strays)
        .deserialize(&mut serde_json::Deserializer::from_str(text))
        .map_err(|e| e.to_string())
}

/// The id of a row that failed to decode, read again with every surrogate escape made
/// harmless (a lone one fails the whole row, though the id itself may be fine).
fn salvage_id(text: &str, id_field: &str) -> Option<RecordId> {
    let mut cleaned = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        cleaned.push_str(&rest[..at]);
        let escape = rest.get(at..at + 6).unwrap_or(&rest[at..]);
        let surrogate = escape.len() == 6
            && u16::from_str_radix(&escape[2..], 16).is_ok_and(|u| (0xD800..0xE000).contains(&u));
        cleaned.push_str(if surrogate { "\\ufffd" } else { escape });
        rest = &rest[at + escape.len()..];
    }
    cleaned.push_str(rest);
    let pairs = row_pairs(&cleaned, &Strays::default()).ok()?;
    let (_, id) = pairs
        .iter()
        .find(|(label, _)| label.eq_ignore_ascii_case(id_field))?;
    RecordId::parse(id)
}

/// One row: `{"no": …, "fl": object-or-array}`.
#[derive(Clone, Copy)]
struct RowSeed<'s>(&'s Strays);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Vec<(Text, Text)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = Vec<(Text, Text)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("no") {
                map.next_value::<IgnoredAny>()?;
            } else if key.is("fl") && fields.is_none() {
                fields = Some(map.next_value_seed(Fields(self.0))?);
            } else if key.is("fl") {
                return Err(unexpected(&key, "a row"));
            } else {
                self.0.note("a row", &key.0);
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(fields.unwrap_or_default())
    }
}

/// `fl`: one field object or an array of them.
#[derive(Clone, Copy)]
struct Fields<'s>(&'s Strays);

impl<'de> DeserializeSeed<'de> for Fields<'_> {
    type Value = Vec<(Text, Text)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Vec<(Text, Text)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field object or an array of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Field(self.0).visit_map(map).map(|field| vec![field])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(256));
        while let Some(field) = seq.next_element_seed(Field(self.0))? {
            fields.push(field);
        }
        Ok(fields)
    }
}

/// One field: `{"val": label, "content": text}`; no `content` is an empty value.
#[derive(Clone, Copy)]
struct Field<'s>(&'s Strays);

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = (Text, Text);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = (Text, Text);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field object with `val` and `content`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut label, mut content) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("val") && label.is_none() {
                label = Some(map.next_value::<Text>()?);
            } else if key.is("content") && content.is_none() {
                content = Some(map.next_value::<Text>()?);
            } else if key.is("val") || key.is("content") {
                return Err(unexpected(&key, "a field"));
            } else {
                self.0.note("a field", &key.0);
                map.next_value::<IgnoredAny>()?;
            }
        }
        let label = label.ok_or_else(|| de::Error::custom("a field without `val`"))?;
        Ok((label, content.unwrap_or_default()))
    }
}
