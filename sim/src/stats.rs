//! Counters and a message log that let tests see what the simulator did.
//!
//! Everything is updated by the server's worker thread and read by tests on
//! their own thread, so counters are atomics and the logs sit behind mutexes.
//! The logs are capped: a client that floods the simulator with messages or
//! connections must not grow its memory without bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::connection_log::{ConnectionRecord, Ending};
use super::garbage::GarbageKind;
use super::instruments::Market;

/// How many client messages, connection records and client close codes
/// [`SimStats`] keeps each; later ones are only counted.
pub const CLIENT_MESSAGE_LOG_CAP: usize = 10_000;

/// What the simulator has seen and sent since it started.
#[derive(Debug, Default)]
pub struct SimStats {
    /// WebSocket upgrades accepted, on either market.
    pub connections_accepted: AtomicU64,
    /// WebSocket connections open now, on either market: accepted and not
    /// yet ended by either side.
    pub connections_open: AtomicU64,
    /// `auth` actions received.
    pub auth_attempts: AtomicU64,
    /// `auth` actions rejected with `auth_failed` (Alpaca: 402).
    pub auth_failures: AtomicU64,
    /// Frames sent to clients: status or control frames and data frames
    /// (text, or binary in Alpaca's msgpack mode).
    pub frames_sent: AtomicU64,
    /// Data frames (arrays of trades and quotes) sent to clients.
    pub data_frames_sent: AtomicU64,
    /// Trades and quotes sent on `/stocks` (or Alpaca's stock feeds).
    pub stock_events_sent: AtomicU64,
    /// Trades and quotes sent on `/options`.
    pub option_events_sent: AtomicU64,
    /// REST requests received, answered or not.
    pub rest_requests: AtomicU64,
    /// Client messages that arrived after the log was full.
    pub client_messages_dropped: AtomicU64,
    /// WebSocket pings received from clients, answered or not.
    pub pings_received: AtomicU64,
    /// Pongs sent in answer to pings.
    pub pongs_sent: AtomicU64,
    /// Hostile frames sent by [`super::Faults::garbage_every`]; they are not
    /// counted in `frames_sent` or `data_frames_sent`.
    pub garbage_frames_sent: AtomicU64,
    /// `max_connections` statuses (Alpaca: 406 errors) sent, each followed by
    /// Close 1008.
    pub max_connections_sent: AtomicU64,
    /// Connection faults that fired: drops, closes, deafs and mutes.
    pub faults_triggered: AtomicU64,
    garbage_by_kind: [AtomicU64; GarbageKind::ALL.len()],
    client_messages: Mutex<Vec<String>>,
    client_close_codes: Mutex<Vec<Option<u16>>>,
    connections: Mutex<Vec<ConnectionRecord>>,
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
    /// `auth` messages replaced by `<redacted>`. Alpaca's messages, JSON or
    /// msgpack, are kept as JSON with `key` and `secret` redacted.
    pub fn client_messages(&self) -> Vec<String> {
        lock(&self.client_messages).clone()
    }

    /// Appends a (redacted) client message to the log, or counts it as dropped
    /// once the log holds [`CLIENT_MESSAGE_LOG_CAP`] entries.
    pub(crate) fn record_client_message(&self, message: String) {
        let mut log = lock(&self.client_messages);
        if log.len() < CLIENT_MESSAGE_LOG_CAP {
            log.push(message);
        } else {
            Self::add(&self.client_messages_dropped, 1);
        }
    }

    /// Hostile frames of one kind sent.
    pub fn garbage_sent(&self, kind: GarbageKind) -> u64 {
        Self::get(&self.garbage_by_kind[kind.index()])
    }

    /// Counts one hostile frame of `kind`.
    pub(crate) fn count_garbage(&self, kind: GarbageKind) {
        Self::add(&self.garbage_frames_sent, 1);
        Self::add(&self.garbage_by_kind[kind.index()], 1);
    }

    /// The close code of every connection the client ended, in the order they
    /// ended: the code of its Close frame (1005 for a Close frame without
    /// one), or None when it went away without a Close frame. Connections the
    /// simulator ended are not listed.
    pub fn client_close_codes(&self) -> Vec<Option<u16>> {
        lock(&self.client_close_codes).clone()
    }

    /// Every connection accepted, in acceptance order (the first
    /// [`CLIENT_MESSAGE_LOG_CAP`] of them).
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        lock(&self.connections).clone()
    }

    /// Counts an accepted connection and records it; returns its id.
    pub(crate) fn open_connection(&self, market: Market, market_index: u64, faulty: bool) -> u64 {
        let mut records = lock(&self.connections);
        let id = self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        if records.len() < CLIENT_MESSAGE_LOG_CAP {
            records.push(ConnectionRecord::opened(id, market, market_index, faulty));
        }
        id
    }

    /// Counts a `subscribe` action of connection `id`.
    pub(crate) fn count_subscribe(&self, id: u64) {
        if let Some(record) = self.record(&mut lock(&self.connections), id) {
            record.subscribe_messages += 1;
        }
    }

    /// Records the end of connection `id`, and the client's close code when
    /// the client ended it.
    pub(crate) fn end_connection(&self, id: u64, data_frames: u64, ending: Ending) {
        // Called once per connection, from its drop.
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
        if let Some(record) = self.record(&mut lock(&self.connections), id) {
            record.ended_at = Some(Instant::now());
            record.data_frames = data_frames;
            record.ending = Some(ending);
        }
        if let Ending::Client(code) = ending {
            let mut codes = lock(&self.client_close_codes);
            if codes.len() < CLIENT_MESSAGE_LOG_CAP {
                codes.push(code);
            }
        }
    }

    fn record<'a>(
        &self,
        records: &'a mut MutexGuard<'_, Vec<ConnectionRecord>>,
        id: u64,
    ) -> Option<&'a mut ConnectionRecord> {
        let index = usize::try_from(id).ok()?;
        records.get_mut(index).filter(|r| r.id == id)
    }

    /// Takes the next REST request number, counting the request.
    pub(crate) fn next_rest_request(&self) -> u64 {
        self.rest_requests.fetch_add(1, Ordering::Relaxed)
    }
}

/// Locks a log; a panic elsewhere cannot leave a log half-written, so a
/// poisoned lock is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

    #[test]
    fn connection_records_follow_a_connection_from_open_to_end() {
        let stats = SimStats::default();
        let first = stats.open_connection(Market::Stocks, 0, true);
        let second = stats.open_connection(Market::Options, 0, false);
        assert_eq!(SimStats::get(&stats.connections_open), 2);
        stats.count_subscribe(second);
        stats.end_connection(first, 7, Ending::Server(None));
        stats.end_connection(second, 0, Ending::Client(Some(1000)));
        let records = stats.connections();
        assert_eq!((records[0].id, records[0].faulty), (first, true));
        assert_eq!(records[0].data_frames, 7);
        assert_eq!(records[0].ending, Some(Ending::Server(None)));
        assert_eq!(records[1].subscribe_messages, 1);
        assert!(records.iter().all(|r| r.ended_at.is_some()));
        assert_eq!(stats.client_close_codes(), [Some(1000)]);
        assert_eq!(SimStats::get(&stats.connections_accepted), 2);
        assert_eq!(SimStats::get(&stats.connections_open), 0);
    }
}
