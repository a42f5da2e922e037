//! Pre-serialised Polygon trade frames for the load generator, with volume
//! spikes at known positions.
//!
//! A [`FrameSet`] is built once, before any clock starts, into one contiguous
//! buffer; each frame is a zero-copy slice of it, so sending a frame costs a
//! reference-count increment and the WebSocket framing, never a serialisation.
//!
//! Events go round-robin over the symbols: event `i` is symbol `i % symbols` in
//! round `i / symbols`. Event time advances one second per round, so every
//! symbol trades once per one-second window and the trade-burst rule (which
//! needs 20 trades in a window) never fires; prices are constant per symbol, so
//! the price-jump rule never fires either. The only anomalies are volume spikes
//! (100 times the usual size), placed on symbols that are warm (at least
//! [`WARM_ROUNDS`] trades, beyond the detector's warm-up of 50) and that have
//! not spiked for [`RESPIKE_ROUNDS`] rounds (beyond the 60 s cooldown, and long
//! enough for the size baseline to settle again); symbols that never spiked go
//! first, so enrichment sees new tickers for as long as there are any. Each therefore raises exactly
//! one alert, and the last frame of every segment carries one, so the alert of
//! that spike marks the moment the pipeline has finished the segment.

use std::ops::Range;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Rounds a symbol trades before it may spike.
pub const WARM_ROUNDS: u64 = 60;
/// Rounds between two spikes of one symbol.
pub const RESPIKE_ROUNDS: u64 = 100;
/// Event time of round 0: 2026-01-01T00:00:00Z, on a window boundary.
const BASE_TIME_MS: i64 = 1_767_225_600_000;
/// Event-time length of one round.
const ROUND_MS: i64 = 1_000;
/// How many times the usual size a spike is.
const SPIKE_FACTOR: u64 = 100;
/// Option roots in use; contract `k` belongs to root `k % OPTION_ROOTS`.
const OPTION_ROOTS: usize = 500;

/// Which Polygon market the frames imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    /// Stock trades with four-letter tickers.
    Stocks,
    /// Option trades on `O:` OCC tickers.
    Options,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    /// The market, which decides ticker and event shape.
    pub market: Market,
    /// Distinct tickers.
    pub symbols: usize,
    /// Index of the first ticker, so that two sets can use disjoint tickers.
    pub symbol_offset: usize,
    /// Events in the whole set.
    pub events: u64,
    /// Events per frame (the last frame may hold fewer).
    pub events_per_frame: usize,
    /// One spike per this many events once symbols are warm; 0 for none.
    pub anomaly_every: u64,
    /// Equal parts the set is played in; each part's last frame has a spike.
    pub segments: usize,
    /// Put the warm-up rounds (before any spike) in a segment of their own,
    /// ahead of the equal parts.
    pub warmup_segment: bool,
}

/// An alert the pipeline must raise, recognisable by symbol and event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The spiking ticker.
    pub symbol: String,
    /// Event time of the spike, Unix milliseconds.
    pub time_ms: i64,
}

/// One part of a set, played as a unit.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Frame indices.
    pub frames: Range<usize>,
    /// Events in those frames.
    pub events: u64,
    /// Spikes in those frames: the alerts a correct pipeline raises.
    pub anomalies: u64,
    /// The last spike of the segment, in its last frame.
    pub marker: Option<Marker>,
}

/// Frames ready to send.
#[derive(Debug)]
pub struct FrameSet {
    /// The frames, each a slice of one shared buffer.
    pub frames: Vec<Utf8Bytes>,
    /// Events in each full frame.
    pub events_per_frame: usize,
    /// The parts, in order.
    pub segments: Vec<Segment>,
    /// Bytes of all frames.
    pub bytes: u64,
    /// Distinct tickers.
    pub symbols: usize,
}

impl FrameSet {
    /// Events in frame `index`.
    pub fn events_in(&self, index: usize, total: u64) -> u64 {
        let epf = self.events_per_frame as u64;
        total.saturating_sub(index as u64 * epf).min(epf)
    }

