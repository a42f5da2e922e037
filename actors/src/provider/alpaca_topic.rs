//! Alpaca topics: parsing `channel:SYMBOL` (and the Polygon spellings) and
//! writing the `subscribe`/`unsubscribe` messages, grouped by channel.
//!
//! The syntax is described in [`super::alpaca`].

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// Alpaca's channels a topic may name, in the order subscribe messages list them.
const CHANNELS: &[&str] = &[
    "trades",
    "quotes",
    "bars",
    "dailyBars",
    "updatedBars",
    "statuses",
    "lulds",
    "imbalances",
    "orderbooks",
];

/// A topic read as Alpaca's (channel, symbol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlpacaTopic {
    /// One of Alpaca's channel names.
    pub channel: &'static str,
    /// The symbol, upper-cased, or `*`.
    pub symbol: String,
}

impl AlpacaTopic {
    /// Reads `channel:SYMBOL`, or one of the Polygon spellings `T.`, `Q.`, `AM.`.
    pub fn parse(topic: &str) -> Option<AlpacaTopic> {
        let topic = topic.trim();
        // Polygon's form first: in `trades:BRK.A` the text before the first
        // dot is never `T`, `Q` or `AM`, so the two forms cannot be confused.
        let polygon = topic.split_once('.').and_then(|(prefix, symbol)| {
            let channel = match prefix {
                "T" => "trades",
                "Q" => "quotes",
                "AM" => "bars",
                _ => return None,
            };
            Some((channel, symbol))
        });
        let (channel, symbol) = match polygon {
            Some(found) => found,
            None => {
                let (name, symbol) = topic.split_once(':')?;
                (*CHANNELS.iter().find(|c| **c == name)?, symbol)
            }
        };
        let symbol = symbol.trim();
        if symbol.is_empty() || symbol.len() > 64 {
            return None;
        }
        Some(AlpacaTopic {
            channel,
            symbol: symbol.to_ascii_uppercase(),
        })
    }

    /// The canonical spelling, `channel:SYMBOL`.
    pub fn canonical(&self) -> String {
        format!("{}:{}", self.channel, self.symbol)
    }
}

/// The topics that parse, with the text each was asked as (trimmed). Topics
/// that do not parse are left out of the message and logged; they are never
/// acknowledged, so the session reports them missing too.
pub(crate) fn parse_all(topics: &[String]) -> Vec<(&str, AlpacaTopic)> {
    let mut parsed = Vec::with_capacity(topics.len());
    for asked in topics {
        match AlpacaTopic::parse(asked) {
            Some(topic) => parsed.push((asked.trim(), topic)),
            None => tracing::warn!(
                topic = %asked,
                "not an Alpaca topic (want `trades:AAPL`, `quotes:*`, `bars:SPY`, … or `T.AAPL`); left out"
            ),
        }
    }
    parsed
}

/// `{"action":…,"trades":[…],"quotes":[…],…}` with channels in [`CHANNELS`]
/// order and each symbol once.
pub(crate) fn action(action: &'static str, topics: &[(&str, AlpacaTopic)]) -> String {
    let mut channels: Vec<(&'static str, Vec<&str>)> = Vec::new();
    for channel in CHANNELS {
        let mut symbols: Vec<&str> = Vec::new();
        for (_, topic) in topics.iter().filter(|(_, t)| t.channel == *channel) {
            if !symbols.contains(&topic.symbol.as_str()) {
                symbols.push(&topic.symbol);
            }
        }
        if !symbols.is_empty() {
            channels.push((channel, symbols));
        }
    }
    // Serializing strings into a String cannot fail.
    serde_json::to_string(&ActionMessage { action, channels }).unwrap_or_default()
}

struct ActionMessage<'a> {
    action: &'static str,
    channels: Vec<(&'static str, Vec<&'a str>)>,
}

impl Serialize for ActionMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + self.channels.len()))?;
        map.serialize_entry("action", self.action)?;
        for (channel, symbols) in &self.channels {
            map.serialize_entry(channel, symbols)?;
        }
        map.end()
    }
}
