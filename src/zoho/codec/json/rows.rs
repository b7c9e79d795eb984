//! The rows of a records answer. Each row is taken as raw text first and decoded on its
//! own, so a row that cannot become a `Record` (a non-string value, an `fl` without
//! `val`, an id that is not an id) is kept verbatim as a `BadRow` while its page survives.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{unexpected, Key};
use crate::zoho::codec::{BadRow, RowOutcome};
use crate::zoho::module::Module;
use crate::zoho::record::Record;

/// The module key's value: `{"row": object-or-array}` (or an empty element's `""`).
#[derive(Clone, Copy)]
pub(super) struct Rows(pub(super) Module);

impl<'de> DeserializeSeed<'de> for Rows {
    type Value = Vec<RowOutcome>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Rows {
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
            if !key.is("row") || rows.is_some() {
                return Err(unexpected(&key, self.0.result_key()));
            }
            let raw: &'de RawValue = map.next_value()?;
            rows = Some(split_rows(raw, self.0).map_err(de::Error::custom)?);
        }
        Ok(rows.unwrap_or_default())
    }
}

fn split_rows(raw: &RawValue, module: Module) -> Result<Vec<RowOutcome>, String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => Ok(vec![decode_row(raw, module)]),
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Ok(items.into_iter().map(|r| decode_row(r, module)).collect())
        }
        _ => Err(format!("`row` is neither an object nor an array: {text}")),
    }
}

fn decode_row(raw: &RawValue, module: Module) -> RowOutcome {
    let pairs = RowSeed.deserialize(&mut serde_json::Deserializer::from_str(raw.get()));
    let record = pairs
        .map_err(|e| e.to_string())
        .and_then(|pairs| Record::from_wire(module.id_field(), pairs));
    match record {
        Ok(record) => RowOutcome::Ok(record),
        Err(error) => RowOutcome::Bad(BadRow {
            raw: raw.get().to_owned(),
            error,
        }),
    }
}

/// One row: `{"no": …, "fl": object-or-array}`.
#[derive(Clone, Copy)]
struct RowSeed;
map_seed!(RowSeed);

impl<'de> Visitor<'de> for RowSeed {
    type Value = Vec<(String, String)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("no") {
                map.next_value::<IgnoredAny>()?;
            } else if key.is("fl") && fields.is_none() {
                fields = Some(map.next_value_seed(Fields)?);
            } else {
                return Err(unexpected(&key, "a row"));
            }
        }
        Ok(fields.unwrap_or_default())
    }
}

/// `fl`: one field object or an array of them.
#[derive(Clone, Copy)]
struct Fields;

impl<'de> DeserializeSeed<'de> for Fields {
    type Value = Vec<(String, String)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fields {
    type Value = Vec<(String, String)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field object or an array of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Field.visit_map(map).map(|field| vec![field])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(256));
        while let Some(field) = seq.next_element_seed(Field)? {
            fields.push(field);
        }
        Ok(fields)
    }
}

/// One field: `{"val": label, "content": text}`; no `content` is an empty value.
#[derive(Clone, Copy)]
struct Field;
map_seed!(Field);

impl<'de> Visitor<'de> for Field {
    type Value = (String, String);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field object with `val` and `content`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut label, mut content) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            if key.is("val") && label.is_none() {
                label = Some(map.next_value::<String>()?);
            } else if key.is("content") && content.is_none() {
                content = Some(map.next_value::<String>()?);
            } else {
                return Err(unexpected(&key, "a field"));
            }
        }
        let label = label.ok_or_else(|| de::Error::custom("a field without `val`"))?;
        Ok((label, content.unwrap_or_default()))
    }
}
