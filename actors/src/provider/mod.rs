//! The provider boundary: everything that differs between market-data vendors.
//!
//! A provider knows its URLs, its handshake (auth and subscribe messages, how to
//! read the server's control replies), how its errors map to terminal or
//! retryable, and how to decode its data frames into shared [`Event`]s.
//! [`crate::ws_session::WsSession`] and [`crate::message_handler::MessageHandler`]
//! hold an `Arc<dyn Provider>` and know nothing vendor-specific.

pub mod alpaca;
mod alpaca_control;
pub mod alpaca_decode;
mod alpaca_topic;
mod field_check;
mod flex;
mod frame;
mod frame_scan;
pub mod generic;
pub mod polygon;
pub mod polygon_decode;
mod rfc3339;
pub mod script;
pub mod topic;

use std::fmt;

use crate::events::Event;
use crate::secret::Credentials;
pub use topic::{Stream, TopicKey};

/// What a provider must implement. Adding a provider is one module with one
/// of these and one line in [`by_name`].
///
/// One instance serves every feed of a pipeline, from the sessions' and the
/// handlers' threads at once; a provider that keeps state (Alpaca remembers
/// how topics were spelled) keeps it behind a lock.
pub trait Provider: Send + Sync + fmt::Debug + 'static {
    /// Stable lowercase name (`polygon`, `alpaca`).
    fn name(&self) -> &'static str;

    /// The WebSocket URL of one of the provider's markets or feeds, named the
    /// way the provider names them: Polygon's market (`stocks`, `options`,
    /// `indices`, `forex`, `crypto`), Alpaca's feed (`iex`, `sip`,
    /// `delayed_sip`, `test`, `crypto`). `None` for a name the provider does not
    /// serve, so configuration can reject it instead of connecting to a 404.
    fn default_url(&self, market: &str) -> Option<String>;

    /// What a subscribed topic, spelled as the user configured it, delivers.
    /// `None` when the topic is not valid for this provider or delivers nothing
    /// tapewatch decodes; such topics are not watched for staleness. Must be
    /// pure and cheap: it is called whenever the subscription set changes.
    fn topic_of(&self, topic: &str) -> Option<TopicKey>;

    /// The message that authenticates, sent once the server greeted us. The
    /// only place a provider calls [`crate::secret::ApiKey::expose`]; the text
    /// goes on the wire and nowhere else.
    fn auth_message(&self, credentials: &Credentials) -> String;

    /// The message that adds `topics` to the live subscription. The session
    /// matches acknowledgements to topics by their exact text, so [`control`]
    /// must later report each of these as `Subscribed` spelled as given here.
    ///
    /// [`control`]: Provider::control
    fn subscribe_message(&self, topics: &[String]) -> String;

    /// The message that removes `topics` from the live subscription; acknowledged
    /// as `Unsubscribed`, spelled as given, like [`Provider::subscribe_message`].
    fn unsubscribe_message(&self, topics: &[String]) -> String;

    /// Reads the control replies (greeting, auth result, acks, errors) in a frame.
    /// Must be cheap for pure data frames: they are the common case. Errors
    /// of the connection that retrying cannot fix (bad key, feed not in the
    /// plan) must come out as [`Severity::Terminal`] events, "too many
    /// connections" as [`Severity::Throttle`], an auth timeout as
    /// [`ControlEvent::AuthTimeout`]. An error that answers a subscription
    /// change comes out as [`ControlEvent::Rejected`] naming the change's
    /// topics when the provider can tell which. `has_data` must be true for any frame that may
    /// hold data or cannot be read, so the decoder sees and counts it.
    fn control(&self, frame: &[u8]) -> Control;

    /// Decodes a data frame into events, appended to `out`. Never panics on
    /// any input: each bad element becomes one [`DecodeIssue`] in `issues` and
    /// the rest of the frame is still decoded; control messages and documented
    /// message types tapewatch does not use are skipped without an issue.
    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>);

    /// A script for one connection, for a provider whose handshake is a
    /// list of configured steps rather than the fixed greeting → auth →
    /// subscribe sequence: the session then runs the script's actions,
    /// reads frames with [`script::Script::on_frame`] instead of
    /// [`Provider::control`], and sends its subscribe messages and
    /// heartbeats. `None` (the default) keeps the fixed sequence.
    fn script(&self) -> Option<Box<dyn script::Script>> {
        None
    }

    /// The URL and extra headers of the WebSocket upgrade for a configured
    /// feed URL; by default the URL as it is and no headers.
    fn upgrade(&self, url: &str) -> script::Upgrade {
        script::Upgrade {
            url: url.to_owned(),
            headers: Vec::new(),
        }
    }
}

