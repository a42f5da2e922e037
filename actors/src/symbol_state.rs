//! Per-symbol detector state and the bounded table that holds it.
//!
//! A [`SymbolState`] is 72 bytes: the running size mean and variance, the
//! reference price, the last price, the trade count, the current event-time
//! window and the usual count per window, one cooldown deadline per
//! statistical anomaly kind, and the number of the symbol's settings group.
//! Sizes, rates and the last price are kept as `f32` (their precision is far
//! beyond what the rules compare or an alert shows), the reference price as
//! `f64`. With its key and the LRU's bookkeeping a tracked symbol costs about
//! 160 bytes, so a million option contracts fit in roughly 160 MB.
//! [`SymbolTable`] bounds the count and forgets the least recently traded
//! symbol first; it also holds the options-flow state of active contracts.

use std::num::NonZeroUsize;

use lru::LruCache;
use prometheus::IntCounter;
use smallvec::SmallVec;

use crate::events::Symbol;
use crate::messages::{AnomalyKind, Scope};
use crate::rules::{self, DetectorConfig, Finding};

/// Closed windows a symbol needs before its usual rate is trusted by the
/// trade burst rule.
pub const MIN_CLOSED_WINDOWS: u16 = 3;

/// Most empty windows folded at once when a symbol resumes trading; after that
/// many the usual rate has decayed to nothing anyway.
const MAX_WINDOW_GAP: i64 = 1_000;

/// What one trade set off: at most one finding per rule.
pub type Findings = SmallVec<[(AnomalyKind, Finding); 3]>;

/// The baseline of one symbol (or of one underlying's options flow).
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolState {
    price_reference: f64,
    window_index: i64,
    cooldown_until: [i64; 3],
    size_mean: f32,
    size_variance: f32,
    rate: f32,
    last_price: f32,
    window_count: u32,
    trades: u32,
    closed_windows: u16,
    group: u8,
}

/// `group` of a symbol whose settings group is not resolved yet.
const NO_GROUP: u8 = u8::MAX;

impl Default for SymbolState {
    fn default() -> Self {
        Self::new()
    }
}

impl SymbolState {
    /// A symbol that has not traded yet.
    pub fn new() -> Self {
        SymbolState {
            price_reference: 0.0,
            window_index: 0,
            cooldown_until: [i64::MIN; 3],
            size_mean: 0.0,
            size_variance: 0.0,
            rate: 0.0,
            last_price: 0.0,
            window_count: 0,
            trades: 0,
            closed_windows: 0,
            group: NO_GROUP,
        }
    }

    /// The number of the symbol's settings group, resolved by `resolve` the
    /// first time it is asked for and remembered.
    pub fn group(&mut self, resolve: impl FnOnce() -> u8) -> u8 {
        if self.group == NO_GROUP {
            self.group = resolve().min(NO_GROUP - 1);
        }
        self.group
    }

    /// The price of the last trade folded in, when there was one.
    pub fn last_price(&self) -> Option<f64> {
        (self.trades > 0).then_some(f64::from(self.last_price))
    }

    /// Trades seen so far (saturating).
    pub fn trades(&self) -> u32 {
        self.trades
    }

    /// Running mean trade size.
    pub fn size_mean(&self) -> f64 {
        f64::from(self.size_mean)
    }

    /// Running reference price.
    pub fn price_reference(&self) -> f64 {
        self.price_reference
    }

    /// Usual number of trades per window.
    pub fn rate(&self) -> f64 {
        f64::from(self.rate)
    }

    /// Runs the rules on one trade against the baseline as it was before the
    /// trade, applies warm-up and cooldowns, then folds the trade in. The
    /// price rule only runs for [`Scope::Symbol`]: the contracts of one
    /// underlying trade at unrelated prices.
    pub fn observe(
        &mut self,
        price: f64,
        size: f64,
        time_ms: i64,
        scope: Scope,
        cfg: &DetectorConfig,
    ) -> Findings {
        let mut found = Findings::new();
        if !(price.is_finite() && price > 0.0 && size.is_finite() && size >= 0.0) {
            // A value like this would poison every running average for good.
            return found;
        }
        self.advance_window(time_ms, cfg);
        if self.trades >= cfg.warmup_trades {
            let (mean, variance) = (self.size_mean(), f64::from(self.size_variance));
            if let Some(f) = rules::volume_spike(size, mean, variance, cfg) {
                self.fire(AnomalyKind::VolumeSpike, f, time_ms, cfg, &mut found);
            }
            if scope == Scope::Symbol {
                if let Some(f) = rules::price_jump(price, self.price_reference, cfg) {
                    self.fire(AnomalyKind::PriceJump, f, time_ms, cfg, &mut found);
                }
            }
            if self.closed_windows >= MIN_CLOSED_WINDOWS {
                let count = self.window_count.saturating_add(1);
                if let Some(f) = rules::trade_burst(count, self.rate(), cfg) {
                    self.fire(AnomalyKind::TradeBurst, f, time_ms, cfg, &mut found);
                }
            }
        }
        self.fold(price, size, cfg);
        found
    }

