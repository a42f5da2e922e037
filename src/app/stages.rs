//! One function per stage of the data-flow picture, called by
//! [`PipelineBuilder::start`](super::PipelineBuilder::start) in data-flow
//! order, from the outputs back to the sockets: each stage is created knowing
//! where its messages go.
//!
//! Each is a method of [`Wiring`] (`app/wiring.rs`), which carries what every
//! stage shares while the topology is built. A feed's own stages (its
//! MessageHandler, WsSession and recorder) are in `stages/feed.rs`.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use actix::prelude::*;
use dashmap::DashMap;
use tapewatch_actors::alert_ring::{AlertRing, RingSink};
use tapewatch_actors::anomaly_detector::{AnomalyDetector, DetectorDeps};
use tapewatch_actors::messages::{EnrichRequest, Events, Output, SnapshotRequest};
use tapewatch_actors::rest_fetcher::{RestClient, RestFetcher, RestFetcherDeps};
use tapewatch_actors::secret::ApiKey;
use tapewatch_actors::sink::LineSink;
use tapewatch_actors::stage::{Fanout, Slot, StageSender};

use super::supervise::{bounded, child, child_also, AddrSlot};
use super::wiring::Wiring;

mod feed;
use super::StartError;
use crate::config::Config;
use crate::http::hub_state::StateSettings;
use crate::http::Hub;
use crate::sinks::SinkSpec;
pub(super) use feed::FeedSpec;

impl Wiring {
    /// One supervised line sink per spec, on the io arbiter; each writes on
    /// a thread of its own, so a stalled writer never holds the arbiter.
    pub fn line_sinks(
        &mut self,
        specs: Vec<SinkSpec>,
        outputs: &mut Fanout<Output>,
    ) -> Vec<AddrSlot<LineSink>> {
        let mut sinks = Vec::new();
        for spec in specs {
            let gauge = self.gauges.sink.for_actor();
            let (metrics, g, arb) = (self.metrics.clone(), gauge.clone(), self.io.handle());
            let (spec, capacity) = (Arc::new(spec), self.queues.sink_queue);
            let (slot, addr) = child(
                &mut self.children,
                format!("sink:{}", spec.name),
                Some(gauge.clone()),
                |a: &Addr<LineSink>| a.clone().recipient::<Output>(),
                move || {
                    let (metrics, gauge, spec) = (metrics.clone(), g.clone(), spec.clone());
                    bounded(&arb, capacity, move || {
                        let writer = (spec.open)().unwrap_or_else(|e| {
                            tracing::error!(sink = spec.name, error = %e, "cannot reopen the sink; writing nowhere");
                            Box::new(std::io::sink())
                        });
                        LineSink::new(spec.name, writer, spec.format, metrics, gauge)
                    })
                },
            );
            outputs.push(StageSender::with_slot(slot, gauge));
            sinks.push(addr);
        }
        sinks
    }

    /// The ring of recent alerts behind `/alerts`, fed like any sink.
    pub fn alert_ring(&mut self, capacity: usize, outputs: &mut Fanout<Output>) -> AlertRing {
        let alerts = AlertRing::new(capacity);
        let gauge = self.gauges.sink.for_actor();
        let (ring, g, arb) = (alerts.clone(), gauge.clone(), self.io.handle());
        let queue = self.queues.sink_queue;
        let (slot, _) = child(
            &mut self.children,
            "sink:alert_ring".into(),
            Some(gauge.clone()),
            |a: &Addr<RingSink>| a.clone().recipient::<Output>(),
            move || {
                let (ring, gauge) = (ring.clone(), g.clone());
                bounded(&arb, queue, move || RingSink::new(ring, gauge))
            },
        );
        outputs.push(StageSender::with_slot(slot, gauge));
        alerts
    }

    /// The hub behind `/ws`, supervised like the pipeline's actors: it gets
    /// every output and every event batch, shed and counted like an
    /// extension actor's (`subscriber`), on the caller's arbiter.
    pub fn hub(
        &mut self,
        mailbox: usize,
        settings: StateSettings,
        outputs: &mut Fanout<Output>,
    ) -> Result<(AddrSlot<Hub>, StageSender<Events>), StartError> {
        let metrics = self.metrics.clone();
        let arb = Arbiter::current();
        let events: Arc<OnceLock<Slot<Events>>> = Arc::default();
        let ev = events.clone();
        let (slot, addr) = child_also(
            &mut self.children,
            "hub".into(),
            // Messages to the hub count only as drops; its death ends every
            // client's connection anyway.
            None,
            |a: &Addr<Hub>| a.clone().recipient::<Output>(),
            move || {
                let metrics = metrics.clone();
                bounded(&arb, mailbox.max(1), move || Hub::new(metrics, settings))
            },
            move |a: &Addr<Hub>| {
                let to = a.clone().recipient::<Events>();
                match ev.get() {
                    Some(slot) => slot.set(to),
                    None => drop(ev.set(Slot::new(to))),
                }
            },
        );
        outputs.push(StageSender::with_slot(slot, self.gauges.subscriber.clone()));
        let events = events
            .get()
            .cloned()
            .ok_or_else(|| StartError::Config("the hub did not start".into()))?;
        Ok((
            addr,
            StageSender::with_slot(events, self.gauges.subscriber.clone()),
        ))
    }

