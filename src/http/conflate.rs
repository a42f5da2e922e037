//! One client's queue of state-topic values: at most one pending value per
//! key, a newer one replacing the older in place (the key keeps its position
//! in line), so its size is bounded by the client's keys however slowly it
//! reads.
//!
//! The hub offers values and wakes the client with a single message while
//! none is outstanding ([`Conflator::claim_wake`]); the client takes what is
//! due when it runs, which actix-web lets it do only while its socket takes
//! data. Its mailbox therefore never holds more than one wake-up from state
//! topics. A value is sent only if its revision is newer than the last one
//! sent for the key, so no client ever sees an older value after a newer
//! one, and a `max_hz` subscription spaces each key's values at least its
//! interval apart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytestring::ByteString;
use foldhash::fast::RandomState;
use indexmap::IndexMap;
use tapewatch_actors::events::Symbol;

use super::state::{StateKey, StateKind, StateValue};

/// A state topic as subscribed: a kind and a symbol, or `None` for `*`.
pub type StateTopic = (StateKind, Option<Symbol>);

#[derive(Debug)]
struct Pending {
    value: Arc<StateValue>,
    snapshot: bool,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    revision: u64,
}

/// The per-client queue of state values.
#[derive(Debug, Default)]
pub struct Conflator {
    // foldhash, seeded per map: every published value costs a lookup in
    // both maps of every client that holds its key, and the keys come from
    // the feed, not from clients.
    pending: IndexMap<StateKey, Pending, RandomState>,
    sent: HashMap<StateKey, Sent, RandomState>,
    /// Every state topic the client holds, with the shortest interval
    /// between two values of a key it asked for with `max_hz`.
    gaps: HashMap<StateTopic, Option<Duration>>,
    /// A wake-up is in the client's mailbox, or the client is about to look.
    notified: bool,
    conflated: u64,
}

/// The per-client counters a `stats` request reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Values replaced by a newer one before they were sent.
    pub conflated: u64,
    /// Values waiting to be sent now.
    pub pending: usize,
}

impl Conflator {
    /// Queues `value` (as a snapshot when `snapshot`), replacing an unsent
    /// value of its key in place. Returns true when that conflated an unsent
    /// value.
    pub fn offer(&mut self, value: Arc<StateValue>, snapshot: bool) -> bool {
        if self
            .sent
            .get(&value.key)
            .is_some_and(|s| s.revision >= value.revision)
        {
            return false;
        }
        match self.pending.get_mut(&value.key) {
            Some(p) if p.value.revision >= value.revision => false,
            Some(p) => {
                // A snapshot stays one: it is still the key's first push.
                p.value = value;
                p.snapshot |= snapshot;
                self.conflated += 1;
                true
            }
            None => {
                self.pending
                    .insert(value.key.clone(), Pending { value, snapshot });
                false
            }
        }
    }

    /// True when the caller should wake the client: values are pending and
    /// no wake-up is outstanding. The caller then owns the wake-up.
    pub fn claim_wake(&mut self) -> bool {
        if self.notified || self.pending.is_empty() {
            return false;
        }
        self.notified = true;
        true
    }

    /// Gives a claimed wake-up back when it could not be delivered, so the
    /// next offer (or the client's own tick) tries again.
    pub fn release_wake(&mut self) {
        self.notified = false;
    }

    /// Moves every value due at `now` into `out`, in queue order, and
    /// returns when the next throttled one falls due.
    pub fn take_due(&mut self, now: Instant, out: &mut Vec<ByteString>) -> Option<Instant> {
        self.notified = false;
        let mut next: Option<Instant> = None;
        let (sent, gaps) = (&mut self.sent, &self.gaps);
        self.pending.retain(|key, p| {
            let gap = gap_of(gaps, key);
            if let (Some(gap), Some(last)) = (gap, sent.get(key)) {
                let due = last.at + gap;
                if due > now {
                    next = Some(next.map_or(due, |n| n.min(due)));
                    return true;
                }
            }
            out.push(if p.snapshot {
                p.value.snapshot.clone()
            } else {
                p.value.update.clone()
            });
            sent.insert(
                key.clone(),
                Sent {
                    at: now,
                    revision: p.value.revision,
                },
            );
            false
        });
        next
    }

    /// The client holds `topic`, with the `max_hz` interval `gap` (`None`:
    /// every change).
    pub fn hold(&mut self, topic: StateTopic, gap: Option<Duration>) {
        self.gaps.insert(topic, gap);
    }

    /// The client no longer holds `topic`.
    pub fn release(&mut self, topic: &StateTopic) {
        self.gaps.remove(topic);
    }

    /// Forgets every key `covered` no longer accepts (after an unsubscribe),
    /// pending values and send history alike, so a later subscription
    /// starts again with a snapshot.
    pub fn retain(&mut self, covered: impl Fn(&StateKey) -> bool) {
        self.pending.retain(|k, _| covered(k));
        self.sent.retain(|k, _| covered(k));
    }

    /// True when values wait to be sent.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The counters of this client.
    pub fn stats(&self) -> QueueStats {
        QueueStats {
            conflated: self.conflated,
            pending: self.pending.len(),
        }
    }
}

/// The interval of `key`: the shortest among the topics that cover it, none
/// when one of them has no `max_hz` (it asked for every change).
fn gap_of(gaps: &HashMap<StateTopic, Option<Duration>>, key: &StateKey) -> Option<Duration> {
    let exact = gaps.get(&(key.kind, Some(key.symbol.clone())));
    let wild = gaps.get(&(key.kind, None));
    match (exact, wild) {
        (Some(a), Some(b)) => a.zip(*b).map(|(a, b)| a.min(b)),
        (Some(a), None) | (None, Some(a)) => *a,
        (None, None) => None,
    }
}
