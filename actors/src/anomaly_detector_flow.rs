//! The options-flow half of the detector: the state of active contracts
//! (latest quote, every flow rule's state, the contract's multiplier), the
//! print every flow rule sees, snapshot requests and their answers.
//!
//! Only contracts that trade or are quoted get an entry, in a table bounded
//! by `detector.max_active_contracts` that forgets the least recently active
//! first; an idle contract costs nothing here.

use std::sync::Arc;

use actix::prelude::*;

use super::AnomalyDetector;
use crate::events::{AssetClass, Quote, Symbol, Trade};
use crate::messages::{ContractSnapshot, EventBatch, SnapshotRequest};
use crate::option_ticker::{self, OptionTicker};
use crate::rules::registry::{FlowFindings, FlowState};
use crate::rules::rule::{Print, Side};
use crate::rules::DetectorConfig;

/// Polygon's numbers for OPRA conditions that mark an intermarket sweep
/// order: 219 (ISO), 228 (single-leg auction, ISO) and 230 (single-leg
/// cross, ISO).
pub const ISO_CONDITIONS: [i32; 3] = [219, 228, 230];

/// Shares per contract unless the contract's snapshot says otherwise.
const STANDARD_MULTIPLIER: f64 = 100.0;

/// Milliseconds in a day, for event-time day numbers.
const DAY_MS: i64 = 86_400_000;

/// The options-flow state of one active contract.
#[derive(Debug, Clone)]
pub struct ContractFlow {
    /// Every registered rule's state.
    pub rules: FlowState,
    bid: f64,
    ask: f64,
    quote_ms: i64,
    shares_per_contract: f64,
    last_price: f64,
    last_ms: i64,
    last_size: f32,
    group: u8,
}

impl Default for ContractFlow {
    fn default() -> Self {
        ContractFlow {
            rules: FlowState::default(),
            bid: f64::NAN,
            ask: f64::NAN,
            quote_ms: i64::MIN,
            shares_per_contract: STANDARD_MULTIPLIER,
            last_price: f64::NAN,
            last_ms: 0,
            last_size: 0.0,
            group: 0,
        }
    }
}

impl ContractFlow {
    /// The side of a print at `price` and `time_ms`, from the latest quote
    /// when it is no older than `quote_max_age_ms`.
    fn side(&self, price: f64, time_ms: i64, cfg: &DetectorConfig) -> Option<Side> {
        let age = time_ms.saturating_sub(self.quote_ms);
        let fresh = self.quote_ms != i64::MIN && age.abs() <= cfg.quote_max_age_ms_i64();
        fresh.then(|| Side::of(price, self.bid, self.ask)).flatten()
    }

    /// The multiplier used for premium.
    pub fn shares_per_contract(&self) -> f64 {
        self.shares_per_contract
    }
}

/// True when a trade carries an intermarket-sweep condition.
pub fn is_iso(trade: &Trade) -> bool {
    trade.conditions.iter().any(|c| ISO_CONDITIONS.contains(c))
}

/// The event-time UTC day of `time_ms`, as days since 1970-01-01.
pub fn day_of(time_ms: i64) -> i32 {
    i32::try_from(time_ms.div_euclid(DAY_MS)).unwrap_or(i32::MAX)
}

impl AnomalyDetector {
    /// Remembers an option quote as its contract's latest.
    pub(super) fn on_quote(&mut self, quote: &Quote) {
        if quote.class != AssetClass::Option {
            return;
        }
        let flow = self.flow.get_or_insert(&quote.symbol);
        if quote.time_ms >= flow.quote_ms {
            flow.bid = quote.bid;
            flow.ask = quote.ask;
            flow.quote_ms = quote.time_ms;
        }
    }

    /// Runs the flow rules on one option print, under group `group`'s settings.
    pub(super) fn on_option_print(
        &mut self,
        trade: &Trade,
        contract: &OptionTicker,
        group: u8,
        batch: &EventBatch,
    ) {
        let cfg = self.groups.config(group);
        let flow = self.flow.get_or_insert(&trade.symbol);
        flow.group = group;
        let premium = trade.price * trade.size * flow.shares_per_contract;
        let print = Print {
            contract,
            price: trade.price,
            size: trade.size,
            premium,
            side: flow.side(trade.price, trade.time_ms, cfg),
            exchange: trade.exchange,
            iso: is_iso(trade),
            time_ms: trade.time_ms,
            day: day_of(trade.time_ms),
        };
        if trade.price.is_finite() && trade.size.is_finite() {
            flow.last_price = trade.price;
            flow.last_size = trade.size as f32;
            flow.last_ms = trade.time_ms;
        }
        let mut found = FlowFindings::new();
        flow.rules.observe(&print, cfg, &mut found);
        let wants = flow.rules.wants_snapshot(&print, cfg);
        let shares = flow.shares_per_contract;
        if wants {
            self.ask_snapshot(&trade.symbol, trade.class, &batch.feed);
        }
        let at = (&batch.feed, Some(batch.received_at));
        for (kind, finding) in found {
            let anomaly = self.flow_alert(kind, &finding, trade, contract, shares, at);
            self.raise(anomaly);
        }
    }

    /// Asks RestFetcher for a contract's snapshot; a full queue is counted
    /// there and the rule simply waits for the next day.
    fn ask_snapshot(&self, contract: &Symbol, class: AssetClass, feed: &Arc<str>) {
        let (Some(to), Some(reply)) = (&self.snapshots, &self.me) else {
            return;
        };
        // A refusal is counted by the sender as a drop of stage `rest`.
        let _ = to.offer(SnapshotRequest {
            contract: contract.clone(),
            class,
            feed: feed.clone(),
            reply: reply.clone(),
        });
    }

    /// Hands a contract's snapshot to its rules, and raises what they find.
    pub(super) fn on_snapshot(&mut self, msg: ContractSnapshot) {
        let Some(snap) = msg.snapshot else { return };
        let Some(flow) = self.flow.get_mut(&msg.contract) else {
            return;
        };
        if let Some(shares) = snap
            .shares_per_contract
            .filter(|s| s.is_finite() && *s > 0.0)
        {
            flow.shares_per_contract = shares;
        }
        let cfg = self.groups.config(flow.group);
        let mut found = FlowFindings::new();
        flow.rules.on_snapshot(&snap, cfg, &mut found);
        if found.is_empty() {
            return;
        }
        // The alert stands on the contract's last print.
        let trade = Trade {
            symbol: msg.contract.clone(),
            class: msg.class,
            price: flow.last_price,
            size: f64::from(flow.last_size),
            exchange: None,
            conditions: Default::default(),
            time_ms: flow.last_ms,
            sequence: None,
        };
        let shares = flow.shares_per_contract;
        let Some(contract) = contract_of(&trade) else {
            return;
        };
        for (kind, finding) in found {
            let at = (&msg.feed, None);
            let anomaly = self.flow_alert(kind, &finding, &trade, &contract, shares, at);
            self.raise(anomaly);
        }
    }
}

/// The contract a trade is about, if it is an option: `O:` tickers always,
/// and bare OCC tickers when the provider classed the trade as an option.
pub fn contract_of(trade: &Trade) -> Option<OptionTicker<'_>> {
    option_ticker::parse(&trade.symbol).or_else(|| {
        (trade.class == AssetClass::Option)
            .then(|| option_ticker::parse_unprefixed(&trade.symbol))
            .flatten()
    })
}

impl Handler<ContractSnapshot> for AnomalyDetector {
    type Result = ();

    fn handle(&mut self, msg: ContractSnapshot, _: &mut Context<Self>) {
        self.on_snapshot(msg);
    }
}
