//! One Desk record as the API shows it, made on demand from the compact `Entry` the store
//! keeps (id, created and modified second, version, sequence number) plus the values
//! written through the API: every other value is drawn from seeded dice keyed by
//! (seed, organisation, module, id, field, version), so a million records cost 32 bytes
//! each and the same seed shows the same data on every machine. Objects keep the
//! contract's key order (`Object`), since serde_json's maps would sort them.

pub mod schema;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use super::facts::{Dice, OrgFacts};
use super::module::DeskModule;
use super::time;
use crate::emulator::seeds;
use crate::emulator::store::vocabulary as words;
use schema::{Field, Gen};

/// One record in a store's index; 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    /// Epoch seconds (D12: record times have second precision).
    pub created: i64,
    pub modified: i64,
    /// Bumped by every generated modification; volatile values are redrawn.
    pub version: u32,
    /// `ticketNumber` / `contractNumber`.
    pub number: u32,
}

/// Values written through the API, by field name (`cf` holds the whole custom object).
pub type Written = Map<String, Value>;

/// A JSON object in a fixed key order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object(pub Vec<(&'static str, Value)>);

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Object {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// A record of one module, ready to render.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    pub facts: &'a OrgFacts,
    pub module: DeskModule,
    pub entry: &'a Entry,
    pub written: Option<&'a Written>,
}

