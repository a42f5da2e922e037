//! The decoder alone: CPU time per event on one thread, on the throughput
//! feed's frames, for the decoder the pipeline uses (byte scanner with serde
//! fallback) and for its general serde path.
//!
//! No sockets, no actors: this isolates the largest share of the hot thread's
//! work, so a change to the decoder shows here before it shows end to end.

use std::hint::black_box;
use std::time::Instant;

use tapewatch_actors::events::Event;
use tapewatch_actors::provider::polygon_decode::{decode_frame, decode_frame_general};
use tapewatch_actors::provider::DecodeIssue;

use super::report::{self, Report, Verdict};
use super::sizes::{throughput_frames, Sizes};

type Decoder = fn(&[u8], &mut Vec<Event>, &mut Vec<DecodeIssue>);

/// Passes over the frames; the best pass counts, as the others met noise.
const PASSES: usize = 5;

/// Measures both paths and adds a row for each.
pub fn decode(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    const S: &str = "decode";
    let set = throughput_frames(sizes, sizes.decode_events);
    let frames: Vec<&[u8]> = set.frames.iter().map(|f| f.as_bytes()).collect();
    let events = set.events();
    report.detail(
        S,
        format!(
            "{events} events in {} frames of the throughput feed, decoded in memory on one thread; best of {PASSES} passes",
            frames.len()
        ),
    );
    let mut results = Vec::new();
    for (name, decoder) in [
        ("fast path", decode_frame as Decoder),
        ("general path (serde)", decode_frame_general as Decoder),
    ] {
        let (ns, decoded) = best_pass(&frames, decoder);
        if decoded != events {
            return Err(format!("{name} decoded {decoded} of {events} events"));
        }
        results.push(ns);
        report.row(
            format!("Decode only, {name}: ns per event (one thread)"),
            format!("{ns:.0} ns ({} on one core)", report::rate(1e9 / ns)),
            "",
            Verdict::Info,
        );
    }
    report.detail(
        S,
        format!("general ÷ fast: {:.2}×", results[1] / results[0]),
    );
    Ok(())
}

/// Nanoseconds per event of the fastest pass, and the events one pass decoded.
fn best_pass(frames: &[&[u8]], decoder: Decoder) -> (f64, u64) {
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
        let ns = start.elapsed().as_nanos() as f64 / decoded.max(1) as f64;
        best = best.min(ns);
    }
    (best, decoded)
}
