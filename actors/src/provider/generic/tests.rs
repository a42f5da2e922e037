//! Table tests of the generic provider on the two example protocols of the
//! README (a Finnhub-like feed with batches under `data`, a KuCoin-like feed
//! that speaks first, with string prices and nanosecond times): decoding,
//! hostile frames, topics, and compile errors that name their key. The
//! connection script has its own tests in `script_tests.rs`.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::events::{AssetClass, Event};

fn env(name: &str) -> Option<String> {
    (name == "FEED_TOKEN").then(|| "t0ken".to_owned())
}

pub(super) fn generic(spec: serde_json::Value) -> Result<Generic, SpecError> {
    let spec: GenericSpec = serde_json::from_value(spec).expect("spec shape");
    Generic::compile_with(&spec, Arc::new(env))
}

/// Finnhub's shape: `{"type":"trade","data":[{s,p,v,t,c}]}`.
pub(super) fn finnhub() -> serde_json::Value {
    json!({
        "subscribe": {"mode": "per_topic",
                      "message": "{\"type\":\"subscribe\",\"symbol\":\"${topic}\"}",
                      "unsubscribe": "{\"type\":\"unsubscribe\",\"symbol\":\"${topic}\"}"},
        "errors": [{"when": {"pointer": "/type", "equals": "error"}, "message": "/msg"}],
        "heartbeat": {"pong": {"when": {"pointer": "/type", "equals": "ping"},
                               "capture": {"ts": "/ts"},
                               "message": "{\"type\":\"pong\",\"ts\":${capture.ts}}"}},
        "data": {"when": {"pointer": "/type", "equals": "trade"}, "events": "/data",
                 "ignore": [{"pointer": "/type", "equals": "news"}],
                 "trade": {"symbol": "/s", "price": "/p", "size": "/v", "time": "/t",
                           "time_unit": "ms", "conditions": "/c"}}
    })
}

/// KuCoin's shape: a welcome to wait for, string prices, nanosecond times,
/// one event object at `/data`.
pub(super) fn kucoin() -> serde_json::Value {
    json!({
        "asset_class": "crypto",
        "handshake": [{
            "name": "welcome",
            "wait": {"pointer": "/type", "equals": "welcome"},
            "capture": {"id": "/id"},
            "timeout_ms": 500,
            "fail": [
                {"when": {"pointer": "/type", "equals": "error",
                          "and": [{"pointer": "/code", "equals": 401}]},
                 "message": "/data", "terminal": true},
                {"when": {"pointer": "/type", "equals": "error"}, "message": "/data"}
            ]
        }, {
            "name": "auth",
            "send": "{\"type\":\"auth\",\"token\":\"${env:FEED_TOKEN}\",\"id\":\"${capture.id}\"}"
        }],
        "subscribe": {"topics_format": "joined",
                      "message": "{\"id\":\"add-${capture.id}\",\"type\":\"subscribe\",\"topic\":\"/market/match:${topics}\"}",
                      "unsubscribe": "{\"id\":\"remove-${capture.id}\",\"type\":\"unsubscribe\",\"topic\":\"/market/match:${topics}\"}",
                      "ack": {"when": {"pointer": "/type", "equals": "ack",
                                       "and": [{"pointer": "/id", "contains": "add-"}]}},
                      "unsubscribe_ack": {"when": {"pointer": "/type", "equals": "ack",
                                                   "and": [{"pointer": "/id", "contains": "remove-"}]}}},
        "heartbeat": {"every_s": 1, "message": "{\"id\":\"${capture.id}\",\"type\":\"ping\"}"},
        "errors": [{"when": {"pointer": "/type", "equals": "error"}, "message": "/data"}],
        "data": {"when": {"pointer": "/subject", "equals": "trade.l3match"}, "events": "/data",
                 "ignore": [{"pointer": "/type", "equals": "pong"}],
                 "trade": {"symbol": "/symbol", "price": "/price", "size": "/size",
                           "time": "/time", "time_unit": "ns", "sequence": "/sequence"}}
    })
}

fn decode(p: &Generic, frame: &str) -> (Vec<Event>, Vec<IssueKind>) {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    p.decode(frame.as_bytes(), &mut out, &mut issues);
    (out, issues.into_iter().map(|i| i.kind).collect())
}

