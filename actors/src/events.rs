//! Typed market events shared by every provider.
//!
//! Symbols are [`SmolStr`]: tickers up to 23 bytes (every stock ticker and every
//! `O:`-prefixed OCC option ticker) are stored inline, so decoding a trade does not
//! allocate for its symbol.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use smol_str::SmolStr;

/// A ticker as the provider spells it (`NVDA`, `O:NVDA261218C00500000`, `BTC-USD`).
pub type Symbol = SmolStr;

/// True for a character a ticker may contain in any provider's spelling:
/// `A-Z a-z 0-9 : . - _`. Nothing else can reach a URL path or a topic from
/// a ticker, so callers that put tickers there check every character with it.
pub fn is_ticker_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_')
}

/// Trade condition codes; most trades carry at most four.
pub type Conditions = SmallVec<[i32; 4]>;

/// The asset class an event belongs to, derived from its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetClass {
    /// US equities.
    Stock,
    /// Options contracts (`O:` tickers).
    Option,
    /// Crypto pairs.
    Crypto,
}

impl AssetClass {
    /// Classifies a Polygon-style symbol.
    pub fn of(symbol: &str) -> Self {
        if symbol.starts_with("O:") {
            AssetClass::Option
        } else {
            AssetClass::Stock
        }
    }
}

/// One executed trade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trade {
    /// Ticker.
    pub symbol: Symbol,
    /// Asset class of the ticker.
    pub class: AssetClass,
    /// Trade price.
    pub price: f64,
    /// Trade size (shares, contracts or coins).
    pub size: f64,
    /// Exchange id, when the provider sends a numeric one.
    pub exchange: Option<i32>,
    /// Condition codes.
    pub conditions: Conditions,
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
    /// Provider sequence number, when present.
    pub sequence: Option<i64>,
}

/// A top-of-book quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// Ticker.
    pub symbol: Symbol,
    /// Asset class of the ticker.
    pub class: AssetClass,
    /// Best bid price.
    pub bid: f64,
    /// Best bid size.
    pub bid_size: f64,
    /// Best ask price.
    pub ask: f64,
    /// Best ask size.
    pub ask_size: f64,
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
}

/// The window an aggregate bar covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AggWindow {
    /// One second (Polygon `A`).
    Second,
    /// One minute (Polygon `AM`; Alpaca `b`, and `u` for a minute bar updated by late trades).
    Minute,
    /// One trading day so far (Alpaca `d`, resent after every minute of the session).
    Day,
}

/// An aggregate bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// Ticker.
    pub symbol: Symbol,
    /// Asset class of the ticker.
    pub class: AssetClass,
    /// Bar length.
    pub window: AggWindow,
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Volume in the window (absent for indices).
    pub volume: Option<f64>,
    /// Volume-weighted average price of the window.
    pub vwap: Option<f64>,
    /// Window start, Unix milliseconds.
    pub start_ms: i64,
    /// Window end, Unix milliseconds.
    pub end_ms: i64,
}

/// A provider status message (`connected`, `auth_success`, `success`, `error`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The provider's status word.
    pub status: String,
    /// The provider's message text.
    pub message: String,
}

/// Any decoded event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A trade.
    Trade(Trade),
    /// A quote.
    Quote(Quote),
    /// An aggregate bar.
    Aggregate(Aggregate),
    /// A status message.
    Status(Status),
}

impl Event {
    /// The event's ticker, if it has one.
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Event::Trade(t) => Some(&t.symbol),
            Event::Quote(q) => Some(&q.symbol),
            Event::Aggregate(a) => Some(&a.symbol),
            Event::Status(_) => None,
        }
    }

    /// A short, stable name of the event type, used as a metrics label.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Trade(_) => EventKind::Trade,
            Event::Quote(_) => EventKind::Quote,
            Event::Aggregate(_) => EventKind::Aggregate,
            Event::Status(_) => EventKind::Status,
        }
    }
}

/// The event types, as counted in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Trades.
    Trade,
    /// Quotes.
    Quote,
    /// Aggregates.
    Aggregate,
    /// Status messages.
    Status,
}

impl EventKind {
    /// Every kind, in label order.
    pub const ALL: [EventKind; 4] = [
        EventKind::Trade,
        EventKind::Quote,
        EventKind::Aggregate,
        EventKind::Status,
    ];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Trade => "trade",
            EventKind::Quote => "quote",
            EventKind::Aggregate => "aggregate",
            EventKind::Status => "status",
        }
    }
}
