//! Subscribed topics in provider-independent terms.
//!
//! Every provider spells topics its own way (`T.AAPL`, `trades:AAPL`), but the
//! events they deliver are the shared [`Event`] types. A provider parses its own
//! topics into a [`TopicKey`] ([`super::Provider::topic_of`]); code that must
//! relate events to subscriptions, such as the staleness monitor, compares
//! [`Stream::of`] an event with the key and never sees a provider's syntax.

use crate::events::{AggWindow, AssetClass, Event, Symbol};

/// The kind of data an event carries, as far as subscriptions are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Trades.
    Trades,
    /// Top-of-book quotes.
    Quotes,
    /// One-second aggregate bars.
    SecondBars,
    /// One-minute aggregate bars.
    MinuteBars,
    /// Daily bars.
    DayBars,
}

impl Stream {
    /// The stream and asset class of an event; `None` for events no topic
    /// delivers (status messages).
    pub fn of(event: &Event) -> Option<(Stream, AssetClass)> {
        match event {
            Event::Trade(t) => Some((Stream::Trades, t.class)),
            Event::Quote(q) => Some((Stream::Quotes, q.class)),
            Event::Aggregate(a) => {
                let stream = match a.window {
                    AggWindow::Second => Stream::SecondBars,
                    AggWindow::Minute => Stream::MinuteBars,
                    AggWindow::Day => Stream::DayBars,
                };
                Some((stream, a.class))
            }
            Event::Status(_) => None,
        }
    }
}

/// Every asset class: for topics whose symbol alone decides the class.
pub const ANY_CLASS: &[AssetClass] = &[AssetClass::Stock, AssetClass::Option, AssetClass::Crypto];

/// What one subscribed topic delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicKey {
    /// The kind of events.
    pub stream: Stream,
    /// The asset classes of those events. Polygon splits trades by class (`T`
    /// for stocks and options, `XT` for crypto); other topics cover [`ANY_CLASS`].
    pub classes: &'static [AssetClass],
    /// The one symbol the topic is about, or `None` for a wildcard (`*`).
    pub symbol: Option<Symbol>,
}

impl TopicKey {
    /// True when `event` is one this topic delivers.
    pub fn matches(&self, event: &Event) -> bool {
        let Some((stream, class)) = Stream::of(event) else {
            return false;
        };
        stream == self.stream
            && self.classes.contains(&class)
            && match &self.symbol {
                None => true,
                Some(s) => event.symbol() == Some(s.as_str()),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Trade;

    #[test]
    fn a_key_matches_by_stream_class_and_symbol() {
        let trade = Event::Trade(Trade {
            symbol: "AAPL".into(),
            class: AssetClass::Stock,
            price: 1.0,
            size: 1.0,
            exchange: None,
            conditions: Default::default(),
            time_ms: 1_700_000_000_000,
            sequence: None,
        });
        let key = |stream, classes, symbol: Option<&str>| TopicKey {
            stream,
            classes,
            symbol: symbol.map(Symbol::new),
        };
        assert!(key(Stream::Trades, ANY_CLASS, None).matches(&trade));
        assert!(key(Stream::Trades, ANY_CLASS, Some("AAPL")).matches(&trade));
        assert!(!key(Stream::Trades, ANY_CLASS, Some("MSFT")).matches(&trade));
        assert!(!key(Stream::Quotes, ANY_CLASS, None).matches(&trade));
        assert!(!key(Stream::Trades, &[AssetClass::Crypto], None).matches(&trade));
    }
}
