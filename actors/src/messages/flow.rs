//! Messages and records of the options-flow rules: what an options-flow
//! alert adds, and the detector's requests for contract snapshots.

use std::sync::Arc;

use actix::Message;
use serde::Serialize;

use crate::events::{AssetClass, Symbol};
use crate::rules::rule::{Moneyness, Side, Snapshot};

/// The inputs of an options-flow alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowDetails {
    /// Dollars paid in the print, or in every print of a sweep.
    pub premium: f64,
    /// Who took liquidity, from the contract's latest quote; absent without
    /// a fresh quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Against the underlying's last price; absent until it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moneyness: Option<Moneyness>,
    /// The underlying's last trade price, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub underlying_price: Option<f64>,
    /// `call` or `put`.
    pub right: &'static str,
    /// Strike price.
    pub strike: f64,
    /// Expiry date, `YYYY-MM-DD`.
    pub expiry: String,
    /// Days from the print to expiry.
    pub days_to_expiry: i64,
    /// The multiplier used for premium: 100 unless the contract's snapshot
    /// said otherwise.
    pub shares_per_contract: f64,
    /// Distinct exchanges of a sweep.
    #[serde(skip_serializing_if = "is_zero")]
    pub exchanges: u32,
    /// Prints taken together.
    pub prints: u32,
    /// Event time from first to last print of a sweep, milliseconds.
    pub span_ms: i64,
    /// Whether the prints carried an intermarket-sweep condition code.
    pub iso: bool,
    /// Contracts traded today (volume over open interest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_today: Option<f64>,
    /// Open interest from the contract's snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_interest: Option<f64>,
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// Asks RestFetcher for an option contract's snapshot (open interest, day,
/// greeks). AnomalyDetector → RestFetcher; the answer goes to `reply`.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct SnapshotRequest {
    /// The contract, e.g. `O:NVDA261218C00500000`.
    pub contract: Symbol,
    /// Its asset class as the feed gave it, echoed in the answer.
    pub class: AssetClass,
    /// The feed its prints came from, echoed in the answer.
    pub feed: Arc<str>,
    /// Where the answer goes: the detector that asked.
    pub reply: actix::Recipient<ContractSnapshot>,
}

/// A contract's snapshot as the detector's rules use it. RestFetcher →
/// AnomalyDetector.
#[derive(Message, Debug, Clone, PartialEq)]
#[rtype(result = "()")]
pub struct ContractSnapshot {
    /// The contract.
    pub contract: Symbol,
    /// Its asset class, from the request.
    pub class: AssetClass,
    /// The feed, from the request.
    pub feed: Arc<str>,
    /// What the snapshot said; None when the lookup failed.
    pub snapshot: Option<Snapshot>,
}
