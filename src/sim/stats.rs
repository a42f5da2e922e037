//! Counters and a message log that let tests see what the simulator did.
//!
//! Everything is updated by the server's worker thread and read by tests on
//! their own thread, so counters are atomics and the message log sits behind a
//! mutex. The log is capped: a client that floods the simulator with messages
//! must not grow its memory without bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::instruments::Market;

/// How many client messages [`SimStats`] keeps; later ones are only counted.
pub const CLIENT_MESSAGE_LOG_CAP: usize = 10_000;

/// What the simulator has seen and sent since it started.
#[derive(Debug, Default)]
pub struct SimStats {
    /// WebSocket upgrades accepted, on either market.
    pub connections_accepted: AtomicU64,
    /// `auth` actions received.
    pub auth_attempts: AtomicU64,
    /// `auth` actions rejected with `auth_failed`.
    pub auth_failures: AtomicU64,
    /// Text frames sent to clients: status frames and data frames.
    pub frames_sent: AtomicU64,
    /// Data frames (arrays of trades and quotes) sent to clients.
    pub data_frames_sent: AtomicU64,
    /// Trades and quotes sent on `/stocks`.
    pub stock_events_sent: AtomicU64,
    /// Trades and quotes sent on `/options`.
    pub option_events_sent: AtomicU64,
    /// REST requests received, answered or not.
    pub rest_requests: AtomicU64,
    /// Client messages that arrived after the log was full.
    pub client_messages_dropped: AtomicU64,
    client_messages: Mutex<Vec<String>>,
}

impl SimStats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Adds `n` to a counter.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Trades and quotes sent on one market.
    pub fn events_sent(&self, market: Market) -> u64 {
        Self::get(self.events_counter(market))
    }

    pub(crate) fn events_counter(&self, market: Market) -> &AtomicU64 {
        match market {
            Market::Stocks => &self.stock_events_sent,
            Market::Options => &self.option_events_sent,
        }
    }

    /// Every text message clients sent, in arrival order, with the `params` of
    /// `auth` messages replaced by `<redacted>`.
    pub fn client_messages(&self) -> Vec<String> {
        self.client_messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends a (redacted) client message to the log, or counts it as dropped
    /// once the log holds [`CLIENT_MESSAGE_LOG_CAP`] entries.
    pub(crate) fn record_client_message(&self, message: String) {
        let mut log = self
            .client_messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if log.len() < CLIENT_MESSAGE_LOG_CAP {
            log.push(message);
        } else {
            Self::add(&self.client_messages_dropped, 1);
        }
    }

    /// Takes the next REST request number, counting the request.
    pub(crate) fn next_rest_request(&self) -> u64 {
        self.rest_requests.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_log_is_capped_and_counts_what_it_drops() {
        let stats = SimStats::default();
        for i in 0..CLIENT_MESSAGE_LOG_CAP + 3 {
            stats.record_client_message(format!("m{i}"));
        }
        assert_eq!(stats.client_messages().len(), CLIENT_MESSAGE_LOG_CAP);
        assert_eq!(SimStats::get(&stats.client_messages_dropped), 3);
    }

    #[test]
    fn events_are_counted_per_market() {
        let stats = SimStats::default();
        SimStats::add(stats.events_counter(Market::Options), 5);
        assert_eq!(stats.events_sent(Market::Options), 5);
        assert_eq!(stats.events_sent(Market::Stocks), 0);
    }
}
