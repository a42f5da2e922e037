//! The downstream WebSocket protocol: requests, replies and pushes, as pure
//! functions over JSON text.
//!
//! A client sends `{"id": 7, "action": "subscribe", "topics": ["alerts"]}`
//! and gets `{"id": 7, "ok": true, ...}` or `{"id": 7, "ok": false, "error":
//! "..."}`: every reply carries the id of its request, because replies to slow
//! requests (contract lookups) come after faster ones sent later. Updates
//! arrive as `{"topic": "alerts", "data": {...}}`, serialised once for every
//! subscriber.

use std::fmt;

use bytestring::ByteString;
use serde::Serialize;
use serde_json::{Map, Value};
use tapewatch_actors::events::{is_ticker_char, Symbol};

/// Topics one request may name.
pub const MAX_TOPICS_PER_REQUEST: usize = 256;

/// Longest ticker accepted in a topic or a lookup.
pub const MAX_TICKER_LEN: usize = 64;

/// Longest string id echoed back.
const MAX_ID_LEN: usize = 128;

/// What a client can subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Alerts and their enrichments.
    Alerts,
    /// Connection status records.
    Status,
    /// Every trade of one symbol.
    Trades(Symbol),
}

impl Topic {
    /// Parses `alerts`, `status` or `trades:SYMBOL` (the symbol is upper-cased).
    pub fn parse(text: &str) -> Result<Topic, String> {
        match text {
            "alerts" => Ok(Topic::Alerts),
            "status" => Ok(Topic::Status),
            _ => match text.split_once(':') {
                Some(("trades", symbol)) => ticker(symbol).map(Topic::Trades),
                _ => Err(format!(
                    "unknown topic `{}` (known: alerts, status, trades:SYMBOL)",
                    clip(text)
                )),
            },
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Alerts => f.write_str("alerts"),
            Topic::Status => f.write_str("status"),
            Topic::Trades(s) => write!(f, "trades:{s}"),
        }
    }
}

/// A ticker as given by a client: 1 to 64 of `A-Z 0-9 : . - _`, upper-cased.
pub fn ticker(text: &str) -> Result<Symbol, String> {
    if text.is_empty() || text.len() > MAX_TICKER_LEN || !text.chars().all(is_ticker_char) {
        return Err(format!(
            "invalid ticker `{}`: 1 to {MAX_TICKER_LEN} of A-Z 0-9 : . - _",
            clip(text)
        ));
    }
    Ok(Symbol::new(text.to_ascii_uppercase()))
}

/// A ticker worth a REST lookup: an OCC option ticker with a real date
/// (`O:NVDA261218C00500000`) or a stock symbol (1 to 6 letters, optionally a
/// class suffix such as `BRK.B`), upper-cased. Anything else would only spend
/// the provider's request quota on a 404.
pub fn lookup_ticker(text: &str) -> Result<Symbol, String> {
    let symbol = ticker(text)?;
    let ok = if symbol.starts_with("O:") {
        tapewatch_actors::option_ticker::parse(&symbol).is_some()
    } else {
        is_stock_symbol(&symbol)
    };
    if !ok {
        return Err(format!(
            "invalid ticker `{}`: expected an option ticker such as O:NVDA261218C00500000 \
             or a stock symbol such as NVDA or BRK.B",
            clip(text)
        ));
    }
    Ok(symbol)
}

/// `NVDA`, `BRK.B`, `BF-B`: 1 to 6 letters, then optionally `.` or `-` and 1
/// to 4 letters or digits.
fn is_stock_symbol(s: &str) -> bool {
    let (root, class) = match s.find(['.', '-']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let root_ok = (1..=6).contains(&root.len()) && root.bytes().all(|b| b.is_ascii_uppercase());
    let class_ok = class.is_none_or(|c| {
        (1..=4).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    root_ok && class_ok
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add topics.
    Subscribe(Vec<Topic>),
    /// Remove topics.
    Unsubscribe(Vec<Topic>),
    /// The client's current topics.
    Subscriptions,
    /// Connection state of every feed.
    Status,
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
        Some("subscribe") => Action::Subscribe(topics(&obj).map_err(bad)?),
        Some("unsubscribe") => Action::Unsubscribe(topics(&obj).map_err(bad)?),
        Some("subscriptions") => Action::Subscriptions,
        Some("status") => Action::Status,
        Some("contract") => match obj.get("ticker").and_then(Value::as_str) {
            Some(t) => Action::Contract(lookup_ticker(t).map_err(bad)?),
            None => return Err(bad("`contract` needs a `ticker` string".into())),
        },
        Some(other) => {
            return Err(bad(format!(
            "unknown action `{}` (known: subscribe, unsubscribe, subscriptions, status, contract)",
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

/// Shortens client text quoted in an error, so replies stay small.
fn clip(text: &str) -> String {
    text.chars().take(MAX_TICKER_LEN).collect()
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
