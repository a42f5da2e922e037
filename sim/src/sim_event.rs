//! The events the script produces, before they are put on the wire.
//!
//! Symbols are `&'static str` from the instrument tables and condition lists
//! are static slices, so generating an event allocates nothing.

/// One trade as the script produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTrade {
    /// Trade index on its market (see [`super::injections`]).
    pub index: u64,
    /// Ticker.
    pub symbol: &'static str,
    /// Exchange id (`x`).
    pub exchange: i32,
    /// Price, rounded to cents.
    pub price: f64,
    /// Shares (stocks) or contracts (options).
    pub size: u64,
    /// Condition codes (`c`); empty means the field is omitted.
    pub conditions: &'static [i32],
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
    /// Per-ticker sequence number (`q`): increasing, not always consecutive.
    pub sequence: u64,
    /// Trade id (`i`); stocks only, unique per market.
    pub trade_id: u64,
    /// Tape (`z`); stocks only, zero for options.
    pub tape: u8,
}

/// One top-of-book quote as the script produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimQuote {
    /// Ticker.
    pub symbol: &'static str,
    /// Bid exchange id.
    pub bid_exchange: i32,
    /// Bid price.
    pub bid: f64,
    /// Bid size.
    pub bid_size: u64,
    /// Ask exchange id.
    pub ask_exchange: i32,
    /// Ask price.
    pub ask: f64,
    /// Ask size.
    pub ask_size: u64,
    /// Event time, Unix milliseconds (that of the trade it follows).
    pub time_ms: i64,
    /// Quote sequence number, unique per market.
    pub sequence: u64,
    /// Tape (`z`); stocks only, zero for options.
    pub tape: u8,
}

/// A scripted event.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// A trade (`T`).
    Trade(SimTrade),
    /// A quote (`Q`).
    Quote(SimQuote),
}

impl SimEvent {
    /// The event's ticker.
    pub fn symbol(&self) -> &'static str {
        match self {
            SimEvent::Trade(t) => t.symbol,
            SimEvent::Quote(q) => q.symbol,
        }
    }

    /// The event's time, Unix milliseconds.
    pub fn time_ms(&self) -> i64 {
        match self {
            SimEvent::Trade(t) => t.time_ms,
            SimEvent::Quote(q) => q.time_ms,
        }
    }

    /// Restamps the event at `time_ms` (a paced feed sends events as they happen).
    pub fn set_time_ms(&mut self, time_ms: i64) {
        match self {
            SimEvent::Trade(t) => t.time_ms = time_ms,
            SimEvent::Quote(q) => q.time_ms = time_ms,
        }
    }
}

/// Fixtures shared by the simulator's tests.
#[cfg(test)]
impl SimEvent {
    /// A plain trade of `size` on `symbol`.
    pub(crate) fn test_trade(symbol: &'static str, size: u64) -> SimEvent {
        SimEvent::Trade(SimTrade {
            index: 0,
            symbol,
            exchange: 4,
            price: 1.0,
            size,
            conditions: &[],
            time_ms: 0,
            sequence: 1,
            trade_id: 1,
            tape: 3,
        })
    }

    /// A plain quote on `symbol`.
    pub(crate) fn test_quote(symbol: &'static str) -> SimEvent {
        SimEvent::Quote(SimQuote {
            symbol,
            bid_exchange: 4,
            bid: 1.0,
            bid_size: 1,
            ask_exchange: 4,
            ask: 1.01,
            ask_size: 1,
            time_ms: 0,
            sequence: 1,
            tape: 3,
        })
    }
}
