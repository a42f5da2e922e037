//! The anomaly detector: runs the detection rules over every trade and turns
//! each finding into an alert.
//!
//! Each symbol has a compact baseline in a bounded table ([`SymbolTable`]). A
//! trade is judged against the baseline as it stood before the trade, then
//! folded in. Option contracts also feed a second table keyed by their
//! underlying, so the options flow of `NVDA` as a whole is watched too, apart
//! from the `NVDA` stock. The handler sees millions of trades per second: a
//! trade costs one table lookup (two for an option) and allocates nothing;
//! only an alert allocates, and it leaves at once to the sinks and to the
//! enrichment stage through their bounded queues.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;

use crate::events::{AssetClass, Event, Symbol, Trade};
use crate::messages::{
    unix_ms, Anomaly, AnomalyKind, EnrichRequest, EnrichStatus, Enrichment, EventBatch, Events,
    Output, Scope,
};
use crate::metrics::Metrics;
use crate::option_ticker::{self, OptionTicker};
use crate::rules::{DetectorConfig, Finding};
use crate::stage::{Fanout, Shed, StageGauge, StageSender};
use crate::symbol_state::SymbolTable;

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
    /// The alert id counter. It lives outside the actor so that ids stay
    /// unique when the actor is restarted.
    pub ids: Arc<AtomicU64>,
}

// ------------------------------------------------------------------- actor

/// Detects volume spikes, price jumps and trade bursts in the trade stream.
/// Create it with a bounded mailbox and feed it through a [`StageSender`].
pub struct AnomalyDetector {
    rules: DetectorConfig,
    symbols: SymbolTable,
    underlyings: SymbolTable,
    metrics: Metrics,
    gauge: StageGauge,
    outputs: Fanout<Output>,
    enrich: Option<StageSender<EnrichRequest>>,
    ids: Arc<AtomicU64>,
}

impl std::fmt::Debug for AnomalyDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnomalyDetector")
            .field("symbols", &self.symbols)
            .field("underlyings", &self.underlyings)
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
        let evicted = &deps.metrics.symbols_evicted;
        AnomalyDetector {
            symbols: SymbolTable::new(rules.max_symbols, evicted.clone()),
            underlyings: SymbolTable::new(rules.max_symbols, evicted.clone()),
            rules,
            metrics: deps.metrics,
            gauge: deps.gauge,
            outputs: deps.outputs,
            enrich: deps.enrich,
            ids: deps.ids,
        }
    }

    /// Runs the rules for one trade, on its ticker and, for an option
    /// contract, on its underlying.
    fn on_trade(&mut self, trade: &Trade, batch: &EventBatch) {
        let (price, size, time) = (trade.price, trade.size, trade.time_ms);
        let rules = &self.rules;
        let by_symbol = self.symbols.get_or_insert(&trade.symbol).observe(
            price,
            size,
            time,
            Scope::Symbol,
            rules,
        );
        let contract = contract_of(trade);
        let by_underlying = match &contract {
            Some(contract) if rules.track_underlying => {
                // A root is at most six bytes, so this key is stored inline.
                let key = Symbol::new(contract.underlying);
                let found = self.underlyings.get_or_insert(&key).observe(
                    price,
                    size,
                    time,
                    Scope::Underlying,
                    rules,
                );
                Some((key, found))
            }
            _ => None,
        };
        let quiet_underlying = by_underlying.as_ref().is_none_or(|(_, f)| f.is_empty());
        if by_symbol.is_empty() && quiet_underlying {
            return;
        }
        let underlying = contract.map(|c| Symbol::new(c.underlying));
        for (kind, finding) in by_symbol {
            let anomaly = alert(kind, finding, trade, batch);
            self.raise(Anomaly {
                underlying: underlying.clone(),
                ..anomaly
            });
        }
        if let Some((key, found)) = by_underlying {
            for (kind, finding) in found {
                let anomaly = alert(kind, finding, trade, batch);
                self.raise(Anomaly {
                    symbol: key.clone(),
                    underlying: Some(key.clone()),
                    scope: Scope::Underlying,
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
        }
    }
}

/// The contract a trade is about, if it is an option: `O:` tickers always,
/// and bare OCC tickers when the provider classed the trade as an option.
fn contract_of(trade: &Trade) -> Option<OptionTicker<'_>> {
    option_ticker::parse(&trade.symbol).or_else(|| {
        (trade.class == AssetClass::Option)
            .then(|| option_ticker::parse_unprefixed(&trade.symbol))
            .flatten()
    })
}

/// A symbol-scope anomaly for a finding on `trade`, not yet numbered.
fn alert(kind: AnomalyKind, finding: Finding, trade: &Trade, batch: &EventBatch) -> Anomaly {
    Anomaly {
        id: 0,
        symbol: trade.symbol.clone(),
        underlying: None,
        class: trade.class,
        scope: Scope::Symbol,
        kind,
        observed: finding.observed,
        baseline: finding.baseline,
        score: finding.score,
        price: trade.price,
        size: trade.size,
        event_time_ms: trade.time_ms,
        detected_at_ms: unix_ms(),
        feed: batch.feed.clone(),
        received_at: Some(batch.received_at),
    }
}

impl Actor for AnomalyDetector {
    type Context = Context<Self>;
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
            if let Event::Trade(trade) = event {
                self.on_trade(trade, batch);
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