/// Looks a provider up by its configured name.
pub fn by_name(name: &str) -> Option<std::sync::Arc<dyn Provider>> {
    match name {
        "polygon" | "massive" => Some(std::sync::Arc::new(polygon::Polygon)),
        "alpaca" => Some(std::sync::Arc::new(alpaca::Alpaca::default())),
        _ => None,
    }
}

/// The control content of one frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Control {
    /// Control replies found in the frame, in order.
    pub events: Vec<ControlEvent>,
    /// True when the frame also carries market data that must be decoded.
    pub has_data: bool,
}

/// A server reply that drives the connection's state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlEvent {
    /// The server greeted us; send auth now.
    Connected,
    /// Authentication succeeded.
    AuthSuccess,
    /// Authentication failed: terminal, retrying cannot help.
    AuthFailed(String),
    /// A topic was subscribed.
    Subscribed(String),
    /// A topic was unsubscribed.
    Unsubscribed(String),
    /// Too many connections for this key: back off for long.
    MaxConnections(String),
    /// The server gave up waiting for our auth: we were too slow, the key
    /// may be fine. Reconnect with backoff.
    AuthTimeout(String),
    /// The server refused a subscription change; `topics` are the topics
    /// the refused message asked for, spelled as they were given to
    /// [`Provider::subscribe_message`] or [`Provider::unsubscribe_message`].
    Rejected {
        /// The refused topics.
        topics: Vec<String>,
        /// The server's words, for the person who asked.
        message: String,
    },
    /// Any other error the server reported; the connection stays up. The
    /// session matches it to a pending change only if it names one of its
    /// topics.
    Error(String),
    /// A status the provider sent that tapewatch does not act on.
    Other(String),
}

impl ControlEvent {
    /// How the session must react to this reply.
    pub fn severity(&self) -> Severity {
        match self {
            ControlEvent::AuthFailed(_) => Severity::Terminal,
            ControlEvent::MaxConnections(_) => Severity::Throttle,
            ControlEvent::AuthTimeout(_) => Severity::Reconnect,
            _ => Severity::Info,
        }
    }
}

/// Whether an error ends the service, slows reconnection, or is informational.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stop the feed: reconnecting would only repeat the failure (bad key,
    /// no entitlement). Only honoured while the connection is being
    /// authenticated: after that an error concerns a subscription, not the
    /// connection.
    Terminal,
    /// Reconnect, but only after a long cool-down.
    Throttle,
    /// Drop this connection and reconnect with the usual backoff.
    Reconnect,
    /// Log and carry on.
    Info,
}

/// Why part of a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// Not valid JSON.
    Malformed,
    /// Valid up to the point where the frame ended.
    Truncated,
    /// Valid JSON, but not an array.
    NotArray,
    /// An array element that is not an object.
    NotObject,
    /// An `ev` tapewatch does not know.
    UnknownEvent,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or an impossible value.
    BadValue,
    /// A binary frame or a text frame that is not UTF-8.
    NotText,
    /// A frame above the size limit.
    TooLarge,
}

impl IssueKind {
    /// Every kind, in label order.
    pub const ALL: [IssueKind; 9] = [
        IssueKind::Malformed,
        IssueKind::Truncated,
        IssueKind::NotArray,
        IssueKind::NotObject,
        IssueKind::UnknownEvent,
        IssueKind::MissingField,
        IssueKind::BadValue,
        IssueKind::NotText,
        IssueKind::TooLarge,
    ];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            IssueKind::Malformed => "malformed",
            IssueKind::Truncated => "truncated",
            IssueKind::NotArray => "not_array",
            IssueKind::NotObject => "not_object",
            IssueKind::UnknownEvent => "unknown_event",
            IssueKind::MissingField => "missing_field",
            IssueKind::BadValue => "bad_value",
            IssueKind::NotText => "not_text",
            IssueKind::TooLarge => "too_large",
        }
    }
}

/// One decoding problem, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeIssue {
    /// The category, counted in metrics.
    pub kind: IssueKind,
    /// What exactly was wrong.
    pub detail: String,
}

impl DecodeIssue {
    /// Builds an issue.
    pub fn new(kind: IssueKind, detail: impl Into<String>) -> Self {
        DecodeIssue {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for DecodeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.detail)
    }
}
