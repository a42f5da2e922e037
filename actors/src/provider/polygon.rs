//! The Polygon/Massive WebSocket protocol.
//!
//! `connected` status → `{"action":"auth","params":KEY}` → `auth_success` |
//! `auth_failed` → `{"action":"subscribe","params":"T.*,Q.AAPL"}` → one
//! `success` status per topic → data frames (JSON arrays keyed by `ev`).

use super::topic::{Stream, TopicKey, ANY_CLASS};
use super::{polygon_decode, Control, ControlEvent, DecodeIssue, Provider};
use crate::events::{AssetClass, Event, Symbol};
use crate::secret::Credentials;

/// The Polygon/Massive provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct Polygon;

/// Default real-time host for Massive (formerly Polygon.io) WebSocket feeds.
pub const DEFAULT_FEED_HOST: &str = "wss://socket.massive.com";
/// Default REST base URL.
pub const DEFAULT_REST_URL: &str = "https://api.massive.com";
/// The markets served under [`DEFAULT_FEED_HOST`], one path segment each.
const MARKETS: &[&str] = &["stocks", "options", "indices", "forex", "crypto"];

impl Provider for Polygon {
    fn name(&self) -> &'static str {
        "polygon"
    }

    fn default_url(&self, market: &str) -> Option<String> {
        MARKETS
            .contains(&market)
            .then(|| format!("{DEFAULT_FEED_HOST}/{market}"))
    }

    fn topic_of(&self, topic: &str) -> Option<TopicKey> {
        // `T` covers stocks and options, crypto trades come as `XT`; quotes and
        // aggregates are per market, so their symbol alone decides the class.
        const NOT_CRYPTO: &[AssetClass] = &[AssetClass::Stock, AssetClass::Option];
        const CRYPTO: &[AssetClass] = &[AssetClass::Crypto];
        let (prefix, symbol) = topic.split_once('.')?;
        let (stream, classes) = match prefix.trim() {
            "T" => (Stream::Trades, NOT_CRYPTO),
            "XT" => (Stream::Trades, CRYPTO),
            "Q" => (Stream::Quotes, ANY_CLASS),
            "A" => (Stream::SecondBars, ANY_CLASS),
            "AM" => (Stream::MinuteBars, ANY_CLASS),
            _ => return None,
        };
        let symbol = match symbol.trim() {
            "" => return None,
            "*" => None,
            s => Some(Symbol::new(s)),
        };
        Some(TopicKey {
            stream,
            classes,
            symbol,
        })
    }

    fn auth_message(&self, credentials: &Credentials) -> String {
        serde_json::json!({"action": "auth", "params": credentials.key.expose()}).to_string()
    }

    fn subscribe_message(&self, topics: &[String]) -> String {
        action("subscribe", topics)
    }

    fn unsubscribe_message(&self, topics: &[String]) -> String {
        action("unsubscribe", topics)
    }

    fn control(&self, frame: &[u8]) -> Control {
        // Data frames never contain the key "status"; skip the parse for them.
        if !has_status_key(frame) {
            return Control {
                events: Vec::new(),
                has_data: true,
            };
        }
        let mut events = Vec::new();
        let mut issues = Vec::new();
        polygon_decode::decode_frame(frame, &mut events, &mut issues);
        let mut control = Control::default();
        for event in events {
            match event {
                Event::Status(s) => control
                    .events
                    .extend(status_to_control(&s.status, &s.message)),
                _ => control.has_data = true,
            }
        }
        control.events = refusals(control.events);
        // Let the decoder count whatever was wrong with the frame.
        control.has_data |= !issues.is_empty();
        control
    }

    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
        polygon_decode::decode_frame(frame, out, issues)
    }
}

fn action(action: &str, topics: &[String]) -> String {
    serde_json::json!({"action": action, "params": topics.join(",")}).to_string()
}

/// Finds `"status"` in a frame with a SIMD substring search built once,
/// because this runs on every data frame.
fn has_status_key(frame: &[u8]) -> bool {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"status\""));
    FINDER.find(frame).is_some()
}

/// Reads an `error` that directly follows `subscribed to` acknowledgements
/// in the same frame as the refusal of those topics: that is how the service
/// answers a topic the plan does not cover (`subscribed to: XT.BTC-USD`, then
/// `not authorized`). Any other error is left as it is.
pub fn refusals(events: Vec<ControlEvent>) -> Vec<ControlEvent> {
    let mut out: Vec<ControlEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let ControlEvent::Error(message) = &event {
            let acks = out
                .iter()
                .rposition(|e| !matches!(e, ControlEvent::Subscribed(_)))
                .map_or(0, |i| i + 1);
            if acks < out.len() {
                let topics = out
                    .drain(acks..)
                    .filter_map(|e| match e {
                        ControlEvent::Subscribed(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                out.push(ControlEvent::Rejected {
                    topics,
                    message: message.clone(),
                });
                continue;
            }
        }
        out.push(event);
    }
    out
}

/// Maps one Polygon status message to the control events it stands for.
pub fn status_to_control(status: &str, message: &str) -> Vec<ControlEvent> {
    let topics = |prefix: &str| -> Option<Vec<String>> {
        let rest = message.strip_prefix(prefix)?;
        Some(
            rest.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    match status {
        "connected" => vec![ControlEvent::Connected],
        "auth_success" => vec![ControlEvent::AuthSuccess],
        // Servers before 2021 answered auth with `success` + `authenticated`.
        "success" if message == "authenticated" => vec![ControlEvent::AuthSuccess],
        "auth_failed" => vec![ControlEvent::AuthFailed(message.to_owned())],
        // We were too slow to authenticate; the key may be fine.
        "auth_timeout" => vec![ControlEvent::AuthTimeout(message.to_owned())],
        "error" if message == "authentication failed" => {
            vec![ControlEvent::AuthFailed(message.to_owned())]
        }
        "max_connections" => vec![ControlEvent::MaxConnections(message.to_owned())],
        "success" => {
            if let Some(t) = topics("subscribed to:") {
                t.into_iter().map(ControlEvent::Subscribed).collect()
            } else if let Some(t) = topics("unsubscribed to:") {
                t.into_iter().map(ControlEvent::Unsubscribed).collect()
            } else {
                vec![ControlEvent::Other(message.to_owned())]
            }
        }
        "error" => vec![ControlEvent::Error(message.to_owned())],
        _ => vec![ControlEvent::Other(format!("{status}: {message}"))],
    }
}

#[cfg(test)]
mod tests;
