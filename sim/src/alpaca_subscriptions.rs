//! The channels one Alpaca connection subscribes to, and the `subscription`
//! message that echoes them.
//!
//! Each channel holds a set of symbols; `*` stands for every symbol and is
//! kept as a symbol of its own, so unsubscribing `AAPL` leaves `*` in place,
//! as on the real service. `subscribe` adds to the sets and `unsubscribe`
//! subtracts; a `trades` symbol also adds (or removes) the same symbol in
//! `corrections` and `cancelErrors`, which Alpaca subscribes automatically.
//! After every change the whole set is echoed. A request naming a channel the
//! stock feeds do not have (`orderbooks`, `news`, …) is refused with 410 and
//! changes nothing. Only `trades` and `quotes` produce data.

use std::collections::BTreeSet;

use serde::Serialize;

use super::alpaca_protocol::ChannelLists;
use super::sim_event::SimEvent;

/// The channels of the stock feeds, in the order of the echo.
const CHANNELS: [&str; 10] = [
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
    "imbalances",
];

/// Channels that follow `trades` by themselves.
const FOLLOW_TRADES: [&str; 2] = ["corrections", "cancelErrors"];

/// The error Alpaca sends for a channel the feed does not have.
pub const WRONG_CHANNEL: (u16, &str) = (410, "invalid subscribe action for this feed");

/// The symbol sets of one connection, one per channel of [`CHANNELS`].
#[derive(Debug, Clone, Default)]
pub struct AlpacaSubscriptions {
    sets: [BTreeSet<String>; CHANNELS.len()],
}

impl AlpacaSubscriptions {
    /// True when a subscribed channel can produce data.
    pub fn wants_data(&self) -> bool {
        !self.set("trades").is_empty() || !self.set("quotes").is_empty()
    }

    /// True when `event` matches a subscribed symbol of its channel.
    pub fn wants(&self, event: &SimEvent) -> bool {
        let set = match event {
            SimEvent::Trade(_) => self.set("trades"),
            SimEvent::Quote(_) => self.set("quotes"),
        };
        set.contains("*") || set.contains(event.symbol())
    }

    /// Applies a `subscribe` (`on`) or `unsubscribe`; on an unknown channel
    /// returns the error to send and changes nothing.
    pub fn apply(&mut self, lists: &ChannelLists, on: bool) -> Result<(), (u16, &'static str)> {
        if lists.iter().any(|(c, _)| index(c).is_none()) {
            return Err(WRONG_CHANNEL);
        }
        for (channel, symbols) in lists {
            let mut touched = vec![channel.as_str()];
            if channel == "trades" {
                touched.extend(FOLLOW_TRADES);
            }
            for name in touched {
                let Some(i) = index(name) else { continue };
                for symbol in symbols {
                    if on {
                        self.sets[i].insert(symbol.clone());
                    } else {
                        self.sets[i].remove(symbol);
                    }
                }
            }
        }
        Ok(())
    }

    /// The `subscription` message with the complete current set.
    pub fn echo(&self) -> SubscriptionWire<'_> {
        let list = |name: &str| self.set(name).iter().map(String::as_str).collect();
        SubscriptionWire {
            kind: "subscription",
            trades: list("trades"),
            quotes: list("quotes"),
            bars: list("bars"),
            updated_bars: list("updatedBars"),
            daily_bars: list("dailyBars"),
            statuses: list("statuses"),
            lulds: list("lulds"),
            corrections: list("corrections"),
            cancel_errors: list("cancelErrors"),
            imbalances: list("imbalances"),
        }
    }

    fn set(&self, channel: &str) -> &BTreeSet<String> {
        // Every caller names a channel of CHANNELS; the first set is a
        // harmless fallback should one ever not.
        &self.sets[index(channel).unwrap_or(0)]
    }
}

/// The position of a channel in [`CHANNELS`].
fn index(channel: &str) -> Option<usize> {
    CHANNELS.iter().position(|c| *c == channel)
}

/// `{"T":"subscription","trades":[…],…}` in the documented key order.
/// `imbalances` are subscribed explicitly only and shown only when present.
#[derive(Debug, Serialize)]
pub struct SubscriptionWire<'a> {
    #[serde(rename = "T")]
    kind: &'static str,
    trades: Vec<&'a str>,
    quotes: Vec<&'a str>,
    bars: Vec<&'a str>,
    #[serde(rename = "updatedBars")]
    updated_bars: Vec<&'a str>,
    #[serde(rename = "dailyBars")]
    daily_bars: Vec<&'a str>,
    statuses: Vec<&'a str>,
    lulds: Vec<&'a str>,
    corrections: Vec<&'a str>,
    #[serde(rename = "cancelErrors")]
    cancel_errors: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imbalances: Vec<&'a str>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lists(channels: &[(&str, &[&str])]) -> ChannelLists {
        let owned = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
        channels
            .iter()
            .map(|(c, s)| ((*c).to_owned(), owned(s)))
            .collect()
    }

    fn trade(symbol: &'static str) -> SimEvent {
        SimEvent::test_trade(symbol, 100)
    }

    fn quote(symbol: &'static str) -> SimEvent {
        SimEvent::test_quote(symbol)
    }

    #[test]
    fn trades_bring_corrections_and_cancel_errors_along() {
        let mut subs = AlpacaSubscriptions::default();
        let added = subs.apply(&lists(&[("trades", &["AAPL"]), ("quotes", &["*"])]), true);
        assert_eq!(added, Ok(()));
        let echo = serde_json::to_value(subs.echo()).unwrap_or_default();
        assert_eq!(
            echo,
            json!({"T": "subscription", "trades": ["AAPL"], "quotes": ["*"], "bars": [],
                "updatedBars": [], "dailyBars": [], "statuses": [], "lulds": [],
                "corrections": ["AAPL"], "cancelErrors": ["AAPL"]})
        );
        assert!(subs.wants(&trade("AAPL")) && !subs.wants(&trade("MSFT")));
        assert!(subs.wants(&quote("MSFT")));
        assert_eq!(subs.apply(&lists(&[("trades", &["AAPL"])]), false), Ok(()));
        let echo = serde_json::to_value(subs.echo()).unwrap_or_default();
        assert_eq!(echo["corrections"], json!([]));
        assert!(!subs.wants(&trade("AAPL")) && subs.wants_data());
    }

    #[test]
    fn the_wildcard_is_a_symbol_of_its_own() {
        let mut subs = AlpacaSubscriptions::default();
        let _ = subs.apply(&lists(&[("trades", &["*", "AAPL"])]), true);
        let _ = subs.apply(&lists(&[("trades", &["AAPL"])]), false);
        assert!(subs.wants(&trade("AAPL")));
        let _ = subs.apply(&lists(&[("trades", &["*"])]), false);
        assert!(!subs.wants_data());
    }

    #[test]
    fn an_unknown_channel_changes_nothing() {
        let mut subs = AlpacaSubscriptions::default();
        let request = lists(&[("trades", &["AAPL"]), ("orderbooks", &["BTC/USD"])]);
        assert_eq!(subs.apply(&request, true), Err(WRONG_CHANNEL));
        assert!(!subs.wants_data());
        let _ = subs.apply(
            &lists(&[("bars", &["SPY"]), ("imbalances", &["SPY"])]),
            true,
        );
        assert!(
            !subs.wants_data(),
            "bars are acknowledged but never generated"
        );
        let echo = serde_json::to_value(subs.echo()).unwrap_or_default();
        assert_eq!(echo["imbalances"], json!(["SPY"]));
    }
}
