//! Tests of per-group settings: matching, resolution, and the errors that
//! name a bad key.

use serde_json::json;

use super::*;

fn section(groups: serde_json::Value) -> DetectorConfig {
    serde_json::from_value(json!({ "premium_min": 500000.0, "groups": groups })).expect("parses")
}

#[test]
fn the_first_matching_group_wins_and_overrides_only_its_keys() {
    let cfg = section(json!([
        {"name": "index", "underlyings": ["SPY", "QQQ"],
         "settings": {"premium_min": 5000000.0, "sweep_min_exchanges": 5}},
        {"name": "weeklies", "prefix": "O:SPY", "settings": {"premium_min": 1.0}},
        {"name": "crypto", "asset_class": "crypto", "settings": {"price_jump_pct": 5.0}},
        {"name": "nvda options", "underlyings": ["NVDA"], "asset_class": "option",
         "settings": {"cooldown_ms": 1000}},
    ]));
    let groups = Groups::resolve(&cfg).expect("resolves");
    // (symbol, class, underlying, group)
    let cases = [
        ("SPY", AssetClass::Stock, None, 1),
        ("O:SPY261218C00600000", AssetClass::Option, Some("SPY"), 1),
        ("O:QQQ261218C00600000", AssetClass::Option, Some("QQQ"), 1),
        ("BTC-USD", AssetClass::Crypto, None, 3),
        ("NVDA", AssetClass::Stock, None, 0),
        ("O:NVDA261218C00500000", AssetClass::Option, Some("NVDA"), 4),
        ("AAPL", AssetClass::Stock, None, 0),
    ];
    for (symbol, class, underlying, group) in cases {
        assert_eq!(
            groups.index_of(symbol, class, underlying),
            group,
            "{symbol}"
        );
    }
    assert_eq!(groups.config(1).premium_min, 5_000_000.0);
    assert_eq!(groups.config(1).sweep_min_exchanges, 5);
    // Keys a group leaves alone come from the section, not the defaults.
    assert_eq!(groups.config(4).premium_min, 500_000.0);
    assert_eq!(groups.config(4).cooldown_ms, 1_000);
    assert_eq!(groups.config(0).premium_min, 500_000.0);
    assert_eq!(groups.config(3).price_jump_pct, 5.0);
    assert!(groups.config(1).groups.is_empty());
}

#[test]
fn bad_groups_are_refused_with_the_key_named() {
    // (groups, field, requirement starts with)
    let cases = [
        (
            json!([{"underlyings": ["SPY"], "settings": {"premim_min": 1.0}}]),
            "groups[0].settings.premim_min",
            "a known",
        ),
        (
            json!([{"underlyings": ["SPY"]}, {"prefix": "O:", "settings": {"premium_min": -1.0}}]),
            "groups[1].settings.premium_min",
            "a number greater than 0",
        ),
        (
            json!([{"underlyings": ["SPY"], "settings": {"sweep_min_exchanges": "five"}}]),
            "groups[0].settings.sweep_min_exchanges",
            "of the same type",
        ),
        (
            json!([{"underlyings": ["SPY"], "settings": {"max_symbols": 10}}]),
            "groups[0].settings.max_symbols",
            "set in [detector] itself",
        ),
        (
            json!([{"name": "everything", "settings": {"premium_min": 1.0}}]),
            "groups[0]",
            "a group with",
        ),
    ];
    for (groups, field, requirement) in cases {
        let err = section(groups).validate().expect_err(field);
        assert_eq!(err.field, field);
        assert!(err.requirement.starts_with(requirement), "{err}");
        assert!(err
            .to_string()
            .starts_with(&format!("detector.{field} must be")));
    }
}

#[test]
fn unknown_keys_in_a_group_itself_do_not_parse() {
    let parsed = serde_json::from_value::<DetectorConfig>(json!({
        "groups": [{"underlying": ["SPY"]}]
    }));
    assert!(parsed.is_err());
}

#[test]
fn without_groups_every_symbol_uses_the_section() {
    let groups = Groups::resolve(&DetectorConfig::default()).expect("resolves");
    assert!(!groups.any());
    assert_eq!(groups.index_of("SPY", AssetClass::Stock, None), 0);
    assert_eq!(groups.config(9).premium_min, 1_000_000.0);
}
