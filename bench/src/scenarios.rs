//! The scenarios: throughput, latency at 100 k and 1 M events/s, burst and the
//! Python peer (isolation and memory have files of their own). Each builds its
//! frames before any clock starts, points a fresh pipeline at a generator,
//! runs, and adds its figures to the [`Report`].

use std::path::Path;
use std::sync::Arc;

use super::frames::FrameSet;
use super::harness::{Rig, SegmentResult};
use super::latency::quantiles_us;
use super::report::{self, Report, Verdict};
use super::sizes::{small_frames, throughput_frames, Sizes};
use super::{memory, peer, probe, probe_actix};

/// Detail lines every segment gets: accounting, alerts, where the CPU went.
pub fn describe(report: &mut Report, section: &str, r: &SegmentResult) {
    let c = &r.counters;
    let send = r.sent.finished.saturating_duration_since(r.sent.started);
    report.detail(
        section,
        format!(
            "sent {} events in {} frames; generator done after {:.3} s (longest send stall {:.1} ms{}); pipeline done after {:.3} s (by {})",
            r.sent.events,
            r.sent.frames,
            send.as_secs_f64(),
            r.sent.max_stall.as_secs_f64() * 1e3,
            r.sent.failure.as_deref().map(|f| format!(", FAILED: {f}")).unwrap_or_default(),
            r.seconds(),
            r.end_by,
        ),
    );
    report.detail(
        section,
        format!(
            "accounting: frames read {} · events decoded {} · shed at handler {} frames, at detector {} batches · decode errors {} · unaccounted {} events · reconnects {}",
            c.frames, c.decoded, c.handler_drops, c.detector_drops, c.decode_errors, r.unaccounted(), c.reconnects
        ),
    );
    report.detail(
        section,
        format!(
            "alerts: {} expected, {} raised, {} at the subscriber, {} at the sink; outputs shed {}, enrichment requests shed {}",
            r.expected_alerts,
            c.alerts,
            r.latency.subscriber.len(),
            r.latency.sink.len(),
            c.output_drops,
            c.rest_drops
        ),
    );
    let cpu: Vec<String> = r
        .cpu
        .iter()
        .map(|(n, s)| format!("{n} {:.0}%", s * 100.0))
        .collect();
    report.detail(
        section,
        format!("CPU (share of one core): {}", cpu.join(", ")),
    );
}

/// Unpaced events through the whole pipeline, and the generator's ceiling.
pub async fn throughput(
    sizes: &Sizes,
    report: &mut Report,
) -> Result<(Arc<FrameSet>, f64), String> {
    const S: &str = "throughput";
    let set = throughput_frames(sizes, sizes.throughput_events);
    report.detail(
        S,
        format!(
            "{} events, {} symbols, {} events/frame, {} pre-serialised",
            set.events(),
            set.symbols,
            set.events_per_frame,
            report::bytes(set.bytes)
        ),
    );
    let ceilings = [
        (
            "tokio-tungstenite (the generator)",
            probe::ceiling(&set).await,
        ),
        (
            "actix-ws (the alternative)",
            probe_actix::ceiling(&set).await,
        ),
    ];
    for (server, ceiling) in ceilings {
        let line = match ceiling {
            Ok(rate) => format!(
                "{server} → bare WebSocket client, no parsing: {}",
                report::rate(rate)
            ),
            Err(e) => format!("{server} ceiling not measured: {e}"),
        };
        report.detail(S, line);
    }
    memory::reset_peak();
    let rig = Rig::start(|_| {}).await?;
    let r = rig.run_segment(&set, 0, None).await;
    rig.stop().await;
    let r = r?;
    let target = format!("≥ 2 M/s, unpaced, {} events", set.events());
    report.row(
        "Throughput (decode + detect + alerts written)",
        report::rate(r.rate()),
        &target,
        Verdict::of(r.rate() >= 2e6),
    );
    let lost = r.unaccounted();
    report.row(
        "Events lost unaccounted (sent − processed − counted drops)",
        lost.to_string(),
        "0",
        Verdict::of(lost == 0),
    );
    report.row(
        "Events shed (counted)",
        r.counted_drops().to_string(),
        "",
        Verdict::Info,
    );
    describe(report, S, &r);
    sustained(&set, report).await?;
    Ok((set, r.rate()))
}

/// Paced runs at rising rates: the highest rate the pipeline processed
/// without shedding a single event is the rate it sustains. The sweep ends at
/// the first shed event or once the pipeline falls behind the pace asked for
/// (TCP flow control then slows the generator, so higher paces say nothing new).
async fn sustained(set: &Arc<FrameSet>, report: &mut Report) -> Result<(), String> {
    const S: &str = "throughput";
    let mut best: Option<f64> = None;
    for rate in [
        1_000_000u64,
        1_500_000,
        2_000_000,
        2_500_000,
        3_000_000,
        3_500_000,
    ] {
        let rig = Rig::start(|_| {}).await?;
        let r = rig.run_segment(set, 0, Some(rate)).await;
        rig.stop().await;
        let r = r?;
        let shed = r.counted_drops();
        report.detail(
            S,
            format!(
                "paced at {}: the generator sent {}, the pipeline processed {}, shed {shed} events",
                report::rate(rate as f64),
                report::rate(r.offered_rate()),
                report::rate(r.rate())
            ),
        );
        if shed > 0 {
            break;
        }
        best = Some(best.map_or(r.rate(), |b| b.max(r.rate())));
        if r.rate() < 0.95 * rate as f64 {
            break;
        }
    }
    let value = best.map_or_else(|| "below 1 M/s".to_owned(), report::rate);
    report.row(
        "Sustained throughput, paced, nothing shed",
        value,
        "≥ 2 M/s",
        Verdict::of(best.is_some_and(|b| b >= 2e6)),
    );
    Ok(())
}

