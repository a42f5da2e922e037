//! The messages the hub handles and sends: registration, topic changes and
//! pushes to clients.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;
use tapewatch_actors::metrics::Metrics;

use super::link::Link;
use super::protocol::{OnLag, Topic};

/// Topics one client may hold at once.
pub const MAX_TOPICS_PER_CLIENT: usize = 1024;

/// Hub → client: an update to write, or a nudge to look at its link.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum Push {
    /// One serialised update (`{"topic":..,"data":..}`).
    Update(ByteString),
    /// The client was told to go (see [`Link::ending`]).
    Kick,
    /// Event-topic updates were dropped for a client that asked for a
    /// notice: write `{"topic":"lagged","dropped":N}`, then the update.
    AfterGap {
        /// Updates dropped since the previous one delivered.
        dropped: u64,
        /// The update that did fit.
        update: ByteString,
    },
    /// State values wait in the client's queue (see [`super::conflate`]).
    Wake,
}

/// A new client: its bounded send queue and its link.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Register {
    /// The client actor's mailbox.
    pub push: Recipient<Push>,
    /// Shared with the client actor.
    pub link: Arc<Link>,
}

/// A client went away.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Unregister(pub u64);

/// Adds and removes a client's topics; answers with its topics afterwards.
/// Values of state topics the change adds are queued as snapshots before the
/// answer.
#[derive(Message, Debug, Clone, Default)]
#[rtype(result = "Result<Vec<String>, HubError>")]
pub struct ChangeTopics {
    /// The client.
    pub client: u64,
    /// Topics to add.
    pub add: Vec<Topic>,
    /// Topics to remove.
    pub remove: Vec<Topic>,
    /// For the state topics added: the shortest interval between two values
    /// of a key (`max_hz`), `None` for every change.
    pub min_gap: Option<Duration>,
    /// The connection's event-topic lag policy, when the request gave one.
    pub on_lag: Option<OnLag>,
}

/// A client's current topics.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<Vec<String>, HubError>")]
pub struct Topics(pub u64);

/// Hands the hub the running pipeline's metrics (the hub exists before them).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Attach(pub Metrics);

/// Tells every client that the server is stopping; answers how many.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CloseAll;

/// Why a topic change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// The client is no longer registered (it is being disconnected).
    #[error("this connection is closing")]
    Gone,
    /// The change would exceed [`MAX_TOPICS_PER_CLIENT`].
    #[error("at most {MAX_TOPICS_PER_CLIENT} topics per connection")]
    TooManyTopics,
}
