//! The parameters of each record method (contract section 3), built from typed requests
//! and checked before anything is sent: a request the contract says the server would
//! refuse (a window past 200 rows, more than 100 rows to add, a label that cannot be
//! written inside `selectfields`) is a `ZohoError::Invalid` here and costs no quota.

use chrono::NaiveDateTime;

use crate::zoho::error::ZohoError;
use crate::zoho::module::Module;
use crate::zoho::record::RecordId;

/// Method parameters as sent on the wire (names are the contract's, values unencoded).
pub type Params = Vec<(&'static str, String)>;

/// The most rows one read may ask for (contract section 0).
pub const MAX_WINDOW: u32 = 200;
/// The most rows one addrecords may carry (contract section 0).
pub const MAX_ADD_ROWS: usize = 100;
/// How `lastmodifiedtime` is written.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// The server's default `toindex - fromindex + 1` when only `fromindex` is sent.
const DEFAULT_WINDOW: u32 = 20;

/// Which fields a read returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SelectFields {
    /// No `selectfields`: the module's default set.
    #[default]
    Default,
    /// `selectfields=all`.
    All,
    /// `selectfields={ModuleKey}(A,B)`.
    Labels(Vec<String>),
}

impl SelectFields {
    /// Reads the command-line spelling: `all`, or a comma list of labels.
    pub fn parse(text: &str) -> Result<SelectFields, String> {
        if text.trim().eq_ignore_ascii_case("all") {
            return Ok(SelectFields::All);
        }
        let labels: Vec<String> = text
            .split(',')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if labels.is_empty() {
            return Err(format!("`{text}` names no field (use `all` or `A,B`)"));
        }
        Ok(SelectFields::Labels(labels))
    }

    /// The `selectfields` value, or `None` for the default set.
    pub fn wire(&self, module: Module) -> Result<Option<String>, ZohoError> {
        match self {
            SelectFields::Default => Ok(None),
            SelectFields::All => Ok(Some("all".to_string())),
            SelectFields::Labels(labels) => {
                // The wire has no escaping inside `Key(A,B)`.
                if let Some(bad) = labels
                    .iter()
                    .find(|l| l.is_empty() || l.contains([',', '(', ')']))
                {
                    return Err(ZohoError::Invalid(format!(
                        "field label `{bad}` cannot be selected: labels may not be empty or contain `,`, `(` or `)`"
                    )));
                }
                Ok(Some(format!(
                    "{}({})",
                    module.result_key(),
                    labels.join(",")
                )))
            }
        }
    }

    fn push(&self, module: Module, params: &mut Params) -> Result<(), ZohoError> {
        if let Some(value) = self.wire(module)? {
            params.push(("selectfields", value));
        }
        Ok(())
    }
}

/// `newformat`: whether empty fields are left out (1) or sent as `null` (2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewFormat {
    OmitEmpty,
    WithNulls,
}

impl NewFormat {
    fn wire(self) -> &'static str {
        match self {
            NewFormat::OmitEmpty => "1",
            NewFormat::WithNulls => "2",
        }
    }
}

/// A `getrecords` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetRecords {
    pub from_index: Option<u32>,
    pub to_index: Option<u32>,
    pub select: SelectFields,
    /// Only rows modified strictly after this moment (in the portal's data zone).
    pub last_modified_time: Option<NaiveDateTime>,
    pub my_records: bool,
    pub new_format: Option<NewFormat>,
}

impl GetRecords {
    pub fn params(&self, module: Module) -> Result<Params, ZohoError> {
        let mut params = window(self.from_index, self.to_index)?;
        self.select.push(module, &mut params)?;
        if let Some(t) = self.last_modified_time {
            params.push(("lastmodifiedtime", t.format(TIME_FORMAT).to_string()));
        }
        if self.my_records {
            params.push(("myrecords", "true".to_string()));
        }
        if let Some(f) = self.new_format {
            params.push(("newformat", f.wire().to_string()));
        }
        Ok(params)
    }
}

/// A `getrecordsbysearch` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    pub search_field: String,
    pub search_value: String,
    pub select: SelectFields,
    pub from_index: Option<u32>,
    pub to_index: Option<u32>,
    /// Only rows modified within the last N days.
    pub no_of_days: Option<u32>,
}

impl Search {
    pub fn params(&self, module: Module) -> Result<Params, ZohoError> {
        if self.search_field.trim().is_empty() {
            return Err(ZohoError::Invalid("a search needs a search field".into()));
        }
        let mut params = vec![
            ("searchfield", self.search_field.clone()),
            ("searchvalue", self.search_value.clone()),
        ];
        params.extend(window(self.from_index, self.to_index)?);
        self.select.push(module, &mut params)?;
        if let Some(days) = self.no_of_days {
            params.push(("noOfDays", days.to_string()));
        }
        Ok(params)
    }
}

/// `getrecordsbyid` parameters.
pub fn by_id(module: Module, id: RecordId, select: &SelectFields) -> Result<Params, ZohoError> {
    let mut params = vec![("id", id.to_string())];
    select.push(module, &mut params)?;
    Ok(params)
}

