//! Changing a store through the API (add, update, delete) and custom fields appearing
//! later. A record written through the API keeps every writable value explicitly (an
//! update first pins the record's current generated values), so its version bump changes
//! only what was written. Input is decoded here: labels matched case-insensitively, `null`
//! made empty, US-style dates normalised. Times are whole seconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::generate::{self, DATETIME_FORMAT, DATE_FORMAT};
use super::schema::{FieldSpec, Source, ValueKind};
use super::{CustomField, Entry, ModuleStore, StoreError};
use crate::zoho::record::NULL_TEXT;

impl ModuleStore {
    /// Creates a record from `(label, text)` pairs: labels match case-insensitively,
    /// unknown labels and system fields (id, URI, Request Id, times) are ignored, `null`
    /// or empty text is an empty value, and `MM/dd/yyyy[ HH:mm:ss]` input is normalised
    /// for date fields. Returns the new id, greater than every id ever handed out.
    pub fn add(
        &mut self,
        fields: Vec<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut values = vec![None; self.fields.len()];
        self.apply(&mut values, fields);
        self.check_mandatory(&values)?;
        let entry = self.next_entry(now.timestamp());
        self.overrides.insert(entry.id, values);
        self.index.push(entry);
        Ok(entry.id)
    }

    /// Changes only the given fields (same rules as `add`); Modified Time becomes `now`.
    pub fn update(
        &mut self,
        id: u64,
        fields: Vec<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pos = self.position(id).ok_or(StoreError::NotFound(id))?;
        let entry = *self.index.get(pos).ok_or(StoreError::NotFound(id))?;
        let mut values = self.pinned_values(&entry);
        self.apply(&mut values, fields);
        self.check_mandatory(&values)?;
        self.overrides.insert(id, values);
        if let Some(live) = self.index.get_mut(pos) {
            live.version = live.version.wrapping_add(1);
            live.modified = now.timestamp();
        }
        Ok(())
    }

    pub fn delete(&mut self, id: u64) -> Result<(), StoreError> {
        let pos = self.position(id).ok_or(StoreError::NotFound(id))?;
        self.index.remove(pos);
        self.overrides.remove(&id);
        Ok(())
    }

    /// Adds a field to every record, present and future.
    pub fn add_custom_field(&mut self, field: CustomField) -> Result<(), StoreError> {
        let label = field.label.trim();
        if label.is_empty() || self.field_position(label).is_some() {
            return Err(StoreError::DuplicateField(field.label.clone()));
        }
        self.fields.push(FieldSpec::custom(&CustomField {
            label: label.to_string(),
            kind: field.kind.clone(),
        }));
        self.spec.custom_fields.push(field);
        Ok(())
    }

    pub(super) fn next_entry(&mut self, now: i64) -> Entry {
        let id = generate::next_id(self.spec.seed, self.spec.module, self.last_id);
        let seq = generate::next_request_no(self.last_seq);
        self.last_id = id;
        self.last_seq = Some(seq);
        Entry {
            id,
            created: now,
            modified: now,
            seq,
            version: 0,
        }
    }

    /// The record's current value of every field, explicit or generated.
    fn pinned_values(&self, entry: &Entry) -> Vec<Option<String>> {
        let explicit = self.overrides.get(&entry.id);
        let ctx = self.context();
        self.fields
            .iter()
            .enumerate()
            .map(|(at, spec)| match spec.source {
                Source::Generated(_) => self.value(&ctx, entry, at, spec, explicit),
                _ => None,
            })
            .collect()
    }

    fn apply(&self, values: &mut [Option<String>], fields: Vec<(String, String)>) {
        for (label, text) in fields {
            let Some(at) = self.field_position(&label) else {
                continue;
            };
            let (Some(spec), Some(slot)) = (self.fields.get(at), values.get_mut(at)) else {
                continue;
            };
            if spec.is_writable() {
                *slot = normalize(spec.kind, text);
            }
        }
    }

