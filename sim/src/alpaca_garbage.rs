//! The hostile frames of [`super::Faults::garbage_every`] on an Alpaca
//! connection: the same rotation of [`GarbageKind`]s as on Polygon's feeds,
//! shaped like Alpaca's messages and encoded like the connection's frames.
//!
//! None may produce an event in a correct client. In msgpack mode the kinds
//! that are about the frame itself change with the encoding: the undecodable
//! frames are cut-off or invalid msgpack, and the frame of the wrong type is a
//! text frame (JSON) where binary is expected. The out-of-range trade's time is
//! the last second of year 9999, which takes the 12-byte Timestamp form.

use actix_ws::Message;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use super::alpaca_feed::Encoding;
use super::alpaca_wire::{encode, Payload, Time};
use super::garbage::GarbageKind;

/// A well-formed trade, used inside frames that are wrong as a whole.
fn valid_trade() -> Value {
    json!({"T": "t", "S": "AAPL", "i": 1, "x": "V", "p": 100.5, "s": 100,
        "t": "2023-11-14T22:13:20Z", "c": ["@"], "z": "C"})
}

/// A trade with a negative price at the end of year 9999.
#[derive(Serialize)]
struct OutOfRange {
    #[serde(rename = "T")]
    kind: &'static str,
    #[serde(rename = "S")]
    symbol: &'static str,
    i: u64,
    x: &'static str,
    p: f64,
    s: u64,
    t: Time,
    z: &'static str,
}

/// The frame of `kind` for a connection in `encoding`; `oversize_bytes`
/// sizes [`GarbageKind::Oversize`].
pub(crate) fn message(kind: GarbageKind, oversize_bytes: usize, encoding: Encoding) -> Message {
    let msgpack = encoding == Encoding::Msgpack;
    let encoded = |value: &Value| encode(value, encoding);
    let payload = match kind {
        GarbageKind::MalformedJson if msgpack => cut(encoded(&json!([valid_trade()])), 7),
        GarbageKind::MalformedJson => Some(Payload::Text(r#"[{"T":"t","S":"#.to_owned())),
        GarbageKind::TruncatedArray => {
            let two = encoded(&json!([valid_trade(), valid_trade()]));
            cut(two, if msgpack { 12 } else { 30 })
        }
        GarbageKind::Binary => {
            // The other frame type: binary JSON, or text where msgpack is due.
            let text = json!([valid_trade()]).to_string();
            Some(match encoding {
                Encoding::Json => Payload::Binary(Bytes::from(text)),
                Encoding::Msgpack => Payload::Text(text),
            })
        }
        // 0xc1 is the one byte msgpack never uses; the rest is not UTF-8.
        GarbageKind::InvalidUtf8 if msgpack => Some(Payload::Binary(Bytes::from_static(&[0xc1]))),
        GarbageKind::InvalidUtf8 => Some(Payload::Binary(Bytes::from_static(&[
            0xff, 0xfe, 0xfd, 0x80, 0x00,
        ]))),
        GarbageKind::ObjectNotArray => encoded(&valid_trade()),
        GarbageKind::UnknownEv => encoded(&json!([{"T": "zzz", "S": "AAPL"}])),
        GarbageKind::MissingFields => encoded(&json!([{"T": "t", "S": "AAPL"}])),
        GarbageKind::MistypedField => {
            let mut trade = valid_trade();
            trade["p"] = json!("abc");
            encoded(&json!([trade]))
        }
        GarbageKind::OutOfRange => encode(
            &[OutOfRange {
                kind: "t",
                symbol: "AAPL",
                i: 1,
                x: "V",
                p: -5.0,
                s: 100,
                t: Time(253_402_300_799_000),
                z: "C",
            }],
            encoding,
        ),
        GarbageKind::StatusError => {
            encoded(&json!([{"T": "error", "code": 500, "msg": "internal error"}]))
        }
        GarbageKind::UnaskedAck => encoded(&json!([{"T": "subscription", "trades": ["NEVER"],
            "quotes": [], "bars": []}])),
        GarbageKind::Oversize => oversize(oversize_bytes, encoding),
    };
    // Every shape above serialises; an empty binary frame is the fallback.
    payload.map_or(Message::Binary(Bytes::new()), Payload::into_message)
}

/// The payload cut to `keep` bytes, in the frame type it had.
fn cut(payload: Option<Payload>, keep: usize) -> Option<Payload> {
    Some(match payload? {
        Payload::Text(mut text) => {
            text.truncate(keep.min(text.len()));
            Payload::Text(text)
        }
        Payload::Binary(bytes) => Payload::Binary(bytes.slice(..keep.min(bytes.len()))),
    })
}

/// `[{"T":"zzz","S":"AAPL","pad":"xx…"}]` of exactly `size` bytes, or as
/// close as the encoding allows for tiny sizes.
fn oversize(size: usize, encoding: Encoding) -> Option<Payload> {
    let frame = |pad: usize| {
        encode(
            &json!([{"T": "zzz", "S": "AAPL", "pad": "x".repeat(pad)}]),
            encoding,
        )
    };
    let len = |payload: &Payload| match payload {
        Payload::Text(text) => text.len(),
        Payload::Binary(bytes) => bytes.len(),
    };
    let mut pad = 0;
    let mut payload = frame(pad)?;
    // A string's length header grows with the string, so the first guess may
    // be a few bytes off; each correction lands on the exact size or nearer.
    for _ in 0..4 {
        let have = len(&payload);
        if have == size {
            break;
        }
        pad = (pad + size).saturating_sub(have);
        payload = frame(pad)?;
    }
    Some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(message: Message) -> (bool, Vec<u8>) {
        match message {
            Message::Text(text) => (false, text.as_bytes().to_vec()),
            Message::Binary(bytes) => (true, bytes.to_vec()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_garbage_is_text_except_the_binary_kinds() {
        for kind in GarbageKind::ALL {
            let (binary, payload) = bytes_of(message(kind, 256, Encoding::Json));
            assert_eq!(binary, kind.is_binary(), "{kind:?}");
            assert!(!payload.is_empty(), "{kind:?}");
        }
        let (_, cut) = bytes_of(message(GarbageKind::TruncatedArray, 0, Encoding::Json));
        assert!(serde_json::from_slice::<Value>(&cut).is_err());
    }

    #[test]
    fn msgpack_garbage_is_binary_except_the_text_frame() {
        for kind in GarbageKind::ALL {
            let (binary, _) = bytes_of(message(kind, 256, Encoding::Msgpack));
            assert_eq!(binary, kind != GarbageKind::Binary, "{kind:?}");
        }
        for kind in [
            GarbageKind::MalformedJson,
            GarbageKind::TruncatedArray,
            GarbageKind::InvalidUtf8,
        ] {
            let (_, payload) = bytes_of(message(kind, 0, Encoding::Msgpack));
            assert!(
                rmp_serde::from_slice::<Value>(&payload).is_err(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_oversized_frame_has_exactly_the_configured_size() {
        for encoding in [Encoding::Json, Encoding::Msgpack] {
            for size in [300, 70_000, 2 << 20] {
                let (_, payload) = bytes_of(message(GarbageKind::Oversize, size, encoding));
                assert_eq!(payload.len(), size, "{encoding:?}");
            }
        }
    }
}
