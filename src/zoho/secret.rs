//! Secrets (authtokens, passwords) live in `Secret`, whose `Debug` and `Display` print a
//! placeholder, so that a secret can be carried in configs and errors without ever being
//! formatted into a log line. The only way to the text is the explicit `expose`.

use std::fmt;

/// A string that never formats itself.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Replaces the value of every `authtoken`, `password` or `PASSWORD` query parameter in a
/// URL (or any text shaped like a query string) with `***`, for logging.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = find_secret_param(rest) {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        let eq = tail.find('=').map(|i| i + 1).unwrap_or(tail.len());
        out.push_str(&tail[..eq]);
        out.push_str("***");
        let end = tail[eq..].find('&').map(|i| eq + i).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn find_secret_param(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    ["authtoken=", "password="]
        .iter()
        .filter_map(|name| {
            lower
                .match_indices(name)
                .map(|(i, _)| i)
                .find(|&i| i == 0 || matches!(lower.as_bytes()[i - 1], b'?' | b'&' | b'_'))
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let s = Secret::new("0f1e2d3c");
        assert!(!format!("{s:?} {s}").contains("0f1e2d3c"));
        assert_eq!(s.expose(), "0f1e2d3c");
    }

    #[test]
    fn urls_are_redacted_for_every_secret_parameter() {
        let url = "http://h/api/json/requests/getrecords?authtoken=abc&portal=p&PASSWORD=pw&x=1";
        assert_eq!(
            redact_url(url),
            "http://h/api/json/requests/getrecords?authtoken=***&portal=p&PASSWORD=***&x=1"
        );
        assert_eq!(redact_url("a=1&b=2"), "a=1&b=2");
    }
}
