//! Message templates: text with `${capture.NAME}`, `${topics}`, `${topic}`
//! and `${env:NAME}` variables, parsed once at load time. Variables a
//! template may not use where it stands, and environment variables that are
//! not set, are configuration errors. Environment values are secrets: they
//! are kept as [`ApiKey`]s, so a template prints `[redacted]` in `Debug`.

use std::collections::{BTreeSet, HashMap};

use super::SpecError;
use crate::secret::ApiKey;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Capture(String),
    Topics,
    Topic,
    Env(ApiKey),
}

/// What a template may refer to where it is used.
pub(super) struct Scope<'a> {
    /// Capture names defined before this template runs.
    pub captures: &'a BTreeSet<String>,
    /// `${topics}` is allowed.
    pub topics: bool,
    /// `${topic}` is allowed.
    pub topic: bool,
}

/// How `${topics}` is written.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicsFormat {
    /// `["A","B"]`.
    JsonArray,
    /// `A,B` with the separator, escaped for a JSON string.
    Joined(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    /// Escape substituted text for a JSON string (messages), or not (URLs
    /// and headers).
    json: bool,
}

/// The values a template is rendered with.
pub(super) struct Values<'a> {
    pub captures: &'a HashMap<String, String>,
    pub topics: &'a [String],
    pub format: &'a TopicsFormat,
}

impl Template {
    /// Parses `text` (configured at `key`), checking every variable against
    /// `scope` and reading `${env:NAME}` through `env`.
    pub(super) fn parse(
        text: &str,
        key: &str,
        scope: &Scope,
        json: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Template, SpecError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            if at > 0 {
                parts.push(Part::Text(rest[..at].to_owned()));
            }
            let after = &rest[at + 2..];
            let Some(end) = after.find('}') else {
                return Err(SpecError::new(key, "has a `${` without its closing `}`"));
            };
            let var = &after[..end];
            parts.push(Self::variable(var, key, scope, env)?);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts, json })
    }

    fn variable(
        var: &str,
        key: &str,
        scope: &Scope,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Part, SpecError> {
        if let Some(name) = var.strip_prefix("env:") {
            let value = env(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                SpecError::new(key, &format!("environment variable `{name}` is not set"))
            })?;
            return Ok(Part::Env(ApiKey::new(value)));
        }
        if let Some(name) = var.strip_prefix("capture.") {
            if !scope.captures.contains(name) {
                let known: Vec<_> = scope.captures.iter().map(String::as_str).collect();
                return Err(SpecError::new(
                    key,
                    &format!(
                        "`${{{var}}}`: no earlier step or ping captures `{name}` (captured before this point: {known:?})"
                    ),
                ));
            }
            return Ok(Part::Capture(name.to_owned()));
        }
        match var {
            "topics" if scope.topics => Ok(Part::Topics),
            "topic" if scope.topic => Ok(Part::Topic),
            "topics" | "topic" => Err(SpecError::new(
                key,
                &format!("`${{{var}}}` cannot be used here (`${{topics}}` belongs to subscribe mode `all`, `${{topic}}` to `per_topic`)"),
            )),
            _ => Err(SpecError::new(
                key,
                &format!("unknown variable `${{{var}}}` (known: capture.NAME, topics, topic, env:NAME)"),
            )),
        }
    }

    /// The text to send. A capture the connection has no value for renders
    /// empty; the handshake makes sure every capture it declares was read.
    pub(super) fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Capture(name) => {
                    let v = values.captures.get(name).map_or("", String::as_str);
                    self.push(&mut out, v);
                }
                Part::Env(secret) => self.push(&mut out, secret.expose()),
                Part::Topic => self.push(&mut out, values.topics.first().map_or("", |t| t)),
                Part::Topics => match values.format {
                    TopicsFormat::JsonArray => {
                        out.push_str(&serde_json::Value::from(values.topics.to_vec()).to_string())
                    }
                    TopicsFormat::Joined(sep) => self.push(&mut out, &values.topics.join(sep)),
                },
            }
        }
        out
    }

    fn push(&self, out: &mut String, value: &str) {
        if self.json {
            let quoted = serde_json::Value::from(value).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            out.push_str(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr\"t".to_owned())
    }

    fn parse(
        text: &str,
        captures: &[&str],
        topics: bool,
        topic: bool,
    ) -> Result<Template, SpecError> {
        let captures = captures.iter().map(|c| c.to_string()).collect();
        let scope = Scope {
            captures: &captures,
            topics,
            topic,
        };
        Template::parse(text, "k", &scope, true, &env)
    }

    #[test]
    fn renders_every_variable_escaped_for_json() {
        let t = parse(
            r#"{"op":"sub","args":${topics},"token":"${env:TOKEN}","id":"${capture.id}"}"#,
            &["id"],
            true,
            false,
        )
        .expect("parses");
        let captures = HashMap::from([("id".to_owned(), "a\"b".to_owned())]);
        let topics = ["AAPL".to_owned(), "MS\"FT".to_owned()];
        let values = Values {
            captures: &captures,
            topics: &topics,
            format: &TopicsFormat::JsonArray,
        };
        let text = t.render(&values);
        assert_eq!(
            text,
            r#"{"op":"sub","args":["AAPL","MS\"FT"],"token":"s3cr\"t","id":"a\"b"}"#
        );
        let value: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(value["token"], "s3cr\"t");
        let joined = TopicsFormat::Joined(",".into());
        let values = Values {
            captures: &captures,
            topics: &topics,
            format: &joined,
        };
        assert!(t.render(&values).contains(r#""args":AAPL,MS\"FT"#));
    }

    #[test]
    fn secrets_never_print() {
        let t = parse(r#"{"token":"${env:TOKEN}"}"#, &[], false, false).expect("parses");
        let debug = format!("{t:?}");
        assert!(!debug.contains("s3cr"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }

    #[test]
    fn bad_templates_say_why() {
        let cases = [
            ("${nope}", "unknown variable `${nope}`"),
            ("${capture.x}", "no earlier step or ping captures `x`"),
            ("${topic}", "cannot be used here"),
            (
                "${env:MISSING}",
                "environment variable `MISSING` is not set",
            ),
            ("abc ${topics", "without its closing"),
        ];
        for (text, want) in cases {
            let err = parse(text, &[], true, false).expect_err(text);
            assert!(err.message.contains(want), "{text}: {err}");
            assert_eq!(err.key, "k");
        }
    }
}
