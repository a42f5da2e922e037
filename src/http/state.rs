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
use tapewatch_actors::events::{Event, Symbol};

use super::state_entry::{bit, Entry};
pub use super::state_entry::{LastTrade, LatestQuote};

/// Default cap on the symbols the table holds.
pub const DEFAULT_MAX_SYMBOLS: usize = 50_000;

/// The two kinds of state topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKind {
    /// `quotes:SYM`: the latest quote.
    Quotes,
    /// `last:SYM`: the last trade and the day's running volume.
    Last,
}

impl StateKind {
    /// 0 for quotes, 1 for last trades: an index into per-kind arrays.
    pub fn index(self) -> usize {
        match self {
            StateKind::Quotes => 0,
            StateKind::Last => 1,
        }
    }

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
    /// foldhash: one lookup per quote and trade of every feed.
    entries: HashMap<Symbol, Entry, foldhash::fast::RandomState>,
    max_symbols: usize,
    dirty: Vec<StateKey>,
}

impl StateTable {
    /// An empty table that holds at most `max_symbols` symbols.
    pub fn new(max_symbols: usize) -> Self {
        StateTable {
            entries: HashMap::default(),
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
        // One lookup for a known symbol: the common case, once per event.
        let changed = if let Some(entry) = self.entries.get_mut(symbol) {
            entry.apply(event, kind, symbol, &mut self.dirty)
        } else if self.entries.len() >= self.max_symbols {
            return Applied::NoRoom;
        } else {
            let mut entry = Entry::default();
            let changed = entry.apply(event, kind, symbol, &mut self.dirty);
            self.entries.insert(symbol.clone(), entry);
            changed
        };
        if changed {
            Applied::Changed
        } else {
            Applied::Unchanged
        }
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
            StateKind::Quotes => (
                serde_json::to_string(entry.quote.as_ref()?),
                entry.quote_rev,
            ),
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
