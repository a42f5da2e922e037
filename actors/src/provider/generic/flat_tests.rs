//! The generic decoder's fast path (the byte scanner over flat events) and
//! its walk give the same result for every frame, as Polygon's two paths do.

use serde_json::json;

use super::tests::generic;
use super::*;

/// Polygon's own frame shape, as the benchmark configures it.
fn polygon_shape(extra_skip: Option<serde_json::Value>) -> serde_json::Value {
    let mut skip = vec![json!({"pointer": "/ev", "one_of": ["A", "AM"]})];
    skip.extend(extra_skip);
    json!({
        "subscribe": {"message": "${topics}", "unsubscribe": "${topics}"},
        "data": {
            "events": "",
            "skip": skip,
            "trade": {"when": {"pointer": "/ev", "equals": "T"},
                      "symbol": "/sym", "price": "/p", "size": "/s", "time": "/t",
                      "exchange": "/x", "conditions": "/c", "sequence": "/q"},
            "quote": {"when": {"pointer": "/ev", "equals": "Q"},
                      "symbol": "/sym", "bid": "/bp", "bid_size": "/bs",
                      "ask": "/ap", "ask_size": "/as", "time": "/t"}
        }
    })
}

type Decoded = (Vec<crate::events::Event>, Vec<DecodeIssue>);

fn run(p: &Generic, frame: &str) -> Decoded {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    p.decode(frame.as_bytes(), &mut out, &mut issues);
    (out, issues)
}

#[test]
fn the_scanner_and_the_walk_agree_on_every_frame() {
    let fast = generic(polygon_shape(None)).expect("compiles");
    assert!(fast.compiled.flat.is_some(), "flat events take the scanner");
    // A condition on a boolean keeps the scanner out; it never holds here.
    let never = json!({"pointer": "/never", "equals": true});
    let walk = generic(polygon_shape(Some(never))).expect("compiles");
    assert!(walk.compiled.flat.is_none());
    let frames = [
        r#"[{"ev":"T","sym":"AAPL","p":182.5,"s":100,"t":1700000000000,"x":4,"c":[14,41],"q":7}]"#,
        r#"[{"ev":"Q","sym":"MSFT","bp":1.5,"bs":2,"ap":1.6,"as":3,"t":1700000000001},
            {"ev":"A","sym":"MSFT","o":1},{"ev":"T","sym":"O:SPY251219C00500000","p":"7.25","s":"3","t":1700000000002}]"#,
        r#"[{"ev":"T","sym":"AAPL","s":100,"t":1700000000000},{"ev":"T","sym":"B","p":-1,"s":1,"t":1700000000000}]"#,
        r#"[{"ev":"T","sym":"A\u0041","p":1,"s":1,"t":1700000000000}]"#,
        r#"[{"ev":"T","sym":"AAPL","p":1,"s":1,"t":1700000000000,"z":{"nested":[1]}}]"#,
        r#"[{"ev":"T","sym":"AAPL","p":1e3,"s":1,"t":1700000000000}]"#,
        r#"[{"ev":"X","sym":"AAPL"},{"ev":true},7,"x"]"#,
        r#"[{"ev":"T","sym":"AAPL","p":1,"s":1,"t":1700000000000}"#,
        r#"{"ev":"T"}"#,
        r#"[]"#,
        r#"[{"ev":"T","sym":"","p":1,"s":1,"t":1700000000000},{"ev":"T","sym":"AAPL","p":1,"s":1,"t":"x"}]"#,
        r#"[{"ev":"T","ev":"Q","sym":"AAPL","bp":1,"ap":2,"t":1700000000000}]"#,
    ];
    for frame in frames {
        assert_eq!(run(&fast, frame), run(&walk, frame), "{frame}");
    }
}
