//! Table tests for the sweep rule.

use super::*;
use crate::option_ticker;

/// (time_ms, exchange, premium, side, iso)
type Leg = (i64, i32, f64, Option<Side>, bool);

/// Runs legs through one state; returns the index of each print that fired.
fn run(legs: &[Leg], cfg: &DetectorConfig) -> (Vec<usize>, Option<FlowFinding>) {
    let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
    let mut state = SweepState::default();
    let mut fired = Vec::new();
    let mut last = None;
    for (i, &(time_ms, x, premium, side, iso)) in legs.iter().enumerate() {
        let print = Print {
            contract: &c,
            price: 5.0,
            size: premium / 500.0,
            premium,
            side,
            exchange: Some(x),
            iso,
            time_ms,
            day: 0,
        };
        if let Some(f) = Sweep::observe(&mut state, &print, cfg) {
            fired.push(i);
            last = Some(f);
        }
    }
    (fired, last)
}

const B: Option<Side> = Some(Side::Bought);
const S: Option<Side> = Some(Side::Sold);
const M: Option<Side> = Some(Side::Mid);

#[test]
fn fires_once_when_exchanges_and_premium_are_both_reached() {
    let cfg = DetectorConfig::default();
    // (legs, prints that fire)
    let cases: Vec<(Vec<Leg>, Vec<usize>)> = vec![
        // Three exchanges, $300 k in 2 ms: fires on the third print.
        (
            vec![
                (0, 302, 100e3, B, false),
                (1, 303, 100e3, B, false),
                (2, 304, 100e3, B, false),
            ],
            vec![2],
        ),
        // Enough premium but the same two exchanges: no sweep.
        (
            vec![
                (0, 302, 200e3, B, false),
                (1, 303, 200e3, B, false),
                (2, 302, 200e3, B, false),
            ],
            vec![],
        ),
        // Three exchanges but only $150 k.
        (
            vec![
                (0, 302, 50e3, B, false),
                (1, 303, 50e3, B, false),
                (2, 304, 50e3, B, false),
            ],
            vec![],
        ),
        // Past the 500 ms window: the third print starts a new sweep.
        (
            vec![
                (0, 302, 100e3, B, false),
                (1, 303, 100e3, B, false),
                (502, 304, 100e3, B, false),
            ],
            vec![],
        ),
        // A change of direction restarts.
        (
            vec![
                (0, 302, 100e3, B, false),
                (1, 303, 100e3, S, false),
                (2, 304, 100e3, B, false),
            ],
            vec![],
        ),
        // Prints inside the spread without a sweep code are not legs, and do
        // not break one either.
        (
            vec![
                (0, 302, 100e3, B, false),
                (1, 312, 900e3, M, false),
                (1, 303, 100e3, B, false),
                (2, 304, 100e3, B, false),
            ],
            vec![3],
        ),
        // Without quotes, the intermarket-sweep code makes prints legs.
        (
            vec![
                (0, 302, 100e3, None, true),
                (0, 303, 100e3, None, true),
                (0, 304, 100e3, None, true),
            ],
            vec![2],
        ),
        // Without quotes or codes there is nothing to go on.
        (
            vec![
                (0, 302, 100e3, None, false),
                (0, 303, 100e3, None, false),
                (0, 304, 100e3, None, false),
            ],
            vec![],
        ),
        // More legs after firing do not fire again.
        (
            vec![
                (0, 302, 100e3, S, false),
                (1, 303, 100e3, S, false),
                (2, 304, 100e3, S, false),
                (3, 308, 100e3, S, false),
            ],
            vec![2],
        ),
        // Hostile premiums are ignored.
        (
            vec![
                (0, 302, f64::NAN, B, false),
                (1, 303, -5e6, B, false),
                (2, 304, 100e3, B, false),
            ],
            vec![],
        ),
    ];
    for (i, (legs, expected)) in cases.iter().enumerate() {
        assert_eq!(&run(legs, &cfg).0, expected, "case {i}");
    }
}

#[test]
fn reports_the_whole_sweep_and_explains_it() {
    let cfg = DetectorConfig::default();
    let legs: Vec<Leg> = (0..5)
        .map(|i| (i * 10, 302 + i as i32, 240e3, B, true))
        .collect();
    let (fired, f) = run(&legs, &cfg);
    assert_eq!(fired, vec![2]);
    let f = f.expect("fired");
    assert_eq!(f.exchanges, 3);
    assert_eq!(f.prints, 3);
    assert_eq!(f.span_ms, 20);
    assert_eq!(f.premium, 720e3);
    assert!(f.iso);
    let c = option_ticker::parse("O:NVDA261218C00500000").expect("valid");
    assert_eq!(
        Sweep::explain(&f, &c),
        "$720 k of NVDA 500C 2026-12-18 bought at the ask across 3 exchanges in 20 ms (ISO)"
    );
}

#[test]
fn a_group_may_ask_for_more_exchanges() {
    let cfg = DetectorConfig {
        sweep_min_exchanges: 5,
        ..DetectorConfig::default()
    };
    let legs: Vec<Leg> = (0..5)
        .map(|i| (i, 302 + i as i32, 100e3, S, false))
        .collect();
    assert_eq!(run(&legs, &cfg).0, vec![4]);
}
