//! The provider boundary: everything that differs between market-data vendors.
//!
//! A provider knows its URLs, its handshake (auth and subscribe messages, how to
//! read the server's control replies), how its errors map to terminal or
//! retryable, and how to decode its data frames into shared [`Event`]s.
//! [`crate::ws_session::WsSession`] and [`crate::message_handler::MessageHandler`]
//! hold an `Arc<dyn Provider>` and know nothing vendor-specific.

mod flex;
pub mod polygon;
pub mod polygon_decode;

use std::fmt;

use crate::events::Event;
use crate::secret::Credentials;

/// What a provider must implement. Adding a provider is one file with one of
/// these and one line in [`by_name`].
pub trait Provider: Send + Sync + fmt::Debug + 'static {
    /// Stable lowercase name (`polygon`).
    fn name(&self) -> &'static str;

    /// The message that authenticates, sent once the server greeted us.
    fn auth_message(&self, credentials: &Credentials) -> String;

    /// The message that adds `topics` to the live subscription.
    fn subscribe_message(&self, topics: &[String]) -> String;

    /// The message that removes `topics` from the live subscription.
    fn unsubscribe_message(&self, topics: &[String]) -> String;

    /// Reads the control replies (greeting, auth result, acks, errors) in a frame.
    /// Must be cheap for pure data frames: they are the common case.
    fn control(&self, frame: &[u8]) -> Control;

    /// Decodes a data frame into events; problems go to `issues`, never panics.
    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>);
}

/// Looks a provider up by its configured name.
pub fn by_name(name: &str) -> Option<std::sync::Arc<dyn Provider>> {
    match name {
        "polygon" | "massive" => Some(std::sync::Arc::new(polygon::Polygon)),
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
    /// Any other error the server reported; the connection stays up.
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
            _ => Severity::Info,
        }
    }
}

/// Whether an error ends the service, slows reconnection, or is informational.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stop: reconnecting would only repeat the failure (bad key, no entitlement).
    Terminal,
    /// Reconnect, but only after a long cool-down.
    Throttle,
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
