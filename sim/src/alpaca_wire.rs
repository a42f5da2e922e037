//! Alpaca's wire format for the simulator's frames, in JSON and in msgpack.
//!
//! Every frame is an array of messages keyed by `T`; control messages
//! (`success`, `error`, `subscription`) always travel alone, data may be
//! batched. The same serde shapes make both encodings: JSON goes out as a
//! text frame, msgpack (maps with field names, as `rmp_serde::to_vec_named`
//! writes them) as a binary frame. Only the event time differs: an RFC-3339
//! string in JSON and a msgpack Timestamp extension (type −1) in msgpack,
//! which is what alpaca-py's `msg["t"].to_datetime()` expects.
//!
//! Exchange, condition and tape codes are letters on Alpaca's wire; the
//! script's numeric Polygon codes are translated to the matching SIP
//! participant letters.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Serialize, Serializer};

use super::alpaca_feed::Encoding;
use super::sim_event::{SimEvent, SimQuote, SimTrade};

/// One encoded frame, ready for the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A text frame (JSON).
    Text(String),
    /// A binary frame (msgpack).
    Binary(Bytes),
}

impl Payload {
    /// The frame as a WebSocket message.
    pub(crate) fn into_message(self) -> actix_ws::Message {
        match self {
            Payload::Text(text) => actix_ws::Message::Text(text.into()),
            Payload::Binary(bytes) => actix_ws::Message::Binary(bytes),
        }
    }
}

/// Encodes `value` as one frame; None only when serialisation fails, which
/// the shapes below (strings, numbers, lists) never do.
pub fn encode<T: Serialize + ?Sized>(value: &T, encoding: Encoding) -> Option<Payload> {
    match encoding {
        Encoding::Json => serde_json::to_string(value).ok().map(Payload::Text),
        Encoding::Msgpack => rmp_serde::to_vec_named(value)
            .ok()
            .map(|bytes| Payload::Binary(Bytes::from(bytes))),
    }
}

/// A control message of Alpaca's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "T", rename_all = "lowercase")]
pub enum Control {
    /// `{"T":"success","msg":"connected"}` and `authenticated`.
    Success {
        /// `connected` or `authenticated`.
        msg: &'static str,
    },
    /// `{"T":"error","code":402,"msg":"auth failed"}`.
    Error {
        /// The numeric code (reference §4.4).
        code: u16,
        /// The code's fixed text.
        msg: &'static str,
    },
}

impl Control {
    /// `success` with `msg`.
    pub fn success(msg: &'static str) -> Self {
        Control::Success { msg }
    }

    /// `error` with `code` and its text.
    pub fn error(code: u16, msg: &'static str) -> Self {
        Control::Error { code, msg }
    }
}

/// A control message alone in its array, as Alpaca always sends them.
pub fn control_frame(control: &Control, encoding: Encoding) -> Option<Payload> {
    encode(&[control], encoding)
}

/// A frame of trades and quotes; None when `events` is empty.
pub fn data_frame(events: &[SimEvent], encoding: Encoding) -> Option<Payload> {
    if events.is_empty() {
        return None;
    }
    let messages: Vec<DataMessage<'_>> = events.iter().map(DataMessage::from).collect();
    encode(&messages, encoding)
}

/// An event time: RFC-3339 in JSON, a Timestamp extension in msgpack. Which
/// one follows the serializer: serde_json is human-readable, rmp-serde not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub i64);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return serializer.collect_str(&rfc3339(self.0));
        }
        /// Bytes that serialize as msgpack `bin`, not as a list of numbers.
        struct Bin(Vec<u8>);
        impl Serialize for Bin {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&self.0)
            }
        }
        let ext = (TIMESTAMP_EXT, Bin(timestamp_ext(self.0)));
        serializer.serialize_newtype_struct(rmp_serde::MSGPACK_EXT_STRUCT_NAME, &ext)
    }
}

/// The msgpack extension type of timestamps.
pub const TIMESTAMP_EXT: i8 = -1;

/// The last millisecond of year 9999, the latest time RFC-3339 can write.
pub const MAX_RFC3339_MS: i64 = 253_402_300_799_999;

/// Unix milliseconds as RFC-3339 with milliseconds, e.g.
/// `2026-01-01T00:00:00.010Z`; times outside 1970 to 9999 are clamped to
/// them, because the format (and the formatter) cannot write others.
pub fn rfc3339(ms: i64) -> String {
    let clamped = u64::try_from(ms.clamp(0, MAX_RFC3339_MS)).unwrap_or(0);
    let since_epoch = Duration::from_millis(clamped);
    humantime::format_rfc3339_millis(UNIX_EPOCH + since_epoch).to_string()
}

