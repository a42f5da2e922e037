//! What the stages share while the topology is built ([`Wiring`]): the
//! metrics and their stage gauges (made once; each receiving actor gets a
//! depth of its own through `StageGauge::for_actor`, shared with the senders
//! into it, so its death can count what its mailbox held), the arbiters, the
//! fatal relay, and the list of children the guardian will supervise.

use actix::prelude::*;
use tapewatch_actors::guardian::Child;
use tapewatch_actors::messages::Fatal;
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::recorder::Recorder;
use tapewatch_actors::stage::{Fanout, StageGauge, StageSender};

use super::feed_stops::FeedStops;
use crate::config::PipelineConfig;

/// The queue gauges of each stage, one set per pipeline.
#[derive(Clone)]
pub(super) struct Gauges {
    pub handler: StageGauge,
    pub detector: StageGauge,
    pub rest: StageGauge,
    pub sink: StageGauge,
    /// Extension actors never report taking a message: drops only.
    pub subscriber: StageGauge,
}

impl Gauges {
    fn new(metrics: &Metrics) -> Self {
        Gauges {
            handler: StageGauge::new(metrics, "handler"),
            detector: StageGauge::new(metrics, "detector"),
            rest: StageGauge::new(metrics, "rest"),
            sink: StageGauge::new(metrics, "sink"),
            subscriber: StageGauge::drops_only(metrics, "subscriber"),
        }
    }
}

/// What the stages share while the topology is built.
pub(super) struct Wiring {
    pub metrics: Metrics,
    pub gauges: Gauges,
    pub queues: PipelineConfig,
    /// WsSession and AnomalyDetector: a frame is read and checked without
    /// crossing threads.
    pub hot: Arbiter,
    /// MessageHandler's arbiter when `pipeline.decode_thread` is on.
    pub decode: Option<Arbiter>,
    /// RestFetcher and the sinks: TLS, JSON and disk work never take the hot
    /// thread.
    pub io: Arbiter,
    pub relay: Recipient<Fatal>,
    /// Where sessions report that their feed stopped for good.
    pub feed_stops: Recipient<Fatal>,
    pub children: Vec<Box<dyn Child>>,
    /// Each recording feed's recorder, closed at shutdown.
    pub recorders: Vec<Recorder>,
}

impl Wiring {
    pub fn new(queues: PipelineConfig, relay: Recipient<Fatal>, feeds: usize) -> Self {
        let metrics = Metrics::new();
        // Decoding is most of the per-event cost; on its own thread it runs
        // beside reading and detection instead of after them.
        let decode = queues.decode_thread.then(Arbiter::new);
        Wiring {
            gauges: Gauges::new(&metrics),
            metrics,
            queues,
            hot: Arbiter::new(),
            decode,
            io: Arbiter::new(),
            feed_stops: FeedStops::new(feeds, relay.clone()).start().recipient(),
            relay,
            children: Vec::new(),
            recorders: Vec::new(),
        }
    }

    /// Extension actors that asked for outputs or events: shed, never waited on.
    pub fn subscribers<M>(&self, recipients: Vec<Recipient<M>>, fanout: &mut Fanout<M>)
    where
        M: Message + Clone + Send + 'static,
        M::Result: Send,
    {
        for r in recipients {
            fanout.push(StageSender::new(r, self.gauges.subscriber.clone()));
        }
    }
}
