//! Subscription changes waiting for the provider's answer, and what each
//! answer does to the subscription set.
//!
//! The set is changed when the change is sent, so that a reconnect in the
//! middle still subscribes what was asked for. An acknowledgement of every
//! topic answers the change with the new set. A refusal or no answer in time
//! undoes the change in the set, so a refused topic is neither shown nor
//! resubscribed on the next connection. A provider error settles only the
//! changes it names, by topic: the refusal a provider attributed
//! ([`ControlEvent::Rejected`]), or an error whose text names a topic the
//! change waits for. An error that names none leaves every change waiting.
//! Only settled changes are saved to the `[state]` store.

use std::collections::BTreeSet;

use tokio::sync::oneshot;

use super::commands::{SubscriptionError, SubscriptionReply};
use super::WsSession;
use crate::provider::ControlEvent;

/// A change waiting for its acknowledgements.
pub(super) struct PendingChange {
    pub id: u64,
    /// (subscribe, topic) pairs not acknowledged yet.
    pub awaiting: BTreeSet<(bool, String)>,
    /// Topics this change put into the set.
    pub added: Vec<String>,
    /// Topics this change took out of the set.
    pub removed: Vec<String>,
    pub reply: oneshot::Sender<Result<SubscriptionReply, SubscriptionError>>,
}

impl PendingChange {
    fn waits_for(&self, topic: &str) -> bool {
        self.awaiting.iter().any(|(_, t)| t == topic)
    }
}

/// True when `message` names `topic` as a word of its own: not inside a
/// longer topic (`T.A` is not named by `T.AAPL`).
pub fn names_topic(message: &str, topic: &str) -> bool {
    if topic.is_empty() {
        return false;
    }
    let is_topic_char = |c: char| c.is_ascii_alphanumeric() || "._:*/-".contains(c);
    message.match_indices(topic).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + topic.len()..].chars().next();
        // A sentence may end right after the topic.
        let after_ends = match after {
            Some('.') => message[at + topic.len() + 1..]
                .chars()
                .next()
                .is_none_or(|c| !is_topic_char(c)),
            other => other.is_none_or(|c| !is_topic_char(c)),
        };
        before.is_none_or(|c| !is_topic_char(c)) && after_ends
    })
}

impl WsSession {
    /// Called for every control event: settles the changes it answers.
    pub(super) fn settle_changes(&mut self, event: &ControlEvent) {
        match event {
            ControlEvent::Subscribed(t) => self.acknowledge(true, t),
            ControlEvent::Unsubscribed(t) => self.acknowledge(false, t),
            ControlEvent::Rejected { topics, message } => {
                self.refuse(|c| topics.iter().any(|t| c.waits_for(t)), message)
            }
            ControlEvent::Error(message) => self.refuse(
                |c| c.awaiting.iter().any(|(_, t)| names_topic(message, t)),
                message,
            ),
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
            self.subscriptions_changed();
            let reply = SubscriptionReply {
                subscriptions: self.deps.shared.topics(),
                acknowledged: true,
            };
            let _ = change.reply.send(Ok(reply));
        }
    }

    /// Answers the changes `answered` picks with the provider's refusal and
    /// undoes them.
    fn refuse(&mut self, answered: impl Fn(&PendingChange) -> bool, message: &str) {
        let (refused, waiting) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|c| answered(c));
        self.changes = waiting;
        for change in refused {
            tracing::warn!(feed = %self.deps.feed, added = ?change.added, removed = ?change.removed, %message, "the provider refused a subscription change; undone");
            self.undo(&change);
            let error = SubscriptionError::Rejected(message.to_owned());
            let _ = change.reply.send(Err(error));
        }
    }

    /// Gives up on change `id` (no acknowledgement in time): undoes it, and
    /// asks the provider to undo whatever part of it it did apply unseen.
    pub(super) fn expire_change(&mut self, id: u64) {
        let Some(i) = self.changes.iter().position(|c| c.id == id) else {
            return;
        };
        let change = self.changes.remove(i);
        self.undo(&change);
        if !change.added.is_empty() {
            self.send_change(false, &change.added);
        }
        if !change.removed.is_empty() {
            self.send_change(true, &change.removed);
        }
        let missing = change.awaiting.into_iter().map(|(_, t)| t).collect();
        let _ = change.reply.send(Err(SubscriptionError::Timeout(missing)));
    }

    /// Puts the set back as it was before `change`.
    fn undo(&mut self, change: &PendingChange) {
        let mut set = self.deps.shared.subscriptions();
        for t in &change.added {
            set.remove(t);
        }
        for t in &change.removed {
            set.insert(t.clone());
        }
    }

    /// Answers every pending change as "stored, not acknowledged" (the socket
    /// went away; the next connection subscribes the stored set).
    pub(super) fn release_changes(&mut self) {
        if !self.changes.is_empty() {
            let released = std::mem::take(&mut self.changes);
            self.subscriptions_changed();
            self.changes = released;
        }
        for change in self.changes.drain(..) {
            let reply = SubscriptionReply {
                subscriptions: self.deps.shared.topics(),
                acknowledged: false,
            };
            let _ = change.reply.send(Ok(reply));
        }
    }

    /// The subscription set changed for good (acknowledged, or stored while
    /// no socket streams): saves it, leaving out what changes still waiting
    /// for an answer would change, since they may yet be undone.
    pub(super) fn subscriptions_changed(&mut self) {
        let Some(store) = &self.deps.store else {
            return;
        };
        let mut settled = self.deps.shared.subscriptions().clone();
        for change in &self.changes {
            for t in &change.added {
                settled.remove(t);
            }
            settled.extend(change.removed.iter().cloned());
        }
        store.save_in_background(settled.into_iter().collect());
    }
}

#[cfg(test)]
mod tests {
    use super::names_topic;

    #[test]
    fn an_error_names_a_topic_only_as_a_word_of_its_own() {
        let cases = [
            (
                "wildcard subscriptions are not allowed for option quotes: Q.*",
                "Q.*",
                true,
            ),
            ("invalid topic: T.AAPL", "T.AAPL", true),
            ("invalid topic: T.AAPL", "T.A", false),
            ("invalid topic: T.AAPLX", "T.AAPL", false),
            ("T.AAPL, Q.MSFT refused", "Q.MSFT", true),
            ("limit reached for T.AAPL.", "T.AAPL", true),
            ("not authorized", "T.AAPL", false),
            ("\"trades:AAPL\" refused", "trades:AAPL", true),
            ("anything", "", false),
        ];
        for (message, topic, want) in cases {
            assert_eq!(names_topic(message, topic), want, "{message} / {topic}");
        }
    }
}