impl Record<'_> {
    /// The object `GET /{module}/{id}` answers.
    pub fn full(&self) -> Object {
        Object(
            schema::fields(self.module)
                .iter()
                .map(|f| (f.name, self.value(f)))
                .collect(),
        )
    }

    /// A `GET /{module}` row: the D14 projection for tickets and contacts, else the whole.
    pub fn list_row(&self) -> Object {
        let projected = matches!(self.module, DeskModule::Tickets | DeskModule::Contacts);
        Object(
            schema::fields(self.module)
                .iter()
                .filter(|f| f.list || !projected)
                .map(|f| (f.name, self.value(f)))
                .collect(),
        )
    }

    /// Only the named fields, `id` always first (D14's `fields=`).
    pub fn projected(&self, names: &[&'static Field]) -> Object {
        let mut object = vec![("id", Value::String(self.entry.id.to_string()))];
        object.extend(
            names
                .iter()
                .filter(|f| f.name != "id")
                .map(|f| (f.name, self.value(f))),
        );
        Object(object)
    }

    /// A search row: the whole record, tickets with their contact, department and
    /// assignee embedded (section 3.2).
    pub fn search_row(&self) -> Object {
        let mut object = self.full();
        if self.module == DeskModule::Tickets {
            for key in ["contact", "department", "assignee"] {
                object.0.push((key, self.embedded(key)));
            }
        }
        object
    }

    /// A related object side-loaded by `include` or a search row: `contact`,
    /// `department`, `assignee` or `account` (null when the record has none).
    pub fn embedded(&self, what: &str) -> Value {
        match what {
            "contact" => self.embedded_contact(),
            "department" => self.embedded_department(),
            "assignee" => self.embedded_agent("assigneeId"),
            "account" => self.embedded_account(),
            _ => Value::Null,
        }
    }

    /// The value of the named field (null for a name the module lacks).
    pub fn get(&self, name: &str) -> Value {
        schema::field(self.module, name).map_or(Value::Null, |f| self.value(f))
    }

    /// A time field as epoch milliseconds.
    pub fn millis(&self, name: &str) -> Option<i64> {
        match name {
            "createdTime" => Some(self.entry.created * 1000),
            "modifiedTime" => Some(self.entry.modified * 1000),
            _ => self.get(name).as_str().and_then(time::parse),
        }
    }

    pub fn value(&self, field: &Field) -> Value {
        if let Some(value) = self.written.and_then(|w| w.get(field.name)) {
            return value.clone();
        }
        match field.gen {
            Gen::Id => json!(self.entry.id.to_string()),
            Gen::Created => json!(time::render_secs(self.entry.created)),
            Gen::Modified => json!(time::render_secs(self.entry.modified)),
            Gen::Number => json!(self.entry.number.to_string()),
            Gen::StatusType => json!(status_type(self.get("status").as_str())),
            Gen::ClosedTime => match self.get("status").as_str() {
                Some("Closed") => json!(time::render_secs(self.entry.modified)),
                _ => Value::Null,
            },
            Gen::CustomFields => self.custom_fields(),
            Gen::Parent => self.parent(),
            _ => self.drawn(field),
        }
    }

    fn dice(&self, field: &Field) -> Dice {
        let version = if field.volatile {
            self.entry.version
        } else {
            0
        };
        Dice::new(&[
            self.facts.seed,
            self.facts.ordinal,
            self.module.number() as u64,
            self.entry.id,
            seeds::text_key(field.name),
            u64::from(version),
        ])
    }

    fn drawn(&self, field: &Field) -> Value {
        let mut dice = self.dice(field);
        if dice.chance(field.null_pct) {
            return Value::Null;
        }
        let facts = self.facts;
        let created = self.entry.created;
        match field.gen {
            Gen::Pick(items) | Gen::Text(items) => json!(dice.pick(items)),
            Gen::FirstName => json!(dice.pick(&words::FIRST_NAMES)),
            Gen::LastName => json!(dice.pick(&words::LAST_NAMES)),
            Gen::Email => json!(format!(
                "{}{}@{}",
                dice.pick(&words::MAIL_NAMES),
                dice.below(1000),
                dice.pick(&words::MAIL_DOMAINS)
            )),
            Gen::Phone => json!(format!(
                "+{} {:03} {:04}",
                1 + dice.below(98),
                dice.below(1000),
                dice.below(10_000)
            )),
            Gen::Company => json!(dice.pick(&words::COMPANIES)),
            Gen::Website => json!(format!(
                "https://www.{}.example",
                dice.pick(&words::WEB_SLUGS)
            )),
            Gen::ProductCode => json!(format!("PRD-{:05}", dice.below(100_000))),
            Gen::Decimal => json!(format!("{}.{:02}", dice.below(100_000), dice.below(100))),
            Gen::Count(lo, hi) => json!((lo + dice.below(hi.saturating_sub(lo) + 1)).to_string()),
            Gen::Agent => json!(facts.agent(&mut dice).id.to_string()),
            Gen::Department => json!(facts.department(&mut dice).map(|d| d.id.to_string())),
            Gen::Departments => json!(facts
                .departments
                .iter()
                .map(|d| d.id.to_string())
                .collect::<Vec<_>>()),
            Gen::Ref(module) => json!(facts.reference(module, &mut dice).map(|id| id.to_string())),
            Gen::After(lo, hi) => {
                let width = u64::try_from(hi - lo).unwrap_or(0);
                json!(time::render_secs(
                    created + lo + dice.below(width + 1) as i64
                ))
            }
            Gen::CustomerResponse => self.customer_response(&mut dice),
            Gen::Bool(pct) => json!(dice.chance(pct)),
            Gen::False => json!(false),
            Gen::English => json!("English"),
            Gen::WebUrl => json!(format!(
                "https://desk.zoho.com/support/{}/ShowHomePage.do#{}/dv/{}",
                facts.portal,
                self.module.bin_type(),
                self.entry.id
            )),
            Gen::Happiness => happiness(&mut dice),
            Gen::Cf => self.custom_object(),
            _ => Value::Null,
        }
    }

    /// A reply up to an hour before the last modification, never before creation.
    fn customer_response(&self, dice: &mut Dice) -> Value {
        let back = dice.below(3_600) as i64;
        let secs = (self.entry.modified - back).max(self.entry.created);
        let millis = if secs < self.entry.modified {
            dice.below(1000) as i64
        } else {
            0
        };
        json!(time::render_millis(secs * 1000 + millis))
    }

    /// `cf`: written whole, or drawn per custom field (D24: strings or null).
    fn custom_object(&self) -> Value {
        let mut cf = Map::new();
        for (name, _) in schema::custom_fields(self.module) {
            let mut dice = Dice::new(&[
                self.facts.seed,
                self.entry.id,
                seeds::text_key(name),
                u64::from(self.entry.version),
            ]);
            let value = if dice.chance(30) {
                Value::Null
            } else {
                json!(format!(
                    "{}-{:05}",
                    name.trim_start_matches("cf_").to_uppercase(),
                    dice.below(100_000)
                ))
            };
            cf.insert((*name).to_string(), value);
        }
        Value::Object(cf)
    }

    /// `customFields`: `cf` keyed by display label (D24).
    fn custom_fields(&self) -> Value {
        let cf = self.get("cf");
        let labelled: Map<String, Value> = schema::custom_fields(self.module)
            .iter()
            .map(|(name, label)| {
                (
                    (*label).to_string(),
                    cf.get(*name).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        Value::Object(labelled)
    }

    fn parent(&self) -> Value {
        let module = self.get("module");
        let module = module
            .as_str()
            .and_then(DeskModule::parse)
            .unwrap_or(DeskModule::Tickets);
        let mut dice = Dice::new(&[self.facts.seed, self.entry.id, 0x9A4E]);
        json!(self
            .facts
            .reference(module, &mut dice)
            .map(|id| id.to_string()))
    }

    fn embedded_contact(&self) -> Value {
        let Some(id) = self
            .get("contactId")
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return Value::Null;
        };
        let entry = Entry { id, ..*self.entry };
        let contact = Record {
            facts: self.facts,
            module: DeskModule::Contacts,
            entry: &entry,
            written: None,
        };
        json!({
            "id": id.to_string(),
            "firstName": contact.get("firstName"),
            "lastName": contact.get("lastName"),
            "email": contact.get("email"),
            "phone": contact.get("phone"),
            "mobile": contact.get("mobile"),
            "type": Value::Null,
        })
    }

    fn embedded_account(&self) -> Value {
        let Some(id) = self
            .get("accountId")
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return Value::Null;
        };
        let entry = Entry { id, ..*self.entry };
        let account = Record {
            facts: self.facts,
            module: DeskModule::Accounts,
            entry: &entry,
            written: None,
        };
        json!({
            "id": id.to_string(),
            "accountName": account.get("accountName"),
            "website": account.get("website"),
        })
    }

    fn embedded_department(&self) -> Value {
        let id = self.get("departmentId");
        self.facts
            .departments
            .iter()
            .find(|d| id.as_str() == Some(d.id.to_string().as_str()))
            .map_or(
                Value::Null,
                |d| json!({ "id": d.id.to_string(), "name": d.name }),
            )
    }

    fn embedded_agent(&self, key: &str) -> Value {
        let id = self.get(key);
        self.facts
            .agents
            .iter()
            .find(|a| id.as_str() == Some(a.id.to_string().as_str()))
            .map_or(Value::Null, |a| {
                json!({
                    "id": a.id.to_string(), "firstName": a.first_name, "lastName": a.last_name,
                    "emailId": a.email, "photoURL": Value::Null, "zuid": a.zuid.to_string(),
                })
            })
    }
}

fn status_type(status: Option<&str>) -> Option<&'static str> {
    match status? {
        "On Hold" => Some("On Hold"),
        "Closed" => Some("Closed"),
        _ => Some("Open"),
    }
}

fn happiness(dice: &mut Dice) -> Value {
    let bad = dice.below(30);
    let ok = dice.below(100 - bad);
    json!({
        "badPercentage": bad.to_string(),
        "okPercentage": ok.to_string(),
        "goodPercentage": (100 - bad - ok).to_string(),
    })
}

#[cfg(test)]
mod tests;
