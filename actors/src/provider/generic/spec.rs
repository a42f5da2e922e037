//! The `[generic]` configuration as plain data: what the TOML file says,
//! before [`super::compile`] checks it and turns it into precompiled
//! pointers, conditions and templates. Every field is documented in
//! `examples/tapewatch.toml` and the README.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole protocol: connection, handshake, subscriptions, heartbeat, errors
/// and the mapping of data frames to trades and quotes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenericSpec {
    /// Extra HTTP headers on the WebSocket upgrade; values are templates
    /// that may read `${env:NAME}`.
    pub headers: BTreeMap<String, String>,
    /// The asset class of every event: `stock`, `option`, `crypto`, or
    /// `auto` (options for `O:` tickers, stocks otherwise).
    pub asset_class: String,
    /// What a subscribed topic delivers, for staleness and validation.
    pub topics: TopicsSpec,
    /// Ordered steps run on every connection before subscribing.
    pub handshake: Vec<StepSpec>,
    /// Subscribe and unsubscribe messages.
    pub subscribe: SubscribeSpec,
    /// Heartbeat messages and answers to the server's pings.
    pub heartbeat: HeartbeatSpec,
    /// Frames that report an error.
    pub errors: Vec<ErrorSpec>,
    /// Which frames carry data and how events map to trades and quotes.
    pub data: DataSpec,
}

/// How a topic relates to events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicsSpec {
    /// `trades` or `quotes`: the kind of events a topic delivers.
    pub stream: String,
    /// A prefix taken off a topic to get its symbol (`trades:` for
    /// `trades:AAPL`); `*` after it is a wildcard.
    pub strip_prefix: String,
}

impl Default for TopicsSpec {
    fn default() -> Self {
        TopicsSpec {
            stream: "trades".to_owned(),
            strip_prefix: String::new(),
        }
    }
}

/// A test on one value of a frame or event, selected by JSON Pointer.
/// Exactly one of `equals`, `one_of`, `contains`, `exists` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConditionSpec {
    /// RFC 6901 pointer to the value (`/type`, `/data/0/s`; `""` is the whole).
    pub pointer: String,
    /// The value equals this string, number or boolean.
    pub equals: Option<serde_json::Value>,
    /// The value equals one of these.
    pub one_of: Option<Vec<serde_json::Value>>,
    /// The value is a string containing this text.
    pub contains: Option<String>,
    /// The value is present (true) or absent (false).
    pub exists: Option<bool>,
    /// Further conditions that must all hold too.
    pub and: Vec<ConditionSpec>,
}

/// One handshake step: send a message, wait for a reply, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepSpec {
    /// A name for logs and errors.
    pub name: String,
    /// A template sent when the step starts.
    pub send: Option<String>,
    /// The reply that completes the step.
    pub wait: Option<ConditionSpec>,
    /// Values of the awaited reply kept for later templates, by name.
    pub capture: BTreeMap<String, String>,
    /// How long to wait for the reply.
    pub timeout_ms: u64,
    /// Replies that fail the step.
    pub fail: Vec<FailSpec>,
}

impl Default for StepSpec {
    fn default() -> Self {
        StepSpec {
            name: String::new(),
            send: None,
            wait: None,
            capture: BTreeMap::new(),
            timeout_ms: 10_000,
            fail: Vec::new(),
        }
    }
}

/// A reply that fails a handshake step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailSpec {
    /// Which reply.
    pub when: ConditionSpec,
    /// Pointer to the server's explanation.
    pub message: Option<String>,
    /// True: stop the feed (a rejected key). False: reconnect with backoff.
    pub terminal: bool,
}