    fn check_mandatory(&self, values: &[Option<String>]) -> Result<(), StoreError> {
        let label = self.mandatory_label();
        let present = self
            .field_position(label)
            .and_then(|at| values.get(at))
            .is_some_and(Option::is_some);
        if present {
            Ok(())
        } else {
            Err(StoreError::MandatoryMissing(label.to_string()))
        }
    }
}

/// `null` and empty text are empty; US-style dates (contract 3.5) become the answer layout.
fn normalize(kind: ValueKind, text: String) -> Option<String> {
    if text.is_empty() || text == NULL_TEXT {
        return None;
    }
    let trimmed = text.trim();
    let rewritten = match kind {
        ValueKind::Date => NaiveDate::parse_from_str(trimmed, "%m/%d/%Y")
            .ok()
            .map(|d| d.format(DATE_FORMAT).to_string()),
        ValueKind::DateTime => NaiveDateTime::parse_from_str(trimmed, "%m/%d/%Y %H:%M:%S")
            .ok()
            .map(|t| t.format(DATETIME_FORMAT).to_string()),
        _ => None,
    };
    Some(rewritten.unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{now, spec, store};
    use super::super::{FieldKind, Query, Row, StoreSpec};
    use super::*;
    use crate::zoho::module::Module;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(l, v)| (l.to_string(), v.to_string()))
            .collect()
    }

    fn field<'r>(row: &'r Row, label: &str) -> Option<&'r str> {
        row.fields
            .iter()
            .find(|(l, _)| l == label)
            .and_then(|(_, v)| v.as_deref())
    }

    fn later(secs: i64) -> DateTime<Utc> {
        now() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn an_add_gets_the_next_id_and_request_number_and_keeps_only_known_fields() {
        let mut s = store(Module::Requests, 20);
        let last = s.rows().last().unwrap_or_else(|| Row {
            id: 0,
            fields: vec![],
        });
        let fields = pairs(&[
            ("subject", "Printer <on> fire ]]>"),
            ("EMAIL", "null"),
            ("Colour", "red"),
            ("CASEID", "1"),
        ]);
        let id = s.add(fields, later(1)).unwrap_or_default();
        assert!(id > last.id);
        let row = s.get(id).unwrap_or_else(|| Row {
            id: 0,
            fields: vec![],
        });
        assert_eq!(field(&row, "Subject"), Some("Printer <on> fire ]]>"));
        assert_eq!(field(&row, "Email"), None);
        assert_eq!(field(&row, "CASEID"), Some(id.to_string().as_str()));
        let next_no = field(&last, "Request Id")
            .and_then(|n| n.parse::<u32>().ok())
            .map(|n| (n + 1).to_string());
        assert_eq!(field(&row, "Request Id").map(str::to_string), next_no);
        let stamp = later(1).format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(field(&row, "Created Time"), Some(stamp.as_str()));
        assert_eq!(field(&row, "Modified Time"), Some(stamp.as_str()));
        assert_eq!(s.len(), 21);
    }

    #[test]
    fn an_add_without_the_mandatory_field_is_refused_for_every_module() {
        for module in Module::ALL {
            let mut s = store(module, 3);
            let mandatory = s.mandatory_label().to_string();
            let refused = s.add(pairs(&[(&mandatory, "null")]), now());
            assert_eq!(
                refused,
                Err(StoreError::MandatoryMissing(mandatory.clone()))
            );
            assert_eq!(s.len(), 3);
            assert!(
                s.add(pairs(&[(&mandatory, "7")]), now()).is_ok(),
                "{module}"
            );
        }
    }

    #[test]
    fn us_style_dates_are_normalised_on_write() {
        let mut s = store(Module::Contracts, 2);
        let id = s.add(
            pairs(&[("Contract Name", "Gold"), ("start date", "03/31/2016")]),
            now(),
        );
        let row = id.ok().and_then(|id| s.get(id));
        assert_eq!(
            row.as_ref().and_then(|r| field(r, "Start Date")),
            Some("2016-03-31")
        );
        let mut t = store(Module::TimeEntry, 2);
        let id = t.add(
            pairs(&[
                ("Hours Spent", "2"),
                ("Executed Time", "12/01/2015 08:30:00"),
            ]),
            now(),
        );
        let row = id.ok().and_then(|id| t.get(id));
        assert_eq!(
            row.as_ref().and_then(|r| field(r, "Executed Time")),
            Some("2015-12-01 08:30:00")
        );
    }

    #[test]
    fn an_update_changes_only_the_given_fields_and_the_modified_time() {
        let mut s = store(Module::Requests, 30);
        let before = s.rows().nth(4).unwrap_or_else(|| Row {
            id: 0,
            fields: vec![],
        });
        assert_eq!(
            s.update(
                before.id,
                pairs(&[("status", "Closed"), ("Modified Time", "x")]),
                later(60)
            ),
            Ok(())
        );
        let after = s.get(before.id).unwrap_or_else(|| Row {
            id: 0,
            fields: vec![],
        });
        let stamp = later(60).format("%Y-%m-%d %H:%M:%S").to_string();
        for ((label, old), (_, new)) in before.fields.iter().zip(&after.fields) {
            match label.as_str() {
                "Status" => assert_eq!(new.as_deref(), Some("Closed")),
                "Modified Time" => assert_eq!(new.as_deref(), Some(stamp.as_str())),
                _ => assert_eq!(old, new, "{label} changed"),
            }
        }
        assert_eq!(
            s.update(1, pairs(&[("Status", "Open")]), now()),
            Err(StoreError::NotFound(1))
        );
        let refused = s.update(before.id, pairs(&[("Subject", "")]), now());
        assert_eq!(
            refused,
            Err(StoreError::MandatoryMissing("Subject".to_string()))
        );
        assert_eq!(s.get(before.id), Some(after));
    }

    #[test]
    fn a_deleted_record_disappears_and_its_id_is_never_reused() {
        let mut s = store(Module::Products, 10);
        let last = s.rows().last().map(|r| r.id).unwrap_or_default();
        assert_eq!(s.delete(last), Ok(()));
        assert_eq!(s.delete(last), Err(StoreError::NotFound(last)));
        assert_eq!(s.get(last), None);
        assert_eq!(s.len(), 9);
        let id = s.add(pairs(&[("Product Name", "Nouveau ✨")]), now());
        assert!(id.is_ok_and(|id| id > last));
    }

    #[test]
    fn custom_fields_appear_on_every_record_with_values_of_their_kind() {
        let options = vec!["Rojo".to_string(), "Grün".to_string()];
        let custom = vec![CustomField {
            label: "Colour".to_string(),
            kind: FieldKind::Picklist {
                options: options.clone(),
            },
        }];
        let mut s = ModuleStore::generate(
            StoreSpec {
                custom_fields: custom,
                ..spec(Module::Accounts)
            },
            100,
            now(),
        );
        assert_eq!(s.labels().last().map(String::as_str), Some("Colour"));
        let picked = s
            .rows()
            .filter_map(|r| field(&r, "Colour").map(str::to_string))
            .collect::<Vec<_>>();
        assert!(!picked.is_empty() && picked.iter().all(|v| options.contains(v)));
        let written = s
            .add(pairs(&[("Account Name", "Ñ")]), now())
            .unwrap_or_default();
        let flag = CustomField {
            label: "VIP".to_string(),
            kind: FieldKind::Boolean,
        };
        assert_eq!(s.add_custom_field(flag.clone()), Ok(()));
        assert_eq!(
            s.add_custom_field(CustomField {
                label: "vip".to_string(),
                ..flag
            }),
            Err(StoreError::DuplicateField("vip".to_string()))
        );
        assert!(s
            .rows()
            .all(|r| matches!(field(&r, "VIP"), Some("true" | "false"))));
        assert!(s.get(written).is_some_and(|r| field(&r, "VIP").is_some()));
        let number = CustomField {
            label: "Seats".to_string(),
            kind: FieldKind::Number,
        };
        assert_eq!(s.add_custom_field(number), Ok(()));
        let query = Query {
            search: Some(("seats".to_string(), "x".to_string())),
            ..Query::default()
        };
        assert_eq!(s.select(&query, 1, 20), Ok(vec![]));
    }
}
