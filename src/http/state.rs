//! The hub's table of current values behind the state topics: the latest
//! quote (`quotes:SYM`) and the last trade with the day's running volume
//! (`last:SYM`) of every symbol the service sees, up to a cap.
//!
//! Values only move forward: a quote older than the one held, or a trade
//! older than the last one by event time and then sequence, never replaces
//! it (a late trade still counts in the day's volume). Each accepted change
//! bumps the key's revision, which is what clients' queues order by. A
//! symbol's trading day is its event time's date at UTC−5, so the day turns
//! at midnight New York standard time (1 a.m. in summer), outside every
//! trading session.

use std::collections::HashMap;
use std::sync::Arc;

use bytestring::ByteString;
use serde::Serialize;
use tapewatch_actors::events::{Event, Quote, Symbol, Trade};

/// Default cap on the symbols the table holds.
pub const DEFAULT_MAX_SYMBOLS: usize = 50_000;

const DAY_MS: i64 = 86_400_000;
/// The trading day turns at midnight UTC−5.
const DAY_OFFSET_MS: i64 = -5 * 3_600_000;

/// The two kinds of state topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKind {
    /// `quotes:SYM`: the latest quote.
    Quotes,
    /// `last:SYM`: the last trade and the day's running volume.
    Last,
}

impl StateKind {
    /// The topic prefix (`quotes`, `last`).
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Quotes => "quotes",
            StateKind::Last => "last",
        }
    }
}

/// One key of a state topic: a kind and a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey {
    /// Quotes or last trade.
    pub kind: StateKind,
    /// The symbol, upper-cased as providers send it.
    pub symbol: Symbol,
}

/// One published value of a key, serialised once for every client: as an
/// update and as the snapshot a new subscriber gets first.
#[derive(Debug)]
pub struct StateValue {
    /// Its key.
    pub key: StateKey,
    /// Grows with every accepted change of the key.
    pub revision: u64,
    /// `{"topic":"last:NVDA","data":{...}}`.
    pub update: ByteString,
    /// `{"topic":"last:NVDA","snapshot":true,"data":{...}}`.
    pub snapshot: ByteString,
}

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
struct Entry {
    quote: Option<LatestQuote>,
    quote_rev: u64,
    last: Option<LastTrade>,
    last_rev: u64,
    day: i64,
    /// Changed since the last publish: bit 0 quotes, bit 1 last.
    dirty: u8,
}

fn bit(kind: StateKind) -> u8 {
    match kind {
        StateKind::Quotes => 1,
        StateKind::Last => 2,
    }
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The value changed (and is now due to be published).
    Changed,
    /// Nothing to change: an older value, or an event of no state topic.
    Unchanged,
    /// The symbol is new and the table is full.
    NoRoom,
}

/// The table: symbol → current values, capped at `max_symbols`.
#[derive(Debug)]
pub struct StateTable {
    entries: HashMap<Symbol, Entry>,
    max_symbols: usize,
    dirty: Vec<StateKey>,
}

impl StateTable {
    /// An empty table that holds at most `max_symbols` symbols.
    pub fn new(max_symbols: usize) -> Self {
        StateTable {
            entries: HashMap::new(),
            max_symbols,
            dirty: Vec::new(),
        }
    }

    /// Symbols held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no symbol is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Folds one event into the table.
    pub fn apply(&mut self, event: &Event) -> Applied {
        let (symbol, kind) = match event {
            Event::Trade(t) => (&t.symbol, StateKind::Last),
            Event::Quote(q) => (&q.symbol, StateKind::Quotes),
            _ => return Applied::Unchanged,
        };
        if !self.entries.contains_key(symbol) {
            if self.entries.len() >= self.max_symbols {
                return Applied::NoRoom;
            }
            self.entries.insert(symbol.clone(), Entry::default());
        }
        let Some(entry) = self.entries.get_mut(symbol) else {
            return Applied::Unchanged;
        };
        let changed = match event {
            Event::Trade(t) => entry.trade(t),
            Event::Quote(q) => entry.quote(q),
            _ => false,
        };
        if !changed {
            return Applied::Unchanged;
        }
        if entry.dirty & bit(kind) == 0 {
            entry.dirty |= bit(kind);
            self.dirty.push(StateKey {
                kind,
                symbol: symbol.clone(),
            });
        }
        Applied::Changed
    }

    /// True when some key changed since the last [`Self::take_dirty`].
    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The keys changed since the last call, in the order they first changed.
    pub fn take_dirty(&mut self) -> Vec<StateKey> {
        for key in &self.dirty {
            if let Some(e) = self.entries.get_mut(&key.symbol) {
                e.dirty &= !bit(key.kind);
            }
        }
        std::mem::take(&mut self.dirty)
    }

    /// The current value of `key`, serialised; `None` before its first event.
    pub fn value(&self, key: &StateKey) -> Option<Arc<StateValue>> {
        let entry = self.entries.get(&key.symbol)?;
        let (data, revision) = match key.kind {
            StateKind::Quotes => (serde_json::to_string(entry.quote.as_ref()?), entry.quote_rev),
            StateKind::Last => (serde_json::to_string(entry.last.as_ref()?), entry.last_rev),
        };
        let data = data.ok()?;
        // Quoted and escaped by serde, whatever the provider put in a symbol.
        let topic = serde_json::to_string(&format!("{}:{}", key.kind.name(), key.symbol)).ok()?;
        Some(Arc::new(StateValue {
            key: key.clone(),
            revision,
            update: format!(r#"{{"topic":{topic},"data":{data}}}"#).into(),
            snapshot: format!(r#"{{"topic":{topic},"snapshot":true,"data":{data}}}"#).into(),
        }))
    }

    /// Every key of `kind` that has a value, for a wildcard's snapshot.
    pub fn keys(&self, kind: StateKind) -> impl Iterator<Item = StateKey> + '_ {
        self.entries
            .iter()
            .filter(move |(_, e)| match kind {
                StateKind::Quotes => e.quote.is_some(),
                StateKind::Last => e.last.is_some(),
            })
            .map(move |(symbol, _)| StateKey {
                kind,
                symbol: symbol.clone(),
            })
    }
}

/// The trading day of an event time.
fn day_of(time_ms: i64) -> i64 {
    (time_ms + DAY_OFFSET_MS).div_euclid(DAY_MS)
}

impl Entry {
    fn quote(&mut self, q: &Quote) -> bool {
        if self.quote.as_ref().is_some_and(|cur| q.time_ms < cur.time_ms) {
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