fn trade(e: &Event) -> &crate::events::Trade {
    match e {
        Event::Trade(t) => t,
        other => panic!("not a trade: {other:?}"),
    }
}

#[test]
fn finnhub_batches_decode_with_every_field() {
    let p = generic(finnhub()).expect("compiles");
    let frame = r#"{"data":[{"c":[1,12],"p":182.5,"s":"AAPL","t":1700000000123,"v":100},
                           {"p":"7.25","s":"O:SPY251219C00500000","t":1700000000124,"v":"3"}],
                    "type":"trade"}"#;
    let (events, issues) = decode(&p, frame);
    assert_eq!(issues, vec![]);
    assert_eq!(events.len(), 2);
    let a = trade(&events[0]);
    assert_eq!(
        (a.symbol.as_str(), a.price, a.size, a.time_ms),
        ("AAPL", 182.5, 100.0, 1_700_000_000_123)
    );
    assert_eq!(a.conditions.as_slice(), &[1, 12]);
    assert_eq!(a.class, AssetClass::Stock);
    let b = trade(&events[1]);
    assert_eq!((b.price, b.size, b.class), (7.25, 3.0, AssetClass::Option));
}

#[test]
fn kucoin_events_read_strings_and_nanoseconds() {
    let p = generic(kucoin()).expect("compiles");
    let frame = r#"{"type":"message","topic":"/market/match:BTC-USDT","subject":"trade.l3match",
        "data":{"sequence":"1545896669145","symbol":"BTC-USDT","side":"buy",
                "price":"0.08200000000000000000","size":"0.01022222000000000000",
                "time":"1545913818099033203"}}"#;
    let (events, issues) = decode(&p, frame);
    assert_eq!(issues, vec![]);
    let t = trade(&events[0]);
    assert_eq!(t.symbol.as_str(), "BTC-USDT");
    assert_eq!((t.price, t.size), (0.082, 0.01022222));
    assert_eq!(t.time_ms, 1_545_913_818_099);
    assert_eq!(t.sequence, Some(1_545_896_669_145));
    assert_eq!(t.class, AssetClass::Crypto);
}

