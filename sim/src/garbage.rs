//! The hostile frames of [`Faults::garbage_every`]: what a real feed, a broken
//! proxy or a bug may put on the wire between valid data frames.
//!
//! None of them may produce an event in a correct client: each is either
//! undecodable, not a data array, or an element that fails validation. The
//! frames are fixed byte strings (only the oversized one depends on
//! [`Faults::oversize_bytes`]), so a test can compare them byte for byte.
//!
//! [`Faults::garbage_every`]: super::Faults::garbage_every
//! [`Faults::oversize_bytes`]: super::Faults::oversize_bytes

use actix_ws::Message;
use bytes::Bytes;

/// A well-formed stock trade, used inside frames that are wrong as a whole.
const VALID_TRADE: &str =
    r#"{"ev":"T","sym":"AAPL","i":"1","x":4,"p":100.5,"s":100,"t":1700000000000,"q":1,"z":3}"#;

/// One kind of hostile frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GarbageKind {
    /// Text cut off mid-element: `[{"ev":"T","sym":`.
    MalformedJson,
    /// Text: an array with one complete trade, then cut off mid-element, so
    /// the whole frame is undecodable.
    TruncatedArray,
    /// A binary frame holding a valid trade array; Polygon sends only text.
    Binary,
    /// A binary frame of bytes that are not UTF-8: `FF FE FD 80 00`.
    InvalidUtf8,
    /// Text: a single trade as a JSON object instead of an array.
    ObjectNotArray,
    /// Text: `[{"ev":"ZZZ","sym":"AAPL"}]`, an event type that does not exist.
    UnknownEv,
    /// Text: `[{"ev":"T","sym":"AAPL"}]`, a trade without price, size or time.
    MissingFields,
    /// Text: a trade whose price is a string, `"p":"abc"`.
    MistypedField,
    /// Text: a trade with a negative price and an absurd time, `"p":-5` and
    /// `"t":1e30`.
    OutOfRange,
    /// Text: `[{"ev":"status","status":"error","message":"not authorized"}]`.
    StatusError,
    /// Text: a subscription ack for a topic never asked for,
    /// `subscribed to: T.NEVER`.
    UnaskedAck,
    /// Text: `[{"ev":"ZZZ","sym":"AAPL","pad":"xx…"}]` padded to exactly
    /// `oversize_bytes` bytes, above a client's frame limit.
    Oversize,
}

impl GarbageKind {
    /// Every kind, in the order the rotation sends them.
    pub const ALL: [GarbageKind; 12] = [
        GarbageKind::MalformedJson,
        GarbageKind::TruncatedArray,
        GarbageKind::Binary,
        GarbageKind::InvalidUtf8,
        GarbageKind::ObjectNotArray,
        GarbageKind::UnknownEv,
        GarbageKind::MissingFields,
        GarbageKind::MistypedField,
        GarbageKind::OutOfRange,
        GarbageKind::StatusError,
        GarbageKind::UnaskedAck,
        GarbageKind::Oversize,
    ];

    /// The kind at position `n` of the endless rotation.
    pub fn nth(n: u64) -> GarbageKind {
        let len = Self::ALL.len() as u64;
        // The remainder is below 12, so the index always fits.
        Self::ALL[usize::try_from(n % len).unwrap_or(0)]
    }

