//! Topics a downstream client subscribes to, and the tickers it may name.

use std::fmt;

use tapewatch_actors::events::{is_ticker_char, Symbol};

use super::conflate::StateTopic;
use super::state::StateKind;

/// Longest ticker accepted in a topic or a lookup.
pub const MAX_TICKER_LEN: usize = 64;

/// What a client can subscribe to.
///
/// Event topics (`alerts`, `status`, `trades:SYM`) deliver every record;
/// state topics (`quotes:SYM`, `last:SYM`, and `*` for every symbol) deliver
/// a snapshot of the current value, then the latest value whenever the
/// client can take one (see [`super::conflate`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Alerts and their enrichments.
    Alerts,
    /// Connection status records.
    Status,
    /// Every trade of one symbol.
    Trades(Symbol),
    /// The current quote or last trade of one symbol, or of every symbol
    /// (`None`).
    State(StateKind, Option<Symbol>),
}

impl Topic {
    /// Parses `alerts`, `status`, `trades:SYMBOL`, `quotes:SYMBOL`,
    /// `last:SYMBOL`, `quotes:*` or `last:*` (symbols are upper-cased).
    pub fn parse(text: &str) -> Result<Topic, String> {
        let state = |kind, symbol: &str| match symbol {
            "*" => Ok(Topic::State(kind, None)),
            s => ticker(s).map(|s| Topic::State(kind, Some(s))),
        };
        match text {
            "alerts" => Ok(Topic::Alerts),
            "status" => Ok(Topic::Status),
            _ => match text.split_once(':') {
                Some(("trades", symbol)) => ticker(symbol).map(Topic::Trades),
                Some(("quotes", symbol)) => state(StateKind::Quotes, symbol),
                Some(("last", symbol)) => state(StateKind::Last, symbol),
                _ => Err(format!(
                    "unknown topic `{}` (known: alerts, status, trades:SYMBOL, \
                     quotes:SYMBOL, quotes:*, last:SYMBOL, last:*)",
                    clip(text)
                )),
            },
        }
    }

    /// The state topic this is, if it is one.
    pub fn as_state(&self) -> Option<StateTopic> {
        match self {
            Topic::State(kind, symbol) => Some((*kind, symbol.clone())),
            _ => None,
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Alerts => f.write_str("alerts"),
            Topic::Status => f.write_str("status"),
            Topic::Trades(s) => write!(f, "trades:{s}"),
            Topic::State(kind, Some(s)) => write!(f, "{}:{s}", kind.name()),
            Topic::State(kind, None) => write!(f, "{}:*", kind.name()),
        }
    }
}

/// A ticker as given by a client: 1 to 64 of `A-Z 0-9 : . - _`, upper-cased.
pub fn ticker(text: &str) -> Result<Symbol, String> {
    if text.is_empty() || text.len() > MAX_TICKER_LEN || !text.chars().all(is_ticker_char) {
        return Err(format!(
            "invalid ticker `{}`: 1 to {MAX_TICKER_LEN} of A-Z 0-9 : . - _",
            clip(text)
        ));
    }
    Ok(Symbol::new(text.to_ascii_uppercase()))
}

/// A ticker worth a REST lookup: an OCC option ticker with a real date
/// (`O:NVDA261218C00500000`) or a stock symbol (1 to 6 letters, optionally a
/// class suffix such as `BRK.B`), upper-cased. Anything else would only spend
/// the provider's request quota on a 404.
pub fn lookup_ticker(text: &str) -> Result<Symbol, String> {
    let symbol = ticker(text)?;
    let ok = if symbol.starts_with("O:") {
        tapewatch_actors::option_ticker::parse(&symbol).is_some()
    } else {
        is_stock_symbol(&symbol)
    };
    if !ok {
        return Err(format!(
            "invalid ticker `{}`: expected an option ticker such as O:NVDA261218C00500000 \
             or a stock symbol such as NVDA or BRK.B",
            clip(text)
        ));
    }
    Ok(symbol)
}

/// `NVDA`, `BRK.B`, `BF-B`: 1 to 6 letters, then optionally `.` or `-` and 1
/// to 4 letters or digits.
fn is_stock_symbol(s: &str) -> bool {
    let (root, class) = match s.find(['.', '-']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let root_ok = (1..=6).contains(&root.len()) && root.bytes().all(|b| b.is_ascii_uppercase());
    let class_ok = class.is_none_or(|c| {
        (1..=4).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    root_ok && class_ok
}

/// Shortens client text quoted in an error, so replies stay small.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(MAX_TICKER_LEN).collect()
}
