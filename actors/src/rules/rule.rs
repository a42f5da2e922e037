//! The options-flow rule as an extension point: what every rule sees of an
//! option print, what it reports, and the [`Rule`] trait a rule implements.
//!
//! A rule keeps its own state per active contract ([`Rule::State`]), folds
//! each print into it and says when it fires ([`Rule::observe`]), may ask for
//! the contract's REST snapshot and learn from it ([`Rule::wants_snapshot`],
//! [`Rule::on_snapshot`]), and explains a finding in one line
//! ([`Rule::explain`]). Rules are pure: no clock, no I/O, no allocation
//! except in `explain`, which runs only for an alert. They are registered in
//! `registry.rs`.

use std::fmt::Write as _;

use serde::Serialize;

use super::config::DetectorConfig;
use crate::messages::AnomalyKind;
use crate::option_ticker::{OptionRight, OptionTicker};

/// Who took liquidity in a print, from the contract's latest quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// At or above the ask: a buyer paid up.
    Bought,
    /// At or below the bid: a seller hit it.
    Sold,
    /// Inside the spread.
    Mid,
}

impl Side {
    /// The side of a print at `price` against a quote `bid`/`ask`.
    pub fn of(price: f64, bid: f64, ask: f64) -> Option<Side> {
        if !(price.is_finite() && bid.is_finite() && ask.is_finite()) || ask < bid {
            return None;
        }
        Some(if ask > 0.0 && price >= ask {
            Side::Bought
        } else if price <= bid {
            Side::Sold
        } else {
            Side::Mid
        })
    }

    /// How an explanation says it ("bought at the ask").
    pub fn phrase(self) -> &'static str {
        match self {
            Side::Bought => "bought at the ask",
            Side::Sold => "sold at the bid",
            Side::Mid => "traded inside the spread",
        }
    }
}

/// Where the strike is against the underlying's last price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Moneyness {
    /// In the money.
    Itm,
    /// Within half a percent of the strike.
    Atm,
    /// Out of the money.
    Otm,
}

/// Distance from the strike, relative, within which a contract is at the money.
const ATM_BAND: f64 = 0.005;

impl Moneyness {
    /// The moneyness of a contract at `strike` when the underlying is at `spot`.
    pub fn of(right: OptionRight, strike: f64, spot: f64) -> Option<Moneyness> {
        if !(strike > 0.0 && spot > 0.0 && strike.is_finite() && spot.is_finite()) {
            return None;
        }
        let above = (spot - strike) / strike;
        Some(if above.abs() <= ATM_BAND {
            Moneyness::Atm
        } else if (above > 0.0) == (right == OptionRight::Call) {
            Moneyness::Itm
        } else {
            Moneyness::Otm
        })
    }
}

/// One option print as every rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Print<'a> {
    /// The contract, parsed from its ticker.
    pub contract: &'a OptionTicker<'a>,
    /// Price per share.
    pub price: f64,
    /// Contracts traded.
    pub size: f64,
    /// Dollars paid: price × size × shares per contract.
    pub premium: f64,
    /// From the contract's latest fresh quote, when quotes are subscribed.
    pub side: Option<Side>,
    /// The exchange id, when the feed gives one.
    pub exchange: Option<i32>,
    /// The print carries an intermarket-sweep condition code.
    pub iso: bool,
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
    /// Event-time day number (days since 1970-01-01, UTC).
    pub day: i32,
}

/// What the contract's REST snapshot says, as far as rules care.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Open interest at the start of the day.
    pub open_interest: Option<f64>,
    /// The day's volume when the snapshot was taken.
    pub day_volume: Option<f64>,
    /// Shares per contract, when the contract says.
    pub shares_per_contract: Option<f64>,
    /// Implied volatility.
    pub implied_volatility: Option<f64>,
}

/// What a rule found, with the inputs an alert carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowFinding {
    /// The value the rule compared (premium, combined premium, volume).
    pub observed: f64,
    /// The threshold it compared it with.
    pub threshold: f64,
    /// How far over: observed over threshold.
    pub score: f64,
    /// Premium of the print, or of every print of a sweep.
    pub premium: f64,
    /// Direction, when known.
    pub side: Option<Side>,
    /// Distinct exchanges (sweeps).
    pub exchanges: u32,
    /// Prints taken together (sweeps).
    pub prints: u32,
    /// Event time from the first print to the last (sweeps).
    pub span_ms: i64,
    /// The prints carried an intermarket-sweep condition.
    pub iso: bool,
    /// Contracts traded today (volume over open interest).
    pub volume: Option<f64>,
    /// Open interest (volume over open interest).
    pub open_interest: Option<f64>,
    /// The settings that decided, by key, for the alert's `thresholds`.
    pub thresholds: Vec<(&'static str, f64)>,
}

/// An options-flow detection rule. See the module docs and ARCHITECTURE.md
/// ("Adding a detection rule").
pub trait Rule {
    /// The anomaly kind it raises, which names it in output and metrics.
    const KIND: AnomalyKind;
    /// What it keeps per active contract; keep it small.
    type State: Default + std::fmt::Debug + Clone;

    /// Folds one print into the state and says whether the rule fires on it.
    fn observe(state: &mut Self::State, print: &Print, cfg: &DetectorConfig)
        -> Option<FlowFinding>;

    /// True when the rule needs the contract's REST snapshot now. The rule
    /// notes in its state that it asked, so that it asks once per day.
    fn wants_snapshot(_state: &mut Self::State, _print: &Print, _cfg: &DetectorConfig) -> bool {
        false
    }

    /// Learns from the contract's snapshot, and may fire on it.
    fn on_snapshot(
        _state: &mut Self::State,
        _snapshot: &Snapshot,
        _cfg: &DetectorConfig,
    ) -> Option<FlowFinding> {
        None
    }

    /// One line a person reads: "$1.2 M of NVDA 500C bought at the ask".
    fn explain(finding: &FlowFinding, contract: &OptionTicker) -> String;
}

/// Dollars the way a tape reader says them: `$1.2 M`, `$350 k`, `$900`.
pub fn dollars(amount: f64) -> String {
    if amount >= 1e9 {
        format!("${:.1} B", amount / 1e9)
    } else if amount >= 1e6 {
        format!("${:.1} M", amount / 1e6)
    } else if amount >= 1e3 {
        format!("${:.0} k", amount / 1e3)
    } else {
        format!("${amount:.0}")
    }
}

/// A contract the way a tape reader says it: `NVDA 500C 2026-12-18`.
pub fn contract_label(contract: &OptionTicker) -> String {
    let mut out = String::with_capacity(24);
    let right = match contract.right {
        OptionRight::Call => 'C',
        OptionRight::Put => 'P',
    };
    let e = contract.expiry;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{} {}{right} {:04}-{:02}-{:02}",
        contract.underlying, contract.strike, e.year, e.month, e.day
    );
    out
}
