//! What the detector hands on besides alerts: enrichment requests, skipped
//! enrichments when that stage sheds, and the table and queue gauges.

use super::harness::{forward, steady, trade, Barrier, Harness, Stop, STOCK_SIZES};
use super::*;
use crate::events::{AggWindow, Aggregate, Quote, Status};

#[actix::test]
async fn alerts_reach_the_enrichment_stage() {
    let metrics = Metrics::new();
    let (rest, to_rest, mut requests) = forward::<EnrichRequest>(&metrics, "rest", 64);
    let ids = Arc::new(AtomicU64::new(41));
    let mut h = Harness::with(DetectorConfig::default(), Some(to_rest), ids.clone());
    let mut trades = steady("MSFT", 200, 0, 400.0, &STOCK_SIZES);
    trades.push(trade("MSFT", 400.0, 18_000.0, 16_000));
    h.trades(trades).await;
    let outputs = h.outputs().await;
    assert_eq!(
        outputs.len(),
        1,
        "only the alert: its enrichment comes later"
    );
    rest.send(Barrier).await.expect("rest alive");
    let request = requests.try_recv().expect("one request");
    assert_eq!((request.0.id, request.0.symbol.as_str()), (42, "MSFT"));
    assert!(requests.try_recv().is_err());
    assert_eq!(ids.load(Ordering::Relaxed), 42);
}

/// A detector whose enrichment stage sheds, and the outputs of `spikes`
/// simultaneous volume spikes on distinct symbols.
async fn spikes_with_enrichment(
    enrich: StageSender<EnrichRequest>,
    spikes: usize,
) -> (Vec<Output>, Metrics) {
    let mut h = Harness::with(DetectorConfig::default(), Some(enrich), Arc::default());
    let symbols: Vec<String> = (0..spikes).map(|i| format!("S{i}")).collect();
    for s in &symbols {
        h.trades(steady(s, 100, 0, 50.0, &STOCK_SIZES)).await;
    }
    let batch = symbols
        .iter()
        .map(|s| Event::Trade(trade(s, 50.0, 30_000.0, 8_000)))
        .collect();
    h.events(batch).await;
    (h.outputs().await, h.metrics.clone())
}

fn skipped(outputs: &[Output]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Enrichment(e) if e.status == EnrichStatus::Skipped => e.error.clone(),
            _ => None,
        })
        .collect()
}

#[actix::test]
async fn a_full_enrichment_queue_emits_skipped_enrichments() {
    let metrics = Metrics::new();
    let (_rest, to_rest, _requests) = forward::<EnrichRequest>(&metrics, "rest", 1);
    let (outputs, metrics) = spikes_with_enrichment(to_rest, 10).await;
    let alerts = outputs
        .iter()
        .filter(|o| matches!(o, Output::Alert(_)))
        .count();
    let skipped = skipped(&outputs);
    assert_eq!(alerts, 10);
    assert!(!skipped.is_empty() && skipped.len() < 10, "{skipped:?}");
    assert!(skipped.iter().all(|e| e == "enrichment queue full"));
    assert_eq!(
        metrics.enrichments(EnrichStatus::Skipped).get(),
        skipped.len() as u64
    );
}

#[actix::test]
async fn a_closed_enrichment_stage_emits_skipped_enrichments() {
    let metrics = Metrics::new();
    let (rest, to_rest, _requests) = forward::<EnrichRequest>(&metrics, "rest", 16);
    rest.send(Stop).await.expect("rest alive");
    for _ in 0..1_000 {
        if !to_rest.connected() {
            break;
        }
        actix_rt::task::yield_now().await;
    }
    assert!(
        !to_rest.connected(),
        "the stopped stage still accepts messages"
    );
    let (outputs, metrics) = spikes_with_enrichment(to_rest, 3).await;
    assert_eq!(skipped(&outputs), ["enrichment unavailable"; 3]);
    assert_eq!(metrics.enrichments(EnrichStatus::Skipped).get(), 3);
}

#[actix::test]
async fn events_other_than_trades_are_ignored() {
    let mut h = Harness::start(DetectorConfig::default());
    let quote = Event::Quote(Quote {
        symbol: "NVDA".into(),
        class: AssetClass::Stock,
        bid: 1.0,
        bid_size: 1e9,
        ask: 1e6,
        ask_size: 1e9,
        time_ms: 0,
    });
    let aggregate = Event::Aggregate(Aggregate {
        symbol: "NVDA".into(),
        class: AssetClass::Stock,
        window: AggWindow::Second,
        open: 1.0,
        high: 1e6,
        low: 0.5,
        close: 1e5,
        volume: Some(1e12),
        vwap: None,
        start_ms: 0,
        end_ms: 1_000,
    });
    let status = Event::Status(Status {
        status: "connected".into(),
        message: String::new(),
    });
    h.events(vec![quote, aggregate, status]).await;
    assert!(h.alerts().await.is_empty());
    assert_eq!(
        h.addr.send(GetTracked).await.expect("alive"),
        TrackedSymbols {
            symbols: 0,
            underlyings: 0,
            active_contracts: 0,
        }
    );
}

#[actix::test]
async fn the_symbol_cap_evicts_and_keeps_the_gauges_current() {
    let rules = DetectorConfig {
        max_symbols: 3,
        ..DetectorConfig::default()
    };
    let h = Harness::start(rules);
    let trades = ["A", "B", "C", "D", "E", "O:F250117P00012500"]
        .iter()
        .map(|s| Event::Trade(trade(s, 10.0, 100.0, 0)))
        .collect();
    h.events(trades).await;
    assert_eq!(h.metrics.symbols_evicted.get(), 3);
    assert_eq!(h.metrics.symbols_tracked.get(), 4);
    // One queued message, one `taken`; `send` bypasses the stage's count.
    assert_eq!(h.metrics.depth("detector").get(), -1);
}