    /// Keeps a finding unless its kind is cooling down, and starts the
    /// cooldown. A deadline more than one cooldown ahead of the trade means
    /// event time went backwards (a replay); it no longer suppresses.
    fn fire(
        &mut self,
        kind: AnomalyKind,
        finding: Finding,
        time_ms: i64,
        cfg: &DetectorConfig,
        found: &mut Findings,
    ) {
        let Some(slot) = kind_slot(kind) else {
            return;
        };
        let cooldown = cfg.cooldown_ms_i64();
        let until = &mut self.cooldown_until[slot];
        let cooling = time_ms < *until && time_ms >= until.saturating_sub(cooldown);
        if !cooling {
            *until = time_ms.saturating_add(cooldown);
            found.push((kind, finding));
        }
    }

    /// Moves the trade-count window to the one holding `time_ms`. The window
    /// being closed is folded into the usual rate, and the empty windows
    /// skipped since then decay it. A trade slightly late (up to one window)
    /// counts in the current window; a larger step back in time (a replay)
    /// restarts the window there.
    fn advance_window(&mut self, time_ms: i64, cfg: &DetectorConfig) {
        let index = time_ms.div_euclid(cfg.burst_window_ms_i64());
        if self.trades == 0 {
            self.window_index = index;
            return;
        }
        if index > self.window_index {
            let alpha = effective_alpha(cfg.rate_alpha, u32::from(self.closed_windows));
            let rate = f64::from(self.rate);
            let folded = rate + alpha * (f64::from(self.window_count) - rate);
            let gap = index
                .saturating_sub(self.window_index)
                .saturating_sub(1)
                .min(MAX_WINDOW_GAP);
            let gap_i32 = i32::try_from(gap).unwrap_or(i32::MAX);
            self.rate = narrow(folded * (1.0 - cfg.rate_alpha).powi(gap_i32));
            let closed = u16::try_from(gap + 1).unwrap_or(u16::MAX);
            self.closed_windows = self.closed_windows.saturating_add(closed);
            self.window_index = index;
            self.window_count = 0;
        } else if index < self.window_index.saturating_sub(1) {
            self.window_index = index;
            self.window_count = 0;
        }
    }

    /// Folds a trade into the running size statistics, reference price and
    /// window count.
    fn fold(&mut self, price: f64, size: f64, cfg: &DetectorConfig) {
        let size_alpha = effective_alpha(cfg.size_alpha, self.trades);
        let mean = f64::from(self.size_mean);
        let delta = size - mean;
        self.size_mean = narrow(mean + size_alpha * delta);
        let variance = f64::from(self.size_variance);
        self.size_variance = narrow((1.0 - size_alpha) * (variance + size_alpha * delta * delta));
        let price_alpha = effective_alpha(cfg.price_alpha, self.trades);
        self.price_reference += price_alpha * (price - self.price_reference);
        self.last_price = narrow(price);
        self.window_count = self.window_count.saturating_add(1);
        self.trades = self.trades.saturating_add(1);
    }
}

/// The weight of sample number `seen + 1`: the plain average while fewer than
/// `1 / alpha` samples were seen, so early baselines are not dominated by the
/// first value, then `alpha`.
fn effective_alpha(alpha: f64, seen: u32) -> f64 {
    alpha.max(1.0 / (f64::from(seen) + 1.0))
}

/// Stores a statistic as `f32`, saturating instead of becoming infinite: an
/// infinite mean or variance would never decay back.
fn narrow(x: f64) -> f32 {
    x.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
}

/// The cooldown slot of a statistical kind; the options-flow rules keep
/// their own state and never come here.
fn kind_slot(kind: AnomalyKind) -> Option<usize> {
    AnomalyKind::STATISTICAL.iter().position(|k| *k == kind)
}

/// A bounded table of per-symbol states ([`SymbolState`] unless said
/// otherwise) that forgets the least recently traded symbol when full,
/// counting each eviction.
pub struct SymbolTable<S = SymbolState> {
    states: LruCache<Symbol, S>,
    evictions: IntCounter,
}

impl<S> std::fmt::Debug for SymbolTable<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SymbolTable")
            .field("len", &self.states.len())
            .field("capacity", &self.states.cap())
            .finish()
    }
}

impl<S: Default> SymbolTable<S> {
    /// A table of at most `capacity` states (at least one); evictions are
    /// added to `evictions`.
    pub fn new(capacity: usize, evictions: IntCounter) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        SymbolTable {
            states: LruCache::new(cap),
            evictions,
        }
    }

    /// The state of `symbol`, created if missing, in one lookup. The key is
    /// only cloned when the symbol is new.
    pub fn get_or_insert(&mut self, symbol: &Symbol) -> &mut S {
        let full = self.states.len() == self.states.cap().get();
        let mut created = false;
        let state = self.states.get_or_insert_mut_ref(symbol, || {
            created = true;
            S::default()
        });
        if created && full {
            self.evictions.inc();
        }
        state
    }

    /// The state of `symbol`, if tracked, without marking it as used.
    pub fn peek(&self, symbol: &str) -> Option<&S> {
        self.states.peek(symbol)
    }

    /// The state of `symbol`, if tracked, marking it as used.
    pub fn get_mut(&mut self, symbol: &str) -> Option<&mut S> {
        self.states.get_mut(symbol)
    }

    /// Number of tracked symbols.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// True when no symbol is tracked.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Most symbols the table holds.
    pub fn capacity(&self) -> usize {
        self.states.cap().get()
    }
}

#[cfg(test)]
#[path = "symbol_state_tests.rs"]
mod tests;
