//! The NATS JetStream stage ([`crate::nats`]): a supervised publisher on the
//! io arbiter, fed outputs like a sink and, for `tapewatch ingest`, the
//! decoded events; what it sheds counts as `nats`.

use std::sync::{Arc, OnceLock};

use actix::prelude::*;
use tapewatch_actors::messages::{Crash, Events, Output};
use tapewatch_actors::stage::{Fanout, Slot, StageGauge, StageSender};

use super::supervise::{bounded, child, child_also};
use super::wiring::Wiring;
use super::StartError;
use crate::nats::{NatsConfig, NatsMetrics, NatsPublisher, NatsSource, SourceDeps};

impl Wiring {
    /// Starts the publisher when `nats.url` is set; with `partitions` it also
    /// takes the decoded events, and the returned sender feeds it them. The
    /// gauge says whether publishing works, for `/ready`.
    pub fn nats_publisher(
        &mut self,
        config: &NatsConfig,
        partitions: Option<u32>,
        outputs: &mut Fanout<Output>,
    ) -> Result<(Option<StageSender<Events>>, Option<prometheus::IntGauge>), StartError> {
        if config.url.is_none() {
            return Ok((None, None));
        }
        let nats = NatsMetrics::new(&self.metrics)
            .map_err(|e| StartError::Config(format!("NATS metrics: {e}")))?;
        let gauge = StageGauge::new(&self.metrics, "nats");
        let ready = nats.ready.clone();
        let (config, g, arb) = (config.clone(), gauge.clone(), self.io.handle());
        let queue = self.queues.sink_queue;
        // Batch ids must differ from another ingest process's: the start
        // time tells runs apart.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let events: Arc<OnceLock<Slot<Events>>> = Arc::default();
        let ev = events.clone();
        let (slot, _) = child_also(
            &mut self.children,
            "nats".into(),
            Some(gauge.clone()),
            |a: &Addr<NatsPublisher>| a.clone().recipient::<Output>(),
            move || {
                let (config, nats, gauge) = (config.clone(), nats.clone(), g.clone());
                bounded(&arb, queue, move || {
                    let publisher = NatsPublisher::new(config, nats, gauge);
                    match partitions {
                        Some(n) => publisher.with_events(n, run),
                        None => publisher,
                    }
                })
            },
            move |a: &Addr<NatsPublisher>| {
                let to = a.clone().recipient::<Events>();
                match ev.get() {
                    Some(slot) => slot.set(to),
                    None => drop(ev.set(Slot::new(to))),
                }
            },
        );
        outputs.push(StageSender::with_slot(slot, gauge.clone()));
        let events = match (partitions, events.get()) {
            (Some(_), Some(slot)) => Some(StageSender::with_slot(slot.clone(), gauge)),
            _ => None,
        };
        Ok((events, Some(ready)))
    }

    /// `tapewatch worker`: the source that reads the worker's partition from
    /// JetStream and feeds `events`, on the hot arbiter like the sessions it
    /// replaces.
    pub fn nats_source(
        &mut self,
        config: &NatsConfig,
        events: &Fanout<Events>,
        detector: StageSender<Events>,
    ) -> Result<(), StartError> {
        let Some(partition) = config.worker else {
            return Ok(());
        };
        let malformed = prometheus::IntCounter::new(
            "tapewatch_nats_malformed_total",
            "Messages on an event subject that were not an event batch, skipped.",
        )
        .and_then(|c| {
            self.metrics.registry.register(Box::new(c.clone()))?;
            Ok(c)
        })
        .map_err(|e| StartError::Config(format!("NATS metrics: {e}")))?;
        let deps = SourceDeps {
            config: config.clone(),
            partition,
            events: events.clone(),
            detector,
            detector_queue: self.queues.detector_queue,
            metrics: self.metrics.clone(),
            malformed,
        };
        let arb = self.hot.handle();
        child(
            &mut self.children,
            "nats_source".into(),
            None,
            |a: &Addr<NatsSource>| a.clone().recipient::<Crash>(),
            move || {
                let deps = deps.clone();
                bounded(&arb, 16, move || NatsSource::new(deps))
            },
        );
        Ok(())
    }
}
