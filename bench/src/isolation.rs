//! Isolation: does a slow REST provider slow the stream down?
//!
//! One pipeline, one feed of 10 k symbols: a warm-up part, then four equal
//! phases played unpaced, in the
//! order instant REST, 2 s REST, 2 s REST, instant REST (ABBA, so a drift in
//! machine load over the run weighs on both sides alike). Spikes are frequent,
//! so enrichment requests keep RestFetcher's in-flight slots full while REST
//! is slow. The ratio is the mean ingest rate of the slow phases over that of
//! the instant ones; the alert latency of each phase shows whether alerts were
//! still written at once while enrichments waited.

use std::sync::Arc;
use std::time::Duration;

use tapewatch_actors::messages::EnrichStatus;

use super::frames::{self, FeedSpec, Market, WARM_ROUNDS};
use super::harness::{Rig, SegmentResult};
use super::latency::quantiles_us;
use super::memory;
use super::report::{self, Report, Verdict};
use super::scenarios::describe;
use super::sizes::{Sizes, THROUGHPUT_SYMBOLS};

/// The slow provider's answer time.
const SLOW_REST: Duration = Duration::from_secs(2);
/// One spike per this many events once warm.
const ANOMALY_EVERY: u64 = 1_000;

/// Runs the four phases and reports the ratio.
pub async fn isolation(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    const S: &str = "isolation";
    // 10 k symbols, so that every spike is a ticker RestFetcher has not
    // cached: each enrichment needs the slow provider.
    let warmup = WARM_ROUNDS * THROUGHPUT_SYMBOLS as u64;
    let set = Arc::new(frames::build(&FeedSpec {
        market: Market::Stocks,
        symbols: THROUGHPUT_SYMBOLS,
        symbol_offset: 0,
        events: warmup + sizes.isolation_phase_events * 4,
        events_per_frame: sizes.events_per_frame,
        anomaly_every: ANOMALY_EVERY,
        segments: 4,
        warmup_segment: true,
    }));
    memory::reset_peak();
    let rig = Rig::start(|_| {}).await?;
    if let Err(e) = rig.run_segment(&set, 0, None).await {
        rig.stop().await;
        return Err(e);
    }
    let delays = [Duration::ZERO, SLOW_REST, SLOW_REST, Duration::ZERO];
    let mut results: Vec<(Duration, SegmentResult)> = Vec::new();
    for (seg, delay) in (1..).zip(delays) {
        rig.rest.set_delay(delay);
        match rig.run_segment(&set, seg, None).await {
            Ok(r) => results.push((delay, r)),
            Err(e) => {
                rig.stop().await;
                return Err(e);
            }
        }
    }
    let m = &rig.pipeline.metrics;
    let statuses: Vec<String> = EnrichStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s.label(), m.enrichments(*s).get()))
        .collect();
    let served = rig
        .rest
        .state
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    rig.stop().await;

    let mean = |slow: bool| {
        let rates: Vec<f64> = results
            .iter()
            .filter(|(d, _)| d.is_zero() != slow)
            .map(|(_, r)| r.rate())
            .collect();
        rates.iter().sum::<f64>() / rates.len().max(1) as f64
    };
    let ratio = mean(true) / mean(false).max(1e-9);
    report.row(
        "Isolation: ingest rate REST 2 s ÷ REST instant",
        format!("{ratio:.3}"),
        "≥ 0.98",
        Verdict::of(ratio >= 0.98),
    );

    // The proof that alerts did not wait: their latency in the slow phases,
    // next to the instant ones, while enrichment slots were full.
    let p99 = |slow: bool| {
        results
            .iter()
            .filter(|(d, _)| d.is_zero() != slow)
            .map(|(_, r)| quantiles_us(&r.latency.sink)[1])
            .fold(0.0, f64::max)
    };
    let alerts_slow: u64 = results
        .iter()
        .filter(|(d, _)| !d.is_zero())
        .map(|(_, r)| r.counters.alerts)
        .sum();
    let expected_slow: u64 = results
        .iter()
        .filter(|(d, _)| !d.is_zero())
        .map(|(_, r)| r.expected_alerts)
        .sum();
    let value = format!(
        "{} of {} alerts, p99 {} (instant REST: p99 {})",
        alerts_slow,
        expected_slow,
        report::micros(p99(true)),
        report::micros(p99(false))
    );
    report.row(
        "Alerts written during 2 s REST (sink latency, unpaced)",
        value,
        "all, at once",
        Verdict::of(alerts_slow == expected_slow),
    );

    for (i, (delay, r)) in results.iter().enumerate() {
        let [p50, p99, _, max] = quantiles_us(&r.latency.sink);
        report.detail(
            S,
            format!(
                "phase {} (REST {:?}): {} · alerts {}/{} · sink latency p50 {} p99 {} max {} · REST in flight peak {}",
                i + 1,
                delay,
                report::rate(r.rate()),
                r.counters.alerts,
                r.expected_alerts,
                report::micros(p50),
                report::micros(p99),
                report::micros(max),
                r.rest_in_flight_peak
            ),
        );
    }
    report.detail(
        S,
        format!(
            "enrichments by the end: {} · REST requests answered by the mock {served}",
            statuses.join(", ")
        ),
    );
    for (i, (_, r)) in results.iter().enumerate() {
        describe(report, &format!("isolation phase {}", i + 1), r);
    }
    Ok(())
}
