//! The hub's index of who wants what: topic → client ids.
//!
//! Trades are looked up per event by symbol, so each symbol's entry keeps its
//! topic name (`trades:NVDA`) ready instead of formatting it per trade; an
//! entry goes away with its last subscriber, so a batch with no watched symbol
//! costs one empty-map check. State topics are indexed by key, and their
//! wildcards by kind.

use std::collections::{HashMap, HashSet};

use tapewatch_actors::events::Symbol;
use tapewatch_actors::messages::Output;

use super::protocol::Topic;
use super::state::{StateKey, StateKind};

/// Subscribers of one symbol's trades.
#[derive(Debug, Default)]
pub struct TradeSubs {
    /// The topic name pushes carry.
    pub topic: String,
    /// The clients.
    pub ids: HashSet<u64>,
}

/// Topic → client ids.
#[derive(Debug, Default)]
pub struct Subscribers {
    alerts: HashSet<u64>,
    status: HashSet<u64>,
    trades: HashMap<Symbol, TradeSubs>,
    state: HashMap<StateKey, HashSet<u64>>,
    /// `quotes:*` and `last:*`, indexed by [`StateKind::index`].
    state_all: [HashSet<u64>; 2],
}

impl Subscribers {
    /// Client `id` now receives `topic`.
    pub fn add(&mut self, id: u64, topic: &Topic) {
        match topic {
            Topic::Alerts => drop(self.alerts.insert(id)),
            Topic::Status => drop(self.status.insert(id)),
            Topic::Trades(symbol) => {
                let subs = self
                    .trades
                    .entry(symbol.clone())
                    .or_insert_with(|| TradeSubs {
                        topic: topic.to_string(),
                        ids: HashSet::new(),
                    });
                subs.ids.insert(id);
            }
            Topic::State(kind, None) => drop(self.state_all[kind.index()].insert(id)),
            Topic::State(kind, Some(symbol)) => {
                let key = StateKey {
                    kind: *kind,
                    symbol: symbol.clone(),
                };
                self.state.entry(key).or_default().insert(id);
            }
        }
    }

    /// Client `id` no longer receives `topic`.
    pub fn remove(&mut self, id: u64, topic: &Topic) {
        match topic {
            Topic::Alerts => drop(self.alerts.remove(&id)),
            Topic::Status => drop(self.status.remove(&id)),
            Topic::Trades(symbol) => {
                if let Some(subs) = self.trades.get_mut(symbol) {
                    subs.ids.remove(&id);
                    if subs.ids.is_empty() {
                        self.trades.remove(symbol);
                    }
                }
            }
            Topic::State(kind, None) => drop(self.state_all[kind.index()].remove(&id)),
            Topic::State(kind, Some(symbol)) => {
                let key = StateKey {
                    kind: *kind,
                    symbol: symbol.clone(),
                };
                if let Some(ids) = self.state.get_mut(&key) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        self.state.remove(&key);
                    }
                }
            }
        }
    }

    /// Who receives `output`, and the topic it is pushed under.
    pub fn of_output(&self, output: &Output) -> (&HashSet<u64>, &'static str) {
        match output {
            Output::Alert(_) | Output::Enrichment(_) => (&self.alerts, "alerts"),
            Output::Status(_) => (&self.status, "status"),
        }
    }

    /// Who receives the trades of `symbol`, if anyone.
    pub fn of_trades(&self, symbol: &str) -> Option<&TradeSubs> {
        self.trades.get(symbol)
    }

    /// True when some client holds some state topic.
    pub fn wants_state(&self) -> bool {
        !self.state.is_empty() || self.state_all.iter().any(|s| !s.is_empty())
    }

    /// The clients that hold every key of `kind` (`quotes:*`, `last:*`).
    pub fn of_all(&self, kind: StateKind) -> &HashSet<u64> {
        &self.state_all[kind.index()]
    }

    /// The clients that hold `key` by its own topic and not through its
    /// kind's wildcard (so that together with [`Self::of_all`] each client
    /// counts once).
    pub fn of_key<'a>(&'a self, key: &StateKey) -> impl Iterator<Item = u64> + 'a {
        let all = self.of_all(key.kind);
        let exact = self.state.get(key).into_iter().flatten();
        exact.copied().filter(move |id| !all.contains(id))
    }

    /// True when some client wants some symbol's trades.
    pub fn wants_trades(&self) -> bool {
        !self.trades.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_entries_follow_their_subscribers() {
        let mut subs = Subscribers::default();
        let nvda = Topic::parse("trades:NVDA").expect("topic");
        subs.add(1, &nvda);
        subs.add(2, &nvda);
        subs.add(1, &Topic::Alerts);
        assert_eq!(
            subs.of_trades("NVDA").map(|s| s.topic.as_str()),
            Some("trades:NVDA")
        );
        assert!(subs.of_trades("AAPL").is_none());
        subs.remove(1, &nvda);
        assert!(subs.wants_trades());
        subs.remove(2, &nvda);
        assert!(!subs.wants_trades(), "the last subscriber takes the entry");
        subs.remove(1, &Topic::Alerts);
        subs.remove(1, &Topic::Alerts);
    }

    #[test]
    fn a_state_key_reaches_each_holder_once() {
        let mut subs = Subscribers::default();
        let exact = Topic::parse("last:nvda").expect("topic");
        let all = Topic::parse("last:*").expect("topic");
        subs.add(1, &exact);
        subs.add(1, &all);
        subs.add(2, &exact);
        subs.add(3, &Topic::parse("quotes:*").expect("topic"));
        let key = |kind, s: &str| StateKey {
            kind,
            symbol: s.into(),
        };
        let holders = |kind, symbol| {
            let mut ids: Vec<u64> = subs.of_all(kind).iter().copied().collect();
            ids.extend(subs.of_key(&key(kind, symbol)));
            ids.sort_unstable();
            ids
        };
        assert_eq!(holders(StateKind::Last, "NVDA"), [1, 2]);
        assert_eq!(holders(StateKind::Last, "AAPL"), [1]);
        assert_eq!(holders(StateKind::Quotes, "AAPL"), [3]);
        subs.remove(1, &all);
        subs.remove(1, &exact);
        subs.remove(2, &exact);
        subs.remove(3, &Topic::parse("quotes:*").expect("topic"));
        assert!(!subs.wants_state(), "every entry went with its holders");
    }
}
