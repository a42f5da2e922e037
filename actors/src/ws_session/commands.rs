//! Controlling a live session: change subscriptions, pause, resume.
//!
//! A subscription change is checked with the provider's own topic parser,
//! sent on the open socket (no reconnect) and answered once the provider
//! acknowledged every topic, or with the provider's refusal, or with a
//! timeout; `changes.rs` keeps the changes in flight and undoes the refused
//! and unanswered ones.

use actix::prelude::*;
use serde::Serialize;
use tokio::sync::oneshot;

use super::changes::PendingChange;
use super::{ms, SessionState, WsSession};
use crate::provider::ControlEvent;

/// Adds and removes topics on the live connection.
#[derive(Message, Debug, Clone, Default)]
#[rtype(result = "Result<SubscriptionReply, SubscriptionError>")]
pub struct ChangeSubscriptions {
    /// Topics to add (`T.AAPL`, `T.*`, ...).
    pub add: Vec<String>,
    /// Topics to remove.
    pub remove: Vec<String>,
}

/// The outcome of a subscription change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionReply {
    /// The subscription set after the change.
    pub subscriptions: Vec<String>,
    /// True when the provider acknowledged the change on the open socket;
    /// false when no socket was streaming (paused, reconnecting): the set is
    /// stored and sent on the next connection.
    pub acknowledged: bool,
}

/// Why a subscription change failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// A topic is not of the form the provider understands, or delivers
    /// nothing tapewatch reads.
    #[error("invalid topic `{0}`: not a topic of this feed's provider that tapewatch reads")]
    InvalidTopic(String),
    /// The provider answered with an error.
    #[error("the provider rejected the change: {0}")]
    Rejected(String),
    /// Not every topic was acknowledged in time.
    #[error("no acknowledgement for {0:?} within the ack timeout")]
    Timeout(Vec<String>),
    /// The session stopped for good.
    #[error("the session is stopped")]
    Stopped,
}

/// Closes the upstream connection cleanly and keeps the subscription set;
/// nothing reconnects until [`Resume`].
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Pause;

/// Reconnects and resubscribes after [`Pause`].
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Resume;

/// The shape every provider's topics share: no separators, quotes or
/// escapes that could break a subscribe message.
fn well_formed(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 256 && !topic.contains([',', ' ', '"', '\\'])
}

type ChangeResult = Result<SubscriptionReply, SubscriptionError>;

impl Handler<ChangeSubscriptions> for WsSession {
    type Result = ResponseFuture<ChangeResult>;

    fn handle(&mut self, msg: ChangeSubscriptions, ctx: &mut Context<Self>) -> Self::Result {
        let ready = |r: ChangeResult| -> Self::Result { Box::pin(async move { r }) };
        let add: Vec<String> = msg.add.iter().map(|t| t.trim().to_owned()).collect();
        let remove: Vec<String> = msg.remove.iter().map(|t| t.trim().to_owned()).collect();
        if let Some(bad) = add.iter().chain(&remove).find(|t| !well_formed(t)) {
            return ready(Err(SubscriptionError::InvalidTopic(bad.clone())));
        }
        // Added topics must be ones the provider reads, checked with its own
        // parser before anything is sent.
        if let Some(bad) = add
            .iter()
            .find(|t| self.deps.provider.topic_of(t).is_none())
        {
            return ready(Err(SubscriptionError::InvalidTopic(bad.clone())));
        }
        if self.state == SessionState::Stopped {
            return ready(Err(SubscriptionError::Stopped));
        }
        let (added, removed) = {
            let mut set = self.deps.shared.subscriptions();
            let added: Vec<String> = add.into_iter().filter(|t| set.insert(t.clone())).collect();
            let removed: Vec<String> = remove.into_iter().filter(|t| set.remove(t)).collect();
            (added, removed)
        };
        let streaming = self.state == SessionState::Streaming;
        if !streaming || (added.is_empty() && removed.is_empty()) {
            if !added.is_empty() || !removed.is_empty() {
                // Stored for the next connection, which subscribes the set.
                self.subscriptions_changed();
            }
            return ready(Ok(SubscriptionReply {
                subscriptions: self.deps.shared.topics(),
                acknowledged: streaming,
            }));
        }
        let added_acked = added.is_empty() || self.send_change(true, &added);
        let removed_acked = removed.is_empty() || self.send_change(false, &removed);
        let (tx, rx) = oneshot::channel();
        self.change_seq += 1;
        let id = self.change_seq;
        let awaiting = (added.iter().map(|t| (true, t.clone())))
            .chain(removed.iter().map(|t| (false, t.clone())))
            .collect();
        // A change the provider never acknowledges is done once sent.
        let unacknowledged: Vec<ControlEvent> = (added.iter())
            .filter(|_| !added_acked)
            .map(|t| ControlEvent::Subscribed(t.clone()))
            .chain(
                (removed.iter())
                    .filter(|_| !removed_acked)
                    .map(|t| ControlEvent::Unsubscribed(t.clone())),
            )
            .collect();
        self.changes.push(PendingChange {
            id,
            awaiting,
            added,
            removed,
            reply: tx,
        });
        for event in &unacknowledged {
            self.settle_changes(event);
        }
        ctx.run_later(ms(self.deps.connection.ack_timeout_ms), move |act, _| {
            act.expire_change(id);
        });
        Box::pin(async move { rx.await.unwrap_or(Err(SubscriptionError::Stopped)) })
    }
}

impl Handler<Pause> for WsSession {
    type Result = ();
    fn handle(&mut self, _: Pause, ctx: &mut Context<Self>) {
        if matches!(self.state, SessionState::Paused | SessionState::Stopped) {
            return;
        }
        self.set_state(SessionState::Paused);
        self.close_socket(ctx);
        tracing::info!(feed = %self.deps.feed, "paused: upstream closed, subscriptions kept");
        self.emit_status(
            "paused",
            "upstream closed on request; nothing reconnects until resume".to_owned(),
            self.deps.shared.last_data_ms(),
            None,
        );
    }
}

impl Handler<Resume> for WsSession {
    type Result = ();
    fn handle(&mut self, _: Resume, ctx: &mut Context<Self>) {
        if self.state == SessionState::Paused {
            tracing::info!(feed = %self.deps.feed, "resuming");
            self.backoff.reset();
            self.connect(ctx);
        }
    }
}