/// Paced at `rate` events/s: frame read → alert written.
pub async fn latency(
    sizes: &Sizes,
    rate: u64,
    seconds: u64,
    report: &mut Report,
) -> Result<(), String> {
    let section = format!("latency @ {}", report::rate(rate as f64));
    let anomaly_every = (rate / 500).max(200);
    let set = small_frames(sizes, rate * seconds, anomaly_every, 1);
    memory::reset_peak();
    let rig = Rig::start(|_| {}).await?;
    let r = rig.run_segment(&set, 0, Some(rate)).await;
    rig.stop().await;
    let r = r?;
    let [p50, p99, p999, max] = quantiles_us(&r.latency.sink);
    let [s50, s99, s999, smax] = quantiles_us(&r.latency.subscriber);
    let value = format!(
        "{} / {} / {}",
        report::micros(p50),
        report::micros(p99),
        report::micros(p999)
    );
    let (target, ok) = if rate <= 100_000 {
        ("p99 ≤ 500 µs".to_owned(), p99 <= 500.0)
    } else {
        (
            "goal p50 ≤ 1 ms, p99 ≤ 10 ms (performance.md §8)".to_owned(),
            p50 <= 1_000.0 && p99 <= 10_000.0,
        )
    };
    let verdict = if r.latency.sink.is_empty() {
        Verdict::Miss
    } else {
        Verdict::of(ok)
    };
    report.row(
        format!(
            "Latency p50/p99/p99.9 @ {} paced (sink)",
            report::rate(rate as f64)
        ),
        value,
        &target,
        verdict,
    );
    report.detail(
        &section,
        format!(
            "{} events over {} symbols, spikes every {anomaly_every} events once warm; achieved {}",
            set.events(),
            set.symbols,
            report::rate(r.rate())
        ),
    );
    report.detail(&section, format!("at the sink (JSONL line read from the FIFO): p50 {} · p99 {} · p99.9 {} · max {} · n {}", report::micros(p50), report::micros(p99), report::micros(p999), report::micros(max), r.latency.sink.len()));
    report.detail(
        &section,
        format!(
            "at the output subscriber: p50 {} · p99 {} · p99.9 {} · max {} · n {}",
            report::micros(s50),
            report::micros(s99),
            report::micros(s999),
            report::micros(smax),
            r.latency.subscriber.len()
        ),
    );
    describe(report, &section, &r);
    Ok(())
}

/// One million events as fast as the generator can push them.
pub async fn burst(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    const S: &str = "burst";
    let set = small_frames(sizes, sizes.burst_events, 5_000, 1);
    memory::reset_peak();
    let rig = Rig::start(|_| {}).await?;
    let r = rig.run_segment(&set, 0, None).await;
    let disconnects = rig
        .generator
        .stats
        .slow_disconnects
        .load(std::sync::atomic::Ordering::Relaxed)
        + rig
            .generator
            .stats
            .client_disconnects
            .load(std::sync::atomic::Ordering::Relaxed);
    rig.stop().await;
    let r = r?;
    let clean = r.sent.failure.is_none() && disconnects == 0 && r.counters.reconnects == 0;
    let value = format!(
        "{:.2} s{}",
        r.seconds(),
        if clean {
            ", connected"
        } else {
            ", DISCONNECTED"
        }
    );
    let target = format!("{} events < 1 s, no disconnect", set.events());
    report.row(
        "Burst absorbed (pipeline done)",
        value,
        &target,
        Verdict::of(clean && r.seconds() < 1.0),
    );
    report.detail(
        S,
        format!(
            "peak RSS during the burst {}",
            report::bytes(memory::rss().peak)
        ),
    );
    describe(report, S, &r);
    Ok(())
}

/// The Python peer on the throughput feed; `ours` is tapewatch's throughput.
pub async fn peer(
    python: &Path,
    set: &Arc<FrameSet>,
    sizes: &Sizes,
    ours: Option<f64>,
    report: &mut Report,
) -> Result<(), String> {
    const S: &str = "peer";
    let frames = usize::try_from(sizes.peer_events.div_ceil(set.events_per_frame as u64))
        .unwrap_or(usize::MAX);
    let r = peer::run(python, set, frames).await?;
    report.row(
        "Peer: polygon-api-client, asyncio queue + thread-pool REST",
        report::rate(r.rate()),
        "",
        Verdict::Info,
    );
    if let Some(ours) = ours {
        report.row(
            "tapewatch ÷ peer (unpaced events/s)",
            format!("{:.1}×", ours / r.rate().max(1e-9)),
            "",
            Verdict::Info,
        );
    }
    report.detail(
        S,
        format!(
            "{} events of the throughput feed in {:.2} s; {} anomalies, {} REST lookups done{}",
            r.events,
            r.seconds,
            r.anomalies,
            r.rest_ok,
            if r.slow_disconnect {
                "; DISCONNECTED as a slow consumer"
            } else {
                ""
            }
        ),
    );
    Ok(())
}
