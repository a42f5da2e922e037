//! The detector with its default settings on the simulator's traffic: event
//! time advances 10 ms per trade over 8 symbols, sizes and prices wander
//! within their normal range, and every 2000 trades (from trade 3000 on) one
//! anomaly is injected. Each injection must give exactly one alert on its
//! symbol, and nothing else may alert.

use super::harness::{trade, Harness};
use super::*;
use crate::messages::AnomalyKind;
use crate::option_ticker;

/// A small deterministic generator (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One injected anomaly: what, on which symbol, and its event-time span.
#[derive(Debug, Clone)]
struct Injection {
    kind: AnomalyKind,
    symbol: usize,
    from_ms: i64,
    to_ms: i64,
}

/// The simulator's traffic over a set of symbols.
struct Simulator {
    rng: Lcg,
    symbols: Vec<String>,
    prices: Vec<f64>,
    option_sizes: bool,
    time_ms: i64,
    trades: Vec<Trade>,
    injections: Vec<Injection>,
}

impl Simulator {
    fn new(seed: u64, symbols: &[&str], option_sizes: bool) -> Self {
        let prices = (0..symbols.len()).map(|i| 20.0 + 7.0 * i as f64).collect();
        Simulator {
            rng: Lcg(seed),
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            prices,
            option_sizes,
            time_ms: 1_700_000_000_000,
            trades: Vec::new(),
            injections: Vec::new(),
        }
    }

    fn mean_size(&self) -> f64 {
        if self.option_sizes {
            5.5
        } else {
            300.0
        }
    }

    fn size(&mut self) -> f64 {
        if self.option_sizes {
            (self.rng.below(10) + 1) as f64
        } else {
            100.0 * (self.rng.below(5) + 1) as f64
        }
    }

    /// One trade of `symbol`: the price steps ±0.05%, event time by `step_ms`.
    fn push(&mut self, symbol: usize, size: f64, step_ms: i64) {
        let step = if self.rng.below(2) == 0 {
            1.0005
        } else {
            0.9995
        };
        self.prices[symbol] *= step;
        self.time_ms += step_ms;
        let t = trade(
            &self.symbols[symbol],
            self.prices[symbol],
            size,
            self.time_ms,
        );
        self.trades.push(t);
    }

    fn normal(&mut self) {
        let symbol = self.rng.below(self.symbols.len());
        let size = self.size();
        self.push(symbol, size, 10);
    }

    fn inject(&mut self, kind: AnomalyKind, symbol: usize) {
        let from_ms = self.time_ms + 1;
        match kind {
            AnomalyKind::VolumeSpike => self.push(symbol, 60.0 * self.mean_size(), 10),
            AnomalyKind::PriceJump => {
                self.prices[symbol] *= 1.05;
                let size = self.size();
                self.push(symbol, size, 10);
            }
            _ => {
                for _ in 0..150 {
                    let size = self.size();
                    self.push(symbol, size, 3);
                }
            }
        }
        let to_ms = self.time_ms;
        self.injections.push(Injection {
            kind,
            symbol,
            from_ms,
            to_ms,
        });
    }

    /// Picks a symbol whose last injection of `kind` ended at least 60 s ago.
    fn pick(&mut self, kind: AnomalyKind) -> usize {
        loop {
            let symbol = self.rng.below(self.symbols.len());
            let recent = self
                .injections
                .iter()
                .any(|i| i.kind == kind && i.symbol == symbol && self.time_ms - i.to_ms < 60_000);
            if !recent {
                return symbol;
            }
        }
    }

    /// `total` trades, injections included.
    fn run(mut self, total: usize) -> Self {
        let mut next_injection = 3_000;
        let mut round = 0;
        while self.trades.len() < total {
            if self.trades.len() >= next_injection {
                let kind = AnomalyKind::STATISTICAL[round % 3];
                let symbol = self.pick(kind);
                self.inject(kind, symbol);
                round += 1;
                next_injection = self.trades.len() + 2_000;
            } else {
                self.normal();
            }
        }
        self
    }
}

/// The injection an alert belongs to: same symbol (or underlying) and kind,
/// raised during the injection or within the burst window after it.
fn matching(sim: &Simulator, alert: &Anomaly, key: impl Fn(usize) -> String) -> Option<usize> {
    sim.injections.iter().position(|i| {
        i.kind == alert.kind
            && key(i.symbol) == alert.symbol.as_str()
            && (i.from_ms..=i.to_ms + 1_000).contains(&alert.event_time_ms)
    })
}

