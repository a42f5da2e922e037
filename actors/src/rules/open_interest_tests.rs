//! Table tests for the volume over open interest rule.

use super::*;
use crate::option_ticker;

fn snapshot(oi: Option<f64>, day_volume: Option<f64>) -> Snapshot {
    Snapshot {
        open_interest: oi,
        day_volume,
        shares_per_contract: None,
        implied_volatility: None,
    }
}

/// One step of a contract's day.
enum Step {
    /// A print of this many contracts on this day; whether it asks for the
    /// snapshot and whether it fires.
    Trade(i32, f64, bool, bool),
    /// The snapshot arrives; whether it fires.
    Snap(Snapshot, bool),
}

fn run(steps: &[Step], cfg: &DetectorConfig) {
    let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
    let mut s = OiState::default();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Trade(day, size, asks, fires) => {
                let print = Print {
                    contract: &c,
                    price: 1.0,
                    size: *size,
                    premium: size * 100.0,
                    side: None,
                    exchange: None,
                    iso: false,
                    time_ms: 0,
                    day: *day,
                };
                let fired = VolumeOverOi::observe(&mut s, &print, cfg);
                assert_eq!(fired.is_some(), *fires, "step {i} fires");
                let asked = VolumeOverOi::wants_snapshot(&mut s, &print, cfg);
                assert_eq!(asked, *asks, "step {i} asks");
            }
            Step::Snap(snap, fires) => {
                let fired = VolumeOverOi::on_snapshot(&mut s, snap, cfg);
                assert_eq!(fired.is_some(), *fires, "step {i} snapshot fires");
            }
        }
    }
}

#[test]
fn asks_once_a_day_and_fires_once_a_day() {
    use Step::{Snap, Trade};
    let cfg = DetectorConfig::default();
    run(
        &[
            Trade(1, 300.0, false, false),
            // 600 today: over the request floor of 500.
            Trade(1, 300.0, true, false),
            // Asked already; the answer is not in yet.
            Trade(1, 100.0, false, false),
            Snap(snapshot(Some(1_000.0), Some(650.0)), false),
            // 1 100 > 1 000: fires once ...
            Trade(1, 400.0, false, true),
            // ... and not again today.
            Trade(1, 400.0, false, false),
            // A new day forgets the open interest, counts from zero, asks again.
            Trade(2, 400.0, false, false),
            Trade(2, 400.0, true, false),
            // The snapshot alone may fire, with its own day volume.
            Snap(snapshot(Some(300.0), Some(900.0)), true),
            // A late print of yesterday changes nothing.
            Trade(1, 5_000.0, false, false),
        ],
        &cfg,
    );
}

#[test]
fn snapshots_without_open_interest_or_with_garbage_are_ignored() {
    use Step::{Snap, Trade};
    let cfg = DetectorConfig::default();
    run(
        &[
            Trade(1, 600.0, true, false),
            Snap(snapshot(None, Some(1e9)), false),
            Snap(snapshot(Some(f64::NAN), None), false),
            Snap(snapshot(Some(-4.0), None), false),
            Trade(1, f64::INFINITY, false, false),
            Trade(1, 10.0, false, false),
        ],
        &cfg,
    );
}

#[test]
fn the_multiple_and_the_explanation() {
    let cfg = DetectorConfig {
        oi_multiple: 2.0,
        ..DetectorConfig::default()
    };
    let mut s = OiState::default();
    let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
    let mut print = Print {
        contract: &c,
        price: 1.0,
        size: 1_500.0,
        premium: 150_000.0,
        side: None,
        exchange: Some(302),
        iso: false,
        time_ms: 0,
        day: 7,
    };
    assert!(VolumeOverOi::observe(&mut s, &print, &cfg).is_none());
    assert!(VolumeOverOi::wants_snapshot(&mut s, &print, &cfg));
    // 1 500 is not over 2 x 800.
    assert!(VolumeOverOi::on_snapshot(&mut s, &snapshot(Some(800.0), None), &cfg).is_none());
    print.size = 200.0;
    let f = VolumeOverOi::observe(&mut s, &print, &cfg).expect("1 700 > 1 600");
    assert_eq!(f.volume, Some(1_700.0));
    assert_eq!(f.open_interest, Some(800.0));
    assert_eq!(f.threshold, 1_600.0);
    assert_eq!(
        VolumeOverOi::explain(&f, &c),
        "NVDA 500C 2026-12-18 traded 1700 contracts today, 2.1x its open interest of 800"
    );
}
