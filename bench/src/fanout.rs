//! State topics under load: 200 symbols at 1 M events/s through the
//! pipeline with its `/ws` hub, first with no client, then with 100 clients
//! on `last:*` reading at 10, 100 and 1 000 messages/s and as fast as they
//! can. Reports the pipeline's throughput both times, evictions (the goal is
//! none), what each kind of client received, and the service's CPU per
//! client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fanout_clients::{self, Tally};
use super::frames::{self, FeedSpec, FrameSet, Market};
use super::harness::{Rig, SegmentResult};
use super::memory::{self, ThreadTimes};
use super::report::{self, Report, Verdict};
use super::scenarios::describe;
use super::sizes::Sizes;

const S: &str = "fanout";
/// Symbols of the feed.
const SYMBOLS: usize = 200;
/// The pace asked of the generator.
const RATE: u64 = 1_000_000;
/// Clients, spread evenly over [`PACES`].
const CLIENTS: usize = 100;
/// Messages per second each kind of client reads; `None`: unlimited.
const PACES: [Option<u32>; 4] = [Some(10), Some(100), Some(1_000), None];

/// Runs the scenario and adds its rows.
pub async fn fanout(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    let set = Arc::new(frames::build(&FeedSpec {
        market: Market::Stocks,
        symbols: SYMBOLS,
        symbol_offset: 0,
        events: sizes.fanout_events,
        events_per_frame: sizes.events_per_frame,
        anomaly_every: 0,
        segments: 1,
        warmup_segment: false,
    }));
    report.detail(
        S,
        format!(
            "{} events over {SYMBOLS} symbols, {} events/frame, paced at {}; the hub publishes every {} ms",
            set.events(),
            set.events_per_frame,
            report::rate(RATE as f64),
            tapewatch::http::hub_state::DEFAULT_INTERVAL.as_millis()
        ),
    );
    let (alone, alone_cpu) = run(&set, 0).await?;
    let (with, with_cpu) = run(&set, CLIENTS).await?;
    let (r0, r1) = (alone.result, with.result);
    let ratio = r1.rate() / r0.rate().max(1e-9);
    report.row(
        "Fan-out: throughput with 100 `last:*` clients / with none",
        format!(
            "{} / {} ({:.0}%)",
            report::rate(r1.rate()),
            report::rate(r0.rate()),
            ratio * 100.0
        ),
        "≥ 90%",
        Verdict::of(ratio >= 0.9),
    );
    let shed = r1.counted_drops();
    report.row(
        "Fan-out: events shed with the clients (counted)",
        format!("{shed} (without clients: {})", r0.counted_drops()),
        "",
        Verdict::Info,
    );
    let ended: Vec<&Tally> = with.tallies.iter().filter(|t| t.ended.is_some()).collect();
    report.row(
        "Fan-out: clients evicted (slow) / ended early",
        format!("{} / {}", with.evicted, ended.len()),
        "0 / 0",
        Verdict::of(with.evicted == 0 && ended.is_empty()),
    );
    for t in ended.iter().take(3) {
        report.detail(S, format!("a client ended: {:?}", t.ended));
    }
    let extra = (with_cpu - alone_cpu).max(0.0);
    report.row(
        "Fan-out: service CPU per client (share of one core)",
        format!("{:.2}%", extra / CLIENTS as f64 * 100.0),
        "",
        Verdict::Info,
    );
    report.detail(
        S,
        format!(
            "service CPU (every thread but the clients'): {:.0}% of a core without clients, {:.0}% with; the clients' own thread {:.0}%",
            alone_cpu * 100.0,
            with_cpu * 100.0,
            with.clients_cpu * 100.0
        ),
    );
    let seconds = r1.seconds();
    for pace in PACES {
        let of: Vec<&Tally> = with.tallies.iter().filter(|t| t.rate == pace).collect();
        let n = of.len().max(1) as f64;
        let per = of.iter().map(|t| t.messages as f64).sum::<f64>() / n / seconds.max(1e-9);
        let snaps = of.iter().map(|t| t.snapshots).sum::<u64>() as f64 / n;
        let name = pace.map_or_else(|| "unlimited".to_owned(), |p| format!("{p} msg/s"));
        report.detail(
            S,
            format!(
                "{} clients reading {name}: {per:.0} messages/s each, {snaps:.0} snapshots each",
                of.len()
            ),
        );
    }
    report.detail(
        S,
        format!(
            "state values conflated in client queues: {}",
            with.conflated
        ),
    );
    describe(report, S, &r1);
    Ok(())
}

/// One run's results.
struct Run {
    result: SegmentResult,
    tallies: Vec<Tally>,
    evicted: u64,
    conflated: u64,
    clients_cpu: f64,
}

/// Plays the set with `clients` clients on `last:*`; returns the run and the
/// service's CPU (every thread but the clients'), in cores.
async fn run(set: &Arc<FrameSet>, clients: usize) -> Result<(Run, f64), String> {
    let rig = Rig::start_with(|_| {}, true).await?;
    let hub = rig.hub.clone().ok_or("the rig has no hub")?;
    let mut http = tapewatch::http::HttpConfig::default();
    http.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    http.max_clients = CLIENTS + 10;
    let server = tapewatch::http::serve(http, rig.pipeline.handle(), hub)
        .await
        .map_err(|e| format!("http: {e}"))?;
    let url = format!("ws://127.0.0.1:{}/ws", server.addr().port());
    let rates = (0..clients).map(|i| PACES[i % PACES.len()]).collect();
    let pool = fanout_clients::start(url, rates)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.ready() < clients {
        if Instant::now() > deadline {
            return Err(format!("{} of {clients} clients subscribed", pool.ready()));
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    let before = memory::thread_times();
    let started = Instant::now();
    let result = rig.run_segment(set, 0, Some(RATE)).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = memory::thread_times();
    let tid = pool.thread_id();
    let tallies = pool.stop().await;
    let m = &rig.pipeline.metrics;
    let (evicted, conflated) = (m.ws_disconnects("slow").get(), m.ws_conflated.get());
    server.stop().await;
    rig.stop().await;
    let result = result?;
    let (service, clients_cpu) = split_cpu(&before, &after, tid, seconds);
    Ok((
        Run {
            result,
            tallies,
            evicted,
            conflated,
            clients_cpu,
        },
        service,
    ))
}

/// CPU used between two readings, in cores: every thread but `clients`, and
/// `clients` alone.
fn split_cpu(before: &ThreadTimes, after: &ThreadTimes, clients: u32, seconds: f64) -> (f64, f64) {
    let tick = memory::ticks_per_second() as f64;
    let mut used: BTreeMap<bool, u64> = BTreeMap::new();
    for (tid, (_, t)) in after {
        let delta = t.saturating_sub(before.get(tid).map_or(0, |b| b.1));
        *used.entry(*tid == clients).or_default() += delta;
    }
    let cores = |ticks: u64| ticks as f64 / tick / seconds.max(1e-9);
    (
        cores(used.get(&false).copied().unwrap_or(0)),
        cores(used.get(&true).copied().unwrap_or(0)),
    )
}