#[test]
fn hostile_frames_are_counted_and_lose_nothing_else() {
    let p = generic(finnhub()).expect("compiles");
    let cases: &[(&str, usize, &[IssueKind])] = &[
        (
            r#"{"type":"trade","data":[{"s":"A","p":1,"v":1,"t":1700000000000}"#,
            0,
            &[IssueKind::Truncated],
        ),
        (r#"{"type":"trade","data":[}"#, 0, &[IssueKind::Malformed]),
        (
            r#"{"type":"trade","data":[{"s":"A","v":1,"t":1700000000000},{"s":"B","p":2,"v":1,"t":1700000000000}]}"#,
            1,
            &[IssueKind::MissingField],
        ),
        (
            r#"{"type":"trade","data":[{"s":"A","p":"x","v":1,"t":1700000000000}]}"#,
            0,
            &[IssueKind::BadValue],
        ),
        (
            r#"{"type":"trade","data":[{"s":"A","p":-1,"v":1,"t":1700000000000}]}"#,
            0,
            &[IssueKind::BadValue],
        ),
        (
            r#"{"type":"trade","data":[{"s":"A","p":1,"v":1,"t":1700000000}]}"#,
            0,
            &[IssueKind::BadValue],
        ),
        (
            r#"{"type":"trade","data":[7,{"s":"B","p":2,"v":1,"t":1700000000000}]}"#,
            1,
            &[IssueKind::NotObject],
        ),
        (
            r#"{"type":"trade","data":"nope"}"#,
            0,
            &[IssueKind::NotArray],
        ),
        (r#"{"type":"trade"}"#, 0, &[IssueKind::MissingField]),
        (r#"{"type":"surprise"}"#, 0, &[IssueKind::UnknownEvent]),
        (r#"[1,2,3]"#, 0, &[IssueKind::UnknownEvent]),
        (r#"{"type":"news","data":[1]}"#, 0, &[]),
        (
            r#"{"type":"trade","data":[{"s":"A","p":1e308,"v":1,"t":1700000000000,"x":{"deep":[[[[]]]]}}]}"#,
            0,
            &[IssueKind::BadValue],
        ),
    ];
    for (frame, events, issues) in cases {
        let (got, got_issues) = decode(&p, frame);
        assert_eq!(
            (got.len(), got_issues.as_slice()),
            (*events, *issues),
            "{frame}"
        );
    }
}

#[test]
fn topics_read_as_symbols() {
    let mut spec = finnhub();
    spec["topics"] = json!({"stream": "quotes", "strip_prefix": "Q."});
    let p = generic(spec).expect("compiles");
    let key = p.topic_of("Q.AAPL").expect("a topic");
    assert_eq!(
        (key.stream, key.symbol.as_deref()),
        (crate::provider::Stream::Quotes, Some("AAPL"))
    );
    assert!(p.topic_of("Q.*").expect("wildcard").symbol.is_none());
    for bad in ["AAPL", "Q.", "Q.A B", "Q.{}"] {
        assert!(p.topic_of(bad).is_none(), "{bad}");
    }
}

#[test]
fn compile_errors_name_the_key_and_why() {
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|s| s["data"]["events"] = json!("data")),
            "data.events",
            "RFC 6901",
        ),
        (
            Box::new(|s| s["data"]["trade"]["time_unit"] = json!("fortnights")),
            "data.trade.time_unit",
            "not a time unit",
        ),
        (
            Box::new(|s| s["data"]["trade"]["price"] = json!("")),
            "data.trade.price",
            "is required",
        ),
        (
            Box::new(|s| s["subscribe"]["message"] = json!("${topics}")),
            "subscribe.message",
            "cannot be used here",
        ),
        (
            Box::new(|s| s["subscribe"]["message"] = json!("${capture.nope}")),
            "subscribe.message",
            "captures `nope`",
        ),
        (
            Box::new(|s| s["subscribe"]["message"] = json!("${env:NOT_SET}")),
            "subscribe.message",
            "`NOT_SET` is not set",
        ),
        (
            Box::new(|s| s["subscribe"]["mode"] = json!("some")),
            "subscribe.mode",
            "not a mode",
        ),
        (
            Box::new(|s| s["errors"][0]["when"] = json!({"pointer": "/type"})),
            "errors[0].when",
            "exactly one",
        ),
        (
            Box::new(|s| s["handshake"] = json!([{"name": "x"}])),
            "handshake[0]",
            "needs `send`, `wait`",
        ),
        (
            Box::new(|s| s["heartbeat"]["every_s"] = json!(5)),
            "heartbeat.message",
            "required",
        ),
        (
            Box::new(|s| s["headers"] = json!({"Bad Header": "x"})),
            "headers.Bad Header",
            "not a valid HTTP header",
        ),
        (
            Box::new(|s| s["asset_class"] = json!("bonds")),
            "asset_class",
            "not an asset class",
        ),
        (
            Box::new(|s| s["data"]["trade"] = json!(null)),
            "data",
            "needs a `trade`",
        ),
    ];
    for (edit, key, why) in cases {
        let mut spec = finnhub();
        edit(&mut spec);
        let err = generic(spec).expect_err(key);
        assert_eq!(err.key, key, "{err}");
        assert!(err.message.contains(why), "{key}: {err}");
    }
}

#[test]
fn secrets_stay_out_of_debug() {
    let mut spec = finnhub();
    spec["headers"] = json!({"Authorization": "Bearer ${env:FEED_TOKEN}"});
    let p = generic(spec).expect("compiles");
    let debug = format!("{p:?}");
    assert!(!debug.contains("t0ken"), "{debug}");
    let upgrade = p.upgrade("ws://127.0.0.1:1/?token=${env:FEED_TOKEN}");
    assert_eq!(upgrade.url, "ws://127.0.0.1:1/?token=t0ken");
    assert_eq!(upgrade.headers[0].1.expose(), "Bearer t0ken");
    assert!(!format!("{:?}", upgrade.headers).contains("t0ken"));
    assert!(p
        .check_url("ws://h/?t=${env:NOPE}", "feeds[0].url")
        .is_err());
}
