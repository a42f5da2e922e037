//! Unit tests of the per-symbol state and the bounded table.

use super::*;
use crate::metrics::Metrics;

fn cfg() -> DetectorConfig {
    DetectorConfig::default()
}

/// Feeds `n` trades of `size` at `price`, one every `step_ms` from `start_ms`,
/// and returns every finding with its trade's time.
fn feed(
    state: &mut SymbolState,
    n: u32,
    price: f64,
    size: f64,
    start_ms: i64,
    step_ms: i64,
) -> Vec<(i64, AnomalyKind)> {
    let mut out = Vec::new();
    for i in 0..i64::from(n) {
        let t = start_ms + i * step_ms;
        for (kind, _) in state.observe(price, size, t, Scope::Symbol, &cfg()) {
            out.push((t, kind));
        }
    }
    out
}

#[test]
fn state_stays_compact_with_its_last_price_and_group() {
    assert!(
        std::mem::size_of::<SymbolState>() <= 72,
        "{}",
        std::mem::size_of::<SymbolState>()
    );
}

#[test]
fn early_baselines_are_plain_averages() {
    let mut s = SymbolState::new();
    for (i, size) in [100.0, 200.0, 300.0].into_iter().enumerate() {
        s.observe(10.0 + i as f64, size, 0, Scope::Symbol, &cfg());
    }
    assert_eq!(s.trades(), 3);
    assert!((s.size_mean() - 200.0).abs() < 1e-3);
    assert!((s.price_reference() - 11.0).abs() < 1e-9);
    // Population variance of 100, 200, 300.
    assert!((f64::from(s.size_variance) - 20_000.0 / 3.0).abs() < 1.0);
}

#[test]
fn nothing_fires_during_warm_up() {
    let mut s = SymbolState::new();
    assert!(feed(&mut s, 10, 100.0, 100.0, 0, 80).is_empty());
    // Spike, jump and burst at once, still inside the 50-trade warm-up.
    assert!(s
        .observe(150.0, 100_000.0, 880, Scope::Symbol, &cfg())
        .is_empty());
    assert!(feed(&mut s, 38, 150.0, 100.0, 900, 1).is_empty());
    assert_eq!(s.trades(), 49);
}

#[test]
fn one_spike_is_one_alert_and_cooldown_expires() {
    let mut s = SymbolState::new();
    assert!(feed(&mut s, 100, 100.0, 100.0, 0, 80).is_empty());
    let found = s.observe(100.0, 6_000.0, 8_000, Scope::Symbol, &cfg());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, AnomalyKind::VolumeSpike);
    assert_eq!(found[0].1.observed, 6_000.0);
    assert!((found[0].1.baseline - 100.0).abs() < 1e-3);
    // A second spike inside the cooldown is suppressed...
    assert!(s
        .observe(100.0, 60_000.0, 8_080, Scope::Symbol, &cfg())
        .is_empty());
    // ...one a cooldown after the first alert is not.
    feed(&mut s, 200, 100.0, 100.0, 8_160, 80);
    let later = s.observe(100.0, 60_000.0, 68_000, Scope::Symbol, &cfg());
    assert_eq!(later.len(), 1);
}

#[test]
fn event_time_going_back_releases_the_cooldown() {
    let mut s = SymbolState::new();
    feed(&mut s, 100, 100.0, 100.0, 1_000_000, 80);
    assert_eq!(
        s.observe(100.0, 6_000.0, 1_008_000, Scope::Symbol, &cfg())
            .len(),
        1
    );
    feed(&mut s, 300, 100.0, 100.0, 0, 80);
    assert_eq!(
        s.observe(100.0, 6_000.0, 30_000, Scope::Symbol, &cfg())
            .len(),
        1
    );
}

#[test]
fn price_jump_is_judged_against_the_price_before_the_trade() {
    let mut s = SymbolState::new();
    feed(&mut s, 60, 100.0, 100.0, 0, 80);
    let found = s.observe(105.0, 100.0, 4_800, Scope::Symbol, &cfg());
    assert_eq!(found.len(), 1);
    let (kind, f) = found[0];
    assert_eq!(kind, AnomalyKind::PriceJump);
    assert_eq!((f.observed, f.baseline), (105.0, 100.0));
    assert!((f.score - 5.0).abs() < 1e-9);
    // The price stays up: the reference follows, the cooldown holds.
    assert!(feed(&mut s, 100, 105.0, 100.0, 4_880, 80).is_empty());
}

#[test]
fn underlying_scope_has_no_price_rule() {
    let mut s = SymbolState::new();
    for i in 0..60 {
        s.observe(100.0, 5.0, i * 80, Scope::Underlying, &cfg());
    }
    assert!(s
        .observe(300.0, 5.0, 4_800, Scope::Underlying, &cfg())
        .is_empty());
    let spike = s.observe(3.0, 500.0, 4_880, Scope::Underlying, &cfg());
    assert_eq!(
        spike.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [AnomalyKind::VolumeSpike]
    );
}

