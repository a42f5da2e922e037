//! The generic provider: any JSON WebSocket feed, described in the
//! `[generic]` section of the configuration instead of in code.
//!
//! [`Generic::compile`] checks a [`GenericSpec`] once at load time: pointers
//! are parsed (RFC 6901) and merged into tries, conditions and templates are
//! compiled, environment variables are read and kept as secrets. What runs
//! per connection (the handshake steps, captured values, acknowledgements
//! by order, answers to pings) is a [`connection::GenericScript`], which the
//! session gets from [`Provider::script`]; decoding is one walk over each
//! frame ([`walk`]) that builds trades and quotes as it reads them.

mod builder;
mod compile;
mod condition;
mod connection;
mod decode;
mod flat;
mod pointer;
pub mod spec;
mod template;
mod value;
mod walk;

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

pub use compile::Compiled;
pub use decode::TimeUnit;
pub use spec::GenericSpec;

use self::template::{Scope, Template, Values};
use self::value::Val;
use self::walk::{walk, Sink, Walked};
use super::frame_scan::scan_array;
use super::script::{Script, Upgrade};
use super::topic::{TopicKey, ANY_CLASS};
use super::{Control, DecodeIssue, IssueKind, Provider};
use crate::events::{is_ticker_char, Event, Symbol};
use crate::secret::{ApiKey, Credentials};

/// A configuration mistake: the key under `[generic]` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key `{key}`: {message}")]
pub struct SpecError {
    /// Dotted key, relative to `[generic]` (or the feed's `url`).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl SpecError {
    pub(crate) fn new(key: &str, message: &str) -> Self {
        SpecError {
            key: key.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// Where `${env:NAME}` values come from: the process environment, or a
/// table in tests.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The generic provider, compiled from its configuration.
#[derive(Clone)]
pub struct Generic {
    compiled: Arc<Compiled>,
    env: Env,
}

impl fmt::Debug for Generic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generic")
            .field("compiled", &self.compiled)
            .finish_non_exhaustive()
    }
}

impl Generic {
    /// Compiles `spec`, reading `${env:NAME}` from the process environment.
    pub fn compile(spec: &GenericSpec) -> Result<Generic, SpecError> {
        Self::compile_with(spec, Arc::new(|name| std::env::var(name).ok()))
    }

    /// Compiles `spec` with `env` as the environment.
    pub fn compile_with(spec: &GenericSpec, env: Env) -> Result<Generic, SpecError> {
        let compiled = compile::compile(spec, &*env)?;
        Ok(Generic {
            compiled: Arc::new(compiled),
            env,
        })
    }

    /// Checks a feed URL, whose `${env:NAME}` variables are filled in at
    /// connect time; `key` names it in the error.
    pub fn check_url(&self, url: &str, key: &str) -> Result<(), SpecError> {
        self.url_template(url, key).map(|_| ())
    }

    fn url_template(&self, url: &str, key: &str) -> Result<Template, SpecError> {
        let none = Default::default();
        let scope = Scope {
            captures: &none,
            topics: false,
            topic: false,
        };
        Template::parse(url, key, &scope, false, &*self.env)
    }
}

impl Generic {
    /// Keeps the events of a read frame if it is a data frame, and counts a
    /// frame no rule takes; `before` is where `out` and `issues` stood.
    fn settle(
        &self,
        slots: &[Val],
        seen: bool,
        out: &mut Vec<Event>,
        issues: &mut Vec<DecodeIssue>,
        before: (usize, usize),
    ) {
        let c = &*self.compiled;
        let claimed = connection::claimed(c, slots);
        let is_data = match &c.data_when {
            Some(when) => when.holds(slots),
            None => !claimed,
        };
        if !is_data {
            out.truncate(before.0);
            issues.truncate(before.1);
            if !claimed {
                issues.push(DecodeIssue::new(
                    IssueKind::UnknownEvent,
                    "a frame that no rule of the configuration takes",
                ));
            }
            return;
        }
        if !seen {
            issues.push(DecodeIssue::new(
                IssueKind::MissingField,
                "a data frame without events at the configured `data.events` pointer",
            ));
        }
    }
}

/// Renders a template that reads no captures or topics.
fn render_plain(t: &Template) -> String {
    t.render(&Values {
        captures: &Default::default(),
        topics: &[],
        format: &template::TopicsFormat::JsonArray,
    })
}

impl Provider for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn default_url(&self, _market: &str) -> Option<String> {
        None
    }

    fn topic_of(&self, topic: &str) -> Option<TopicKey> {
        let c = &self.compiled;
        let rest = topic.strip_prefix(c.strip_prefix.as_str())?;
        let symbol = match rest {
            "" => return None,
            "*" => None,
            s if s.chars().all(|ch| is_ticker_char(ch) || ch == '/') => Some(Symbol::new(s)),
            _ => return None,
        };
        Some(TopicKey {
            stream: c.stream,
            classes: ANY_CLASS,
            symbol,
        })
    }

    fn auth_message(&self, _credentials: &Credentials) -> String {
        // The handshake steps of the script authenticate, with secrets read
        // from the environment; there is no single auth message.
        String::new()
    }

    fn subscribe_message(&self, topics: &[String]) -> String {
        connection::GenericScript::new(self.compiled.clone())
            .change_messages(true, topics)
            .join("\n")
    }

    fn unsubscribe_message(&self, topics: &[String]) -> String {
        connection::GenericScript::new(self.compiled.clone())
            .change_messages(false, topics)
            .join("\n")
    }

    fn control(&self, frame: &[u8]) -> Control {
        // Without a connection's state (the session uses `script`), a frame
        // is read as if the handshake were complete.
        connection::GenericScript::streaming(self.compiled.clone())
            .on_frame(frame)
            .control
    }

    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
        let c = &*self.compiled;
        let (events, problems) = (out.len(), issues.len());
        let mut slots: SmallVec<[Val; 24]> = smallvec::smallvec![Val::Absent; c.plan.slots];
        // Flat events at the frame itself: the byte scanner first, as for
        // Polygon; whatever it does not take, the walk reads from the start.
        if let Some(keys) = &c.flat {
            let fields = || flat::FlatFields::new(c, keys.len());
            if scan_array(frame, out, issues, fields).is_some() {
                self.settle(&slots, true, out, issues, (events, problems));
                return;
            }
            out.truncate(events);
            issues.truncate(problems);
        }
        let mut sink = Sink {
            map: &c.mapping,
            out,
            issues,
            seen: false,
        };
        let walked = walk(&c.plan, frame, &mut slots, Some(&mut sink));
        let seen = sink.seen;
        if let Walked::Broken(issue) = walked {
            out.truncate(events);
            issues.truncate(problems);
            issues.push(issue);
            return;
        }
        self.settle(&slots, seen, out, issues, (events, problems));
    }

    fn script(&self) -> Option<Box<dyn Script>> {
        Some(Box::new(connection::GenericScript::new(
            self.compiled.clone(),
        )))
    }

    fn upgrade(&self, url: &str) -> Upgrade {
        // The URL was checked at load time; should its variable have gone
        // since, the unexpanded URL fails to connect and says so.
        let url = self
            .url_template(url, "url")
            .map_or_else(|_| url.to_owned(), |t| render_plain(&t));
        let headers = (self.compiled.headers.iter())
            .map(|(name, value)| (name.clone(), ApiKey::new(render_plain(value))))
            .collect();
        Upgrade { url, headers }
    }
}

#[cfg(test)]
mod flat_tests;
#[cfg(test)]
mod script_tests;
#[cfg(test)]
mod tests;
