//! Fault modes: the failures of the real service that whole-service tests must
//! survive, switched on per simulator through [`SimConfig::faults`].
//!
//! WebSocket faults hit only the first [`Faults::faulty_connections`]
//! connections accepted on each market, so that a test can watch the pipeline
//! reconnect and then prove that the events after the reconnect arrive. They
//! are counted in data frames: a fault "after N frames" fires once the
//! connection has sent its N-th data frame (a trade/quote array) and before it
//! pulls any more events from the script, so no script event is lost to a
//! fault. With N = 0 it fires as soon as the connection is authenticated and
//! subscribed to a data topic. When several thresholds are reached at once,
//! the first in the order drop, close, deaf, mute wins.
//!
//! The connection limit ([`Faults::max_connections`],
//! [`Faults::reject_all_with_max_connections`]) and the REST faults apply to
//! every connection and request, faulty or not.
//!
//! In Alpaca mode every fault works the same way; Alpaca's feeds all count as
//! the stocks market, the connection limit answers with Alpaca's 406
//! `connection limit exceeded` in place of `authenticated`, and the garbage
//! frames are Alpaca-shaped, in the connection's encoding.
//!
//! [`SimConfig::faults`]: super::SimConfig::faults

/// The status message Massive sends with `max_connections`.
pub const MAX_CONNECTIONS_MESSAGE: &str = "Maximum number of websocket connections exceeded. \
     You have reached the connection limit for your account. \
     Please contact support at https://polygon.io/contact to increase your limit.";

/// The default size of the oversized garbage frame: 20 MiB, above the 16 MiB
/// a client accepts by default.
pub const DEFAULT_OVERSIZE_BYTES: usize = 20 << 20;

/// Which failures the simulator injects. The default injects none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    /// How many connections per market get the WebSocket faults below: the
    /// first N accepted on each market, counting every accepted upgrade
    /// (connections later rejected with `max_connections` included).
    /// `u64::MAX` makes every connection faulty. Default 1.
    pub faulty_connections: u64,
    /// After this many data frames, end the TCP connection without a Close
    /// frame: the client sees end of stream (1006), as when the service kills
    /// a slow consumer. Default None.
    pub drop_after_frames: Option<u64>,
    /// After this many data frames, send a Close frame with this code (e.g.
    /// 1011) and end the connection. Default None.
    pub close_after_frames: Option<(u64, u16)>,
    /// After this many data frames, send no more data (nor garbage) but keep
    /// the connection open, answering pings and client messages: a connected
    /// but silent socket that only a data-staleness check can notice.
    /// Default None.
    pub mute_after_frames: Option<u64>,
    /// After this many data frames, send nothing at all: no data, no pongs, no
    /// replies, not even a Close echo. Client messages are still read (and
    /// logged), so the connection ends only when the client drops it: a
    /// half-open connection that only a ping timeout can notice. On shutdown a
    /// deaf connection ends without a Close frame. Default None.
    pub deaf_after_frames: Option<u64>,
    /// Allow one simultaneous authenticated connection per (key, market), as
    /// Massive does: a connection that authenticates while another with the
    /// same key is open on the same market gets `auth_success`, then the
    /// `max_connections` status ([`MAX_CONNECTIONS_MESSAGE`]), then Close 1008.
    /// The open connection is unaffected. Default false.
    pub max_connections: bool,
    /// Answer every successful `auth` with `auth_success`, `max_connections`
    /// and Close 1008, to test that a client backs off for long instead of
    /// reconnecting in a storm. Default false.
    pub reject_all_with_max_connections: bool,
    /// On faulty connections, after every N data frames send one hostile frame,
    /// taking the kinds in the order of [`GarbageKind::ALL`] and starting over
    /// after the last. Garbage consumes no script events, so the valid event
    /// stream is the same as without it. Zero counts as one. Default None.
    ///
    /// [`GarbageKind::ALL`]: super::GarbageKind::ALL
    pub garbage_every: Option<u64>,
    /// The exact size in bytes of the oversized garbage frame. Default
    /// [`DEFAULT_OVERSIZE_BYTES`] (20 MiB); tests use e.g. 2 MiB with a client
    /// limit of 1 MiB.
    pub oversize_bytes: usize,
    /// The statuses of the first REST answers, across all requests and in
    /// order (e.g. `[429, 500]`); later requests are answered normally. The
    /// bodies are Polygon's error bodies. These answers come before the key
    /// check and also wait `rest_delay`. Default empty.
    pub rest_statuses: Vec<u16>,
    /// The `Retry-After` header, in seconds, on 429 answers from
    /// [`Faults::rest_statuses`]; None sends no header. Default Some(1).
    pub rest_retry_after_s: Option<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            faulty_connections: 1,
            drop_after_frames: None,
            close_after_frames: None,
            mute_after_frames: None,
            deaf_after_frames: None,
            max_connections: false,
            reject_all_with_max_connections: false,
            garbage_every: None,
            oversize_bytes: DEFAULT_OVERSIZE_BYTES,
            rest_statuses: Vec::new(),
            rest_retry_after_s: Some(1),
        }
    }
}

