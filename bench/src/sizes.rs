//! How big each scenario is, and the stock feeds they share.

use std::sync::Arc;

use super::frames::{self, FeedSpec, FrameSet, Market};

/// Symbols of the throughput feed (and of the peer's, which is the same).
pub const THROUGHPUT_SYMBOLS: usize = 10_000;
/// One spike per this many events in the throughput feed.
const THROUGHPUT_ANOMALY_EVERY: u64 = 5_000;
/// Symbols of the latency, isolation and burst feeds: few enough to be warm
/// after 60 k events.
pub const SMALL_SYMBOLS: usize = 1_000;

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Events per frame everywhere.
    pub events_per_frame: usize,
    /// Events of the unpaced throughput run.
    pub throughput_events: u64,
    /// Seconds of the 100 k events/s latency run.
    pub latency_100k_seconds: u64,
    /// Seconds of the 1 M events/s latency run.
    pub latency_1m_seconds: u64,
    /// Events of each of the four isolation phases.
    pub isolation_phase_events: u64,
    /// Distinct option contracts of the memory run.
    pub option_contracts: usize,
    /// Events of the burst.
    pub burst_events: u64,
    /// Events the Python peer consumes.
    pub peer_events: u64,
    /// Events of each pass of the decode-only measurement.
    pub decode_events: u64,
    /// Events of each fan-out run (at 1 M/s, a second per million).
    pub fanout_events: u64,
}

impl Sizes {
    /// Full sizes, or small ones for a smoke run; `events` overrides the
    /// throughput run's length.
    pub fn new(quick: bool, events: Option<u64>, events_per_frame: usize) -> Sizes {
        let s = if quick {
            Sizes {
                events_per_frame,
                throughput_events: 1_000_000,
                latency_100k_seconds: 2,
                latency_1m_seconds: 1,
                isolation_phase_events: 250_000,
                option_contracts: 100_000,
                burst_events: 1_000_000,
                peer_events: 200_000,
                decode_events: 200_000,
                fanout_events: 1_000_000,
            }
        } else {
            Sizes {
                events_per_frame,
                throughput_events: 10_000_000,
                latency_100k_seconds: 10,
                latency_1m_seconds: 5,
                isolation_phase_events: 2_000_000,
                option_contracts: 1_000_000,
                burst_events: 1_000_000,
                peer_events: 2_000_000,
                decode_events: 2_000_000,
                fanout_events: 5_000_000,
            }
        };
        Sizes {
            throughput_events: events.unwrap_or(s.throughput_events),
            ..s
        }
    }
}

/// The throughput feed: 10 k stocks, spikes every 5 k events once warm.
pub fn throughput_frames(sizes: &Sizes, events: u64) -> Arc<FrameSet> {
    Arc::new(frames::build(&FeedSpec {
        market: Market::Stocks,
        symbols: THROUGHPUT_SYMBOLS,
        symbol_offset: 0,
        events,
        events_per_frame: sizes.events_per_frame,
        anomaly_every: THROUGHPUT_ANOMALY_EVERY,
        segments: 1,
        warmup_segment: false,
    }))
}

/// A small stock feed for latency, isolation and burst runs; cut into more
/// than one segment, it starts with a warm-up segment of its own.
pub fn small_frames(
    sizes: &Sizes,
    events: u64,
    anomaly_every: u64,
    segments: usize,
) -> Arc<FrameSet> {
    Arc::new(frames::build(&FeedSpec {
        market: Market::Stocks,
        symbols: SMALL_SYMBOLS,
        symbol_offset: 0,
        events,
        events_per_frame: sizes.events_per_frame,
        anomaly_every,
        segments,
        warmup_segment: segments > 1,
    }))
}