    /// Events in the whole set.
    pub fn events(&self) -> u64 {
        self.segments.iter().map(|s| s.events).sum()
    }

    /// Spikes in the whole set.
    pub fn anomalies(&self) -> u64 {
        self.segments.iter().map(|s| s.anomalies).sum()
    }
}

/// Writes the ticker of symbol `k` (`AAAA`.. for stocks, an OCC contract for
/// options).
fn write_ticker(out: &mut Vec<u8>, market: Market, k: usize) {
    let letters = |out: &mut Vec<u8>, mut n: usize, width: usize| {
        let start = out.len();
        for _ in 0..width {
            out.push(b'A' + (n % 26) as u8);
            n /= 26;
        }
        out[start..].reverse();
    };
    match market {
        Market::Stocks => letters(out, k, 4),
        Market::Options => {
            out.extend_from_slice(b"O:");
            letters(out, k % OPTION_ROOTS, 3);
            let c = k / OPTION_ROOTS;
            let (month, day) = (1 + (c % 12), 1 + ((c / 12) % 2) * 14);
            out.extend_from_slice(b"27");
            digits(out, month, 2);
            digits(out, day, 2);
            let rest = c / 24;
            out.push(if rest.is_multiple_of(2) { b'C' } else { b'P' });
            digits(out, 1_000 + (rest / 2) * 500, 8);
        }
    }
}

/// Appends `n` as exactly `width` decimal digits (zero-padded, high digits cut).
fn digits(out: &mut Vec<u8>, mut n: usize, width: usize) {
    let start = out.len();
    for _ in 0..width {
        out.push(b'0' + (n % 10) as u8);
        n /= 10;
    }
    out[start..].reverse();
}

