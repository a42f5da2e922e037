//! Properties of the Polygon decoder that must hold for every input, shared by
//! the fuzz targets.
//!
//! The decoder's contract is that a hostile or broken frame costs at most some
//! `DecodeIssue`s: it never panics, it never lets an impossible value through to
//! the detectors, its messages stay short enough to log, and its output cannot
//! grow faster than the frame that produced it.

use tapewatch_actors::events::Event;
use tapewatch_actors::provider::polygon::{status_to_control, Polygon};
use tapewatch_actors::provider::polygon_decode::decode_frame;
use tapewatch_actors::provider::{Control, DecodeIssue, Provider};

/// The accepted timestamp range, Unix milliseconds (1990-01-01 to 2200-01-01).
/// It mirrors the decoder's own bounds on purpose: a change there should be a
/// conscious change here too.
pub const MIN_MS: i64 = 631_152_000_000;
/// Exclusive upper bound of [`MIN_MS`]'s range.
pub const MAX_MS: i64 = 7_258_118_400_000;

/// Issue details are logged and exported; this is the most one may take.
pub const MAX_DETAIL: usize = 200;

/// What one frame decoded to, for targets that know more about their input.
#[allow(dead_code)] // The raw-bytes target has nothing to compare it with.
pub struct Decoded {
    pub events: Vec<Event>,
    pub issues: Vec<DecodeIssue>,
}

/// Decodes `frame` both ways the service does (control and data) and checks
/// every property that holds for any input.
pub fn check_frame(frame: &[u8]) -> Decoded {
    let mut events = Vec::new();
    let mut issues = Vec::new();
    decode_frame(frame, &mut events, &mut issues);

    for event in &events {
        check_event(event);
    }
    for issue in &issues {
        assert!(
            issue.detail.len() < MAX_DETAIL,
            "issue detail of {} bytes: {issue}",
            issue.detail.len()
        );
    }
    // Every array element needs at least one byte of its own and one separator
    // (or the closing bracket), so a frame of n bytes holds at most n/2
    // elements; each element yields at most one event or one issue, and the
    // frame as a whole at most one more issue (malformed or truncated).
    let produced = events.len() + issues.len();
    assert!(
        produced <= frame.len() / 2 + 1,
        "{produced} events and issues from a {}-byte frame",
        frame.len()
    );

    let control = Polygon.control(frame);
    check_control(frame, &events, &issues, &control);

    Decoded { events, issues }
}

fn finite_non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn in_ms_range(t: i64) -> bool {
    (MIN_MS..MAX_MS).contains(&t)
}

/// Values the decoder promises about each event it lets through.
fn check_event(event: &Event) {
    match event {
        Event::Trade(t) => {
            assert!(
                t.price.is_finite() && t.price > 0.0,
                "trade price {}",
                t.price
            );
            assert!(finite_non_negative(t.size), "trade size {}", t.size);
            assert!(in_ms_range(t.time_ms), "trade time {}", t.time_ms);
            assert!(
                !t.symbol.is_empty() && t.symbol.len() <= 64,
                "trade symbol {:?}",
                t.symbol
            );
        }
        Event::Quote(q) => {
            assert!(
                finite_non_negative(q.bid) && finite_non_negative(q.ask),
                "quote {q:?}"
            );
            // Sizes are taken as sent (absent means 0); they must at least be numbers.
            assert!(
                q.bid_size.is_finite() && q.ask_size.is_finite(),
                "quote {q:?}"
            );
            assert!(in_ms_range(q.time_ms), "quote time {}", q.time_ms);
            assert!(!q.symbol.is_empty() && q.symbol.len() <= 64, "quote {q:?}");
        }
        Event::Aggregate(a) => {
            for v in [a.open, a.high, a.low, a.close] {
                assert!(finite_non_negative(v), "aggregate {a:?}");
            }
            for v in [a.volume, a.vwap].into_iter().flatten() {
                assert!(v.is_finite(), "aggregate {a:?}");
            }
            assert!(
                in_ms_range(a.start_ms) && in_ms_range(a.end_ms),
                "aggregate {a:?}"
            );
            assert!(
                !a.symbol.is_empty() && a.symbol.len() <= 64,
                "aggregate {a:?}"
            );
        }
        Event::Status(_) => {}
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `control` must agree with a full decode of the same frame: it reports
/// exactly the status messages the decoder finds, and flags data whenever
/// anything else is there. Its shortcut for frames without a literal
/// `"status"` is documented, so those frames are only checked to be passed on.
fn check_control(frame: &[u8], events: &[Event], issues: &[DecodeIssue], control: &Control) {
    if !contains(frame, b"\"status\"") {
        assert!(control.events.is_empty() && control.has_data, "{control:?}");
        return;
    }
    let mut want = Vec::new();
    let mut other = !issues.is_empty();
    for event in events {
        match event {
            Event::Status(s) => want.extend(status_to_control(&s.status, &s.message)),
            _ => other = true,
        }
    }
    assert_eq!(control.events, want, "control events");
    assert_eq!(control.has_data, other, "control has_data");
}
