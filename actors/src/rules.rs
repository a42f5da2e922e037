//! The detection rules and their configuration (the `[detector]` section of
//! the config file).
//!
//! The three statistical rules (volume spike, price jump, trade burst) are
//! pure functions of one trade and a symbol's baseline, in this file: each
//! answers one question with a [`Finding`] or `None`, while warm-up, cooldowns
//! and state updates live in [`crate::symbol_state`]. The options-flow rules
//! (premium, sweep, volume over open interest) implement the [`rule::Rule`]
//! trait, one file each, registered in `registry.rs`; they keep their state
//! per active contract. Both kinds are tested as plain tables.

pub mod config;
pub mod groups;
pub mod open_interest;
pub mod premium;
pub mod registry;
pub mod rule;
pub mod sweep;

pub use config::{DetectorConfig, InvalidDetectorConfig, MAX_SYMBOLS};
pub use groups::{GroupConfig, Groups};

/// Smallest baseline rate used as a divisor, so a symbol whose rate decayed to
/// zero still gets a finite score.
const RATE_FLOOR: f64 = 1e-6;

/// Share of the mean size below which the size deviation is not trusted: a
/// symbol that always trades the same size has no variance, and dividing by it
/// would turn the smallest change into an infinite z-score.
const STD_FLOOR_OF_MEAN: f64 = 0.01;

/// What a rule found: the value it looked at, the baseline it compared it
/// with, and how far out it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// The observed value (trade size, price, trades in the window).
    pub observed: f64,
    /// The baseline (mean size, reference price, usual trades per window).
    pub baseline: f64,
    /// The rule's measure of how unusual it is (z-score, percent move, rate
    /// multiple).
    pub score: f64,
}

/// A trade far larger than usual: at least `volume_multiple` times the mean
/// size and at least `volume_z` standard deviations above it. The score is the
/// z-score; the deviation is floored at 1% of the mean.
pub fn volume_spike(size: f64, mean: f64, variance: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(mean > 0.0 && mean.is_finite() && size.is_finite()) || variance.is_nan() {
        return None;
    }
    let std = variance.max(0.0).sqrt().max(mean * STD_FLOOR_OF_MEAN);
    let z = (size - mean) / std;
    (size >= cfg.volume_multiple * mean && z >= cfg.volume_z).then_some(Finding {
        observed: size,
        baseline: mean,
        score: z,
    })
}

/// A price at least `price_jump_pct` percent away from the reference price, in
/// either direction. The score is the absolute move in percent.
pub fn price_jump(price: f64, reference: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(reference > 0.0 && reference.is_finite() && price.is_finite()) {
        return None;
    }
    let move_pct = (price - reference).abs() / reference * 100.0;
    (move_pct >= cfg.price_jump_pct).then_some(Finding {
        observed: price,
        baseline: reference,
        score: move_pct,
    })
}

/// A window holding `window_count` trades (the current trade included) when
/// the symbol usually sees `rate` per window: a burst once the count reaches
/// both `burst_multiple` times the rate and `burst_min_trades`. The score is
/// the count over the rate.
pub fn trade_burst(window_count: u32, rate: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(rate >= 0.0 && rate.is_finite()) {
        return None;
    }
    let observed = f64::from(window_count);
    let fires = observed >= cfg.burst_multiple * rate && window_count >= cfg.burst_min_trades;
    fires.then(|| Finding {
        observed,
        baseline: rate,
        score: observed / rate.max(RATE_FLOOR),
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
