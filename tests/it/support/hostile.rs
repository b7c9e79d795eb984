//! A small hostile server: it speaks the record API's `getrecords` and `getrecordsbyid`
//! (JSON and XML) over a list of rows the test controls completely, and misbehaves exactly as told: rows in
//! any order, values sent as raw bytes (invalid UTF-8, lone surrogate escapes), ids that
//! are not ids, stray elements and keys, a `Date` header from a script, labels of any
//! length and number. It shares no code with the emulator: the point is to feed the
//! client what a faithful server never would, and see the mirror stay exact or the
//! error be loud.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};
use zoho_sync::zoho::Module;

/// A value as the server writes it.
#[derive(Clone, Debug)]
pub enum Value {
    /// Text, escaped as the format requires.
    Text(String),
    /// Bytes written verbatim inside the JSON string quotes or the XML CDATA section.
    Raw(Vec<u8>),
}

/// One served row: its fields in wire order (the id field among them) and the moment it
/// was last modified (for `lastmodifiedtime`).
#[derive(Clone, Debug)]
pub struct Row {
    pub fields: Vec<(String, Value)>,
    pub modified: NaiveDateTime,
}

impl Row {
    /// A well-formed row of `module` with id `id`, a subject and a status.
    pub fn plain(module: Module, id: u64, modified: NaiveDateTime) -> Row {
        Row {
            fields: vec![
                (module.id_field().to_string(), Value::Text(id.to_string())),
                ("Subject".into(), Value::Text(format!("subject {id}"))),
                ("Status".into(), Value::Text("Open".into())),
                (
                    "Modified Time".into(),
                    Value::Text(modified.format("%Y-%m-%d %H:%M:%S").to_string()),
                ),
            ],
            modified,
        }
    }

    /// The text of the row's id field, when it is text.
    pub fn id_text(&self, module: Module) -> Option<String> {
        self.fields.iter().find_map(|(label, value)| match value {
            Value::Text(text) if label == module.id_field() => Some(text.clone()),
            _ => None,
        })
    }

    /// Replaces (or adds) a field's value.
    pub fn set(&mut self, label: &str, value: Value) {
        match self.fields.iter_mut().find(|(l, _)| l == label) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((label.to_string(), value)),
        }
    }
}

/// Where a stray element or key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stray {
    None,
    /// After the module's records, inside `result`.
    AfterRecords,
    /// Inside `response`, beside `result`.
    InResponse,
    /// Inside every row, beside `fl`.
    InRow,
}

type DateScript = Box<dyn Fn(u64) -> Option<DateTime<Utc>> + Send + Sync>;

/// What the server serves and how it misbehaves; tests change it between runs.
pub struct Script {
    pub module: Module,
    /// Served in this order, whatever their ids.
    pub rows: Vec<Row>,
    pub stray: Stray,
    /// Rows served beyond the window asked for.
    pub overfill: usize,
    /// The `Date` header of the n-th `getrecords` answer (0-based); `None` sends none.
    pub date: DateScript,
    /// The `Date` of a clock probe (any request outside the API).
    pub probe_date: DateScript,
}

#[derive(Default)]
struct Served {
    requests: u64,
    windows: Vec<(u32, u32, Option<String>)>,
    /// The ids `getrecordsbyid` was asked for, in order.
    by_id: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<Script>>,
    served: Arc<Mutex<Served>>,
}

pub struct HostileServer {
    pub base_url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `n` plain rows of `module` with ids `first, first+1, …`, modified a second apart.
pub fn plain_rows(module: Module, first: u64, n: u64) -> Vec<Row> {
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("a time")
        .naive_utc();
    (0..n)
        .map(|i| {
            Row::plain(
                module,
                first + i,
                start + chrono::TimeDelta::seconds(i as i64),
            )
        })
        .collect()
}

impl HostileServer {
    pub async fn start(module: Module, rows: Vec<Row>) -> HostileServer {
        let script = Script {
            module,
            rows,
            stray: Stray::None,
            overfill: 0,
            date: Box::new(|_| Some(Utc::now())),
            probe_date: Box::new(|_| Some(Utc::now())),
        };
        let shared = Shared {
            script: Arc::new(Mutex::new(script)),
            served: Arc::new(Mutex::new(Served::default())),
        };
        let app = Router::new()
            .route("/api/{format}/{module}/{method}", post(api).get(api))
            .fallback(probe)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HostileServer {
            base_url: format!("http://{addr}"),
            shared,
            task,
        }
    }

    /// Changes the script (rows, strays, dates) in place.
    pub fn edit(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.shared.script.lock().expect("script"));
    }

    /// `getrecords` requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.served.lock().expect("served").requests
    }

    /// Every window asked for: `fromindex`, `toindex`, `lastmodifiedtime`.
    pub fn windows(&self) -> Vec<(u32, u32, Option<String>)> {
        self.shared.served.lock().expect("served").windows.clone()
    }

    /// The ids `getrecordsbyid` was asked for, in order.
    pub fn asked_by_id(&self) -> Vec<String> {
        self.shared.served.lock().expect("served").by_id.clone()
    }

    /// The rows as the mirror should hold them: id → label → value (text values only).
    pub fn expected(&self) -> std::collections::BTreeMap<u64, Vec<(String, String)>> {
        let script = self.shared.script.lock().expect("script");
        let id_field = script.module.id_field();
        script
            .rows
            .iter()
            .filter_map(|row| {
                let text = |v: &Value| match v {
                    Value::Text(t) => Some(t.clone()),
                    Value::Raw(_) => None,
                };
                let fields: Option<Vec<(String, String)>> = row
                    .fields
                    .iter()
                    .map(|(l, v)| text(v).map(|t| (l.clone(), t)))
                    .collect();
                let fields = fields?;
                let id = fields.iter().find(|(l, _)| l == id_field)?.1.parse().ok()?;
                Some((id, fields))
            })
            .collect()
    }
}