/// The data of a msgpack Timestamp extension for Unix milliseconds, in the
/// smallest of the spec's three forms: 4 bytes (whole seconds that fit 32
/// bits), 8 bytes (30-bit nanoseconds and 34-bit seconds) or 12 bytes (32-bit
/// nanoseconds and signed 64-bit seconds).
pub fn timestamp_ext(ms: i64) -> Vec<u8> {
    let seconds = ms.div_euclid(1000);
    // Below 1e9, so the cast is exact.
    let nanos = (ms.rem_euclid(1000) * 1_000_000) as u32;
    match u64::try_from(seconds) {
        Ok(s) if nanos == 0 && s <= u64::from(u32::MAX) => (s as u32).to_be_bytes().to_vec(),
        Ok(s) if s < 1 << 34 => ((u64::from(nanos) << 34) | s).to_be_bytes().to_vec(),
        _ => {
            let mut data = nanos.to_be_bytes().to_vec();
            data.extend_from_slice(&seconds.to_be_bytes());
            data
        }
    }
}

/// The SIP participant letter of one of the script's Polygon exchange ids.
fn exchange_letter(id: i32) -> &'static str {
    match id {
        1 => "A",  // NYSE American
        4 => "D",  // FINRA ADF
        8 => "K",  // Cboe EDGX
        10 => "N", // NYSE
        11 => "P", // NYSE Arca
        12 => "Q", // Nasdaq
        15 => "V", // IEX
        19 => "U", // MEMX
        _ => "D",
    }
}

/// The tape letter of a tape number: 1 is A (NYSE), 2 is B, 3 is C (Nasdaq).
fn tape_letter(tape: u8) -> &'static str {
    match tape {
        1 => "A",
        2 => "B",
        _ => "C",
    }
}

/// The condition letters of one of the script's Polygon condition lists:
/// every trade is a regular sale (`@`), intermarket sweeps (14) add `F`.
/// Trade-through exempt (41) has no letter of its own on the tapes.
fn trade_conditions(conditions: &[i32]) -> &'static [&'static str] {
    if conditions.contains(&14) {
        &["@", "F"]
    } else {
        &["@"]
    }
}

/// One data message, in the field order of Alpaca's documentation.
#[derive(Serialize)]
#[serde(untagged)]
enum DataMessage<'a> {
    Trade(TradeWire<'a>),
    Quote(QuoteWire<'a>),
}

impl<'a> From<&'a SimEvent> for DataMessage<'a> {
    fn from(event: &'a SimEvent) -> Self {
        match event {
            SimEvent::Trade(t) => DataMessage::Trade(TradeWire::from(t)),
            SimEvent::Quote(q) => DataMessage::Quote(QuoteWire::from(q)),
        }
    }
}

#[derive(Serialize)]
struct TradeWire<'a> {
    #[serde(rename = "T")]
    kind: &'static str,
    #[serde(rename = "S")]
    symbol: &'a str,
    i: u64,
    x: &'static str,
    p: f64,
    s: u64,
    t: Time,
    c: &'static [&'static str],
    z: &'static str,
}

impl<'a> From<&'a SimTrade> for TradeWire<'a> {
    fn from(t: &'a SimTrade) -> Self {
        TradeWire {
            kind: "t",
            symbol: t.symbol,
            i: t.trade_id,
            x: exchange_letter(t.exchange),
            p: t.price,
            s: t.size,
            t: Time(t.time_ms),
            c: trade_conditions(t.conditions),
            z: tape_letter(t.tape),
        }
    }
}

#[derive(Serialize)]
struct QuoteWire<'a> {
    #[serde(rename = "T")]
    kind: &'static str,
    #[serde(rename = "S")]
    symbol: &'a str,
    bx: &'static str,
    bp: f64,
    bs: u64,
    ax: &'static str,
    ap: f64,
    #[serde(rename = "as")]
    ask_size: u64,
    t: Time,
    c: &'static [&'static str],
    z: &'static str,
}

impl<'a> From<&'a SimQuote> for QuoteWire<'a> {
    fn from(q: &'a SimQuote) -> Self {
        QuoteWire {
            kind: "q",
            symbol: q.symbol,
            bx: exchange_letter(q.bid_exchange),
            bp: q.bid,
            bs: q.bid_size,
            ax: exchange_letter(q.ask_exchange),
            ap: q.ask,
            ask_size: q.ask_size,
            t: Time(q.time_ms),
            // `R`: a regular two-sided quote.
            c: &["R"],
            z: tape_letter(q.tape),
        }
    }
}
