//! The hub's index of who wants what: topic → client ids.
//!
//! Trades are looked up per event by symbol, so each symbol's entry keeps its
//! topic name (`trades:NVDA`) ready instead of formatting it per trade; an
//! entry goes away with its last subscriber, so a batch with no watched symbol
//! costs one empty-map check.

use std::collections::{HashMap, HashSet};

use tapewatch_actors::events::Symbol;
use tapewatch_actors::messages::Output;

use super::protocol::Topic;

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
}
