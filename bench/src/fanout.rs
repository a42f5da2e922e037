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

/// Runs the scenario and adds its rows; `interval` is the hub's
/// `http.state_interval_ms` (`None`: the default).
pub async fn fanout(
    sizes: &Sizes,
    interval: Option<u64>,
    report: &mut Report,
) -> Result<(), String> {
    let interval =
        interval.unwrap_or(tapewatch::http::hub_state::DEFAULT_INTERVAL.as_millis() as u64);
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
            "{} events over {SYMBOLS} symbols, {} events/frame, paced at {}; the hub publishes every {interval} ms",
            set.events(),
            set.events_per_frame,
            report::rate(RATE as f64),
        ),
    );
    let (alone, alone_cpu) = run(&set, 0, interval).await?;
    let (with, with_cpu) = run(&set, CLIENTS, interval).await?;
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
    report.row(
        "Fan-out: events shed by the pipeline with the clients / without",
        format!("{} / {}", r1.counted_drops(), r0.counted_drops()),
        "",
        Verdict::Info,
    );
    report.row(
        "Fan-out: frames shed in front of the hub with the clients / without",
        format!("{} / {}", with.hub_shed, alone.hub_shed),
        "0",
        Verdict::of(with.hub_shed == 0),
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
    // The same events either way: what the service spent beyond the run
    // without clients went to them, spread over the run with them.
    let seconds = r1.seconds();
    let extra = (with_cpu - alone_cpu).max(0.0) / seconds.max(1e-9);
    report.row(
        "Fan-out: service CPU per client (share of one core)",
        format!("{:.2}%", extra / CLIENTS as f64 * 100.0),
        "",
        Verdict::Info,
    );
    report.detail(
        S,
        format!(
            "service CPU time (every thread but the clients'): {alone_cpu:.2} s without clients, {with_cpu:.2} s with; the clients' own thread {:.2} s",
            with.clients_cpu
        ),
    );
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
    /// Frames the hub's mailbox shed (its state table missed their events).
    hub_shed: u64,
    clients_cpu: f64,
}

/// Plays the set with `clients` clients on `last:*`; returns the run and the
/// service's CPU time (every thread but the clients'), in seconds.
async fn run(set: &Arc<FrameSet>, clients: usize, interval: u64) -> Result<(Run, f64), String> {
    let mut rig = Rig::start_with(|c| c.http.state_interval_ms = interval, true).await?;
    let hub = rig.hub.clone().ok_or("the rig has no hub")?;
    let http = tapewatch::http::HttpConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        max_clients: CLIENTS + 10,
        ..Default::default()
    };
    let threads = memory::thread_times();
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
    // No alert is raised, so the REST mock's worker never starts: the new
    // actix threads are the server's.
    for (tid, name) in memory::new_threads(&threads, &memory::thread_times()) {
        if name.starts_with("actix") {
            rig.labels
                .insert(tid, "/ws server (actix-web worker)".to_owned());
        }
    }
    let before = memory::thread_times();
    let result = rig.run_segment(set, 0, Some(RATE)).await;
    let after = memory::thread_times();
    let tid = pool.thread_id();
    let tallies = pool.stop().await;
    let m = &rig.pipeline.metrics;
    let (evicted, conflated) = (m.ws_disconnects("slow").get(), m.ws_conflated.get());
    let hub_shed = m.dropped("subscriber").get();
    server.stop().await;
    rig.stop().await;
    let result = result?;
    let (service, clients_cpu) = split_cpu(&before, &after, tid);
    Ok((
        Run {
            result,
            tallies,
            evicted,
            conflated,
            hub_shed,
            clients_cpu,
        },
        service,
    ))
}

/// CPU time used between two readings, in seconds: every thread but
/// `clients`, and `clients` alone.
fn split_cpu(before: &ThreadTimes, after: &ThreadTimes, clients: u32) -> (f64, f64) {
    let tick = memory::ticks_per_second() as f64;
    let mut used: BTreeMap<bool, u64> = BTreeMap::new();
    for (tid, (_, t)) in after {
        let delta = t.saturating_sub(before.get(tid).map_or(0, |b| b.1));
        *used.entry(*tid == clients).or_default() += delta;
    }
    let cores = |ticks: u64| ticks as f64 / tick;
    (
        cores(used.get(&false).copied().unwrap_or(0)),
        cores(used.get(&true).copied().unwrap_or(0)),
    )
}
