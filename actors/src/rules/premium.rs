//! Premium (whale) rule: one print whose premium reaches `premium_min`.
//!
//! It needs no state: every such print is news on its own, so there is no
//! cooldown either. The side comes with the print, from the contract's latest
//! quote when quotes are subscribed.

use super::config::DetectorConfig;
use super::rule::{contract_label, dollars, FlowFinding, Print, Rule};
use crate::messages::AnomalyKind;
use crate::option_ticker::OptionTicker;

/// The premium rule.
#[derive(Debug)]
pub struct Premium;

impl Rule for Premium {
    const KIND: AnomalyKind = AnomalyKind::Premium;
    type State = ();

    fn observe(_: &mut (), print: &Print, cfg: &DetectorConfig) -> Option<FlowFinding> {
        let premium = print.premium;
        (premium.is_finite() && premium >= cfg.premium_min).then(|| FlowFinding {
            observed: premium,
            threshold: cfg.premium_min,
            score: premium / cfg.premium_min,
            premium,
            side: print.side,
            exchanges: u32::from(print.exchange.is_some()),
            prints: 1,
            iso: print.iso,
            thresholds: vec![("premium_min", cfg.premium_min)],
            ..FlowFinding::default()
        })
    }

    fn explain(f: &FlowFinding, contract: &OptionTicker) -> String {
        let side = f.side.map_or("traded", |s| s.phrase());
        format!(
            "{} of {} {side} in one print",
            dollars(f.premium),
            contract_label(contract)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::option_ticker;
    use crate::rules::rule::Side;

    fn print<'a>(contract: &'a OptionTicker<'a>, premium: f64, side: Option<Side>) -> Print<'a> {
        Print {
            contract,
            price: 5.0,
            size: premium / 500.0,
            premium,
            side,
            exchange: Some(302),
            iso: false,
            time_ms: 0,
            day: 0,
        }
    }

    #[test]
    fn fires_at_and_above_the_floor_only() {
        let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
        let cfg = DetectorConfig::default();
        // (premium, fires)
        let cases = [
            (999_999.0, false),
            (1_000_000.0, true),
            (1_200_000.0, true),
            (0.0, false),
            (f64::NAN, false),
            (f64::INFINITY, false),
        ];
        for (premium, fires) in cases {
            let got = Premium::observe(&mut (), &print(&c, premium, None), &cfg);
            assert_eq!(got.is_some(), fires, "{premium}");
        }
    }

    #[test]
    fn reports_premium_side_and_threshold_and_explains_itself() {
        let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
        let cfg = DetectorConfig::default();
        let p = print(&c, 1_200_000.0, Some(Side::Bought));
        let f = Premium::observe(&mut (), &p, &cfg).expect("fires");
        assert_eq!(f.premium, 1_200_000.0);
        assert_eq!(f.side, Some(Side::Bought));
        assert_eq!(f.thresholds, vec![("premium_min", 1_000_000.0)]);
        assert!((f.score - 1.2).abs() < 1e-9);
        assert_eq!(
            Premium::explain(&f, &c),
            "$1.2 M of NVDA 500C 2026-12-18 bought at the ask in one print"
        );
        let unknown = Premium::observe(&mut (), &print(&c, 2e6, None), &cfg).expect("fires");
        assert_eq!(
            Premium::explain(&unknown, &c),
            "$2.0 M of NVDA 500C 2026-12-18 traded in one print"
        );
    }
}
