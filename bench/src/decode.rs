//! The decoder alone: CPU time per event on one thread, for the decoder the
//! pipeline uses (byte scanner with serde fallback) and for its general serde
//! path, on two feeds: the throughput feed's trades, and the mix of
//! performance.md's JSON figures (3 trades, 6 quotes and 1 second-aggregate
//! per 10-event frame, about 140 bytes per event), so the decoder can be
//! compared with the parsers measured there.
//!
//! No sockets, no actors: this isolates the largest share of the hot thread's
//! work, so a change to the decoder shows here before it shows end to end.

use std::hint::black_box;
use std::time::Instant;

use tapewatch_actors::events::Event;
use tapewatch_actors::provider::generic::{Generic, GenericSpec};
use tapewatch_actors::provider::polygon_decode::{decode_frame, decode_frame_general};
use tapewatch_actors::provider::{DecodeIssue, Provider};

use super::report::{self, Report, Verdict};
use super::sizes::{throughput_frames, Sizes};

type Decoder<'a> = &'a dyn Fn(&[u8], &mut Vec<Event>, &mut Vec<DecodeIssue>);

/// Passes over the frames; the best pass counts, as the others met noise.
const PASSES: usize = 5;

/// Measures both paths and adds a row for each.
pub fn decode(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    let set = throughput_frames(sizes, sizes.decode_events);
    let trades: Vec<&[u8]> = set.frames.iter().map(|f| f.as_bytes()).collect();
    measure(report, "trades", &trades, set.events(), set.events())?;
    let mixed = mixed_frames(sizes.decode_events);
    let mixed: Vec<&[u8]> = mixed.iter().map(Vec::as_slice).collect();
    // The generic configuration skips the aggregates (one event in ten).
    let n = sizes.decode_events;
    measure(report, "quote mix", &mixed, n, n - n / 10)
}

/// Both paths and the generic provider over `frames`, which hold `events`
/// events (`generic_events` of them trades and quotes); a row for each.
/// Times are per event in the frames, skipped or not.
fn measure(
    report: &mut Report,
    feed: &str,
    frames: &[&[u8]],
    events: u64,
    generic_events: u64,
) -> Result<(), String> {
    const S: &str = "decode";
    let bytes: usize = frames.iter().map(|f| f.len()).sum();
    report.detail(
        S,
        format!(
            "{feed}: {events} events in {} frames, {:.0} bytes per event, decoded in memory on one thread; best of {PASSES} passes",
            frames.len(),
            bytes as f64 / events.max(1) as f64
        ),
    );
    let generic = polygon_shape()?;
    let generic_decode = |f: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>| {
        generic.decode(f, out, issues)
    };
    let mut results = Vec::new();
    for (name, decoder) in [
        ("decoder", &decode_frame as Decoder),
        ("serde path alone", &decode_frame_general as Decoder),
        (
            "generic provider configured for these frames",
            &generic_decode as Decoder,
        ),
    ] {
        let (ns, decoded) = best_pass(frames, events, decoder);
        let want = if results.len() == 2 {
            generic_events
        } else {
            events
        };
        if decoded != want {
            return Err(format!(
                "{feed}, {name}: decoded {decoded} of {want} events"
            ));
        }
        results.push(ns);
        report.row(
            format!("Decode only ({feed}), {name}: per event, one thread"),
            format!("{ns:.0} ns ({} on one core)", report::rate(1e9 / ns)),
            "",
            Verdict::Info,
        );
    }
    report.detail(
        S,
        format!(
            "{feed}: serde path ÷ decoder {:.2}×",
            results[1] / results[0]
        ),
    );
    // The session reads each frame's control content too (a substring test
    // for Polygon); the generic provider walks the frame for its frame-level
    // rules, on the session's thread rather than the handler's.
    let control = best_control_pass(frames, events, &generic);
    report.row(
        format!("Decode only ({feed}): generic provider, control read on the session thread"),
        format!("{control:.0} ns per event"),
        "",
        Verdict::Info,
    );
    let ratio = results[2] / results[0];
    report.row(
        format!("Decode only ({feed}): generic provider ÷ Polygon decoder, per event"),
        format!("{ratio:.2}×"),
        "≤ 2×",
        Verdict::of(ratio <= 2.0),
    );
    Ok(())
}

