//! Test harness of the detector: a collector actor that forwards what it
//! receives into a channel, and a running detector fed with synthetic trades.
//! `send(..).await` on the detector and on the collectors serves as the
//! barrier, never a sleep.

use std::time::Instant;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::*;
use crate::messages::AnomalyKind;

/// Forwards every message it gets into a channel the test reads.
pub(super) struct Forward<M: Message<Result = ()> + Send + Unpin + 'static> {
    tx: UnboundedSender<M>,
}

impl<M: Message<Result = ()> + Send + Unpin + 'static> Actor for Forward<M> {
    type Context = Context<Self>;
}

/// The messages a [`Forward`] passes on (a marker, so that its control
/// messages can have handlers of their own).
pub(super) trait Forwarded: Message<Result = ()> + Send + Unpin + 'static {}
impl Forwarded for Output {}
impl Forwarded for EnrichRequest {}
impl Forwarded for SnapshotRequest {}

impl<M: Forwarded> Handler<M> for Forward<M> {
    type Result = ();
    fn handle(&mut self, msg: M, _: &mut Context<Self>) {
        let _ = self.tx.send(msg);
    }
}

/// Answered once everything queued before it was forwarded.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Barrier;

impl<M: Message<Result = ()> + Send + Unpin + 'static> Handler<Barrier> for Forward<M> {
    type Result = ();
    fn handle(&mut self, _: Barrier, _: &mut Context<Self>) {}
}

/// Stops the forwarder, closing its stage.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Stop;

impl<M: Message<Result = ()> + Send + Unpin + 'static> Handler<Stop> for Forward<M> {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// A forwarding actor with a mailbox of `capacity`, and the stage into it.
pub(super) fn forward<M>(
    metrics: &Metrics,
    stage: &str,
    capacity: usize,
) -> (Addr<Forward<M>>, StageSender<M>, UnboundedReceiver<M>)
where
    M: Forwarded,
{
    let (tx, rx) = unbounded_channel();
    let addr = Forward::create(|ctx| {
        ctx.set_mailbox_capacity(capacity);
        Forward { tx }
    });
    let sender = StageSender::new(addr.clone().recipient(), StageGauge::new(metrics, stage));
    (addr, sender, rx)
}

/// A running detector and what comes out of it.
pub(super) struct Harness {
    /// The detector under test.
    pub addr: Addr<AnomalyDetector>,
    /// The metrics it reports into.
    pub metrics: Metrics,
    sink: Addr<Forward<Output>>,
    outputs: UnboundedReceiver<Output>,
}

impl Harness {
    /// A detector with `rules`, no enrichment stage and ids from 1.
    pub fn start(rules: DetectorConfig) -> Self {
        Self::with(rules, None, Arc::default())
    }

    /// A detector with `rules`, an optional enrichment stage and an id
    /// counter of the caller's.
    pub fn with(
        rules: DetectorConfig,
        enrich: Option<StageSender<EnrichRequest>>,
        ids: Arc<AtomicU64>,
    ) -> Self {
        Self::with_snapshots(rules, enrich, ids, None)
    }

    /// A detector that asks for contract snapshots through `snapshots`.
    pub fn with_snapshots(
        rules: DetectorConfig,
        enrich: Option<StageSender<EnrichRequest>>,
        ids: Arc<AtomicU64>,
        snapshots: Option<StageSender<SnapshotRequest>>,
    ) -> Self {
        let metrics = Metrics::new();
        let (sink, to_sink, outputs) = forward(&metrics, "sink", 100_000);
        let deps = DetectorDeps {
            rules,
            metrics: metrics.clone(),
            gauge: StageGauge::new(&metrics, "detector"),
            outputs: Fanout::new(vec![to_sink]),
            enrich,
            snapshots,
            ids,
        };
        let addr = AnomalyDetector::new(deps).start();
        Harness {
            addr,
            metrics,
            sink,
            outputs,
        }
    }

    /// Sends one batch and waits until it was handled.
    pub async fn events(&self, events: Vec<Event>) {
        let batch = EventBatch {
            feed: "test".into(),
            received_at: Instant::now(),
            events,
        };
        self.addr
            .send(Events(Arc::new(batch)))
            .await
            .expect("detector alive");
    }

    /// Sends trades in batches of 100.
    pub async fn trades(&self, trades: Vec<Trade>) {
        let mut events = trades.into_iter().map(Event::Trade).peekable();
        while events.peek().is_some() {
            self.events(events.by_ref().take(100).collect()).await;
        }
    }

    /// Everything output so far.
    pub async fn outputs(&mut self) -> Vec<Output> {
        self.sink.send(Barrier).await.expect("sink alive");
        std::iter::from_fn(|| self.outputs.try_recv().ok()).collect()
    }

    /// The alerts output so far.
    pub async fn alerts(&mut self) -> Vec<Arc<Anomaly>> {
        let outputs = self.outputs().await;
        outputs
            .into_iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }
}

/// A trade of `symbol`, classed by its ticker.
pub(super) fn trade(symbol: &str, price: f64, size: f64, time_ms: i64) -> Trade {
    Trade {
        symbol: symbol.into(),
        class: AssetClass::of(symbol),
        price,
        size,
        exchange: None,
        conditions: Default::default(),
        time_ms,
        sequence: None,
    }
}

/// `n` ordinary trades of `symbol`, one every 80 ms from `start_ms`: sizes
/// cycle through `sizes`, the price wobbles by a few hundredths of a percent.
pub(super) fn steady(
    symbol: &str,
    n: usize,
    start_ms: i64,
    price: f64,
    sizes: &[f64],
) -> Vec<Trade> {
    (0..n)
        .map(|i| {
            let wobble = [0.0, 0.0003, -0.0002, 0.0001][i % 4];
            let size = sizes[i % sizes.len()];
            trade(
                symbol,
                price * (1.0 + wobble),
                size,
                start_ms + 80 * i as i64,
            )
        })
        .collect()
}

/// Ordinary stock trade sizes, mean 300.
pub(super) const STOCK_SIZES: [f64; 5] = [100.0, 300.0, 500.0, 200.0, 400.0];
/// Ordinary option trade sizes, mean 5.5.
pub(super) const OPTION_SIZES: [f64; 10] = [1.0, 5.0, 10.0, 3.0, 7.0, 2.0, 9.0, 4.0, 6.0, 8.0];

/// Kind, scope and symbol of each alert.
pub(super) fn kinds(alerts: &[Arc<Anomaly>]) -> Vec<(AnomalyKind, Scope, &str)> {
    alerts
        .iter()
        .map(|a| (a.kind, a.scope, a.symbol.as_str()))
        .collect()
}