#[test]
fn a_burst_fires_once_as_its_count_crosses_the_threshold() {
    let mut s = SymbolState::new();
    // 12.5 trades per second for 8 seconds: the usual rate settles at 12.5.
    assert!(feed(&mut s, 100, 100.0, 100.0, 0, 80).is_empty());
    assert!((s.rate() - 12.5).abs() < 0.6, "rate {}", s.rate());
    let burst = feed(&mut s, 150, 100.0, 100.0, 8_000, 3);
    assert_eq!(burst.len(), 1, "{burst:?}");
    let (time, kind) = burst[0];
    assert_eq!(kind, AnomalyKind::TradeBurst);
    // Five times 12.5 is reached by the 63rd trade of the window.
    assert_eq!(time, 8_000 + 62 * 3);
}

#[test]
fn a_burst_needs_closed_windows_of_history() {
    let mut s = SymbolState::new();
    // Warm-up done inside a single window: no usual rate yet.
    assert!(feed(&mut s, 60, 100.0, 100.0, 0, 1).is_empty());
    assert!(feed(&mut s, 400, 100.0, 100.0, 1_000, 1).is_empty());
    assert_eq!(s.closed_windows, 1);
}

#[test]
fn empty_windows_decay_the_usual_rate() {
    let mut s = SymbolState::new();
    feed(&mut s, 100, 100.0, 100.0, 0, 80);
    let before = s.rate();
    // The last window (7) held 12 trades; windows 8 to 17 stay empty.
    assert_eq!(
        (s.window_index, s.window_count, s.closed_windows),
        (7, 12, 7)
    );
    s.observe(100.0, 100.0, 18_000, Scope::Symbol, &cfg());
    let expected = (before + 0.125 * (12.0 - before)) * 0.9f64.powi(10);
    assert!(
        (s.rate() - expected).abs() < 1e-3,
        "{} vs {expected}",
        s.rate()
    );
    assert_eq!(s.closed_windows, 18);
    // A far jump ahead in time saturates instead of overflowing.
    s.observe(100.0, 100.0, i64::MAX, Scope::Symbol, &cfg());
    s.observe(100.0, 100.0, i64::MIN, Scope::Symbol, &cfg());
    assert!(s.rate().is_finite());
}

#[test]
fn invalid_trades_leave_the_state_untouched() {
    let mut s = SymbolState::new();
    feed(&mut s, 60, 100.0, 100.0, 0, 80);
    let before = s.clone();
    for (price, size) in [
        (f64::NAN, 1.0),
        (0.0, 1.0),
        (-1.0, 1.0),
        (1.0, -1.0),
        (1.0, f64::INFINITY),
    ] {
        assert!(s
            .observe(price, size, 5_000, Scope::Symbol, &cfg())
            .is_empty());
    }
    assert_eq!(s, before);
    // Huge but finite sizes saturate rather than poisoning the statistics.
    s.observe(100.0, 1e300, 5_000, Scope::Symbol, &cfg());
    assert!(s.size_mean().is_finite() && f64::from(s.size_variance).is_finite());
}

#[test]
fn the_table_evicts_the_least_recently_used_and_counts() {
    let metrics = Metrics::new();
    let mut table: SymbolTable = SymbolTable::new(2, metrics.symbols_evicted.clone());
    let (a, b, c): (Symbol, Symbol, Symbol) = ("A".into(), "B".into(), "C".into());
    table
        .get_or_insert(&a)
        .observe(1.0, 1.0, 0, Scope::Symbol, &cfg());
    table.get_or_insert(&b);
    // Touching A makes B the least recently used.
    assert_eq!(table.get_or_insert(&a).trades(), 1);
    assert_eq!(metrics.symbols_evicted.get(), 0);
    table.get_or_insert(&c);
    assert_eq!(metrics.symbols_evicted.get(), 1);
    assert_eq!(table.len(), 2);
    assert!(table.peek("B").is_none());
    assert_eq!(table.peek("A").map(SymbolState::trades), Some(1));
    // Hits never count as evictions.
    table.get_or_insert(&c);
    table.get_or_insert(&a);
    assert_eq!(metrics.symbols_evicted.get(), 1);
}

#[test]
fn a_zero_capacity_table_still_holds_one() {
    let metrics = Metrics::new();
    let mut table: SymbolTable = SymbolTable::new(0, metrics.symbols_evicted.clone());
    assert_eq!(table.capacity(), 1);
    assert!(table.is_empty());
    table.get_or_insert(&"X".into());
    table.get_or_insert(&"Y".into());
    assert_eq!((table.len(), metrics.symbols_evicted.get()), (1, 1));
}
