//! Client messages of Alpaca's stream protocol, as the simulator reads them,
//! and how they are kept in the stats log.
//!
//! A text frame is read as JSON and a binary frame as msgpack, whatever the
//! connection's own encoding: alpaca-py sends msgpack, tapewatch and `wscat`
//! send JSON, and both mean the same. Either is first turned into a JSON
//! value, so that one parser serves both. A message is an object with a string
//! `action`:
//! - `{"action":"auth","key":K,"secret":S}`, both strings;
//! - `{"action":"subscribe","trades":["AAPL"],"quotes":["*"]}`, every other
//!   key a channel whose value is a list of symbols; `unsubscribe` alike.
//!
//! Anything else is [`AlpacaAction::Invalid`], which the connection answers
//! with 400 `invalid syntax`: text that does not parse, a message that is not
//! an object, a missing or unknown action, a key or secret that is not a
//! string, a channel that is not a list of strings, or a malformed symbol.

use serde_json::{Map, Value};

/// Longest symbol accepted; real ones are far shorter.
const MAX_SYMBOL_LEN: usize = 32;

/// The channel lists of a `subscribe` or `unsubscribe`, in message order.
pub type ChannelLists = Vec<(String, Vec<String>)>;

/// A parsed Alpaca client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlpacaAction {
    /// `auth` with its key and secret.
    Auth {
        /// The key id.
        key: String,
        /// The secret key.
        secret: String,
    },
    /// `subscribe` with its channels.
    Subscribe(ChannelLists),
    /// `unsubscribe` with its channels.
    Unsubscribe(ChannelLists),
    /// Not a message the protocol defines.
    Invalid,
}

/// Reads a text (JSON) client message as a JSON value.
pub fn value_of_text(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// Reads a binary (msgpack) client message as a JSON value. Msgpack maps
/// with string keys, lists, strings and numbers carry over as they are.
pub fn value_of_msgpack(bytes: &[u8]) -> Option<Value> {
    rmp_serde::from_slice(bytes).ok()
}

/// Parses one client message already read into a JSON value.
pub fn parse_action(value: &Value) -> AlpacaAction {
    let Some(object) = value.as_object() else {
        return AlpacaAction::Invalid;
    };
    match object.get("action").and_then(Value::as_str) {
        Some("auth") => auth(object),
        Some("subscribe") => {
            channels(object).map_or(AlpacaAction::Invalid, AlpacaAction::Subscribe)
        }
        Some("unsubscribe") => {
            channels(object).map_or(AlpacaAction::Invalid, AlpacaAction::Unsubscribe)
        }
        _ => AlpacaAction::Invalid,
    }
}

fn auth(object: &Map<String, Value>) -> AlpacaAction {
    let field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field("key"), field("secret")) {
        (Some(key), Some(secret)) => AlpacaAction::Auth { key, secret },
        _ => AlpacaAction::Invalid,
    }
}

/// Every key but `action`, each a list of well-formed symbols; None when any
/// is not.
fn channels(object: &Map<String, Value>) -> Option<ChannelLists> {
    let mut lists = Vec::new();
    for (channel, value) in object.iter().filter(|(k, _)| *k != "action") {
        let symbols = value
            .as_array()?
            .iter()
            .map(|s| s.as_str().filter(|s| is_symbol(s)).map(str::to_owned))
            .collect::<Option<Vec<String>>>()?;
        lists.push((channel.clone(), symbols));
    }
    // Sorted, so that the order never depends on how the object keeps keys.
    lists.sort();
    Some(lists)
}

/// `*`, or upper-case letters and digits with the separators `.`, `/`, `-`
/// that share classes (`BRK.B`) and crypto pairs (`BTC/USD`) use.
fn is_symbol(symbol: &str) -> bool {
    symbol == "*"
        || (!symbol.is_empty()
            && symbol.len() <= MAX_SYMBOL_LEN
            && symbol
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b".-/".contains(&b)))
}

/// The form a client message is kept in for the stats log: JSON, with the
/// `key` and `secret` of `auth` replaced. A message that does not parse is
/// kept as a placeholder, because it may hold a secret.
pub fn redact_for_log(value: Option<Value>) -> String {
    match value {
        Some(Value::Object(mut object)) => {
            if object.get("action").and_then(Value::as_str) == Some("auth") {
                for field in ["key", "secret"] {
                    if object.contains_key(field) {
                        object.insert(field.to_owned(), Value::from("<redacted>"));
                    }
                }
            }
            Value::Object(object).to_string()
        }
        Some(other) => other.to_string(),
        None => "<unparseable message redacted>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn actions_parse_from_json_values() {
        let parse = |value: Value| parse_action(&value);
        assert_eq!(
            parse(json!({"action": "auth", "key": "k", "secret": "s"})),
            AlpacaAction::Auth {
                key: "k".into(),
                secret: "s".into()
            }
        );
        assert_eq!(
            parse(json!({"action": "subscribe", "trades": ["AAPL"], "quotes": ["*"]})),
            AlpacaAction::Subscribe(vec![
                ("quotes".into(), vec!["*".into()]),
                ("trades".into(), vec!["AAPL".into()]),
            ])
        );
        assert_eq!(
            parse(json!({"action": "unsubscribe", "bars": []})),
            AlpacaAction::Unsubscribe(vec![("bars".into(), vec![])])
        );
        let invalid = [
            json!({"action": "auth", "key": "k"}),
            json!({"action": "auth", "key": 5, "secret": "s"}),
            json!({"action": "subscribe", "trades": "AAPL"}),
            json!({"action": "subscribe", "trades": [5]}),
            json!({"action": "subscribe", "trades": ["aapl"]}),
            json!({"action": "subscribe", "trades": [""]}),
            json!({"action": "dance"}),
            json!({"trades": ["AAPL"]}),
            json!(["auth"]),
        ];
        for value in invalid {
            assert_eq!(parse(value.clone()), AlpacaAction::Invalid, "{value}");
        }
    }

    #[test]
    fn msgpack_and_json_messages_read_the_same() {
        let message = json!({"action": "subscribe", "trades": ["BRK.B", "BTC/USD"]});
        let packed = rmp_serde::to_vec_named(&message).unwrap_or_default();
        assert_eq!(value_of_msgpack(&packed), Some(message.clone()));
        assert_eq!(value_of_text(&message.to_string()), Some(message));
        assert_eq!(value_of_msgpack(&[0xc1]), None);
        assert_eq!(value_of_text("{"), None);
    }

    #[test]
    fn keys_and_secrets_never_reach_the_log() {
        let auth = json!({"action": "auth", "key": "kid", "secret": "s3cret"});
        let logged = redact_for_log(Some(auth));
        assert!(
            !logged.contains("kid") && !logged.contains("s3cret"),
            "{logged}"
        );
        assert!(logged.contains("<redacted>"));
        let subscribe = json!({"action": "subscribe", "trades": ["AAPL"]});
        assert_eq!(
            redact_for_log(Some(subscribe.clone())),
            subscribe.to_string()
        );
        assert!(!redact_for_log(None).contains("s3cret"));
    }
}