/// The generic provider configured for Polygon's own frames (an array of
/// events told apart by `ev`), so both decoders read the same bytes.
fn polygon_shape() -> Result<Generic, String> {
    let spec = serde_json::json!({
        "subscribe": {"message": "${topics}", "unsubscribe": "${topics}"},
        "data": {
            "events": "",
            "skip": [{"pointer": "/ev", "one_of": ["A", "AM"]}],
            "trade": {"when": {"pointer": "/ev", "equals": "T"},
                      "symbol": "/sym", "price": "/p", "size": "/s", "time": "/t",
                      "exchange": "/x", "conditions": "/c", "sequence": "/q"},
            "quote": {"when": {"pointer": "/ev", "equals": "Q"},
                      "symbol": "/sym", "bid": "/bp", "bid_size": "/bs",
                      "ask": "/ap", "ask_size": "/as", "time": "/t"}
        }
    });
    let spec: GenericSpec = serde_json::from_value(spec).map_err(|e| e.to_string())?;
    Generic::compile(&spec).map_err(|e| e.to_string())
}

/// Frames of 10 events in the shape of performance.md's JSON measurements:
/// 3 trades, 6 quotes, 1 second-aggregate, over 1 000 tickers.
fn mixed_frames(events: u64) -> Vec<Vec<u8>> {
    const BASE_MS: u64 = 1_748_476_800_000;
    let mut frames = Vec::new();
    let mut frame = Vec::new();
    for i in 0..events {
        frame.push(if frame.is_empty() { b'[' } else { b',' });
        let sym = format!(
            "{}{}",
            ["MSFT", "AAPL", "NVDA", "AMZN"][(i % 4) as usize],
            i % 250
        );
        let (t, q) = (BASE_MS + i, 50_385_481 + i);
        let event = match i % 10 {
            0..=2 => format!(
                r#"{{"ev":"T","sym":"{sym}","i":"{q}","x":4,"p":101.01,"s":100,"c":[14,41],"t":{t},"q":{q},"z":3}}"#
            ),
            3..=8 => format!(
                r#"{{"ev":"Q","sym":"{sym}","bx":11,"bp":101.01,"bs":2,"ax":12,"ap":101.02,"as":1,"c":1,"i":[604],"t":{t},"q":{q},"z":3}}"#
            ),
            _ => format!(
                r#"{{"ev":"A","sym":"{sym}","v":4110,"av":9470157,"op":100.43,"vw":101.0488,"o":101.0,"c":101.02,"h":101.05,"l":100.99,"a":100.62,"z":685,"s":{t},"e":{}}}"#,
                t + 1_000
            ),
        };
        frame.extend_from_slice(event.as_bytes());
        if i % 10 == 9 || i + 1 == events {
            frame.push(b']');
            frames.push(std::mem::take(&mut frame));
        }
    }
    frames
}

/// Nanoseconds per event (of the `events` in `frames`) of the fastest pass,
/// and the events one pass decoded.
fn best_pass(frames: &[&[u8]], events: u64, decoder: Decoder) -> (f64, u64) {
    let mut out = Vec::with_capacity(64);
    let mut issues = Vec::new();
    let mut best = f64::INFINITY;
    let mut decoded = 0;
    for _ in 0..PASSES {
        decoded = 0;
        let start = Instant::now();
        for frame in frames {
            out.clear();
            decoder(black_box(frame), &mut out, &mut issues);
            decoded += out.len() as u64;
            black_box(&out);
        }
        let ns = start.elapsed().as_nanos() as f64 / events.max(1) as f64;
        best = best.min(ns);
    }
    (best, decoded)
}

/// Nanoseconds per event of the fastest pass of `provider.control` alone.
fn best_control_pass(frames: &[&[u8]], events: u64, provider: &dyn Provider) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        let start = Instant::now();
        for frame in frames {
            black_box(provider.control(black_box(frame)));
        }
        best = best.min(start.elapsed().as_nanos() as f64 / events.max(1) as f64);
    }
    best
}
