//! The anomaly detector: runs the detection rules over every trade and turns
//! each finding into an alert.
//!
//! Each symbol has a compact baseline in a bounded table ([`SymbolTable`]). A
//! trade is judged against the baseline as it stood before the trade, then
//! folded in. Option contracts also feed a second table keyed by their
//! underlying, so the options flow of `NVDA` as a whole is watched too, apart
//! from the `NVDA` stock, and a third, bounded table of active contracts
//! whose options-flow rules (premium, sweep, volume over open interest) keep
//! their state there, with the contract's latest quote (`flow.rs`). Each
//! symbol's settings are those of its `[[detector.groups]]` entry, resolved
//! once per symbol. The handler sees millions of trades per second: a stock
//! trade costs one table lookup and an option trade three, and neither
//! allocates; only an alert allocates (`alerts.rs`), and it leaves at once to
//! the sinks and to the enrichment stage through their bounded queues.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;

use crate::events::{AssetClass, Event, Symbol, Trade};
use crate::messages::{
    Anomaly, ContractSnapshot, EnrichRequest, EnrichStatus, Enrichment, EventBatch, Events, Output,
    Scope, SnapshotRequest,
};
use crate::metrics::Metrics;
use crate::rules::{DetectorConfig, Groups};
use crate::stage::{Fanout, Shed, StageGauge, StageSender};
use crate::symbol_state::SymbolTable;

#[path = "anomaly_detector_alerts.rs"]
mod alerts;
#[path = "anomaly_detector_flow.rs"]
pub mod flow;

use alerts::statistical_alert;
use flow::{contract_of, ContractFlow};

// ---------------------------------------------------------------- messages

/// Asks how many baselines the detector holds. It is answered after every
/// batch queued before it, which also makes it a barrier.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "TrackedSymbols")]
pub struct GetTracked;

/// The number of baselines held, by table.
#[derive(MessageResponse, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedSymbols {
    /// Tickers (stocks and single option contracts).
    pub symbols: usize,
    /// Underlyings whose options flow is watched as a whole.
    pub underlyings: usize,
    /// Option contracts with options-flow state.
    pub active_contracts: usize,
}

// ------------------------------------------------------------------ config

/// Everything the detector needs from the pipeline that creates it.
#[derive(Clone)]
pub struct DetectorDeps {
    /// The `[detector]` settings; out-of-range values fall back to defaults.
    pub rules: DetectorConfig,
    /// The pipeline's metrics.
    pub metrics: Metrics,
    /// The gauge of the detector's own queue (stage `detector`).
    pub gauge: StageGauge,
    /// Where alerts (and skipped enrichments) go: the sinks and subscribers.
    pub outputs: Fanout<Output>,
    /// The enrichment stage, when REST access is configured.
    pub enrich: Option<StageSender<EnrichRequest>>,
    /// Where contract snapshots (open interest) are asked for: RestFetcher.
    pub snapshots: Option<StageSender<SnapshotRequest>>,
    /// The alert id counter. It lives outside the actor so that ids stay
    /// unique when the actor is restarted.
    pub ids: Arc<AtomicU64>,
}

// ------------------------------------------------------------------- actor

/// Detects volume spikes, price jumps and trade bursts in the trade stream,
/// and premium whales, sweeps and volume over open interest in the options
/// flow. Create it with a bounded mailbox and feed it through a
/// [`StageSender`].
pub struct AnomalyDetector {
    groups: Groups,
    symbols: SymbolTable,
    underlyings: SymbolTable,
    flow: SymbolTable<ContractFlow>,
    metrics: Metrics,
    gauge: StageGauge,
    outputs: Fanout<Output>,
    enrich: Option<StageSender<EnrichRequest>>,
    snapshots: Option<StageSender<SnapshotRequest>>,
    /// The detector's own address, where snapshot answers come back.
    me: Option<Recipient<ContractSnapshot>>,
    ids: Arc<AtomicU64>,
}

impl std::fmt::Debug for AnomalyDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnomalyDetector")
            .field("symbols", &self.symbols)
            .field("underlyings", &self.underlyings)
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

impl AnomalyDetector {
    /// A detector with empty baselines.
    pub fn new(deps: DetectorDeps) -> Self {
        if let Err(problem) = deps.rules.validate() {
            tracing::warn!(%problem, "detector setting out of range, using its default");
        }
        let rules = deps.rules.sanitized();
        let groups = Groups::resolve(&rules).unwrap_or_else(|problem| {
            tracing::warn!(%problem, "detector groups do not resolve, running without them");
            Groups::ungrouped(&rules)
        });
        let evicted = &deps.metrics.symbols_evicted;
        AnomalyDetector {
            symbols: SymbolTable::new(rules.max_symbols, evicted.clone()),
            underlyings: SymbolTable::new(rules.max_symbols, evicted.clone()),
            flow: SymbolTable::new(
                rules.max_active_contracts,
                deps.metrics.active_contracts_evicted.clone(),
            ),
            groups,
            metrics: deps.metrics,
            gauge: deps.gauge,
            outputs: deps.outputs,
            enrich: deps.enrich,
            snapshots: deps.snapshots,
            me: None,
            ids: deps.ids,
        }
    }

