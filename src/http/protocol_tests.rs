//! Table tests of the downstream protocol: requests, errors, replies, pushes.

use std::time::Duration;

use super::protocol::*;
use super::state::StateKind;
use serde_json::{json, Value};

fn topic_list(names: &[&str]) -> Vec<Topic> {
    names
        .iter()
        .map(|n| Topic::parse(n).expect("valid"))
        .collect()
}

fn subscribe(names: &[&str], max_hz: Option<f64>, on_lag: Option<OnLag>) -> Action {
    Action::Subscribe(Subscribe {
        topics: topic_list(names),
        min_gap: max_hz.map(|hz| Duration::from_secs_f64(1.0 / hz)),
        on_lag,
    })
}

#[test]
fn requests_parse() {
    let cases = [
        (
            r#"{"id":7,"action":"subscribe","topics":["alerts","trades:nvda","status"]}"#,
            json!(7),
            subscribe(&["alerts", "trades:NVDA", "status"], None, None),
        ),
        (
            r#"{"id":9,"action":"subscribe","topics":["last:*","quotes:o:nvda261218c00500000"],"max_hz":4}"#,
            json!(9),
            subscribe(&["last:*", "quotes:O:NVDA261218C00500000"], Some(4.0), None),
        ),
        (
            r#"{"id":10,"action":"subscribe","topics":["alerts"],"on_lag":"notice","max_hz":null}"#,
            json!(10),
            subscribe(&["alerts"], None, Some(OnLag::Notice)),
        ),
        (r#"{"id":11,"action":"stats"}"#, json!(11), Action::Stats),
        (
            r#"{"id":"a","action":"unsubscribe","topics":["trades:O:NVDA261218C00500000"]}"#,
            json!("a"),
            Action::Unsubscribe(vec![Topic::Trades("O:NVDA261218C00500000".into())]),
        ),
        (r#"{"id":1,"action":"status"}"#, json!(1), Action::Status),
        (
            r#"{"id":2.5,"action":"subscriptions"}"#,
            json!(2.5),
            Action::Subscriptions,
        ),
        (
            r#"{"id":8,"action":"contract","ticker":"O:SPY261218C00600000"}"#,
            json!(8),
            Action::Contract("O:SPY261218C00600000".into()),
        ),
    ];
    for (text, id, action) in cases {
        assert_eq!(parse(text), Ok(Request { id, action }), "{text}");
    }
}

#[test]
fn bad_requests_say_why_and_keep_the_id() {
    let cases: [(&str, Id, &str, bool); 16] = [
        ("not json", None, "malformed JSON", true),
        ("[1,2]", None, "JSON object", true),
        (
            r#"{"action":"status"}"#,
            None,
            "missing or invalid `id`",
            false,
        ),
        (
            r#"{"id":[1],"action":"status"}"#,
            None,
            "invalid `id`",
            false,
        ),
        (r#"{"id":3}"#, Some(json!(3)), "missing `action`", false),
        (
            r#"{"id":3,"action":"dance"}"#,
            Some(json!(3)),
            "unknown action `dance`",
            false,
        ),
        (
            r#"{"id":4,"action":"subscribe"}"#,
            Some(json!(4)),
            "missing `topics`",
            false,
        ),
        (
            r#"{"id":4,"action":"subscribe","topics":[]}"#,
            Some(json!(4)),
            "1 to 256",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":["quotes"]}"#,
            Some(json!(5)),
            "unknown topic `quotes`",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":["last:**"]}"#,
            Some(json!(5)),
            "invalid ticker `**`",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":["last:*"],"max_hz":0}"#,
            Some(json!(5)),
            "`max_hz` must be a number above 0",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":["last:*"],"max_hz":"fast"}"#,
            Some(json!(5)),
            "`max_hz` must be a number above 0",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":["alerts"],"on_lag":"ignore"}"#,
            Some(json!(5)),
            "`on_lag` must be",
            false,
        ),
        (
            r#"{"id":5,"action":"subscribe","topics":[5]}"#,
            Some(json!(5)),
            "is a string",
            false,
        ),
        (
            r#"{"id":6,"action":"subscribe","topics":["trades:A B"]}"#,
            Some(json!(6)),
            "invalid ticker",
            false,
        ),
        (
            r#"{"id":"x","action":"contract"}"#,
            Some(json!("x")),
            "needs a `ticker`",
            false,
        ),
    ];
    for (text, id, needle, malformed) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!(e.id, id, "{text}");
        assert!(e.message.contains(needle), "{text}: {}", e.message);
        assert_eq!(e.malformed, malformed, "{text}");
    }
}

#[test]
fn ids_can_be_peeked_from_any_object() {
    assert_eq!(peek_id(r#"{"id":9,"action":"?"}"#), Some(json!(9)));
    assert_eq!(peek_id(r#"{"action":"status"}"#), None);
    assert_eq!(peek_id("{"), None);
}

#[test]
fn replies_and_pushes_have_the_documented_shape() {
    let r: Value = serde_json::from_str(&ok(&json!(7), "topics", ["alerts"])).expect("json");
    assert_eq!(r, json!({"id": 7, "ok": true, "topics": ["alerts"]}));
    let e: Value = serde_json::from_str(&error(&None, "bad")).expect("json");
    assert_eq!(e, json!({"id": null, "ok": false, "error": "bad"}));
    let p = push("trades:NVDA", &json!({"price": 1.5})).expect("serialises");
    let p: Value = serde_json::from_str(&p).expect("json");
    assert_eq!(p, json!({"topic": "trades:NVDA", "data": {"price": 1.5}}));
    assert_eq!(
        Topic::parse("trades:aapl").expect("ok").to_string(),
        "trades:AAPL"
    );
}

#[test]
fn lookups_accept_only_option_tickers_and_stock_symbols() {
    let good = [
        ("O:NVDA261218C00500000", "O:NVDA261218C00500000"),
        ("o:spy261218p00600000", "O:SPY261218P00600000"),
        ("NVDA", "NVDA"),
        ("nvda", "NVDA"),
        ("BRK.B", "BRK.B"),
        ("BF-B", "BF-B"),
        ("A", "A"),
    ];
    for (text, want) in good {
        assert_eq!(lookup_ticker(text).as_deref(), Ok(want), "{text}");
    }
    let bad = [
        "",
        "O:",
        "O:NVDA261318C00500000",
        "O:NVDA261218X00500000",
        "O:NVDA",
        "X:BTCUSD",
        "TOOLONGSYMBOL",
        "NVDA.",
        ".B",
        "BRK.B.C",
        "123",
        "NV DA",
        "NVDA_1",
        "ÄPPLE",
    ];
    for text in bad {
        let e = lookup_ticker(text).expect_err(text);
        assert!(e.contains("invalid ticker"), "{text}: {e}");
    }
    let reply = parse(r#"{"id":3,"action":"contract","ticker":"JUNK:JUNK"}"#);
    assert!(reply.is_err(), "{reply:?}");
}

#[test]
fn state_topics_round_trip_and_report_their_kind() {
    for (text, shown, kind, symbol) in [
        (
            "quotes:nvda",
            "quotes:NVDA",
            StateKind::Quotes,
            Some("NVDA"),
        ),
        ("last:*", "last:*", StateKind::Last, None),
        (
            "last:O:SPY261218C00600000",
            "last:O:SPY261218C00600000",
            StateKind::Last,
            Some("O:SPY261218C00600000"),
        ),
    ] {
        let topic = Topic::parse(text).expect(text);
        assert_eq!(
            topic.as_state(),
            Some((kind, symbol.map(Into::into))),
            "{text}"
        );
        assert_eq!(topic.to_string(), shown);
    }
    assert_eq!(Topic::parse("trades:NVDA").expect("topic").as_state(), None);
    assert_eq!(lagged(3), r#"{"topic":"lagged","dropped":3}"#);
}
