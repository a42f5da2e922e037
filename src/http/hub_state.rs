//! The hub's state topics: folding events into the [`StateTable`],
//! publishing changed keys into their holders' queues at most once per
//! `http.state_interval_ms`, and the snapshot a new subscription gets.
//!
//! Publishing never goes through a client's bounded mailbox per value: each
//! value lands in the client's [`Conflator`](super::conflate::Conflator),
//! where a newer one replaces an unsent older one, and the client is woken
//! by one message at most, so a slow reader of state topics neither fills
//! its mailbox nor is ever evicted for it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tapewatch_actors::events::Event;

use super::hub::{Hub, Push};
use super::protocol::Topic;
use super::state::{Applied, StateKey, StateKind, StateValue, DEFAULT_MAX_SYMBOLS};

/// Default `http.state_interval_ms`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(20);

/// How the hub keeps state topics, from `[http]`.
#[derive(Debug, Clone, Copy)]
pub struct StateSettings {
    /// Symbols the table holds at most (`http.state_max_symbols`).
    pub max_symbols: usize,
    /// Shortest time between two publishes (`http.state_interval_ms`): a key
    /// changes for its holders at most this often, whatever the feed's rate.
    pub interval: Duration,
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            max_symbols: DEFAULT_MAX_SYMBOLS,
            interval: DEFAULT_INTERVAL,
        }
    }
}

/// True when `topics` (a client's state topics) cover `key`.
fn covers(topics: &BTreeSet<Topic>, key: &StateKey) -> bool {
    topics.contains(&Topic::State(key.kind, None))
        || topics.contains(&Topic::State(key.kind, Some(key.symbol.clone())))
}

impl Hub {
    /// Folds a batch's quotes and trades into the table, and publishes when
    /// due if anyone holds a state topic.
    pub(super) fn fold(&mut self, events: &[Event], ctx: &mut Context<Self>) {
        for event in events {
            if self.state.apply(event) == Applied::NoRoom {
                self.metrics.ws_state_untracked.inc();
            }
        }
        if self.state.has_dirty() && self.subscribers.wants_state() {
            self.schedule_publish(ctx);
        }
    }

    fn schedule_publish(&mut self, ctx: &mut Context<Self>) {
        if self.publish_at.is_some() {
            return;
        }
        let due = self.last_publish + self.state_settings.interval;
        let now = Instant::now();
        if due <= now {
            return self.publish(now);
        }
        self.publish_at = Some(due);
        ctx.run_later(due - now, |hub, _| {
            hub.publish_at = None;
            hub.publish(Instant::now());
        });
    }

    /// Offers every key changed since the last publish to its holders:
    /// each value is serialised once, and each client's queue locked once
    /// per kind it holds whole.
    fn publish(&mut self, now: Instant) {
        self.last_publish = now;
        let mut all: [Vec<Arc<StateValue>>; 2] = Default::default();
        let mut by_key: HashMap<u64, Vec<Arc<StateValue>>> = HashMap::new();
        for key in self.state.take_dirty() {
            let whole = !self.subscribers.of_all(key.kind).is_empty();
            let mut own = self.subscribers.of_key(&key).peekable();
            if !whole && own.peek().is_none() {
                continue;
            }
            let Some(value) = self.state.value(&key) else {
                continue;
            };
            for id in own {
                by_key.entry(id).or_default().push(value.clone());
            }
            if whole {
                all[key.kind.index()].push(value);
            }
        }
        for kind in [StateKind::Quotes, StateKind::Last] {
            let values = &all[kind.index()];
            if values.is_empty() {
                continue;
            }
            let ids: Vec<u64> = self.subscribers.of_all(kind).iter().copied().collect();
            for id in ids {
                self.offer(id, values, false);
            }
        }
        for (id, values) in by_key {
            self.offer(id, &values, false);
        }
    }

    /// Queues `values` for client `id` and wakes it if it is not already
    /// due to look.
    pub(super) fn offer(&mut self, id: u64, values: &[Arc<StateValue>], snapshot: bool) {
        let Some(entry) = self.clients.get(&id) else {
            return;
        };
        let (wake, conflated) = {
            let mut queue = entry.link.state();
            let conflated = values
                .iter()
                .filter(|v| queue.offer(Arc::clone(v), snapshot))
                .count();
            (queue.claim_wake(), conflated)
        };
        self.metrics.ws_conflated.inc_by(conflated as u64);
        if wake && entry.push.try_send(Push::Wake).is_err() {
            // A mailbox full of event-topic updates (the client is then
            // being evicted, or told it lagged) or a client that is gone:
            // its own tick finds the values if it still runs.
            entry.link.state().release_wake();
        }
    }

    /// Applies a topic change to client `id`'s state queue: the topics it
    /// now holds (with `min_gap` for those added), the keys it no longer
    /// holds forgotten, and a snapshot of every key it newly holds.
    pub(super) fn change_state(
        &mut self,
        id: u64,
        old: &BTreeSet<Topic>,
        new: &BTreeSet<Topic>,
        added: &[Topic],
        min_gap: Option<Duration>,
    ) {
        let Some(entry) = self.clients.get(&id) else {
            return;
        };
        {
            let mut queue = entry.link.state();
            for topic in old.difference(new).filter_map(Topic::as_state) {
                queue.release(&topic);
            }
            for topic in added.iter().filter_map(Topic::as_state) {
                queue.hold(topic, min_gap);
            }
            queue.retain(|key| covers(new, key));
        }
        let mut snapshot = Vec::new();
        for topic in new.difference(old) {
            match topic {
                Topic::State(kind, None) => snapshot.extend(
                    self.state
                        .keys(*kind)
                        .filter(|key| !covers(old, key))
                        .filter_map(|key| self.state.value(&key)),
                ),
                Topic::State(kind, Some(symbol)) => {
                    let key = StateKey {
                        kind: *kind,
                        symbol: symbol.clone(),
                    };
                    if !covers(old, &key) && !new.contains(&Topic::State(*kind, None)) {
                        snapshot.extend(self.state.value(&key));
                    }
                }
                _ => {}
            }
        }
        if !snapshot.is_empty() {
            self.offer(id, &snapshot, true);
        }
    }
}
