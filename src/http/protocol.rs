//! The downstream WebSocket protocol: requests, replies and pushes, as pure
//! functions over JSON text.
//!
//! A client sends `{"id": 7, "action": "subscribe", "topics": ["alerts"]}`
//! and gets `{"id": 7, "ok": true, ...}` or `{"id": 7, "ok": false, "error":
//! "..."}`: every reply carries the id of its request, because replies to slow
//! requests (contract lookups) come after faster ones sent later. Updates
//! arrive as `{"topic": "alerts", "data": {...}}`, serialised once for every
//! subscriber.

use bytestring::ByteString;
use serde::Serialize;
use serde_json::{Map, Value};
use tapewatch_actors::events::Symbol;

use super::topic::clip;
pub use super::topic::{lookup_ticker, ticker, Topic, MAX_TICKER_LEN};

/// Topics one request may name.
pub const MAX_TOPICS_PER_REQUEST: usize = 256;

/// Longest string id echoed back.
const MAX_ID_LEN: usize = 128;

/// Highest `max_hz` accepted.
pub const MAX_HZ: f64 = 1000.0;

/// What a client whose send queue is full on event topics wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLag {
    /// Be disconnected with 1008 (the default).
    #[default]
    Disconnect,
    /// Lose the updates that do not fit, be told how many with
    /// `{"topic":"lagged","dropped":N}`, and carry on.
    Notice,
}

/// A subscribe request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Topics to add.
    pub topics: Vec<Topic>,
    /// For its state topics: the shortest interval between two values of a
    /// key (`1 / max_hz`); `None` for every change.
    pub min_gap: Option<std::time::Duration>,
    /// The lag policy for the connection's event topics, when given.
    pub on_lag: Option<OnLag>,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add topics.
    Subscribe(Subscribe),
    /// Remove topics.
    Unsubscribe(Vec<Topic>),
    /// The client's current topics.
    Subscriptions,
    /// Connection state of every feed.
    Status,
    /// This connection's own counters (conflated, pending, dropped).
    Stats,
    /// Reference data of one ticker (answered asynchronously).
    Contract(Symbol),
}

/// The id a client gave its request (a number or a string), echoed verbatim;
/// `None` when none could be read.
pub type Id = Option<Value>;

/// One well-formed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Its id.
    pub id: Value,
    /// What it asks.
    pub action: Action,
}

/// A request that cannot be served, with the id when one could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// The request's id, if it had a usable one.
    pub id: Id,
    /// What is wrong, for the client.
    pub message: String,
    /// True when the text was not a JSON object at all (counted as malformed
    /// rather than invalid).
    pub malformed: bool,
}

/// Parses one text message.
pub fn parse(text: &str) -> Result<Request, BadRequest> {
    let value: Value = serde_json::from_str(text).map_err(|e| BadRequest {
        id: None,
        message: format!("malformed JSON: {e}"),
        malformed: true,
    })?;
    let Value::Object(obj) = value else {
        return Err(BadRequest {
            id: None,
            message: "a request is a JSON object with `id` and `action`".to_owned(),
            malformed: true,
        });
    };
    let id = id_of(&obj);
    let bad = |message: String| BadRequest {
        id: id.clone(),
        message,
        malformed: false,
    };
    let Some(id) = id.clone() else {
        return Err(bad(
            "missing or invalid `id` (a number or a string of at most 128 characters)".into(),
        ));
    };
    let action = match obj.get("action").and_then(Value::as_str) {
        Some("subscribe") => Action::Subscribe(subscribe(&obj).map_err(bad)?),
        Some("unsubscribe") => Action::Unsubscribe(topics(&obj).map_err(bad)?),
        Some("subscriptions") => Action::Subscriptions,
        Some("status") => Action::Status,
        Some("stats") => Action::Stats,
        Some("contract") => match obj.get("ticker").and_then(Value::as_str) {
            Some(t) => Action::Contract(lookup_ticker(t).map_err(bad)?),
            None => return Err(bad("`contract` needs a `ticker` string".into())),
        },
        Some(other) => {
            return Err(bad(format!(
            "unknown action `{}` (known: subscribe, unsubscribe, subscriptions, status, stats, contract)",
            clip(other)
        )))
        }
        None => return Err(bad("missing `action` string".into())),
    };
    Ok(Request { id, action })
}

/// The id of a request, for replying to one that is refused before parsing
/// (rate limiting); `None` when the text has no usable id.
pub fn peek_id(text: &str) -> Id {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => id_of(&obj),
        _ => None,
    }
}

fn id_of(obj: &Map<String, Value>) -> Id {
    match obj.get("id")? {
        v @ Value::Number(_) => Some(v.clone()),
        Value::String(s) if s.len() <= MAX_ID_LEN => Some(Value::String(s.clone())),
        _ => None,
    }
}

fn topics(obj: &Map<String, Value>) -> Result<Vec<Topic>, String> {
    let Some(list) = obj.get("topics").and_then(Value::as_array) else {
        return Err("missing `topics` array".into());
    };
    if list.is_empty() || list.len() > MAX_TOPICS_PER_REQUEST {
        return Err(format!(
            "`topics` must hold 1 to {MAX_TOPICS_PER_REQUEST} topics"
        ));
    }
    list.iter()
        .map(|t| match t.as_str() {
            Some(s) => Topic::parse(s),
            None => Err("every topic is a string".into()),
        })
        .collect()
}

fn subscribe(obj: &Map<String, Value>) -> Result<Subscribe, String> {
    let topics = topics(obj)?;
    let min_gap = match obj.get("max_hz") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(hz) if hz > 0.0 && hz <= MAX_HZ => {
                Some(std::time::Duration::from_secs_f64(1.0 / hz))
            }
            _ => {
                return Err(format!(
                    "`max_hz` must be a number above 0 and at most {MAX_HZ}"
                ))
            }
        },
    };
    let on_lag = match obj.get("on_lag") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str() {
            Some("notice") => Some(OnLag::Notice),
            Some("disconnect") => Some(OnLag::Disconnect),
            _ => return Err("`on_lag` must be \"notice\" or \"disconnect\"".into()),
        },
    };
    Ok(Subscribe {
        topics,
        min_gap,
        on_lag,
    })
}

/// A success reply: `{"id":..,"ok":true,<key>:<value>}`.
pub fn ok(id: &Value, key: &str, value: impl Serialize) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let mut obj = Map::new();
    obj.insert("id".into(), id.clone());
    obj.insert("ok".into(), Value::Bool(true));
    obj.insert(key.into(), value);
    Value::Object(obj).to_string()
}

/// An error reply: `{"id":..,"ok":false,"error":"..."}` (`id` null when unknown).
pub fn error(id: &Id, message: &str) -> String {
    serde_json::json!({ "id": id, "ok": false, "error": message }).to_string()
}

/// The notice a client with `"on_lag":"notice"` gets where its event
/// topics lost `dropped` updates: `{"topic":"lagged","dropped":N}`.
pub fn lagged(dropped: u64) -> String {
    format!(r#"{{"topic":"lagged","dropped":{dropped}}}"#)
}

/// A push, serialised once and shared by every subscriber:
/// `{"topic":"alerts","data":{...}}`.
pub fn push(topic: &str, data: &impl Serialize) -> Option<ByteString> {
    #[derive(Serialize)]
    struct Push<'a, T> {
        topic: &'a str,
        data: &'a T,
    }
    serde_json::to_string(&Push { topic, data })
        .ok()
        .map(ByteString::from)
}
