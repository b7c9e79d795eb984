//! A strict reader of the Prometheus text exposition format (version 0.0.4), so the
//! daemon's `/metrics` is checked as a scraper would read it: every line is a `# HELP`,
//! a `# TYPE` or a sample `name{label="value",…} value`; a family is described at most
//! once and before its samples; every sample belongs to a family with a type; label values
//! use only the three escapes the format defines. Anything else is an error naming the line.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Family {
    pub help: Option<String>,
    pub kind: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
    pub samples: Vec<Sample>,
}

const KINDS: [&str; 5] = ["counter", "gauge", "summary", "histogram", "untyped"];

impl Exposition {
    pub fn parse(text: &str) -> Result<Exposition, String> {
        let mut out = Exposition::default();
        for (i, line) in text.lines().enumerate() {
            let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
            if let Some(rest) = line.strip_prefix("# HELP ") {
                out.describe(rest, true).map_err(at)?;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                out.describe(rest, false).map_err(at)?;
            } else {
                let sample = sample(line).map_err(at)?;
                let family = out.family_of(&sample.name).map_err(at)?;
                if out
                    .families
                    .get(&family)
                    .and_then(|f| f.kind.as_ref())
                    .is_none()
                {
                    return Err(at(format!("a sample of `{family}` before its TYPE")));
                }
                out.samples.push(sample);
            }
        }
        if !text.is_empty() && !text.ends_with('\n') {
            return Err("the exposition does not end with a line break".into());
        }
        Ok(out)
    }

    fn describe(&mut self, rest: &str, help: bool) -> Result<(), String> {
        let (name, text) = rest.split_once(' ').ok_or("no text after the name")?;
        check_name(name)?;
        if self.samples.iter().any(|s| family_name(&s.name, name)) {
            return Err(format!("`{name}` described after its samples"));
        }
        let family = self.families.entry(name.to_string()).or_default();
        let slot = if help {
            &mut family.help
        } else {
            if !KINDS.contains(&text) {
                return Err(format!("unknown type `{text}`"));
            }
            &mut family.kind
        };
        if slot.replace(text.to_string()).is_some() {
            return Err(format!("`{name}` described twice"));
        }
        Ok(())
    }

    /// The family a sample name belongs to (a summary's `_sum` and `_count` included).
    fn family_of(&self, name: &str) -> Result<String, String> {
        if self.families.contains_key(name) {
            return Ok(name.to_string());
        }
        for suffix in ["_sum", "_count", "_bucket"] {
            if let Some(base) = name.strip_suffix(suffix) {
                let kind = self.families.get(base).and_then(|f| f.kind.as_deref());
                if matches!(kind, Some("summary" | "histogram")) {
                    return Ok(base.to_string());
                }
            }
        }
        Err(format!("`{name}` belongs to no described family"))
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn select<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The sum of the selected samples' values.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.select(name, labels).map(|s| s.value).sum()
    }

    /// The single selected sample's value; panics unless exactly one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.select(name, labels).collect();
        match found.as_slice() {
            [one] => one.value,
            _ => panic!("{} samples of {name}{labels:?}", found.len()),
        }
    }

    pub fn kind(&self, family: &str) -> Option<&str> {
        self.families.get(family)?.kind.as_deref()
    }
}

fn family_name(sample: &str, family: &str) -> bool {
    sample == family
        || ["_sum", "_count", "_bucket"]
            .iter()
            .any(|s| sample.strip_suffix(s) == Some(family))
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("`{name}` is not a metric name"))
    }
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let (labels, rest) = if line[name_end..].starts_with('{') {
        labels(&line[name_end + 1..])?
    } else {
        (BTreeMap::new(), &line[name_end..])
    };
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parts.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| format!("`{v}` is not a value"))?,
    };
    if let Some(timestamp) = parts.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("`{timestamp}` is not a timestamp"))?;
    }
    if parts.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses `a="x",b="y"}` and returns the labels and the text after the brace.
fn labels(mut text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(rest) = text.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let (name, rest) = text.split_once("=\"").ok_or("a label without =\"")?;
        check_name(name)?;
        if name.contains(':') || name.starts_with("__") {
            return Err(format!("`{name}` is not a label name"));
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("an unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("a dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    c => return Err(format!("the escape \\{c} is not allowed")),
                },
                (_, '\n') => return Err("a raw line break in a label value".into()),
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label `{name}` twice"));
        }
        text = &rest[end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_accepts_the_format_and_refuses_what_a_scraper_would() {
        let good = "# HELP a_total Things.\n# TYPE a_total counter\n\
                    a_total{x=\"q\\\"\\\\\\n\",y=\"\"} 3\na_total 1.5e3\n\
                    # TYPE s summary\ns_sum{o=\"d\"} 0.25\ns_count{o=\"d\"} 2\n";
        let parsed = Exposition::parse(good).expect("a valid exposition");
        assert_eq!(parsed.value("a_total", &[("x", "q\"\\\n")]), 3.0);
        assert_eq!(parsed.sum("a_total", &[]), 1503.0);
        assert_eq!(parsed.value("s_count", &[("o", "d")]), 2.0);
        for bad in [
            "a_total 1\n",                            // no TYPE
            "# TYPE a counter\na{x=\"1\"} one\n",     // not a number
            "# TYPE a counter\na{x=\"\\t\"} 1\n",     // bad escape
            "# TYPE a counter\na{x=1} 1\n",           // unquoted
            "# TYPE a counter\n# TYPE a gauge\n",     // twice
            "# TYPE a counter\na 1\n# HELP a late\n", // described after samples
            "# TYPE a counter\na  1\n",               // double space
            "# TYPE a counter\na 1",                  // no final line break
            "# TYPE a counted\n",                     // unknown type
            "# comment\n",                            // neither HELP nor TYPE
        ] {
            assert!(Exposition::parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