async fn probe(State(shared): State<Shared>) -> Response {
    let script = shared.script.lock().expect("script");
    dated(StatusCode::OK.into_response(), (script.probe_date)(0))
}

async fn api(
    State(shared): State<Shared>,
    Path((format, module, method)): Path<(String, String, String)>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    params.extend(url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned());
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let from: u32 = param("fromindex").and_then(|v| v.parse().ok()).unwrap_or(1);
    let to: u32 = param("toindex").and_then(|v| v.parse().ok()).unwrap_or(20);
    let since = param("lastmodifiedtime");
    let by_id = (method == "getrecordsbyid").then(|| param("id").unwrap_or_default());
    let n = {
        let mut served = shared.served.lock().expect("served");
        served.requests += 1;
        match &by_id {
            Some(id) => served.by_id.push(id.clone()),
            None => served.windows.push((from, to, since.clone())),
        }
        served.requests - 1
    };
    let script = shared.script.lock().expect("script");
    let asked = Module::parse(&module);
    let since = since.and_then(|s| NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S").ok());
    let rows: Vec<&Row> = match &by_id {
        // The row whose id field reads as the id asked for, if the script has it.
        Some(id) => script
            .rows
            .iter()
            .filter(|r| r.id_text(script.module).as_deref() == Some(id.as_str()))
            .take(1)
            .collect(),
        None => script
            .rows
            .iter()
            .filter(|r| since.is_none_or(|s| r.modified > s))
            .skip(from.saturating_sub(1) as usize)
            .take((to + 1).saturating_sub(from) as usize + script.overfill)
            .collect(),
    };
    let xml = format == "xml";
    let body = match asked {
        Some(m) if m == script.module && !rows.is_empty() => render(xml, m, &rows, script.stray),
        _ => no_data(xml),
    };
    let content_type = if xml {
        "text/xml;charset=UTF-8"
    } else {
        "application/json;charset=UTF-8"
    };
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    dated(response, (script.date)(n))
}

fn dated(mut response: Response, date: Option<DateTime<Utc>>) -> Response {
    if let Some(date) = date {
        let text = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().insert(header::DATE, value);
        }
    }
    response
}

fn no_data(xml: bool) -> Vec<u8> {
    if xml {
        b"<response><error><code>4832</code><message>There is no data to show</message></error></response>".to_vec()
    } else {
        br#"{"response":{"error":{"code":"4832","message":"There is no data to show"}}}"#.to_vec()
    }
}

fn render(xml: bool, module: Module, rows: &[&Row], stray: Stray) -> Vec<u8> {
    if xml {
        render_xml(module, rows, stray)
    } else {
        render_json(module, rows, stray)
    }
}

fn json_text(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Text(t) => out.extend(serde_json::to_string(t).expect("a string").into_bytes()),
        Value::Raw(bytes) => {
            out.push(b'"');
            out.extend(bytes);
            out.push(b'"');
        }
    }
}

fn render_json(module: Module, rows: &[&Row], stray: Stray) -> Vec<u8> {
    let mut out = br#"{"response":{"uri":"/api/json/x/getrecords","#.to_vec();
    if stray == Stray::InResponse {
        out.extend(br#""server":{"node":"n7"},"#);
    }
    out.extend(format!(r#""result":{{"{}":{{"row":["#, module.result_key()).into_bytes());
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend(format!(r#"{{"no":"{}","#, i + 1).into_bytes());
        if stray == Stray::InRow {
            out.extend(br#""approval":"none","#);
        }
        out.extend(br#""fl":["#);
        for (j, (label, value)) in row.fields.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend(br#"{"val":"#);
            json_text(&mut out, &Value::Text(label.clone()));
            out.extend(br#","content":"#);
            json_text(&mut out, value);
            out.push(b'}');
        }
        out.extend(b"]}");
    }
    out.extend(b"]}");
    if stray == Stray::AfterRecords {
        out.extend(br#","nodata":"""#);
    }
    out.extend(b"}}}");
    out
}

fn render_xml(module: Module, rows: &[&Row], stray: Stray) -> Vec<u8> {
    let key = module.result_key();
    let mut out =
        br#"<?xml version="1.0" encoding="UTF-8" ?><response uri="/api/xml/x/getrecords">"#
            .to_vec();
    if stray == Stray::InResponse {
        out.extend(b"<server node=\"n7\"/>");
    }
    out.extend(format!("<result><{key}>").into_bytes());
    for (i, row) in rows.iter().enumerate() {
        out.extend(format!(r#"<row no="{}">"#, i + 1).into_bytes());
        if stray == Stray::InRow {
            out.extend(b"<approval/>");
        }
        for (label, value) in &row.fields {
            let label = label
                .replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;");
            out.extend(format!(r#"<fl val="{label}"><![CDATA["#).into_bytes());
            match value {
                Value::Text(t) => out.extend(t.replace("]]>", "]]]]><![CDATA[>").into_bytes()),
                Value::Raw(bytes) => out.extend(bytes),
            }
            out.extend(b"]]></fl>");
        }
        out.extend(b"</row>");
    }
    out.extend(format!("</{key}>").into_bytes());
    if stray == Stray::AfterRecords {
        out.extend(b"<nodata/>");
    }
    out.extend(b"</result></response>");
    out
}
