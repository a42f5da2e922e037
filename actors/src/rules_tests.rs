//! Table tests for the detection rules and their configuration.

use super::*;

fn cfg() -> DetectorConfig {
    DetectorConfig::default()
}

#[test]
fn volume_spike_needs_both_the_multiple_and_the_z_score() {
    // (size, mean, variance, fires)
    let cases = [
        (18_000.0, 300.0, 20_000.0, true),
        (3_000.0, 300.0, 20_000.0, true),
        (2_999.0, 300.0, 20_000.0, false),
        (500.0, 300.0, 20_000.0, false),
        // Ten times the mean but only 3 deviations out: a noisy symbol.
        (3_000.0, 300.0, 810_000.0, false),
        // No variance at all: the 1% floor keeps the z-score finite.
        (1_000.0, 100.0, 0.0, true),
        (330.0, 5.5, 8.25, true),
        (10.0, 5.5, 8.25, false),
        (100.0, 0.0, 0.0, false),
        (100.0, -1.0, 0.0, false),
        (f64::NAN, 300.0, 20_000.0, false),
        (f64::INFINITY, 300.0, 20_000.0, false),
        (18_000.0, f64::NAN, 20_000.0, false),
        (18_000.0, 300.0, f64::NAN, false),
    ];
    for (size, mean, variance, fires) in cases {
        let got = volume_spike(size, mean, variance, &cfg());
        assert_eq!(
            got.is_some(),
            fires,
            "size {size} mean {mean} var {variance}"
        );
    }
}

#[test]
fn volume_spike_reports_size_mean_and_z() {
    let f = volume_spike(1_300.0, 100.0, 400.0, &cfg()).expect("fires");
    assert_eq!(
        f,
        Finding {
            observed: 1_300.0,
            baseline: 100.0,
            score: 60.0
        }
    );
    let floored = volume_spike(1_100.0, 100.0, 0.0, &cfg()).expect("fires");
    assert_eq!(floored.score, 1_000.0);
}

#[test]
fn price_jump_fires_on_large_moves_either_way() {
    // (price, reference, fires, score)
    let cases = [
        (105.0, 100.0, true, 5.0),
        (95.0, 100.0, true, 5.0),
        (102.0, 100.0, true, 2.0),
        (101.9, 100.0, false, 0.0),
        (100.05, 100.0, false, 0.0),
        (1.0, 0.0, false, 0.0),
        (1.0, -5.0, false, 0.0),
        (f64::NAN, 100.0, false, 0.0),
        (105.0, f64::INFINITY, false, 0.0),
    ];
    for (price, reference, fires, score) in cases {
        let got = price_jump(price, reference, &cfg());
        assert_eq!(got.is_some(), fires, "price {price} reference {reference}");
        if let Some(f) = got {
            assert_eq!((f.observed, f.baseline), (price, reference));
            assert!(
                (f.score - score).abs() < 1e-9,
                "score {} for {price}",
                f.score
            );
        }
    }
}

#[test]
fn trade_burst_needs_the_multiple_and_the_minimum() {
    // (count, rate, fires)
    let cases = [
        (63, 12.5, true),
        (62, 12.5, false),
        (150, 12.5, true),
        (13, 12.5, false),
        // A quiet symbol: five times its rate is tiny, the minimum decides.
        (19, 0.5, false),
        (20, 0.5, true),
        (20, 0.0, true),
        (200, 50.0, false),
        (250, 50.0, true),
        (100, f64::NAN, false),
        (100, -1.0, false),
    ];
    for (count, rate, fires) in cases {
        let got = trade_burst(count, rate, &cfg());
        assert_eq!(got.is_some(), fires, "count {count} rate {rate}");
    }
    let f = trade_burst(75, 12.5, &cfg()).expect("fires");
    assert_eq!(
        f,
        Finding {
            observed: 75.0,
            baseline: 12.5,
            score: 6.0
        }
    );
    let quiet = trade_burst(20, 0.0, &cfg()).expect("fires");
    assert!(quiet.score.is_finite());
}

#[test]
fn an_empty_section_yields_the_defaults() {
    let parsed: DetectorConfig = serde_json::from_str("{}").expect("empty section");
    assert_eq!(parsed, DetectorConfig::default());
    assert_eq!(parsed.validate(), Ok(()));
    let partial: DetectorConfig =
        serde_json::from_str(r#"{"cooldown_ms": 5000, "track_underlying": false}"#)
            .expect("partial");
    assert_eq!(partial.cooldown_ms, 5_000);
    assert!(!partial.track_underlying);
    assert_eq!(partial.warmup_trades, 50);
}

#[test]
fn unknown_keys_are_rejected() {
    let err = serde_json::from_str::<DetectorConfig>(r#"{"cooldown": 5000}"#);
    assert!(err.is_err());
}

/// Puts one setting out of range.
type Breaker = fn(&mut DetectorConfig);

#[test]
fn out_of_range_settings_are_named_and_sanitized() {
    let cases: [(&str, Breaker); 7] = [
        ("size_alpha", |c| c.size_alpha = 0.0),
        ("price_alpha", |c| c.price_alpha = 1.5),
        ("rate_alpha", |c| c.rate_alpha = f64::NAN),
        ("burst_window_ms", |c| c.burst_window_ms = 0),
        ("max_symbols", |c| c.max_symbols = 0),
        ("volume_multiple", |c| c.volume_multiple = -2.0),
        ("price_jump_pct", |c| c.price_jump_pct = f64::INFINITY),
    ];
    for (field, break_it) in cases {
        let mut c = DetectorConfig::default();
        break_it(&mut c);
        let err = c.validate().expect_err(field);
        assert_eq!(err.field, field);
        assert!(err
            .to_string()
            .starts_with(&format!("detector.{field} must be")));
        assert_eq!(c.sanitized(), DetectorConfig::default(), "{field}");
    }
}

#[test]
fn durations_convert_without_overflow() {
    let c = DetectorConfig {
        cooldown_ms: u64::MAX,
        burst_window_ms: 0,
        ..DetectorConfig::default()
    };
    assert_eq!(c.cooldown_ms_i64(), i64::MAX);
    assert_eq!(c.burst_window_ms_i64(), 1);
}