/// What a faulty connection must do once it has sent some data frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// End the TCP connection without a Close frame.
    Drop,
    /// Send a Close frame with this code and end the connection.
    Close(u16),
    /// Stop everything, pongs included.
    Deaf,
    /// Stop the data only.
    Mute,
}

impl Faults {
    /// Whether the connection with this per-market index (from 0) is faulty.
    pub(crate) fn is_faulty(&self, index: u64) -> bool {
        index < self.faulty_connections
    }

    /// The fault due on a faulty connection that has sent `frames` data
    /// frames, if any; the order of the checks settles ties.
    pub(crate) fn due(&self, frames: u64) -> Option<Fault> {
        let reached = |threshold: Option<u64>| threshold.is_some_and(|n| frames >= n);
        if reached(self.drop_after_frames) {
            Some(Fault::Drop)
        } else if let Some((_, code)) = self.close_after_frames.filter(|(n, _)| frames >= *n) {
            Some(Fault::Close(code))
        } else if reached(self.deaf_after_frames) {
            Some(Fault::Deaf)
        } else if reached(self.mute_after_frames) {
            Some(Fault::Mute)
        } else {
            None
        }
    }

    /// Whether a garbage frame follows the `frames`-th data frame.
    pub(crate) fn garbage_after(&self, frames: u64) -> bool {
        self.garbage_every
            .is_some_and(|every| frames > 0 && frames.is_multiple_of(every.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_injects_nothing() {
        let faults = Faults::default();
        assert_eq!(faults.due(u64::MAX), None);
        assert!(!faults.garbage_after(10));
        assert!(faults.is_faulty(0) && !faults.is_faulty(1));
    }

    #[test]
    fn the_max_connections_message_is_massives() {
        assert_eq!(
            MAX_CONNECTIONS_MESSAGE,
            "Maximum number of websocket connections exceeded. You have reached the connection limit for your account. Please contact support at https://polygon.io/contact to increase your limit."
        );
    }

    #[test]
    fn the_first_threshold_reached_wins_and_ties_go_to_the_drop() {
        let faults = Faults {
            drop_after_frames: Some(5),
            close_after_frames: Some((3, 1011)),
            mute_after_frames: Some(3),
            ..Faults::default()
        };
        assert_eq!(faults.due(2), None);
        assert_eq!(faults.due(3), Some(Fault::Close(1011)));
        assert_eq!(faults.due(5), Some(Fault::Drop));
    }

    #[test]
    fn garbage_follows_every_nth_frame() {
        let faults = Faults {
            garbage_every: Some(3),
            ..Faults::default()
        };
        let after: Vec<u64> = (0..10).filter(|&n| faults.garbage_after(n)).collect();
        assert_eq!(after, [3, 6, 9]);
        let zero = Faults {
            garbage_every: Some(0),
            ..Faults::default()
        };
        assert!(zero.garbage_after(1) && zero.garbage_after(2));
    }
}
