//! Tests of the frame builder: wire shape, spike placement, segments.

use super::*;

fn spec(market: Market, symbols: usize, events: u64) -> FeedSpec {
    FeedSpec {
        market,
        symbols,
        symbol_offset: 0,
        events,
        events_per_frame: 10,
        anomaly_every: 500,
        segments: 2,
        warmup_segment: false,
    }
}

#[test]
fn frames_are_polygon_arrays_with_known_spikes() {
    let set = build(&spec(Market::Stocks, 100, 20_005));
    assert_eq!(set.frames.len(), 2_001);
    assert_eq!(set.events(), 20_005);
    let first: serde_json::Value = serde_json::from_str(set.frames[0].as_str()).unwrap();
    assert_eq!(first[0]["ev"], "T");
    assert_eq!(first[0]["sym"], "AAAA");
    assert_eq!(first.as_array().map(Vec::len), Some(10));
    let spikes: usize = set
        .frames
        .iter()
        .map(|f| f.as_str().matches("\"s\":10000,").count())
        .sum();
    assert_eq!(spikes as u64, set.anomalies());
    assert!(set.anomalies() > 10);
    for seg in &set.segments {
        let marker = seg.marker.as_ref().expect("each segment ends with a spike");
        let last = set.frames[seg.frames.end - 1].as_str();
        assert!(last.contains(&format!("\"sym\":\"{}\"", marker.symbol)));
    }
}

#[test]
fn a_warmup_segment_comes_first_and_has_no_spikes() {
    let set = build(&FeedSpec {
        warmup_segment: true,
        segments: 4,
        ..spec(Market::Stocks, 100, 46_000)
    });
    assert_eq!(set.segments.len(), 5);
    assert_eq!(set.segments[0].frames, 0..600);
    assert_eq!(set.segments[0].anomalies, 0);
    assert!(set.segments[1..]
        .iter()
        .all(|s| s.anomalies > 0 && s.marker.is_some()));
    assert_eq!(set.segments.last().map(|s| s.frames.end), Some(4_600));
    assert_eq!(set.events(), 46_000);
}

#[test]
fn option_tickers_are_distinct_occ_contracts() {
    let set = build(&spec(Market::Options, 50_000, 50_000));
    assert_eq!(set.anomalies(), 0);
    let mut seen = std::collections::HashSet::new();
    for f in &set.frames {
        let v: serde_json::Value = serde_json::from_str(f.as_str()).unwrap();
        for e in v.as_array().unwrap() {
            let sym = e["sym"].as_str().unwrap().to_owned();
            assert!(
                tapewatch_actors::option_ticker::parse(&sym).is_some(),
                "{sym}"
            );
            assert!(seen.insert(sym));
        }
    }
    assert_eq!(seen.len(), 50_000);
}