/// Appends one trade event in the market's wire shape.
fn write_trade(out: &mut Vec<u8>, market: Market, k: usize, size: u64, t: i64, q: u64) {
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(br#"{"ev":"T","sym":""#);
    write_ticker(out, market, k);
    out.extend_from_slice(b"\",");
    if market == Market::Stocks {
        out.extend_from_slice(b"\"i\":\"");
        out.extend_from_slice(num.format(q).as_bytes());
        out.extend_from_slice(b"\",");
    }
    out.extend_from_slice(br#""x":4,"p":"#);
    // Constant per symbol: no price jumps.
    let whole = if market == Market::Stocks {
        10 + k % 490
    } else {
        1 + k % 40
    };
    out.extend_from_slice(num.format(whole).as_bytes());
    out.extend_from_slice(br#".25,"s":"#);
    out.extend_from_slice(num.format(size).as_bytes());
    out.extend_from_slice(br#","t":"#);
    out.extend_from_slice(num.format(t).as_bytes());
    out.extend_from_slice(br#","q":"#);
    out.extend_from_slice(num.format(q).as_bytes());
    out.extend_from_slice(if market == Market::Stocks {
        b",\"z\":1}"
    } else {
        b"}"
    });
}

/// Whether symbol `s` may spike in round `r`, given its last spike round + 1
/// (0 = never).
fn eligible(r: u64, last: u32) -> bool {
    r >= WARM_ROUNDS && (last == 0 || r + 1 - u64::from(last) >= RESPIKE_ROUNDS)
}

/// Builds the frames of `spec`. Anomalies are placed on stock feeds only: on
/// an options feed a contract spike also moves its underlying's baseline, so
/// the alert count would depend on the detector's underlying settings.
pub fn build(spec: &FeedSpec) -> FrameSet {
    let n = spec.symbols.max(1);
    let epf = spec.events_per_frame.max(1);
    let total = spec.events;
    let frames = usize::try_from(total.div_ceil(epf as u64)).unwrap_or(usize::MAX);
    let warm_frames = if spec.warmup_segment {
        usize::try_from((WARM_ROUNDS * n as u64).div_ceil(epf as u64)).unwrap_or(usize::MAX)
    } else {
        0
    }
    .min(frames);
    let segments = spec.segments.clamp(1, (frames - warm_frames).max(1));
    let seg_len = (frames - warm_frames).div_ceil(segments).max(1);
    // Segment starts: the warm-up part (if any), then equal parts.
    let starts: Vec<usize> = (warm_frames > 0)
        .then_some(0)
        .into_iter()
        .chain((0..segments).map(|k| warm_frames + k * seg_len))
        .filter(|&f| f < frames)
        .collect();
    let is_start = |f: usize| starts.binary_search(&f).is_ok();
    let seg_end_of = |f: usize| f + 1 == frames || is_start(f + 1);
    let spikes = spec.anomaly_every > 0 && spec.market == Market::Stocks;
    let normal = if spec.market == Market::Stocks {
        100
    } else {
        10
    };
    let mut last_spike = vec![0u32; if spikes { n } else { 0 }];
    let mut buf = Vec::with_capacity(usize::try_from(total * 120).unwrap_or(0));
    let mut bounds = Vec::with_capacity(frames);
    let mut segs: Vec<Segment> = Vec::new();
    let mut next_at = 0u64;
    let mut spiked_symbols = 0usize;
    for f in 0..frames {
        if is_start(f) {
            let end = starts.iter().find(|&&x| x > f).copied().unwrap_or(frames);
            segs.push(Segment {
                frames: f..end,
                events: 0,
                anomalies: 0,
                marker: None,
            });
        }
        let i0 = f as u64 * epf as u64;
        let count = (total - i0).min(epf as u64);
        let seg_end = seg_end_of(f);
        // The last eligible event of a segment's last frame gets a spike if
        // the frame has none, so every segment ends with a marker.
        let forced = (spikes && seg_end)
            .then(|| {
                (0..count).rev().find(|j| {
                    let i = i0 + j;
                    eligible(i / n as u64, last_spike[(i % n as u64) as usize])
                })
            })
            .flatten();
        let mut spiked_here = false;
        let start = buf.len();
        buf.push(b'[');
        for j in 0..count {
            let i = i0 + j;
            let (r, s) = (i / n as u64, (i % n as u64) as usize);
            // Regular spikes go to symbols that never spiked while there are
            // any, so that each enrichment is a new ticker (a cache miss).
            let fresh = spikes && (last_spike[s] == 0 || spiked_symbols >= n);
            let spike = spikes
                && eligible(r, last_spike[s])
                && ((i >= next_at && fresh) || (forced == Some(j) && !spiked_here));
            let t = BASE_TIME_MS + r as i64 * ROUND_MS + (s as i64 * ROUND_MS) / n as i64;
            let k = spec.symbol_offset + s;
            if j > 0 {
                buf.push(b',');
            }
            let size = if spike { normal * SPIKE_FACTOR } else { normal };
            write_trade(&mut buf, spec.market, k, size, t, i + 1);
            if spike {
                spiked_here = true;
                spiked_symbols += usize::from(last_spike[s] == 0);
                last_spike[s] = u32::try_from(r + 1).unwrap_or(u32::MAX);
                next_at = i + spec.anomaly_every;
                let seg = segs.last_mut().expect("a segment was pushed above");
                seg.anomalies += 1;
                let mut ticker = Vec::new();
                write_ticker(&mut ticker, spec.market, k);
                seg.marker = Some(Marker {
                    symbol: String::from_utf8_lossy(&ticker).into_owned(),
                    time_ms: t,
                });
            }
        }
        buf.push(b']');
        bounds.push(start..buf.len());
        if let Some(seg) = segs.last_mut() {
            seg.events += count;
        }
    }
    let bytes = buf.len() as u64;
    let shared = Bytes::from(buf);
    let frames = bounds
        .into_iter()
        // Every byte written above is ASCII, so each slice is valid UTF-8.
        .filter_map(|b| Utf8Bytes::try_from(shared.slice(b)).ok())
        .collect();
    FrameSet {
        frames,
        events_per_frame: epf,
        segments: segs,
        bytes,
        symbols: n,
    }
}

#[cfg(test)]
#[path = "frames_tests.rs"]
mod tests;
