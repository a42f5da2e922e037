//! The simulated markets and the instruments each one trades.

use std::fmt;

/// A Polygon WebSocket cluster the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    /// US equities, served at `/stocks`.
    Stocks,
    /// Option contracts, served at `/options`.
    Options,
}

impl Market {
    /// Both markets, in path order.
    pub const ALL: [Market; 2] = [Market::Stocks, Market::Options];

    /// The URL path segment of the market (`stocks`, `options`).
    pub fn path(self) -> &'static str {
        match self {
            Market::Stocks => "stocks",
            Market::Options => "options",
        }
    }

    /// Parses a path segment as produced by [`Market::path`].
    pub fn from_path(path: &str) -> Option<Market> {
        Market::ALL.into_iter().find(|m| m.path() == path)
    }

    /// The instruments the market trades, in a fixed order that the injection
    /// schedule indexes into.
    pub fn instruments(self) -> &'static [Instrument] {
        match self {
            Market::Stocks => &STOCKS,
            Market::Options => &OPTIONS,
        }
    }

    /// The size of an injected volume spike: 60 times the mean normal size.
    pub fn spike_size(self) -> u64 {
        match self {
            // Normal stock sizes average 300 shares.
            Market::Stocks => 18_000,
            // Normal option sizes average 5.5 contracts.
            Market::Options => 330,
        }
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// One simulated ticker and its starting state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// The ticker as Polygon spells it.
    pub symbol: &'static str,
    /// The price the random walk starts from and relaxes back to.
    pub start_price: f64,
    /// The SIP tape (`z`) of a stock: 1 NYSE, 2 AMEX/Arca, 3 Nasdaq. Zero for options.
    pub tape: u8,
}

const fn stock(symbol: &'static str, start_price: f64, tape: u8) -> Instrument {
    Instrument {
        symbol,
        start_price,
        tape,
    }
}

const fn option(symbol: &'static str, start_price: f64) -> Instrument {
    Instrument {
        symbol,
        start_price,
        tape: 0,
    }
}

/// The simulated stocks. SPY is listed on NYSE Arca (tape B), the rest on Nasdaq.
const STOCKS: [Instrument; 8] = [
    stock("AAPL", 271.20, 3),
    stock("MSFT", 484.50, 3),
    stock("NVDA", 186.40, 3),
    stock("TSLA", 452.10, 3),
    stock("AMD", 214.30, 3),
    stock("AMZN", 231.60, 3),
    stock("META", 662.80, 3),
    stock("SPY", 681.90, 2),
];

/// The simulated option contracts over NVDA, TSLA, AAPL and SPY.
const OPTIONS: [Instrument; 8] = [
    option("O:NVDA261218C00500000", 2.45),
    option("O:NVDA261218P00450000", 27.80),
    option("O:NVDA270115C00550000", 3.90),
    option("O:TSLA261218C00300000", 24.60),
    option("O:TSLA261218P00250000", 6.35),
    option("O:AAPL261218C00200000", 18.75),
    option("O:AAPL270115P00180000", 4.20),
    option("O:SPY261218C00600000", 12.40),
];

/// Exchange ids (`x`) stock trades are attributed to.
pub const STOCK_EXCHANGES: [i32; 8] = [1, 4, 8, 10, 11, 12, 15, 19];

/// Exchange ids (`x`) option trades and quotes are attributed to (OPRA participants).
pub const OPTION_EXCHANGES: [i32; 8] = [302, 303, 304, 308, 312, 313, 316, 322];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markets_round_trip_through_their_paths() {
        for market in Market::ALL {
            assert_eq!(Market::from_path(market.path()), Some(market));
        }
        assert_eq!(Market::from_path("crypto"), None);
    }

    #[test]
    fn option_tickers_are_occ_symbols_priced_between_one_and_thirty() {
        for inst in Market::Options.instruments() {
            assert!(inst.symbol.starts_with("O:"), "{}", inst.symbol);
            assert!(inst.symbol.len() > 17, "{}", inst.symbol);
            assert!((1.0..=30.0).contains(&inst.start_price), "{}", inst.symbol);
        }
    }
}
