//! Reference data the simulated REST API serves: option contracts derived from
//! their OCC tickers, and a small table of stock tickers.

use serde_json::{json, Value};
use tapewatch_actors::option_ticker::{self, OptionRight};

/// Whether a contract is a call or a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractType {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

/// An option contract as its OCC ticker describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccContract {
    /// The ticker as given, with its `O:` prefix.
    pub ticker: String,
    /// The root symbol, taken as the underlying ticker.
    pub root: String,
    /// Expiration year, e.g. 2026.
    pub year: u16,
    /// Expiration month, 1 to 12.
    pub month: u8,
    /// Expiration day of the month.
    pub day: u8,
    /// Call or put.
    pub contract_type: ContractType,
    /// The strike price times 1000, exactly as encoded.
    pub strike_thousandths: u64,
}

/// Parses `O:` + root + `YYMMDD` + `C`/`P` + 8-digit strike×1000 with the
/// pipeline's own parser, so the simulator accepts exactly the tickers the
/// service can read.
pub fn parse_occ(ticker: &str) -> Option<OccContract> {
    let parsed = option_ticker::parse(ticker)?;
    Some(OccContract {
        ticker: ticker.to_owned(),
        root: parsed.underlying.to_owned(),
        year: parsed.expiry.year,
        month: parsed.expiry.month,
        day: parsed.expiry.day,
        contract_type: match parsed.right {
            OptionRight::Call => ContractType::Call,
            OptionRight::Put => ContractType::Put,
        },
        // The strike has at most 8 digits in thousandths, exact in an f64.
        strike_thousandths: (parsed.strike * 1000.0).round() as u64,
    })
}

impl OccContract {
    /// The `results` object of `GET /v3/reference/options/contracts/{ticker}`.
    pub fn to_results(&self) -> Value {
        let (contract_type, cfi) = match self.contract_type {
            ContractType::Call => ("call", "OCASPS"),
            ContractType::Put => ("put", "OPASPS"),
        };
        // Whole strikes are sent as integers (`500`), as the service does.
        let strike_price = if self.strike_thousandths.is_multiple_of(1000) {
            json!(self.strike_thousandths / 1000)
        } else {
            json!(self.strike_thousandths as f64 / 1000.0)
        };
        json!({
            "cfi": cfi,
            "contract_type": contract_type,
            "exercise_style": "american",
            "expiration_date": format!("{:04}-{:02}-{:02}", self.year, self.month, self.day),
            "primary_exchange": "BATO",
            "shares_per_contract": 100,
            "strike_price": strike_price,
            "ticker": self.ticker,
            "underlying_ticker": self.root,
        })
    }
}

/// One entry of the built-in ticker table.
struct TickerRow {
    ticker: &'static str,
    name: &'static str,
    primary_exchange: &'static str,
    kind: &'static str,
    cik: &'static str,
}

/// Every simulated stock, which includes every option underlying.
const TICKERS: [TickerRow; 8] = [
    row("AAPL", "Apple Inc.", "XNAS", "CS", "0000320193"),
    row("MSFT", "Microsoft Corp", "XNAS", "CS", "0000789019"),
    row("NVDA", "Nvidia Corp", "XNAS", "CS", "0001045810"),
    row(
        "TSLA",
        "Tesla, Inc. Common Stock",
        "XNAS",
        "CS",
        "0001318605",
    ),
    row("AMD", "Advanced Micro Devices", "XNAS", "CS", "0000002488"),
    row("AMZN", "Amazon.Com Inc", "XNAS", "CS", "0001018724"),
    row(
        "META",
        "Meta Platforms, Inc. Class A Common Stock",
        "XNAS",
        "CS",
        "0001326801",
    ),
    row("SPY", "SPDR S&P 500 ETF Trust", "ARCX", "ETF", "0000884394"),
];

const fn row(
    ticker: &'static str,
    name: &'static str,
    primary_exchange: &'static str,
    kind: &'static str,
    cik: &'static str,
) -> TickerRow {
    TickerRow {
        ticker,
        name,
        primary_exchange,
        kind,
        cik,
    }
}

/// The `results` object of `GET /v3/reference/tickers/{ticker}`, or None for a
/// ticker outside the table.
pub fn ticker_results(ticker: &str) -> Option<Value> {
    let row = TICKERS.iter().find(|r| r.ticker == ticker)?;
    Some(json!({
        "ticker": row.ticker,
        "name": row.name,
        "market": "stocks",
        "locale": "us",
        "primary_exchange": row.primary_exchange,
        "type": row.kind,
        "active": true,
        "currency_name": "usd",
        "cik": row.cik,
        "round_lot": 100,
        "ticker_root": row.ticker,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::Market;

    #[test]
    fn occ_tickers_parse_from_the_right() {
        let c = parse_occ("O:NVDA240119C00500000").expect("valid ticker");
        assert_eq!(
            (c.root.as_str(), c.year, c.month, c.day),
            ("NVDA", 2024, 1, 19)
        );
        assert_eq!(c.contract_type, ContractType::Call);
        assert_eq!(c.strike_thousandths, 500_000);
        let adjusted = parse_occ("O:AMC1210827P00037500").expect("root with a digit");
        assert_eq!(adjusted.root, "AMC1");
        assert_eq!(adjusted.to_results()["strike_price"], json!(37.5));
    }

    #[test]
    fn malformed_occ_tickers_are_rejected() {
        for bad in [
            "NVDA240119C00500000",
            "O:240119C00500000",
            "O:NVDA241319C00500000",
            "O:NVDA240230C00500000",
            "O:NVDA240119X00500000",
            "O:NVDA240119C0050000A",
            "O:TOOLONGROOT240119C00500000",
            "O:nvda240119C00500000",
            "O:",
        ] {
            assert_eq!(parse_occ(bad), None, "{bad}");
        }
        assert!(
            parse_occ("O:SPY240229P00450000").is_some(),
            "2024 is a leap year"
        );
    }

    #[test]
    fn contract_results_match_the_documented_shape() {
        let c = parse_occ("O:NVDA261218P00450000").expect("valid ticker");
        assert_eq!(
            c.to_results(),
            json!({"cfi":"OPASPS","contract_type":"put","exercise_style":"american",
                   "expiration_date":"2026-12-18","primary_exchange":"BATO",
                   "shares_per_contract":100,"strike_price":450,
                   "ticker":"O:NVDA261218P00450000","underlying_ticker":"NVDA"})
        );
    }

    #[test]
    fn every_simulated_symbol_and_underlying_has_reference_data() {
        for inst in Market::Stocks.instruments() {
            assert!(ticker_results(inst.symbol).is_some(), "{}", inst.symbol);
        }
        for inst in Market::Options.instruments() {
            let contract = parse_occ(inst.symbol).expect("simulated contracts parse");
            assert!(ticker_results(&contract.root).is_some(), "{}", inst.symbol);
        }
        assert_eq!(ticker_results("ZI"), None);
    }
}
