//! Volume over open interest: a contract that traded more today than
//! `oi_multiple` times its open interest, the sign of new positions.
//!
//! Open interest is a daily figure from the contract's REST snapshot. The
//! rule counts the day's volume from the prints; once it reaches
//! `oi_min_volume` (below which no contract is worth a request) it asks for
//! the snapshot, once per day, and compares from then on. It fires at most
//! once per contract per day. Days are event-time UTC days, which hold a
//! whole US session.

use super::config::DetectorConfig;
use super::rule::{contract_label, FlowFinding, Print, Rule, Snapshot};
use crate::messages::AnomalyKind;
use crate::option_ticker::OptionTicker;

/// The volume over open interest rule.
#[derive(Debug)]
pub struct VolumeOverOi;

/// One contract's day so far.
#[derive(Debug, Clone, PartialEq)]
pub struct OiState {
    day: i32,
    volume: f64,
    open_interest: Option<f64>,
    asked_day: i32,
    fired_day: i32,
}

impl Default for OiState {
    fn default() -> Self {
        OiState {
            day: i32::MIN,
            volume: 0.0,
            open_interest: None,
            asked_day: i32::MIN,
            fired_day: i32::MIN,
        }
    }
}

impl OiState {
    /// Fires when today's volume is over the limit and it has not fired today.
    fn check(&mut self, cfg: &DetectorConfig) -> Option<FlowFinding> {
        let oi = self.open_interest?;
        let limit = cfg.oi_multiple * oi;
        if self.fired_day == self.day || self.volume <= limit {
            return None;
        }
        self.fired_day = self.day;
        Some(FlowFinding {
            observed: self.volume,
            threshold: limit,
            score: self.volume / oi.max(1.0),
            volume: Some(self.volume),
            open_interest: Some(oi),
            thresholds: vec![
                ("oi_multiple", cfg.oi_multiple),
                ("oi_min_volume", f64::from(cfg.oi_min_volume)),
            ],
            ..FlowFinding::default()
        })
    }
}

impl Rule for VolumeOverOi {
    const KIND: AnomalyKind = AnomalyKind::VolumeOverOi;
    type State = OiState;

    fn observe(s: &mut OiState, print: &Print, cfg: &DetectorConfig) -> Option<FlowFinding> {
        if !(print.size.is_finite() && print.size >= 0.0) || print.day < s.day {
            // A print of an earlier day (a replay) says nothing about today.
            return None;
        }
        if print.day > s.day {
            // Open interest is a daily figure: a new day needs a new snapshot.
            *s = OiState {
                day: print.day,
                asked_day: s.asked_day,
                fired_day: s.fired_day,
                ..OiState::default()
            };
        }
        s.volume += print.size;
        s.check(cfg)
    }

    fn wants_snapshot(s: &mut OiState, _print: &Print, cfg: &DetectorConfig) -> bool {
        let wants = s.open_interest.is_none()
            && s.asked_day != s.day
            && s.volume >= f64::from(cfg.oi_min_volume);
        if wants {
            s.asked_day = s.day;
        }
        wants
    }

    fn on_snapshot(s: &mut OiState, snap: &Snapshot, cfg: &DetectorConfig) -> Option<FlowFinding> {
        let oi = snap.open_interest.filter(|x| x.is_finite() && *x >= 0.0)?;
        s.open_interest = Some(oi);
        // Prints before this detector saw the contract (a restart, an evicted
        // state) are in the snapshot's day volume.
        if let Some(v) = snap.day_volume.filter(|v| v.is_finite()) {
            s.volume = s.volume.max(v);
        }
        s.check(cfg)
    }

    fn explain(f: &FlowFinding, contract: &OptionTicker) -> String {
        let (volume, oi) = (f.volume.unwrap_or(0.0), f.open_interest.unwrap_or(0.0));
        format!(
            "{} traded {volume:.0} contracts today, {:.1}x its open interest of {oi:.0}",
            contract_label(contract),
            volume / oi.max(1.0)
        )
    }
}

#[cfg(test)]
#[path = "open_interest_tests.rs"]
mod tests;
