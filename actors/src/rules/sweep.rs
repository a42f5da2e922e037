//! Sweep rule: one order routed to take liquidity on many exchanges at once.
//!
//! Prints of one contract in one direction within `sweep_window_ms` of event
//! time from the first are taken together; when they span at least
//! `sweep_min_exchanges` distinct exchanges and their premium adds up to
//! `sweep_premium_min`, the sweep fires, once. A print is a leg of a sweep
//! when it carries an intermarket-sweep condition code (the feed says so) or
//! when its side is known to be aggressive (bought at the ask, sold at the
//! bid); prints inside the spread with no such code are ordinary two-sided
//! trading and neither start nor end a sweep. A print in the other direction,
//! or past the window, starts a new one.

use super::config::DetectorConfig;
use super::rule::{contract_label, dollars, FlowFinding, Print, Rule, Side};
use crate::messages::AnomalyKind;
use crate::option_ticker::OptionTicker;

/// The sweep rule.
#[derive(Debug)]
pub struct Sweep;

/// The sweep in progress on one contract.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepState {
    premium: f64,
    start_ms: i64,
    last_ms: i64,
    /// One bit per exchange id modulo 128: OPRA participants are numbered
    /// 300 to 327 by Polygon, which land on distinct bits.
    exchanges: u128,
    prints: u16,
    direction: Option<Side>,
    iso: bool,
    fired: bool,
    open: bool,
}

impl SweepState {
    fn start(&mut self, print: &Print, direction: Option<Side>) {
        *self = SweepState {
            start_ms: print.time_ms,
            direction,
            open: true,
            ..SweepState::default()
        };
    }
}

/// The direction a print counts in, or None when it is not a sweep leg.
fn leg_direction(print: &Print) -> Option<Option<Side>> {
    match print.side {
        Some(side @ (Side::Bought | Side::Sold)) => Some(Some(side)),
        _ if print.iso => Some(None),
        _ => None,
    }
}

impl Rule for Sweep {
    const KIND: AnomalyKind = AnomalyKind::Sweep;
    type State = SweepState;

    fn observe(s: &mut SweepState, print: &Print, cfg: &DetectorConfig) -> Option<FlowFinding> {
        let direction = leg_direction(print)?;
        if !print.premium.is_finite() || print.premium < 0.0 {
            return None;
        }
        let elapsed = print.time_ms.saturating_sub(s.start_ms);
        let same = s.open
            && direction == s.direction
            && (0..=cfg.sweep_window_ms_i64()).contains(&elapsed);
        if !same {
            s.start(print, direction);
        }
        if let Some(x) = print.exchange {
            s.exchanges |= 1u128 << x.rem_euclid(128);
        }
        s.premium += print.premium;
        s.prints = s.prints.saturating_add(1);
        s.iso |= print.iso;
        s.last_ms = s.last_ms.max(print.time_ms);
        let exchanges = s.exchanges.count_ones();
        let fires =
            !s.fired && exchanges >= cfg.sweep_min_exchanges && s.premium >= cfg.sweep_premium_min;
        if !fires {
            return None;
        }
        s.fired = true;
        Some(FlowFinding {
            observed: s.premium,
            threshold: cfg.sweep_premium_min,
            score: s.premium / cfg.sweep_premium_min.max(1.0),
            premium: s.premium,
            side: s.direction,
            exchanges,
            prints: u32::from(s.prints),
            span_ms: s.last_ms.saturating_sub(s.start_ms),
            iso: s.iso,
            thresholds: vec![
                ("sweep_min_exchanges", f64::from(cfg.sweep_min_exchanges)),
                ("sweep_window_ms", cfg.sweep_window_ms as f64),
                ("sweep_premium_min", cfg.sweep_premium_min),
            ],
            ..FlowFinding::default()
        })
    }

    fn explain(f: &FlowFinding, contract: &OptionTicker) -> String {
        let side = f.side.map_or("swept", |s| s.phrase());
        let iso = if f.iso { " (ISO)" } else { "" };
        format!(
            "{} of {} {side} across {} exchanges in {} ms{iso}",
            dollars(f.premium),
            contract_label(contract),
            f.exchanges,
            f.span_ms
        )
    }
}

#[cfg(test)]
#[path = "sweep_tests.rs"]
mod tests;
