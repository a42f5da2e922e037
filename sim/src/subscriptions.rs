//! The topics one connection subscribes to, built from `subscribe` and
//! `unsubscribe` params strings.
//!
//! Topics are trimmed and split on `,`, then each on its first `.` (option
//! tickers contain no dot, so `T.O:SPY261219C00650000` splits cleanly). Every
//! topic gets its own reply: `success` with `subscribed to: TOPIC` (or
//! `unsubscribed to: TOPIC`), or an `error` status for a topic without
//! `EV.SYMBOL` form, for `Q.*` on `/options`, and beyond 1,000 option quote
//! contracts. Topics of any event type are acknowledged, as the real service
//! does, but only `T` (trades) and `Q` (quotes) produce data; `A`/`AM`
//! aggregates are not generated.

use std::collections::HashSet;

use super::instruments::Market;
use super::sim_event::SimEvent;

/// Option quote contracts one connection may subscribe to.
pub const MAX_OPTION_QUOTE_CONTRACTS: usize = 1000;

/// One status event to send in reply, as (status, message).
pub type Reply = (&'static str, String);

/// Which tickers of one event type a connection wants.
#[derive(Debug, Default, Clone)]
struct Channel {
    all: bool,
    symbols: HashSet<String>,
}

impl Channel {
    fn matches(&self, symbol: &str) -> bool {
        self.all || self.symbols.contains(symbol)
    }

    fn is_empty(&self) -> bool {
        !self.all && self.symbols.is_empty()
    }

    fn set(&mut self, symbol: &str, on: bool) {
        match (symbol, on) {
            ("*", on) => self.all = on,
            (symbol, true) => {
                self.symbols.insert(symbol.to_owned());
            }
            (symbol, false) => {
                self.symbols.remove(symbol);
            }
        }
    }
}

/// The topics one connection is subscribed to.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    market: Market,
    trades: Channel,
    quotes: Channel,
}

impl Subscriptions {
    /// No topics, on `market`.
    pub fn new(market: Market) -> Self {
        Subscriptions {
            market,
            trades: Channel::default(),
            quotes: Channel::default(),
        }
    }

    /// True when some subscribed topic can produce data.
    pub fn wants_data(&self) -> bool {
        !self.trades.is_empty() || !self.quotes.is_empty()
    }

    /// True when `event` matches a subscribed topic.
    pub fn wants(&self, event: &SimEvent) -> bool {
        match event {
            SimEvent::Trade(t) => self.trades.matches(t.symbol),
            SimEvent::Quote(q) => self.quotes.matches(q.symbol),
        }
    }

    /// Applies a `subscribe` (`on`) or `unsubscribe` params string and returns
    /// one reply per topic, in order.
    pub fn apply(&mut self, params: &str, on: bool) -> Vec<Reply> {
        let verb = if on {
            "subscribed to"
        } else {
            "unsubscribed to"
        };
        let mut replies = Vec::new();
        for topic in params.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let Some((event, symbol)) = topic
                .split_once('.')
                .filter(|(e, s)| !e.is_empty() && !s.is_empty())
            else {
                replies.push(("error", format!("invalid topic: {topic}")));
                continue;
            };
            if let Err(message) = self.check(event, symbol, on) {
                replies.push(("error", message));
                continue;
            }
            match event {
                "T" => self.trades.set(symbol, on),
                "Q" => self.quotes.set(symbol, on),
                _ => {}
            }
            replies.push(("success", format!("{verb}: {topic}")));
        }
        replies
    }

    /// Enforces the option quote rules: no wildcard, at most 1,000 contracts.
    fn check(&self, event: &str, symbol: &str, on: bool) -> Result<(), String> {
        if !on || self.market != Market::Options || event != "Q" {
            return Ok(());
        }
        if symbol == "*" {
            return Err("wildcard subscriptions are not allowed for option quotes: Q.*".into());
        }
        if self.quotes.symbols.len() >= MAX_OPTION_QUOTE_CONTRACTS
            && !self.quotes.symbols.contains(symbol)
        {
            return Err(format!(
                "option quote subscriptions are limited to {MAX_OPTION_QUOTE_CONTRACTS} contracts per connection: Q.{symbol}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(symbol: &'static str) -> SimEvent {
        SimEvent::test_trade(symbol, 1)
    }

    fn quote(symbol: &'static str) -> SimEvent {
        SimEvent::test_quote(symbol)
    }

    #[test]
    fn topics_are_trimmed_split_and_acknowledged_one_by_one() {
        let mut subs = Subscriptions::new(Market::Stocks);
        let replies = subs.apply(" T.AAPL, Q.*,AM.*,,bogus", true);
        assert_eq!(
            replies,
            vec![
                ("success", "subscribed to: T.AAPL".to_owned()),
                ("success", "subscribed to: Q.*".to_owned()),
                ("success", "subscribed to: AM.*".to_owned()),
                ("error", "invalid topic: bogus".to_owned()),
            ]
        );
        assert!(subs.wants(&trade("AAPL")));
        assert!(!subs.wants(&trade("MSFT")));
        assert!(subs.wants(&quote("MSFT")));
        let replies = subs.apply("Q.*", false);
        assert_eq!(
            replies,
            vec![("success", "unsubscribed to: Q.*".to_owned())]
        );
        assert!(!subs.wants(&quote("MSFT")));
        subs.apply("T.AAPL", false);
        assert!(!subs.wants_data());
    }

    #[test]
    fn option_topics_split_on_the_first_dot_only() {
        let mut subs = Subscriptions::new(Market::Options);
        subs.apply("T.O:NVDA261218C00500000", true);
        assert!(subs.wants(&trade("O:NVDA261218C00500000")));
        assert!(!subs.wants(&trade("O:SPY261218C00600000")));
    }

    #[test]
    fn option_quotes_reject_the_wildcard_and_cap_contracts() {
        let mut subs = Subscriptions::new(Market::Options);
        let replies = subs.apply("Q.*", true);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].0, "error");
        assert!(!subs.wants_data());
        let many: Vec<String> = (0..=MAX_OPTION_QUOTE_CONTRACTS)
            .map(|i| format!("Q.O:SPY261218C{i:08}"))
            .collect();
        let replies = subs.apply(&many.join(","), true);
        let errors = replies
            .iter()
            .filter(|(status, _)| *status == "error")
            .count();
        assert_eq!(errors, 1);
        // The same wildcard is fine for stock quotes.
        let mut stocks = Subscriptions::new(Market::Stocks);
        assert_eq!(stocks.apply("Q.*", true)[0].0, "success");
    }
}