    /// Runs the rules for one trade, on its ticker and, for an option
    /// contract, on its underlying and through the options-flow rules, each
    /// under the settings of its group.
    fn on_trade(&mut self, trade: &Trade, batch: &EventBatch) {
        let (price, size, time) = (trade.price, trade.size, trade.time_ms);
        let contract = contract_of(trade);
        let root = contract.as_ref().map(|c| c.underlying);
        let groups = &self.groups;
        let state = self.symbols.get_or_insert(&trade.symbol);
        let group = state.group(|| groups.index_of(&trade.symbol, trade.class, root));
        let rules = groups.config(group);
        let by_symbol = state.observe(price, size, time, Scope::Symbol, rules);
        let by_underlying = match root {
            Some(root) if groups.base().track_underlying => {
                // A root is at most six bytes, so this key is stored inline.
                let key = Symbol::new(root);
                let state = self.underlyings.get_or_insert(&key);
                let g = state.group(|| groups.index_of(root, AssetClass::Option, Some(root)));
                let found = state.observe(price, size, time, Scope::Underlying, groups.config(g));
                Some((key, g, found))
            }
            _ => None,
        };
        if let Some(contract) = &contract {
            self.on_option_print(trade, contract, group, batch);
        }
        let quiet_underlying = by_underlying.as_ref().is_none_or(|(_, _, f)| f.is_empty());
        if by_symbol.is_empty() && quiet_underlying {
            return;
        }
        let underlying = root.map(Symbol::new);
        for (kind, finding) in by_symbol {
            let cfg = self.groups.config(group);
            let at = (&trade.symbol, Scope::Symbol);
            let anomaly = statistical_alert(kind, finding, trade, batch, cfg, at);
            self.raise(Anomaly {
                underlying: underlying.clone(),
                ..anomaly
            });
        }
        if let Some((key, g, found)) = by_underlying {
            for (kind, finding) in found {
                let cfg = self.groups.config(g);
                let anomaly =
                    statistical_alert(kind, finding, trade, batch, cfg, (&key, Scope::Underlying));
                self.raise(Anomaly {
                    underlying: Some(key.clone()),
                    ..anomaly
                });
            }
        }
    }

    /// Numbers an anomaly and sends it to the outputs and to enrichment. When
    /// enrichment cannot take it, the outputs learn at once that none will
    /// follow.
    fn raise(&self, mut anomaly: Anomaly) {
        anomaly.id = self.ids.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let anomaly = Arc::new(anomaly);
        self.outputs.offer(Output::Alert(anomaly.clone()));
        self.metrics.alerts(anomaly.kind).inc();
        let Some(enrich) = &self.enrich else {
            return;
        };
        let reason = match enrich.offer(EnrichRequest(anomaly.clone())) {
            Ok(()) => return,
            Err(Shed::Full) => "enrichment queue full",
            Err(Shed::Closed) => "enrichment unavailable",
        };
        self.outputs.offer(Output::Enrichment(Arc::new(Enrichment {
            alert_id: anomaly.id,
            symbol: anomaly.symbol.clone(),
            status: EnrichStatus::Skipped,
            details: None,
            error: Some(reason.into()),
            cached: false,
            latency_ms: 0,
        })));
        self.metrics.enrichments(EnrichStatus::Skipped).inc();
    }

    fn tracked(&self) -> TrackedSymbols {
        TrackedSymbols {
            symbols: self.symbols.len(),
            underlyings: self.underlyings.len(),
            active_contracts: self.flow.len(),
        }
    }
}

impl Actor for AnomalyDetector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.me = Some(ctx.address().recipient());
    }
}

impl Handler<crate::messages::Crash> for AnomalyDetector {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Crash, _: &mut Context<Self>) {
        panic!("AnomalyDetector: crash requested");
    }
}

// ---------------------------------------------------------------- handlers

impl Handler<Events> for AnomalyDetector {
    type Result = ();

    fn handle(&mut self, msg: Events, _: &mut Context<Self>) {
        self.gauge.taken();
        let batch = &*msg.0;
        for event in &batch.events {
            match event {
                Event::Trade(trade) => self.on_trade(trade, batch),
                Event::Quote(quote) => self.on_quote(quote),
                _ => {}
            }
        }
        self.metrics
            .detector_events
            .inc_by(batch.events.len() as u64);
        let tracked = self.symbols.len().saturating_add(self.underlyings.len());
        self.metrics
            .symbols_tracked
            .set(i64::try_from(tracked).unwrap_or(i64::MAX));
    }
}

impl Handler<GetTracked> for AnomalyDetector {
    type Result = TrackedSymbols;

    fn handle(&mut self, _: GetTracked, _: &mut Context<Self>) -> TrackedSymbols {
        self.tracked()
    }
}

// ------------------------------------------------------------------- tests

#[cfg(test)]
#[path = "anomaly_detector_harness.rs"]
mod harness;

#[cfg(test)]
#[path = "anomaly_detector_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "anomaly_detector_output_tests.rs"]
mod output_tests;

#[cfg(test)]
#[path = "anomaly_detector_sim_tests.rs"]
mod sim_tests;

#[cfg(test)]
#[path = "anomaly_detector_flow_tests.rs"]
mod flow_tests;
