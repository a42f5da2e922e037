//! Arbitrary bytes through both paths of each provider's decoder.
//!
//! The decoder tries a byte scanner first and falls back to serde for anything
//! the scanner does not handle. Whatever the input, the result of
//! `decode_frame` (scanner, then fallback) must be exactly that of
//! `decode_frame_general` (serde alone): the same events with the same bits in
//! every number, and the same issues with the same messages.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tapewatch_actors::events::Event;
use tapewatch_actors::provider::{alpaca_decode, polygon_decode, DecodeIssue};

type Decoder = fn(&[u8], &mut Vec<Event>, &mut Vec<DecodeIssue>);

fn run(decoder: Decoder, frame: &[u8]) -> String {
    let (mut events, mut issues) = (Vec::new(), Vec::new());
    decoder(frame, &mut events, &mut issues);
    // Debug output tells -0.0 from 0.0 and shows every field and message.
    format!("{events:?} {issues:?}")
}

fuzz_target!(|frame: &[u8]| {
    let pairs: [(&str, Decoder, Decoder); 2] = [
        ("polygon", polygon_decode::decode_frame, polygon_decode::decode_frame_general),
        ("alpaca", alpaca_decode::decode_frame, alpaca_decode::decode_frame_general),
    ];
    for (name, decoder, general) in pairs {
        assert_eq!(run(decoder, frame), run(general, frame), "{name}");
    }
});
