//! Client messages of the Polygon WebSocket protocol, as the simulator reads
//! them, and how they are kept in the stats log.
//!
//! Replies to anything the simulator cannot act on are `error` status events;
//! the connection stays open:
//! - text that is not a JSON object with a string `action`: `invalid message`;
//! - an unknown action: `unknown action: NAME`;
//! - `subscribe`/`unsubscribe` before a successful `auth`: `not authorized`
//!   (what the real service says for requests a key may not make);
//! - `params` missing or not a string: `invalid params`;
//! - topics the simulator refuses: see [`super::subscriptions`].

use serde::Deserialize;
use serde_json::Value;

/// A parsed client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// `{"action":"auth","params":KEY}`; None when `params` is not a string.
    Auth(Option<String>),
    /// `{"action":"subscribe","params":"T.AAPL,Q.*"}`.
    Subscribe(Option<String>),
    /// `{"action":"unsubscribe","params":"T.AAPL"}`.
    Unsubscribe(Option<String>),
    /// Any other action name.
    Unknown(String),
}

#[derive(Deserialize)]
struct RawAction {
    action: String,
    #[serde(default)]
    params: Value,
}

/// Parses one client text message; None when it is not an action object.
pub fn parse_client_message(text: &str) -> Option<ClientAction> {
    let raw: RawAction = serde_json::from_str(text).ok()?;
    let params = match raw.params {
        Value::String(s) => Some(s),
        _ => None,
    };
    Some(match raw.action.as_str() {
        "auth" => ClientAction::Auth(params),
        "subscribe" => ClientAction::Subscribe(params),
        "unsubscribe" => ClientAction::Unsubscribe(params),
        _ => ClientAction::Unknown(raw.action),
    })
}

/// The form a client message is kept in for the stats log: `auth` keys are
/// replaced, and unparseable text that mentions `params` is withheld whole,
/// because it may hold a key.
pub fn redact_for_log(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut object)) => {
            if object.get("action").and_then(Value::as_str) == Some("auth") {
                object.insert("params".to_owned(), Value::from("<redacted>"));
                return Value::Object(object).to_string();
            }
            text.to_owned()
        }
        Ok(_) => text.to_owned(),
        Err(_) if text.contains("params") => "<unparseable message redacted>".to_owned(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_by_action() {
        let cases = [
            (
                r#"{"action":"auth","params":"K"}"#,
                Some(ClientAction::Auth(Some("K".into()))),
            ),
            (
                r#"{"action":"auth","params":5}"#,
                Some(ClientAction::Auth(None)),
            ),
            (
                r#"{"action":"subscribe","params":"T.*"}"#,
                Some(ClientAction::Subscribe(Some("T.*".into()))),
            ),
            (
                r#"{"action":"unsubscribe"}"#,
                Some(ClientAction::Unsubscribe(None)),
            ),
            (
                r#"{"action":"dance"}"#,
                Some(ClientAction::Unknown("dance".into())),
            ),
            (r#"{"params":"T.*"}"#, None),
            ("not json", None),
            ("[1,2]", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_client_message(text), want, "{text}");
        }
    }

    #[test]
    fn auth_keys_never_reach_the_log() {
        let logged = redact_for_log(r#"{"action":"auth","params":"s3cret"}"#);
        assert!(!logged.contains("s3cret"), "{logged}");
        assert!(logged.contains("<redacted>"));
        assert!(!redact_for_log(r#"{"action":"auth","params":"s3cret""#).contains("s3cret"));
        let subscribe = r#"{"action":"subscribe","params":"T.AAPL"}"#;
        assert_eq!(redact_for_log(subscribe), subscribe);
    }
}
