//! Polygon's JSON wire format for the simulator's frames.
//!
//! Every frame is a JSON array, even for one event. Optional fields are left
//! out rather than sent as null: `c` is omitted when a trade has no conditions.
//! Field order follows the published examples, although clients must not rely
//! on it. Stock trades carry `i` as a string and a tape `z`; option trades have
//! neither, and option quotes have no `z`.

use serde::{Serialize, Serializer};

use super::instruments::Market;
use super::sim_event::{SimEvent, SimQuote, SimTrade};

/// A one-element status frame: `[{"ev":"status","status":..,"message":..}]`.
pub fn status_frame(status: &str, message: &str) -> String {
    #[derive(Serialize)]
    struct StatusWire<'a> {
        ev: &'static str,
        status: &'a str,
        message: &'a str,
    }
    let element = StatusWire {
        ev: "status",
        status,
        message,
    };
    // Serialising plain strings cannot fail; the fallback keeps the frame an array.
    serde_json::to_string(&[element]).unwrap_or_else(|_| "[]".to_owned())
}

/// Collects events into one data frame.
#[derive(Debug)]
pub struct FrameWriter {
    market: Market,
    buffer: Vec<u8>,
    events: usize,
}

impl FrameWriter {
    /// An empty frame for `market`.
    pub fn new(market: Market) -> Self {
        FrameWriter {
            market,
            buffer: Vec::with_capacity(1024),
            events: 0,
        }
    }

    /// Appends one event in the market's wire shape.
    pub fn push(&mut self, event: &SimEvent) {
        let mark = self.buffer.len();
        self.buffer.push(if self.events == 0 { b'[' } else { b',' });
        let written = match (self.market, event) {
            (Market::Stocks, SimEvent::Trade(t)) => {
                serde_json::to_writer(&mut self.buffer, &StockTrade::from(t))
            }
            (Market::Options, SimEvent::Trade(t)) => {
                serde_json::to_writer(&mut self.buffer, &OptionTrade::from(t))
            }
            (Market::Stocks, SimEvent::Quote(q)) => {
                serde_json::to_writer(&mut self.buffer, &StockQuote::from(q))
            }
            (Market::Options, SimEvent::Quote(q)) => {
                serde_json::to_writer(&mut self.buffer, &OptionQuote::from(q))
            }
        };
        match written {
            Ok(()) => self.events += 1,
            // A failed write leaves partial JSON behind; cut it off.
            Err(_) => self.buffer.truncate(mark),
        }
    }

    /// The finished frame, or None when no event was written.
    pub fn finish(mut self) -> Option<String> {
        if self.events == 0 {
            return None;
        }
        self.buffer.push(b']');
        String::from_utf8(self.buffer).ok()
    }
}

fn as_string<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn no_conditions(conditions: &&[i32]) -> bool {
    conditions.is_empty()
}

#[derive(Serialize)]
struct StockTrade<'a> {
    ev: &'static str,
    sym: &'a str,
    #[serde(serialize_with = "as_string")]
    i: u64,
    x: i32,
    p: f64,
    s: u64,
    #[serde(skip_serializing_if = "no_conditions")]
    c: &'a [i32],
    t: i64,
    q: u64,
    z: u8,
}

impl<'a> From<&'a SimTrade> for StockTrade<'a> {
    fn from(t: &'a SimTrade) -> Self {
        StockTrade {
            ev: "T",
            sym: t.symbol,
            i: t.trade_id,
            x: t.exchange,
            p: t.price,
            s: t.size,
            c: t.conditions,
            t: t.time_ms,
            q: t.sequence,
            z: t.tape,
        }
    }
}

#[derive(Serialize)]
struct OptionTrade<'a> {
    ev: &'static str,
    sym: &'a str,
    x: i32,
    p: f64,
    s: u64,
    #[serde(skip_serializing_if = "no_conditions")]
    c: &'a [i32],
    t: i64,
    q: u64,
}

impl<'a> From<&'a SimTrade> for OptionTrade<'a> {
    fn from(t: &'a SimTrade) -> Self {
        OptionTrade {
            ev: "T",
            sym: t.symbol,
            x: t.exchange,
            p: t.price,
            s: t.size,
            c: t.conditions,
            t: t.time_ms,
            q: t.sequence,
        }
    }
}

#[derive(Serialize)]
struct StockQuote<'a> {
    ev: &'static str,
    sym: &'a str,
    bx: i32,
    bp: f64,
    bs: u64,
    ax: i32,
    ap: f64,
    #[serde(rename = "as")]
    ask_size: u64,
    t: i64,
    q: u64,
    z: u8,
}

impl<'a> From<&'a SimQuote> for StockQuote<'a> {
    fn from(q: &'a SimQuote) -> Self {
        StockQuote {
            ev: "Q",
            sym: q.symbol,
            bx: q.bid_exchange,
            bp: q.bid,
            bs: q.bid_size,
            ax: q.ask_exchange,
            ap: q.ask,
            ask_size: q.ask_size,
            t: q.time_ms,
            q: q.sequence,
            z: q.tape,
        }
    }
}

#[derive(Serialize)]
struct OptionQuote<'a> {
    ev: &'static str,
    sym: &'a str,
    bx: i32,
    ax: i32,
    bp: f64,
    ap: f64,
    bs: u64,
    #[serde(rename = "as")]
    ask_size: u64,
    t: i64,
    q: u64,
}

impl<'a> From<&'a SimQuote> for OptionQuote<'a> {
    fn from(q: &'a SimQuote) -> Self {
        OptionQuote {
            ev: "Q",
            sym: q.symbol,
            bx: q.bid_exchange,
            ax: q.ask_exchange,
            bp: q.bid,
            ap: q.ask,
            bs: q.bid_size,
            ask_size: q.ask_size,
            t: q.time_ms,
            q: q.sequence,
        }
    }
}
