//! Alpaca's wire format byte for byte: JSON frames as the documentation
//! shows them, and msgpack frames as rmpv reads them, with the event time as
//! a Timestamp extension in each of its three forms.

use rmpv::Value as Mp;
use serde_json::{json, Value};

use super::alpaca_feed::Encoding;
use super::alpaca_wire::{
    control_frame, data_frame, rfc3339, timestamp_ext, Control, Payload, TIMESTAMP_EXT,
};
use super::sim_event::{SimEvent, SimQuote, SimTrade};

fn trade() -> SimEvent {
    SimEvent::Trade(SimTrade {
        index: 0,
        symbol: "AAPL",
        exchange: 15,
        price: 126.55,
        size: 100,
        conditions: &[14],
        time_ms: 1_614_009_104_208,
        sequence: 3,
        trade_id: 96921,
        tape: 3,
    })
}

fn quote() -> SimEvent {
    SimEvent::Quote(SimQuote {
        symbol: "AMD",
        bid_exchange: 19,
        bid: 87.66,
        bid_size: 1,
        ask_exchange: 12,
        ask: 87.68,
        ask_size: 4,
        time_ms: 1_614_009_105_335,
        sequence: 1,
        tape: 3,
    })
}

fn text(payload: Option<Payload>) -> String {
    match payload {
        Some(Payload::Text(text)) => text,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn msgpack(payload: Option<Payload>) -> Mp {
    match payload {
        Some(Payload::Binary(bytes)) => {
            rmpv::decode::read_value(&mut &bytes[..]).expect("the frame is msgpack")
        }
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

/// The value of `key` in a msgpack map.
fn field<'a>(map: &'a Mp, key: &str) -> &'a Mp {
    map.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no `{key}` in {map}"))
}

#[test]
fn json_data_frames_match_the_documented_shapes() {
    let frame = text(data_frame(&[trade(), quote()], Encoding::Json));
    assert_eq!(
        frame,
        concat!(
            r#"[{"T":"t","S":"AAPL","i":96921,"x":"V","p":126.55,"s":100,"#,
            r#""t":"2021-02-22T15:51:44.208Z","c":["@","F"],"z":"C"},"#,
            r#"{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"#,
            r#""t":"2021-02-22T15:51:45.335Z","c":["R"],"z":"C"}]"#
        )
    );
    assert!(data_frame(&[], Encoding::Json).is_none());
}

#[test]
fn json_control_frames_are_arrays_of_one() {
    let frame =
        |c: Control| serde_json::from_str::<Value>(&text(control_frame(&c, Encoding::Json)));
    assert_eq!(
        frame(Control::success("connected")).ok(),
        Some(json!([{"T": "success", "msg": "connected"}]))
    );
    assert_eq!(
        frame(Control::error(402, "auth failed")).ok(),
        Some(json!([{"T": "error", "code": 402, "msg": "auth failed"}]))
    );
}

#[test]
fn msgpack_frames_carry_the_same_fields_and_a_timestamp_ext() {
    let frame = msgpack(data_frame(&[trade(), quote()], Encoding::Msgpack));
    let messages = frame.as_array().expect("an array");
    assert_eq!(messages.len(), 2);
    let trade = &messages[0];
    assert_eq!(field(trade, "T").as_str(), Some("t"));
    assert_eq!(field(trade, "S").as_str(), Some("AAPL"));
    assert_eq!(field(trade, "i").as_u64(), Some(96921));
    assert_eq!(field(trade, "p").as_f64(), Some(126.55));
    assert_eq!(field(trade, "s").as_u64(), Some(100));
    assert_eq!(field(trade, "z").as_str(), Some("C"));
    match field(trade, "t") {
        Mp::Ext(kind, data) => {
            assert_eq!(*kind, TIMESTAMP_EXT);
            assert_eq!(data.len(), 8, "milliseconds need the 8-byte form");
            let packed = u64::from_be_bytes(data[..].try_into().expect("8 bytes"));
            assert_eq!(packed & ((1 << 34) - 1), 1_614_009_104, "seconds");
            assert_eq!(packed >> 34, 208_000_000, "nanoseconds");
        }
        other => panic!("`t` must be a Timestamp ext, got {other}"),
    }
    assert_eq!(field(&messages[1], "as").as_u64(), Some(4));
    let control = msgpack(control_frame(
        &Control::success("connected"),
        Encoding::Msgpack,
    ));
    let hello = &control.as_array().expect("an array")[0];
    assert_eq!(field(hello, "T").as_str(), Some("success"));
    assert_eq!(field(hello, "msg").as_str(), Some("connected"));
}

#[test]
fn timestamps_take_the_smallest_form_the_spec_allows() {
    // Whole seconds within 32 bits: 4 bytes of seconds.
    assert_eq!(timestamp_ext(1_000_000), 1000u32.to_be_bytes().to_vec());
    // Fractions before 2514: 8 bytes, nanoseconds above 34 bits of seconds.
    let eight = timestamp_ext(10_010);
    assert_eq!(eight, ((10_000_000u64 << 34) | 10).to_be_bytes().to_vec());
    // Beyond 34 bits of seconds, or before 1970: 12 bytes.
    let late = timestamp_ext(253_402_300_799_500);
    assert_eq!(late.len(), 12);
    assert_eq!(late[..4], 500_000_000u32.to_be_bytes());
    assert_eq!(late[4..], 253_402_300_799i64.to_be_bytes());
    let early = timestamp_ext(-1);
    assert_eq!(early[..4], 999_000_000u32.to_be_bytes());
    assert_eq!(early[4..], (-1i64).to_be_bytes());
}

#[test]
fn rfc3339_times_have_milliseconds_and_stay_in_range() {
    assert_eq!(rfc3339(1_767_225_600_010), "2026-01-01T00:00:00.010Z");
    assert_eq!(rfc3339(-5), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59.999Z");
}
