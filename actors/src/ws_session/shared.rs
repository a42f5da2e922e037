//! Session state that outlives any one WsSession actor.
//!
//! A restarted session (after a panic) must resubscribe what the user asked
//! for, including runtime changes, and must report the data gap since the last
//! frame the dead actor saw. Both live here, behind `Arc`s the supervisor hands
//! to every incarnation.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// State shared by every incarnation of one feed's session.
#[derive(Debug, Default)]
pub struct SessionShared {
    subscriptions: Mutex<BTreeSet<String>>,
    ever_streamed: AtomicBool,
    streaming: AtomicBool,
    last_data_ms: AtomicI64,
}

impl SessionShared {
    /// Shared state starting with `topics` subscribed.
    pub fn new(topics: impl IntoIterator<Item = String>) -> Arc<Self> {
        Arc::new(SessionShared {
            subscriptions: Mutex::new(topics.into_iter().collect()),
            ..SessionShared::default()
        })
    }

    /// The subscription set. A panic while it was held leaves it usable: it
    /// is changed one `insert` or `remove` at a time, each of which leaves a
    /// whole set behind.
    pub fn subscriptions(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.subscriptions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the subscription set.
    pub fn topics(&self) -> Vec<String> {
        self.subscriptions().iter().cloned().collect()
    }

    pub(super) fn mark_streamed(&self) -> bool {
        self.ever_streamed.swap(true, Ordering::Relaxed)
    }

    /// True while the session is streaming (authenticated and subscribed):
    /// the staleness monitor judges topics only then.
    pub fn is_streaming(&self) -> bool {
        self.streaming.load(Ordering::Relaxed)
    }

    pub(super) fn set_streaming(&self, streaming: bool) {
        self.streaming.store(streaming, Ordering::Relaxed);
    }

    pub(super) fn set_last_data_ms(&self, ms: i64) {
        self.last_data_ms.store(ms, Ordering::Relaxed);
    }

    /// Unix ms of the last data frame read, if any.
    pub fn last_data_ms(&self) -> Option<i64> {
        let v = self.last_data_ms.load(Ordering::Relaxed);
        (v > 0).then_some(v)
    }
}
