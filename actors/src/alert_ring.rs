//! The most recent alerts with their enrichment, kept in memory for queries.
//!
//! A sink like any other: it receives every [`Output`], keeps the last
//! `capacity` alerts, and attaches each enrichment to its alert when it
//! arrives. Readers (an HTTP API, for instance) share the ring through
//! [`AlertRing`] and never block the pipeline for longer than a copy.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use actix::prelude::*;
use serde::Serialize;

use crate::messages::{Anomaly, Crash, Enrichment, Output};
use crate::stage::StageGauge;

/// One alert and, once it arrived, its enrichment.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRecord {
    /// The alert.
    pub alert: Arc<Anomaly>,
    /// Its enrichment, if it arrived.
    pub enrichment: Option<Arc<Enrichment>>,
}

/// A bounded, shared ring of recent alerts.
#[derive(Debug, Clone)]
pub struct AlertRing {
    inner: Arc<Mutex<VecDeque<AlertRecord>>>,
    capacity: usize,
}

impl AlertRing {
    /// A ring keeping at most `capacity` alerts (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        AlertRing {
            inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(4096)))),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<AlertRecord>> {
        // Records are only ever pushed or popped whole, so a panic elsewhere
        // cannot leave the ring half-written.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an alert, dropping the oldest beyond capacity.
    pub fn push_alert(&self, alert: Arc<Anomaly>) {
        let mut ring = self.lock();
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(AlertRecord {
            alert,
            enrichment: None,
        });
    }

    /// Attaches an enrichment to its alert, if the alert is still kept.
    pub fn attach(&self, enrichment: Arc<Enrichment>) {
        let mut ring = self.lock();
        // Enrichments follow their alerts closely, so search from the newest.
        if let Some(r) = ring
            .iter_mut()
            .rev()
            .find(|r| r.alert.id == enrichment.alert_id)
        {
            r.enrichment = Some(enrichment);
        }
    }

    /// Up to `limit` most recent alerts, newest first, optionally for one symbol
    /// (matching the alert's symbol or its underlying).
    pub fn recent(&self, limit: usize, symbol: Option<&str>) -> Vec<AlertRecord> {
        let ring = self.lock();
        ring.iter()
            .rev()
            .filter(|r| {
                symbol.is_none_or(|s| {
                    &*r.alert.symbol == s || r.alert.underlying.as_deref() == Some(s)
                })
            })
            .take(limit)
            .cloned()
            .collect()
    }
}

/// The actor feeding an [`AlertRing`] from the pipeline's outputs.
pub struct RingSink {
    ring: AlertRing,
    gauge: StageGauge,
}

impl RingSink {
    /// A sink writing into `ring`.
    pub fn new(ring: AlertRing, gauge: StageGauge) -> Self {
        RingSink { ring, gauge }
    }
}

impl Actor for RingSink {
    type Context = Context<Self>;
}

impl Handler<Output> for RingSink {
    type Result = ();
    fn handle(&mut self, output: Output, _: &mut Context<Self>) {
        self.gauge.taken();
        match output {
            Output::Alert(a) => self.ring.push_alert(a),
            Output::Enrichment(e) => self.ring.attach(e),
            Output::Status(_) => {}
        }
    }
}

impl Handler<Crash> for RingSink {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("RingSink: crash requested");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::AssetClass;
    use crate::messages::{AnomalyKind, EnrichStatus, Scope};

    fn alert(id: u64, symbol: &str, underlying: Option<&str>) -> Arc<Anomaly> {
        Arc::new(Anomaly {
            id,
            symbol: symbol.into(),
            underlying: underlying.map(Into::into),
            class: AssetClass::of(symbol),
            scope: Scope::Symbol,
            kind: AnomalyKind::VolumeSpike,
            rule: "volume_spike",
            thresholds: Default::default(),
            explanation: String::new(),
            flow: None,
            observed: 1.0,
            baseline: 1.0,
            score: 1.0,
            price: 1.0,
            size: 1.0,
            event_time_ms: 0,
            detected_at_ms: 0,
            feed: "stocks".into(),
            received_at: None,
        })
    }

    #[test]
    fn keeps_the_newest_and_attaches_enrichments() {
        let ring = AlertRing::new(3);
        for (id, sym) in [
            (1, "AAPL"),
            (2, "O:NVDA261218C00500000"),
            (3, "MSFT"),
            (4, "AAPL"),
        ] {
            let underlying = sym.strip_prefix("O:").map(|_| "NVDA");
            ring.push_alert(alert(id, sym, underlying));
        }
        ring.attach(Arc::new(Enrichment {
            alert_id: 3,
            symbol: "MSFT".into(),
            status: EnrichStatus::Ok,
            details: None,
            error: None,
            cached: false,
            latency_ms: 1,
        }));
        let all = ring.recent(10, None);
        assert_eq!(
            all.iter().map(|r| r.alert.id).collect::<Vec<_>>(),
            vec![4, 3, 2]
        );
        assert!(all[1].enrichment.is_some() && all[0].enrichment.is_none());
        assert_eq!(ring.recent(1, None)[0].alert.id, 4);
        assert_eq!(
            ring.recent(10, Some("NVDA"))[0].alert.id,
            2,
            "underlying matches"
        );
        assert_eq!(
            ring.recent(10, Some("AAPL")).len(),
            1,
            "alert 1 was evicted"
        );
    }
}