/// Checks that each injection has exactly one symbol-scope alert and that no
/// alert is unexplained; returns the underlying-scope alerts.
async fn run_and_check(sim: &Simulator) -> Vec<Arc<Anomaly>> {
    let mut h = Harness::start(DetectorConfig::default());
    h.trades(sim.trades.clone()).await;
    let (alerts, flow): (Vec<_>, Vec<_>) = h
        .alerts()
        .await
        .into_iter()
        .partition(|a| AnomalyKind::STATISTICAL.contains(&a.kind));
    // The options-flow rules have tests of their own. Here the only flow
    // alert due is a premium whale: a spike of hundreds of contracts at tens
    // of dollars is a print of over a million dollars.
    for alert in &flow {
        assert_eq!(alert.kind, AnomalyKind::Premium, "{alert:?}");
        let spike = sim.injections.iter().any(|i| {
            i.kind == AnomalyKind::VolumeSpike
                && sim.symbols[i.symbol] == alert.symbol.as_str()
                && i.to_ms == alert.event_time_ms
        });
        assert!(spike, "premium alert without a spike: {alert:?}");
    }
    let mut per_injection = vec![0; sim.injections.len()];
    let (by_symbol, by_underlying): (Vec<_>, Vec<_>) =
        alerts.into_iter().partition(|a| a.scope == Scope::Symbol);
    for alert in &by_symbol {
        let found = matching(sim, alert, |s| sim.symbols[s].clone());
        let index = found.unwrap_or_else(|| panic!("false positive: {alert:?}"));
        per_injection[index] += 1;
    }
    for (injection, count) in sim.injections.iter().zip(&per_injection) {
        assert_eq!(*count, 1, "{injection:?}");
    }
    assert!(
        sim.injections.len() >= 20,
        "{} injections",
        sim.injections.len()
    );
    by_underlying
}

#[actix::test]
async fn the_simulated_stock_feed_gives_one_alert_per_injection() {
    let symbols = [
        "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOG", "AMD",
    ];
    let sim = Simulator::new(7, &symbols, false).run(50_000);
    let by_underlying = run_and_check(&sim).await;
    assert!(by_underlying.is_empty());
}

#[actix::test]
async fn the_simulated_options_feed_gives_one_alert_per_injection() {
    let contracts = [
        "O:NVDA261218C00500000",
        "O:NVDA261218P00450000",
        "O:NVDA250620C00150000",
        "O:SPY250620P00500000",
        "O:SPY250620C00600000",
        "O:SPY251219C00650000",
        "O:AMC1250117C00005000",
        "O:AMC1250117P00002500",
    ];
    let sim = Simulator::new(11, &contracts, true).run(50_000);
    let by_underlying = run_and_check(&sim).await;
    let underlying_of = |s: usize| {
        let ticker = option_ticker::parse(contracts[s]).expect("valid test ticker");
        ticker.underlying.to_string()
    };
    // Underlying-scope alerts: never a price jump, always explained by an
    // injection on one of its contracts, at most one per injection.
    let mut per_injection = vec![0; sim.injections.len()];
    for alert in &by_underlying {
        assert_ne!(alert.kind, AnomalyKind::PriceJump);
        let found = matching(&sim, alert, underlying_of);
        let index = found.unwrap_or_else(|| panic!("false positive: {alert:?}"));
        per_injection[index] += 1;
    }
    assert!(per_injection.iter().all(|&n| n <= 1), "{per_injection:?}");
    // Every volume spike on a contract also spikes its underlying, unless that
    // underlying alerted on volume less than a cooldown before.
    let mut last_alert: Vec<(String, i64)> = Vec::new();
    for (i, injection) in sim.injections.iter().enumerate() {
        if injection.kind != AnomalyKind::VolumeSpike {
            continue;
        }
        let underlying = underlying_of(injection.symbol);
        let cooling = last_alert
            .iter()
            .any(|(u, at)| *u == underlying && injection.from_ms - at < 60_000);
        assert_eq!(per_injection[i], usize::from(!cooling), "{injection:?}");
        if !cooling {
            last_alert.push((underlying, injection.from_ms));
        }
    }
}
