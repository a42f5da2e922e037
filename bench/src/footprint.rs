//! Memory: resident bytes per tracked symbol, for 10 k stocks and for 1 M
//! distinct option contracts.
//!
//! A fresh pipeline first sees 1 000 warm-up symbols for 60 rounds, so every
//! queue, buffer and cache that does not grow with the symbol count is
//! already allocated. Then `VmRSS` and `tapewatch_symbols_tracked` are read,
//! the new symbols are fed (paced, so queues stay short), the feed goes idle
//! for a second, and both are read again. Bytes per symbol = RSS growth ÷
//! tracked growth. The memory scenario runs first in a full run, before other
//! pipelines have left freed memory in the allocator that new symbols could
//! reuse unseen.

use std::time::Duration;

use super::frames::{self, FeedSpec, Market};
use super::harness::Rig;
use super::memory;
use super::report::{self, Report, Verdict};
use super::sizes::Sizes;

/// Warm-up symbols, fed before the baseline.
const WARM_SYMBOLS: usize = 1_000;
/// Pace of both feeds, events/s.
const PACE: u64 = 500_000;
/// Stock symbols measured.
const STOCKS: usize = 10_000;

/// Measures one market.
async fn measure(
    market: Market,
    symbols: usize,
    rounds: u64,
    sizes: &Sizes,
    report: &mut Report,
) -> Result<(), String> {
    let section = match market {
        Market::Stocks => "memory: stocks",
        Market::Options => "memory: options",
    };
    let spec = |symbols: usize, offset: usize, events: u64| FeedSpec {
        market,
        symbols,
        symbol_offset: offset,
        events,
        events_per_frame: sizes.events_per_frame,
        anomaly_every: 0,
        segments: 1,
        warmup_segment: false,
    };
    let warm = std::sync::Arc::new(frames::build(&spec(
        WARM_SYMBOLS,
        400_000,
        WARM_SYMBOLS as u64 * 60,
    )));
    let feed = std::sync::Arc::new(frames::build(&spec(symbols, 0, symbols as u64 * rounds)));
    memory::reset_peak();
    // The table must hold every contract to measure it; the default cap is
    // 200 000 symbols.
    let cap = (symbols + WARM_SYMBOLS).max(200_000);
    let rig = Rig::start(|c| c.detector.max_symbols = cap).await?;
    let result = async {
        rig.run_segment(&warm, 0, Some(PACE)).await?;
        actix_rt::time::sleep(Duration::from_millis(500)).await;
        let (before, tracked_before) = (memory::rss(), rig.symbols_tracked());
        let r = rig.run_segment(&feed, 0, Some(PACE)).await?;
        actix_rt::time::sleep(Duration::from_secs(1)).await;
        let (after, tracked_after) = (memory::rss(), rig.symbols_tracked());
        let evicted = rig.pipeline.metrics.symbols_evicted.get();
        Ok::<_, String>((before, after, tracked_before, tracked_after, r, evicted))
    }
    .await;
    rig.stop().await;
    let (before, after, t0, t1, r, evicted) = result?;
    let grown = after.current.saturating_sub(before.current);
    let tracked = u64::try_from(t1 - t0).unwrap_or(0);
    let per_symbol = grown as f64 / tracked.max(1) as f64;
    let what = match market {
        Market::Stocks => format!("{} stocks", symbols),
        Market::Options => format!("{} option contracts", symbols),
    };
    report.row(
        format!("Memory per idle symbol, {what}"),
        format!("{per_symbol:.0} B"),
        "≤ 1 KB",
        Verdict::of(tracked > 0 && per_symbol <= 1024.0),
    );
    report.row(
        format!("Peak RSS, {what} (incl. generator frames)"),
        report::bytes(after.peak),
        "",
        Verdict::Info,
    );
    report.detail(
        section,
        format!(
            "RSS {} → {} (+{}) while symbols tracked went {t0} → {t1}; peak {}; pre-serialised frames held by the generator: {}",
            report::bytes(before.current),
            report::bytes(after.current),
            report::bytes(grown),
            report::bytes(after.peak),
            report::bytes(warm.bytes + feed.bytes),
        ),
    );
    report.detail(
        section,
        format!(
            "detector.max_symbols = {cap}; {evicted} evictions; {} events decoded, {} shed",
            r.counters.decoded,
            r.counted_drops()
        ),
    );
    Ok(())
}

/// Both markets: 10 k stocks (three trades each) and the configured number of
/// option contracts (one trade each).
pub async fn memory(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    measure(Market::Stocks, STOCKS, 3, sizes, report).await?;
    measure(Market::Options, sizes.option_contracts, 1, sizes, report).await
}
