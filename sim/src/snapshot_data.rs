//! The option contract snapshot the simulated REST API serves at
//! `GET /v3/snapshot/options/{underlying}/{contract}`, in the service's shape
//! (`break_even_price`, `day`, `details`, `greeks`, `implied_volatility`,
//! `last_quote`, `open_interest`, `underlying_asset`).
//!
//! Open interest is what the options-flow injections need
//! ([`super::flow_schedule`]): small for the volume over open interest
//! contract, far beyond any day's volume for every other one. The simulator
//! does not total volume per contract, so `day` holds fixed figures, and the
//! quote and greeks are plausible constants derived from the strike.

use serde_json::{json, Value};

use super::flow_schedule::{FLOW_CONTRACTS, FLOW_KINDS, FLOW_OPEN_INTEREST, OTHER_OPEN_INTEREST};
use super::instruments::Market;
use super::reference_data::{ContractType, OccContract};
use tapewatch_actors::messages::AnomalyKind;

/// Nanoseconds of 2026-01-01T00:00:00Z, the script's default start.
const UPDATED_NS: i64 = 1_767_225_600_000_000_000;

/// The open interest the simulator reports for `ticker`.
pub fn open_interest(ticker: &str) -> u64 {
    let oi_contract = FLOW_KINDS
        .iter()
        .position(|k| *k == AnomalyKind::VolumeOverOi)
        .map(|i| FLOW_CONTRACTS[i]);
    if oi_contract == Some(ticker) {
        FLOW_OPEN_INTEREST
    } else {
        OTHER_OPEN_INTEREST
    }
}

/// The `results` object of the contract's snapshot.
pub fn snapshot_results(contract: &OccContract) -> Value {
    let strike = contract.strike_thousandths as f64 / 1000.0;
    let spot = Market::Stocks
        .instruments()
        .iter()
        .find(|i| i.symbol == contract.root)
        .map_or(strike, |i| i.start_price);
    let (contract_type, intrinsic, delta) = match contract.contract_type {
        ContractType::Call => ("call", (spot - strike).max(0.0), 0.55),
        ContractType::Put => ("put", (strike - spot).max(0.0), -0.45),
    };
    let mid = ((intrinsic + 2.0) * 100.0).round() / 100.0;
    let break_even = match contract.contract_type {
        ContractType::Call => strike + mid,
        ContractType::Put => strike - mid,
    };
    let reference = contract.to_results();
    json!({
        "break_even_price": break_even,
        "day": {
            "change": 0.0,
            "change_percent": 0.0,
            "close": mid,
            "high": mid,
            "last_updated": UPDATED_NS,
            "low": mid,
            "open": mid,
            "previous_close": mid,
            "volume": 37,
            "vwap": mid,
        },
        "details": {
            "contract_type": contract_type,
            "exercise_style": "american",
            "expiration_date": reference["expiration_date"],
            "shares_per_contract": 100,
            "strike_price": reference["strike_price"],
            "ticker": contract.ticker,
        },
        "greeks": {"delta": delta, "gamma": 0.007, "theta": -0.0185, "vega": 0.727},
        "implied_volatility": 0.3049,
        "last_quote": {
            "ask": mid + 0.05,
            "ask_exchange": 301,
            "ask_size": 110,
            "bid": mid - 0.05,
            "bid_exchange": 301,
            "bid_size": 172,
            "last_updated": UPDATED_NS,
            "midpoint": mid,
            "timeframe": "REAL-TIME",
        },
        "open_interest": open_interest(&contract.ticker),
        "underlying_asset": {
            "change_to_break_even": break_even - spot,
            "last_updated": UPDATED_NS,
            "price": spot,
            "ticker": contract.root,
            "timeframe": "REAL-TIME",
        },
    })
}