    /// The position of the kind in [`GarbageKind::ALL`].
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// A short snake_case name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            GarbageKind::MalformedJson => "malformed_json",
            GarbageKind::TruncatedArray => "truncated_array",
            GarbageKind::Binary => "binary",
            GarbageKind::InvalidUtf8 => "invalid_utf8",
            GarbageKind::ObjectNotArray => "object_not_array",
            GarbageKind::UnknownEv => "unknown_ev",
            GarbageKind::MissingFields => "missing_fields",
            GarbageKind::MistypedField => "mistyped_field",
            GarbageKind::OutOfRange => "out_of_range",
            GarbageKind::StatusError => "status_error",
            GarbageKind::UnaskedAck => "unasked_ack",
            GarbageKind::Oversize => "oversize",
        }
    }

    /// Whether the frame goes out as a binary frame rather than text.
    pub fn is_binary(self) -> bool {
        matches!(self, GarbageKind::Binary | GarbageKind::InvalidUtf8)
    }

    /// The frame's payload; `oversize_bytes` sizes [`GarbageKind::Oversize`].
    pub fn payload(self, oversize_bytes: usize) -> Vec<u8> {
        let text = match self {
            GarbageKind::MalformedJson => r#"[{"ev":"T","sym":"#.to_owned(),
            GarbageKind::TruncatedArray => format!(r#"[{VALID_TRADE},{{"ev":"T","sy"#),
            GarbageKind::Binary => format!("[{VALID_TRADE}]"),
            GarbageKind::InvalidUtf8 => return vec![0xff, 0xfe, 0xfd, 0x80, 0x00],
            GarbageKind::ObjectNotArray => VALID_TRADE.to_owned(),
            GarbageKind::UnknownEv => r#"[{"ev":"ZZZ","sym":"AAPL"}]"#.to_owned(),
            GarbageKind::MissingFields => r#"[{"ev":"T","sym":"AAPL"}]"#.to_owned(),
            GarbageKind::MistypedField => format!("[{}]", VALID_TRADE.replace("100.5", r#""abc""#)),
            GarbageKind::OutOfRange => format!(
                "[{}]",
                VALID_TRADE
                    .replace("100.5", "-5")
                    .replace("1700000000000", "1e30")
            ),
            GarbageKind::StatusError => {
                r#"[{"ev":"status","status":"error","message":"not authorized"}]"#.to_owned()
            }
            GarbageKind::UnaskedAck => {
                r#"[{"ev":"status","status":"success","message":"subscribed to: T.NEVER"}]"#
                    .to_owned()
            }
            GarbageKind::Oversize => return oversize(oversize_bytes),
        };
        text.into_bytes()
    }

    /// The frame as a WebSocket message.
    pub(crate) fn message(self, oversize_bytes: usize) -> Message {
        let payload = self.payload(oversize_bytes);
        if self.is_binary() {
            return Message::Binary(Bytes::from(payload));
        }
        // Every text payload above is built from ASCII, so this never fails;
        // the fallback keeps the kind's frame type anyway.
        match String::from_utf8(payload) {
            Ok(text) => Message::Text(text.into()),
            Err(error) => Message::Binary(Bytes::from(error.into_bytes())),
        }
    }
}

/// `[{"ev":"ZZZ","sym":"AAPL","pad":"xx…"}]` of exactly `size` bytes (or the
/// bare wrapper, when `size` is smaller than it).
fn oversize(size: usize) -> Vec<u8> {
    const HEAD: &[u8] = br#"[{"ev":"ZZZ","sym":"AAPL","pad":""#;
    const TAIL: &[u8] = br#""}]"#;
    let pad = size.saturating_sub(HEAD.len() + TAIL.len());
    let mut frame = Vec::with_capacity(HEAD.len() + pad + TAIL.len());
    frame.extend_from_slice(HEAD);
    frame.resize(HEAD.len() + pad, b'x');
    frame.extend_from_slice(TAIL);
    frame
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn the_rotation_visits_every_kind_in_order() {
        let first: Vec<GarbageKind> = (0..12).map(GarbageKind::nth).collect();
        assert_eq!(first, GarbageKind::ALL);
        assert_eq!(GarbageKind::nth(12), GarbageKind::MalformedJson);
        for (i, kind) in GarbageKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn each_payload_is_wrong_in_its_documented_way() {
        let parse = |kind: GarbageKind| serde_json::from_slice::<Value>(&kind.payload(64));
        assert!(parse(GarbageKind::MalformedJson).is_err());
        assert!(parse(GarbageKind::TruncatedArray).is_err());
        assert!(std::str::from_utf8(&GarbageKind::InvalidUtf8.payload(0)).is_err());
        assert!(parse(GarbageKind::ObjectNotArray).is_ok_and(|v| v.is_object()));
        let mistyped = parse(GarbageKind::MistypedField).unwrap_or_default();
        assert_eq!(mistyped[0]["p"], "abc");
        let out_of_range = parse(GarbageKind::OutOfRange).unwrap_or_default();
        assert_eq!(out_of_range[0]["p"], -5);
        assert_eq!(out_of_range[0]["t"].as_f64(), Some(1e30));
        assert!(parse(GarbageKind::Binary).is_ok_and(|v| v.is_array()));
    }

    #[test]
    fn the_oversized_frame_has_exactly_the_configured_size() {
        let frame = GarbageKind::Oversize.payload(2 << 20);
        assert_eq!(frame.len(), 2 << 20);
        let parsed: Value = serde_json::from_slice(&frame).unwrap_or_default();
        assert_eq!(parsed[0]["ev"], "ZZZ");
        assert!(GarbageKind::Oversize.payload(3).len() < 64);
    }
}
