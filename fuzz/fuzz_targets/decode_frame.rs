//! Arbitrary bytes as one WebSocket frame.
//!
//! This is what a misbehaving server, a proxy that mangles frames, or a
//! truncated read can hand the decoder. Both entry points the session uses on
//! every frame are exercised: `Polygon::control` first, then `decode_frame`.
//! The properties checked are in `invariants.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod invariants;

fuzz_target!(|frame: &[u8]| {
    invariants::check_frame(frame);
});
