//! One symbol's entry in the state table: its latest quote, its last trade
//! with the day's volume, their revisions, and which of them changed since
//! the last publish. Values only move forward (see [`super::state`]).

use serde::Serialize;
use tapewatch_actors::events::{Event, Quote, Symbol, Trade};

use super::state::{StateKey, StateKind};

const DAY_MS: i64 = 86_400_000;
/// The trading day turns at midnight UTC−5.
const DAY_OFFSET_MS: i64 = -5 * 3_600_000;

/// The `data` of a `last:` push.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastTrade {
    /// Ticker.
    pub symbol: Symbol,
    /// Price of the last trade.
    pub price: f64,
    /// Its size.
    pub size: f64,
    /// Its event time, Unix milliseconds.
    pub time_ms: i64,
    /// Its provider sequence number, when the provider sends one.
    pub sequence: Option<i64>,
    /// Shares (or contracts) traded in the symbol's day so far.
    pub day_volume: f64,
    /// Trades in the symbol's day so far.
    pub day_trades: u64,
}

/// The `data` of a `quotes:` push.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestQuote {
    /// Ticker.
    pub symbol: Symbol,
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

#[derive(Debug, Default)]
pub(super) struct Entry {
    pub(super) quote: Option<LatestQuote>,
    pub(super) quote_rev: u64,
    pub(super) last: Option<LastTrade>,
    pub(super) last_rev: u64,
    day: i64,
    /// Changed since the last publish: bit 0 quotes, bit 1 last.
    pub(super) dirty: u8,
}

pub(super) fn bit(kind: StateKind) -> u8 {
    match kind {
        StateKind::Quotes => 1,
        StateKind::Last => 2,
    }
}

/// The trading day of an event time.
fn day_of(time_ms: i64) -> i64 {
    (time_ms + DAY_OFFSET_MS).div_euclid(DAY_MS)
}

impl Entry {
    /// Folds `event` in; a change marks the key dirty, listing it in `dirty`
    /// the first time since the last publish.
    pub(super) fn apply(
        &mut self,
        event: &Event,
        kind: StateKind,
        symbol: &Symbol,
        dirty: &mut Vec<StateKey>,
    ) -> bool {
        let changed = match event {
            Event::Trade(t) => self.trade(t),
            Event::Quote(q) => self.quote(q),
            _ => false,
        };
        if changed && self.dirty & bit(kind) == 0 {
            self.dirty |= bit(kind);
            dirty.push(StateKey {
                kind,
                symbol: symbol.clone(),
            });
        }
        changed
    }

    fn quote(&mut self, q: &Quote) -> bool {
        if self
            .quote
            .as_ref()
            .is_some_and(|cur| q.time_ms < cur.time_ms)
        {
            return false;
        }
        self.quote = Some(LatestQuote {
            symbol: q.symbol.clone(),
            bid: q.bid,
            bid_size: q.bid_size,
            ask: q.ask,
            ask_size: q.ask_size,
            time_ms: q.time_ms,
        });
        self.quote_rev += 1;
        true
    }

    fn trade(&mut self, t: &Trade) -> bool {
        let day = day_of(t.time_ms);
        let Some(last) = self.last.as_mut() else {
            self.day = day;
            self.last = Some(LastTrade {
                symbol: t.symbol.clone(),
                price: t.price,
                size: t.size,
                time_ms: t.time_ms,
                sequence: t.sequence,
                day_volume: t.size,
                day_trades: 1,
            });
            self.last_rev += 1;
            return true;
        };
        if day < self.day {
            // A late trade of a day already over changes nothing shown.
            return false;
        }
        if day > self.day {
            self.day = day;
            last.day_volume = 0.0;
            last.day_trades = 0;
        }
        last.day_volume += t.size;
        last.day_trades += 1;
        let order = |time: i64, seq: Option<i64>| (time, seq.unwrap_or(i64::MIN));
        if order(t.time_ms, t.sequence) >= order(last.time_ms, last.sequence) {
            last.price = t.price;
            last.size = t.size;
            last.time_ms = t.time_ms;
            last.sequence = t.sequence;
        }
        self.last_rev += 1;
        true
    }
}