    /// RestFetcher, fed by the detector with alerts to enrich and contracts
    /// whose snapshot it wants. The client is built once (the only fallible
    /// step) and the TTL cache outlives restarts.
    pub fn rest_fetcher(
        &mut self,
        config: &Config,
        key: Option<ApiKey>,
        outputs: &Fanout<Output>,
    ) -> Result<(RestStages, AddrSlot<RestFetcher>), StartError> {
        let client = RestClient::new(&config.rest, key, &self.metrics)
            .map_err(|e| StartError::Config(format!("cannot build the REST client: {e}")))?;
        let gauge = self.gauges.rest.for_actor();
        let deps = RestFetcherDeps {
            config: config.rest.clone(),
            client,
            metrics: self.metrics.clone(),
            gauge: gauge.clone(),
            outputs: outputs.clone(),
            cache: Arc::new(DashMap::new()),
            unanswered: Arc::default(),
        };
        let (arb, queue) = (self.io.handle(), self.queues.rest_queue);
        let snapshots: Arc<OnceLock<Slot<SnapshotRequest>>> = Arc::default();
        let snap = snapshots.clone();
        let (slot, addr) = child_also(
            &mut self.children,
            "rest_fetcher".into(),
            Some(gauge.clone()),
            |a: &Addr<RestFetcher>| a.clone().recipient::<EnrichRequest>(),
            move || {
                let deps = deps.clone();
                bounded(&arb, queue, move || RestFetcher::new(deps))
            },
            move |a: &Addr<RestFetcher>| {
                let to = a.clone().recipient::<SnapshotRequest>();
                match snap.get() {
                    Some(slot) => slot.set(to),
                    None => drop(snap.set(Slot::new(to))),
                }
            },
        );
        let snapshots = snapshots
            .get()
            .cloned()
            .ok_or_else(|| StartError::Config("the REST fetcher did not start".into()))?;
        let stages = RestStages {
            enrich: StageSender::with_slot(slot, gauge.clone()),
            snapshots: StageSender::with_slot(snapshots, gauge),
        };
        Ok((stages, addr))
    }

    /// AnomalyDetector, fed by every feed's handler. Per-symbol baselines are
    /// rebuilt on restart; the alert id counter is shared, so ids stay unique.
    pub fn detector(
        &mut self,
        config: &Config,
        outputs: &Fanout<Output>,
        rest: RestStages,
    ) -> StageSender<Events> {
        let gauge = self.gauges.detector.for_actor();
        let deps = DetectorDeps {
            rules: config.detector.clone(),
            metrics: self.metrics.clone(),
            gauge: gauge.clone(),
            outputs: outputs.clone(),
            enrich: Some(rest.enrich),
            snapshots: Some(rest.snapshots),
            ids: Arc::new(AtomicU64::new(0)),
        };
        let (arb, queue) = (self.hot.handle(), self.queues.detector_queue);
        let (slot, _) = child(
            &mut self.children,
            "anomaly_detector".into(),
            Some(gauge.clone()),
            |a: &Addr<AnomalyDetector>| a.clone().recipient::<Events>(),
            move || {
                let deps = deps.clone();
                bounded(&arb, queue, move || AnomalyDetector::new(deps))
            },
        );
        StageSender::with_slot(slot, gauge)
    }

    /// Where decoded events go: the detector, then extension actors.
    pub fn events(
        &self,
        detector: StageSender<Events>,
        hub: Option<StageSender<Events>>,
        subscribers: Vec<Recipient<Events>>,
    ) -> Fanout<Events> {
        let mut events = Fanout::new(vec![detector]);
        if let Some(hub) = hub {
            events.push(hub);
        }
        self.subscribers(subscribers, &mut events);
        events
    }
}

/// The two ways into RestFetcher: alerts to enrich, and contracts whose
/// snapshot the detector wants. Both share the `rest` stage's gauge.
pub struct RestStages {
    /// Alerts to enrich.
    pub enrich: StageSender<EnrichRequest>,
    /// Contract snapshots to fetch.
    pub snapshots: StageSender<SnapshotRequest>,
}
