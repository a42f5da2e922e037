//! A connection's protocol as a script: for providers whose handshake,
//! subscriptions and heartbeat are described by configuration rather than
//! fixed in code (the generic provider). The session asks the provider for
//! one [`Script`] per connection ([`super::Provider::script`]); it keeps that
//! connection's state (the handshake step, values captured from replies,
//! subscribe messages waiting for their acknowledgement) and is dropped with
//! the socket, so a reconnect starts the handshake from its first step.

use std::fmt;
use std::time::Duration;

use super::Control;
use crate::secret::ApiKey;

/// What the session must do next.
pub enum Action {
    /// Write this text frame. It may hold secrets: never logged.
    Send(String),
    /// Handshake step `step` waits for its reply; if it is still waiting
    /// after `timeout`, the connection is retried.
    Wait {
        /// The step.
        step: usize,
        /// How long it may wait.
        timeout: Duration,
    },
    /// The handshake is complete: subscribe.
    Subscribe,
    /// The handshake failed: stop the feed (`terminal`) or reconnect.
    Fail {
        /// Retrying cannot help.
        terminal: bool,
        /// Why, for the log and the status record.
        reason: String,
    },
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Send(text) => write!(f, "Send({} bytes)", text.len()),
            Action::Wait { step, timeout } => write!(f, "Wait(step {step}, {timeout:?})"),
            Action::Subscribe => f.write_str("Subscribe"),
            Action::Fail { terminal, reason } => write!(f, "Fail(terminal {terminal}, {reason})"),
        }
    }
}

/// What one frame means to the connection.
#[derive(Debug, Default)]
pub struct Reaction {
    /// Control events and whether the frame holds data, as
    /// [`super::Provider::control`] reports them.
    pub control: Control,
    /// What to do about it.
    pub actions: Vec<Action>,
}

/// The URL and extra headers of the WebSocket upgrade. Both may hold
/// secrets read from the environment: the URL is never logged (the session
/// logs the configured one) and header values print as `[redacted]`.
pub struct Upgrade {
    /// The URL to connect to.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, ApiKey)>,
}

/// One connection's protocol state.
pub trait Script: Send {
    /// The socket is open: the first actions of the handshake.
    fn start(&mut self) -> Vec<Action>;

    /// Reads a text frame; replaces [`super::Provider::control`] for this
    /// connection.
    fn on_frame(&mut self, frame: &[u8]) -> Reaction;

    /// The deadline of handshake step `step` passed: why the connection must
    /// be retried, or `None` when the step is no longer waiting.
    fn timed_out(&self, step: usize) -> Option<String>;

    /// The messages that subscribe (`subscribe`) or unsubscribe `topics`.
    fn change_messages(&mut self, subscribe: bool, topics: &[String]) -> Vec<String>;

    /// True when the provider acknowledges such a change: otherwise the
    /// session takes it as done once sent.
    fn acknowledged(&self, subscribe: bool) -> bool;

    /// The interval of heartbeat messages, if any.
    fn heartbeat_every(&self) -> Option<Duration>;

    /// The heartbeat message to send now.
    fn heartbeat_message(&self) -> Option<String>;
}
