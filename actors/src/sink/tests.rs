//! A stalled sink sheds and counts while the other sinks on its arbiter get
//! every record; the writer thread batches its flushes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::alert_ring::{AlertRing, RingSink};
use crate::events::AssetClass;
use crate::messages::{Anomaly, AnomalyKind, Scope};
use crate::stage::{Fanout, StageSender};

/// A writer whose reader never reads: every write blocks until the test ends.
struct Stalled(Mutex<std::sync::mpsc::Receiver<()>>);

impl Write for Stalled {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        let gate = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        // Returns only when the test drops the sender.
        let _ = gate.recv();
        Err(std::io::Error::other("reader gone"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer into shared memory that counts its flushes.
#[derive(Clone, Default)]
struct Memory {
    bytes: Arc<Mutex<Vec<u8>>>,
    flushes: Arc<AtomicUsize>,
}

impl Memory {
    fn lines(&self) -> usize {
        self.bytes
            .lock()
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self
            .bytes
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn alert(id: u64) -> Output {
    Output::Alert(Arc::new(Anomaly {
        id,
        symbol: "NVDA".into(),
        underlying: None,
        class: AssetClass::Stock,
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
        feed: Arc::from("stocks"),
        received_at: None,
    }))
}

async fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

/// Starts `make()` on `arbiter` and answers once its mailbox bound is set.
async fn start_on<A, F>(arbiter: &ArbiterHandle, make: F) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
    F: FnOnce() -> A + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    arbiter.spawn(async move {
        let addr = A::create(|ctx| {
            ctx.set_mailbox_capacity(8192);
            make()
        });
        let _ = tx.send(addr);
    });
    rx.await.expect("the arbiter runs")
}

async fn line_sink(
    arbiter: &ArbiterHandle,
    writer: Box<dyn Write + Send>,
    metrics: &Metrics,
    gauge: &StageGauge,
) -> Addr<LineSink> {
    let (metrics, gauge) = (metrics.clone(), gauge.clone());
    start_on(arbiter, move || {
        LineSink::new("test", writer, json_line, metrics, gauge)
    })
    .await
}

#[actix::test]
async fn a_stalled_sink_sheds_and_counts_while_the_others_get_every_alert() {
    const ALERTS: u64 = 3_000;
    let metrics = Metrics::new();
    let stage = StageGauge::new(&metrics, "sink");
    // Every sink on one arbiter, as the io arbiter holds them in the service.
    let io = Arbiter::new();
    let (_gate, closed) = std::sync::mpsc::channel::<()>();
    let stalled_gauge = stage.for_actor();
    let stalled = line_sink(
        &io.handle(),
        Box::new(Stalled(Mutex::new(closed))),
        &metrics,
        &stalled_gauge,
    )
    .await;
    let file = Memory::default();
    let file_gauge = stage.for_actor();
    let jsonl = line_sink(&io.handle(), Box::new(file.clone()), &metrics, &file_gauge).await;
    let ring = AlertRing::new(ALERTS as usize);
    let ring_gauge = stage.for_actor();
    let (r, g) = (ring.clone(), ring_gauge.clone());
    let ring_sink = start_on(&io.handle(), move || RingSink::new(r, g)).await;
    let outputs = Fanout::new(vec![
        StageSender::new(stalled.recipient(), stalled_gauge.clone()),
        StageSender::new(jsonl.recipient(), file_gauge.clone()),
        StageSender::new(ring_sink.recipient(), ring_gauge.clone()),
    ]);
    // In bursts smaller than a writer's queue, as alerts come: a sink that
    // keeps writing never sheds, the stalled one fills up and sheds.
    for burst in 0..ALERTS / 100 {
        for id in burst * 100..(burst + 1) * 100 {
            assert_eq!(outputs.offer(alert(id)), 0, "no mailbox is full");
        }
        let sent = (burst as usize + 1) * 100;
        assert!(
            eventually(Duration::from_secs(10), || file.lines() == sent).await,
            "the JSONL sink got {} of {sent} alerts",
            file.lines()
        );
    }
    assert!(
        eventually(Duration::from_secs(10), || ring
            .recent(usize::MAX, None)
            .len()
            == ALERTS as usize)
        .await,
        "the alert ring got every alert"
    );
    // The stalled writer holds one line and its queue; the rest was shed.
    let shed = ALERTS - WRITER_QUEUE as u64 - 1;
    assert!(
        eventually(Duration::from_secs(10), || metrics.dropped("sink").get()
            == shed)
        .await,
        "shed {} of the stalled sink's lines, expected {shed}",
        metrics.dropped("sink").get()
    );
    assert_eq!(stalled_gauge.own_depth(), 0, "its mailbox still drains");
    io.stop();
}

#[actix::test]
async fn flush_answers_even_when_the_writer_is_stalled() {
    let metrics = Metrics::new();
    let gauge = StageGauge::new(&metrics, "sink");
    let (_gate, closed) = std::sync::mpsc::channel::<()>();
    let sink = line_sink(
        &Arbiter::current(),
        Box::new(Stalled(Mutex::new(closed))),
        &metrics,
        &gauge,
    )
    .await;
    for id in 0..(WRITER_QUEUE as u64 + 10) {
        StageSender::new(sink.clone().recipient(), gauge.clone())
            .offer(alert(id))
            .expect("room");
    }
    let answered = tokio::time::timeout(FLUSH_WAIT * 3, sink.send(Flush)).await;
    assert!(matches!(answered, Ok(Ok(()))), "{answered:?}");
}

#[test]
fn the_writer_flushes_once_per_burst() {
    let memory = Memory::default();
    let (tx, rx) = std::sync::mpsc::sync_channel(WRITER_QUEUE);
    for i in 0..500 {
        tx.send(Command::Line(format!("line {i}"))).expect("room");
    }
    drop(tx);
    let mut writer = writer::Writer::new("test", Box::new(memory.clone()), Metrics::new());
    writer.run(&rx);
    assert_eq!(memory.lines(), 500);
    let flushes = memory.flushes.load(Ordering::Relaxed);
    assert!(
        (1..=5).contains(&flushes),
        "{flushes} flushes for a burst of 500 lines"
    );
}