/// Subscribe and unsubscribe messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscribeSpec {
    /// `all` (one message for every topic, `${topics}`) or `per_topic`
    /// (one message per topic, `${topic}`).
    pub mode: String,
    /// How `${topics}` renders: `json_array` (`["A","B"]`) or `joined`
    /// (`A,B`, escaped for a JSON string).
    pub topics_format: String,
    /// The separator of `joined`.
    pub separator: String,
    /// The subscribe template.
    pub message: String,
    /// The unsubscribe template.
    pub unsubscribe: String,
    /// The reply that acknowledges a subscribe; absent: none is awaited.
    pub ack: Option<AckSpec>,
    /// The reply that acknowledges an unsubscribe; absent: none is awaited.
    pub unsubscribe_ack: Option<AckSpec>,
}

impl Default for SubscribeSpec {
    fn default() -> Self {
        SubscribeSpec {
            mode: "all".to_owned(),
            topics_format: "json_array".to_owned(),
            separator: ",".to_owned(),
            message: String::new(),
            unsubscribe: String::new(),
            ack: None,
            unsubscribe_ack: None,
        }
    }
}

/// An acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AckSpec {
    /// Which reply.
    pub when: ConditionSpec,
    /// Pointer to the acknowledged topic (a string, or an array of them);
    /// absent: the reply acknowledges the oldest message still waiting.
    pub topics: Option<String>,
}

/// Heartbeats we send and pings we answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatSpec {
    /// Seconds between heartbeat messages; 0 sends none.
    pub every_s: u64,
    /// The heartbeat template.
    pub message: Option<String>,
    /// The server's ping and our answer.
    pub pong: Option<PongSpec>,
}

/// Answers a server's ping message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PongSpec {
    /// Which frame is a ping.
    pub when: ConditionSpec,
    /// Values of the ping used in the answer.
    pub capture: BTreeMap<String, String>,
    /// The answer's template.
    pub message: String,
}

/// A frame that reports an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorSpec {
    /// Which frame.
    pub when: ConditionSpec,
    /// Pointer to the message.
    pub message: Option<String>,
    /// True: during the handshake, stop the feed; later it is reported.
    pub terminal: bool,
}

/// Data frames.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSpec {
    /// Which frames carry data; absent: every frame no other rule claims.
    pub when: Option<ConditionSpec>,
    /// Pointer to the events: an array of them, or one object; `""` is the
    /// frame itself.
    pub events: String,
    /// Frames skipped without a count (heartbeats, channels not used).
    pub ignore: Vec<ConditionSpec>,
    /// Events (within a data frame) skipped without a count: kinds the feed
    /// sends that tapewatch does not read. Pointers are relative to the event.
    pub skip: Vec<ConditionSpec>,
    /// How trades are read.
    pub trade: Option<TradeSpec>,
    /// How quotes are read.
    pub quote: Option<QuoteSpec>,
}

/// Pointers of a trade's fields, relative to the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradeSpec {
    /// Which events are trades; absent: every event (when no quote rule
    /// claims it first).
    pub when: Option<ConditionSpec>,
    /// Ticker.
    pub symbol: String,
    /// Price (a number or a numeric string).
    pub price: String,
    /// Size.
    pub size: String,
    /// Event time.
    pub time: String,
    /// `s`, `ms`, `us`, `ns` or `rfc3339`.
    pub time_unit: String,
    /// Trade id: an integer id stands in for `sequence` when that is not set.
    pub id: Option<String>,
    /// Sequence number.
    pub sequence: Option<String>,
    /// Numeric exchange id.
    pub exchange: Option<String>,
    /// Array of numeric condition codes.
    pub conditions: Option<String>,
}

/// Pointers of a quote's fields, relative to the event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuoteSpec {
    /// Which events are quotes.
    pub when: Option<ConditionSpec>,
    /// Ticker.
    pub symbol: String,
    /// Best bid.
    pub bid: String,
    /// Bid size (optional: 0 when absent).
    pub bid_size: Option<String>,
    /// Best ask.
    pub ask: String,
    /// Ask size (optional).
    pub ask_size: Option<String>,
    /// Event time.
    pub time: String,
    /// `s`, `ms`, `us`, `ns` or `rfc3339`.
    pub time_unit: String,
}
