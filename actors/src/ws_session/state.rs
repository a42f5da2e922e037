//! The session's connection states and the snapshot other actors can ask for.

use std::sync::Arc;

use serde::Serialize;

/// Where the connection is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Opening TCP/TLS and upgrading to WebSocket.
    Connecting,
    /// Upgraded; waiting for the provider's greeting.
    AwaitingGreeting,
    /// Auth sent; waiting for the verdict.
    Authenticating,
    /// Subscribe sent; waiting for acknowledgements.
    Subscribing,
    /// Authenticated and subscribed; data flows.
    Streaming,
    /// Waiting before the next connection attempt.
    Backoff,
    /// Closed on request; nothing reconnects until resumed.
    Paused,
    /// Stopped for good (shutdown or a terminal error).
    Stopped,
}

impl SessionState {
    /// Stable lowercase name.
    pub fn label(self) -> &'static str {
        match self {
            SessionState::Connecting => "connecting",
            SessionState::AwaitingGreeting => "awaiting_greeting",
            SessionState::Authenticating => "authenticating",
            SessionState::Subscribing => "subscribing",
            SessionState::Streaming => "streaming",
            SessionState::Backoff => "backoff",
            SessionState::Paused => "paused",
            SessionState::Stopped => "stopped",
        }
    }
}

/// A point-in-time view of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSnapshot {
    /// Feed name.
    pub feed: Arc<str>,
    /// Current state.
    pub state: SessionState,
    /// Milliseconds spent in the current state.
    pub state_for_ms: u64,
    /// The current subscription set.
    pub subscriptions: Vec<String>,
    /// Connection attempts so far (1 = the first).
    pub connection_attempts: u64,
    /// Frames waiting in this feed's handler queue.
    pub queued_frames: i64,
}
