//! Controlling a live session: change subscriptions, pause, resume.
//!
//! A subscription change is sent on the open socket (no reconnect) and answered
//! once the provider acknowledged every topic, or with the provider's error, or
//! with a timeout. The shared subscription set is updated first, so a reconnect
//! in the middle still ends up with what was asked for.

use std::collections::BTreeSet;

use actix::prelude::*;
use serde::Serialize;
use tokio::sync::oneshot;

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
    /// A topic is not of the form the provider understands.
    #[error("invalid topic `{0}`")]
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

/// A change waiting for its acknowledgements.
pub(super) struct PendingChange {
    id: u64,
    awaiting: BTreeSet<(bool, String)>,
    reply: oneshot::Sender<Result<SubscriptionReply, SubscriptionError>>,
}

fn valid(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 256 && !topic.contains([',', ' ', '"', '\\'])
}

impl WsSession {
    /// Called for every control event: settles pending changes.
    pub(super) fn settle_changes(&mut self, event: &ControlEvent) {
        match event {
            ControlEvent::Subscribed(t) => self.acknowledge(true, t),
            ControlEvent::Unsubscribed(t) => self.acknowledge(false, t),
            // The provider's error refers to the oldest change still waiting.
            ControlEvent::Error(message) if !self.changes.is_empty() => {
                let change = self.changes.remove(0);
                let _ = change
                    .reply
                    .send(Err(SubscriptionError::Rejected(message.clone())));
            }
            _ => {}
        }
    }

    fn acknowledge(&mut self, subscribe: bool, topic: &str) {
        let key = (subscribe, topic.to_owned());
        let Some(i) = self.changes.iter().position(|c| c.awaiting.contains(&key)) else {
            return;
        };
        self.changes[i].awaiting.remove(&key);
        if self.changes[i].awaiting.is_empty() {
            let change = self.changes.remove(i);
            let reply = SubscriptionReply {
                subscriptions: self.deps.shared.topics(),
                acknowledged: true,
            };
            let _ = change.reply.send(Ok(reply));
        }
    }

    /// Answers every pending change as "stored, not acknowledged" (the socket
    /// went away; the next connection subscribes the stored set).
    pub(super) fn release_changes(&mut self) {
        for change in self.changes.drain(..) {
            let reply = SubscriptionReply {
                subscriptions: self.deps.shared.topics(),
                acknowledged: false,
            };
            let _ = change.reply.send(Ok(reply));
        }
    }
}

type ChangeResult = Result<SubscriptionReply, SubscriptionError>;

impl Handler<ChangeSubscriptions> for WsSession {
    type Result = ResponseFuture<ChangeResult>;

    fn handle(&mut self, msg: ChangeSubscriptions, ctx: &mut Context<Self>) -> Self::Result {
        let ready = |r: ChangeResult| -> Self::Result { Box::pin(async move { r }) };
        let add: Vec<String> = msg.add.iter().map(|t| t.trim().to_owned()).collect();
        let remove: Vec<String> = msg.remove.iter().map(|t| t.trim().to_owned()).collect();
        if let Some(bad) = add.iter().chain(&remove).find(|t| !valid(t)) {
            return ready(Err(SubscriptionError::InvalidTopic(bad.clone())));
        }
        if self.state == SessionState::Stopped {
            return ready(Err(SubscriptionError::Stopped));
        }
        let (new, gone) = {
            let mut set = self.deps.shared.subscriptions();
            let new: Vec<String> = add.into_iter().filter(|t| set.insert(t.clone())).collect();
            let gone: Vec<String> = remove.into_iter().filter(|t| set.remove(t)).collect();
            (new, gone)
        };
        let topics = self.deps.shared.topics();
        if self.state != SessionState::Streaming || (new.is_empty() && gone.is_empty()) {
            let acknowledged = self.state == SessionState::Streaming;
            return ready(Ok(SubscriptionReply {
                subscriptions: topics,
                acknowledged,
            }));
        }
        if !new.is_empty() {
            let text = self.deps.provider.subscribe_message(&new);
            self.send_text(text);
        }
        if !gone.is_empty() {
            let text = self.deps.provider.unsubscribe_message(&gone);
            self.send_text(text);
        }
        let (tx, rx) = oneshot::channel();
        self.change_seq += 1;
        let id = self.change_seq;
        let awaiting = new
            .into_iter()
            .map(|t| (true, t))
            .chain(gone.into_iter().map(|t| (false, t)))
            .collect();
        self.changes.push(PendingChange {
            id,
            awaiting,
            reply: tx,
        });
        ctx.run_later(ms(self.deps.connection.ack_timeout_ms), move |act, _| {
            if let Some(i) = act.changes.iter().position(|c| c.id == id) {
                let change = act.changes.remove(i);
                let missing = change.awaiting.into_iter().map(|(_, t)| t).collect();
                let _ = change.reply.send(Err(SubscriptionError::Timeout(missing)));
            }
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