/// `addrecords` parameters: between 1 and `MAX_ADD_ROWS` rows.
pub fn add(module: Module, rows: &[Vec<(String, Option<String>)>]) -> Result<Params, ZohoError> {
    if rows.is_empty() || rows.len() > MAX_ADD_ROWS {
        return Err(ZohoError::Invalid(format!(
            "addrecords takes 1 to {MAX_ADD_ROWS} rows, not {}",
            rows.len()
        )));
    }
    if rows.iter().any(Vec::is_empty) {
        return Err(ZohoError::Invalid("a row to add has no field".into()));
    }
    Ok(vec![(
        "xml",
        crate::zoho::codec::request_xml::encode(module, rows),
    )])
}

/// `updaterecords` parameters.
pub fn update(
    module: Module,
    id: RecordId,
    fields: &[(String, Option<String>)],
) -> Result<Params, ZohoError> {
    if fields.is_empty() {
        return Err(ZohoError::Invalid(
            "an update needs at least one field".into(),
        ));
    }
    let xml = crate::zoho::codec::request_xml::encode(module, &[fields.to_vec()]);
    Ok(vec![("id", id.to_string()), ("xml", xml)])
}

/// `deleterecords` parameters.
pub fn delete(id: RecordId) -> Params {
    vec![("id", id.to_string())]
}

/// `fromindex`/`toindex`, checked against the contract: 1-based, inclusive, ≤ 200 rows.
fn window(from: Option<u32>, to: Option<u32>) -> Result<Params, ZohoError> {
    let first = from.unwrap_or(1);
    let last = to.unwrap_or_else(|| first.saturating_add(DEFAULT_WINDOW - 1));
    if first == 0 {
        return Err(ZohoError::Invalid(
            "fromindex is 1-based; 0 is not a row".into(),
        ));
    }
    if last < first {
        return Err(ZohoError::Invalid(format!(
            "toindex {last} is before fromindex {first}"
        )));
    }
    if last - first >= MAX_WINDOW {
        return Err(ZohoError::Invalid(format!(
            "rows {first} to {last} are more than the {MAX_WINDOW} one request may ask for"
        )));
    }
    let mut params = Params::new();
    if let Some(f) = from {
        params.push(("fromindex", f.to_string()));
    }
    if let Some(t) = to {
        params.push(("toindex", t.to_string()));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2015, 3, 3)
            .and_then(|d| d.and_hms_opt(h, m, s))
            .unwrap()
    }

    #[test]
    fn getrecords_sends_every_given_parameter_in_wire_spelling() {
        let req = GetRecords {
            from_index: Some(201),
            to_index: Some(400),
            select: SelectFields::Labels(vec!["Subject".into(), "Contact Name".into()]),
            last_modified_time: Some(at(4, 5, 6)),
            my_records: true,
            new_format: Some(NewFormat::OmitEmpty),
        };
        let params = req.params(Module::Requests).unwrap();
        let expected: Params = vec![
            ("fromindex", "201".into()),
            ("toindex", "400".into()),
            ("selectfields", "Cases(Subject,Contact Name)".into()),
            ("lastmodifiedtime", "2015-03-03 04:05:06".into()),
            ("myrecords", "true".into()),
            ("newformat", "1".into()),
        ];
        assert_eq!(params, expected);
    }

    #[test]
    fn a_default_getrecords_sends_no_parameter() {
        assert!(GetRecords::default()
            .params(Module::Tasks)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn windows_past_200_rows_or_backwards_or_from_zero_are_refused() {
        let bad = [
            (Some(1), Some(201)),
            (Some(10), Some(9)),
            (Some(0), None),
            (None, Some(201)),
        ];
        for (from, to) in bad {
            let req = GetRecords {
                from_index: from,
                to_index: to,
                ..GetRecords::default()
            };
            assert!(
                matches!(req.params(Module::Requests), Err(ZohoError::Invalid(_))),
                "{from:?}..{to:?}"
            );
        }
        let full = GetRecords {
            from_index: Some(1),
            to_index: Some(200),
            ..GetRecords::default()
        };
        assert!(full.params(Module::Requests).is_ok());
    }

    #[test]
    fn search_uses_the_camel_case_days_parameter() {
        let req = Search {
            search_field: "Request Id".into(),
            search_value: "101".into(),
            select: SelectFields::All,
            no_of_days: Some(7),
            ..Search::default()
        };
        let params = req.params(Module::Requests).unwrap();
        assert!(params.contains(&("searchfield", "Request Id".into())));
        assert!(params.contains(&("selectfields", "all".into())));
        assert!(params.contains(&("noOfDays", "7".into())));
    }

    #[test]
    fn select_lists_parse_from_the_command_line_and_reject_unwritable_labels() {
        assert_eq!(SelectFields::parse("ALL"), Ok(SelectFields::All));
        assert_eq!(
            SelectFields::parse(" Subject , Status ,"),
            Ok(SelectFields::Labels(vec![
                "Subject".into(),
                "Status".into()
            ]))
        );
        assert!(SelectFields::parse(" , ").is_err());
        let bad = SelectFields::Labels(vec!["Odd (label)".into()]);
        assert!(bad.wire(Module::Contacts).is_err());
    }

    #[test]
    fn addrecords_refuses_more_than_100_rows_before_encoding() {
        let row = vec![("Subject".to_string(), Some("x".to_string()))];
        let rows = vec![row; MAX_ADD_ROWS + 1];
        assert!(matches!(
            add(Module::Requests, &rows),
            Err(ZohoError::Invalid(_))
        ));
        assert!(matches!(
            add(Module::Requests, &[]),
            Err(ZohoError::Invalid(_))
        ));
    }
}
