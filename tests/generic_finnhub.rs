//! The generic provider configured by `examples/generic-finnhub.toml` alone
//! (its URL pointed at a small Finnhub-protocol server on loopback), against
//! the whole service: trades flow and an injected spike alerts, hostile
//! frames are counted and nothing else is lost, subscriptions change at run
//! time through `POST`/`DELETE /subscriptions`, a server ping gets its pong.

mod support;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tapewatch::actors::provider::IssueKind;
use tapewatch::actors::ws_session::SessionState;

use support::eventually;
use support::feed_server::{FeedServer, OnMessage, OnOpen};
use support::generic::*;

/// Finnhub's side: no greeting, no acknowledgements.
fn finnhub_server() -> FeedServer {
    let on_open: OnOpen = Arc::new(|_| Vec::new());
    let on_message: OnMessage = Arc::new(|_, _| Vec::new());
    FeedServer::start(on_open, on_message)
}

/// A batch of `n` ordinary AAPL trades (sizes 90 and 110 alternating).
fn finnhub_batch(n: usize, t: i64) -> String {
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"s": "AAPL", "p": 100.0, "v": if i % 2 == 0 { 90 } else { 110 }, "t": t}))
        .collect();
    json!({"type": "trade", "data": data}).to_string()
}

#[actix::test]
async fn finnhub_trades_flow_and_an_injected_spike_alerts() {
    let server = finnhub_server();
    let mut svc = Service::start(example(FINNHUB, &server, "?token=${env:FINNHUB_TOKEN}")).await;
    assert!(svc.streaming().await, "streams without any acknowledgement");
    for symbol in ["AAPL", "MSFT", "BINANCE:BTCUSDT"] {
        let want = format!(r#"{{"type":"subscribe","symbol":"{symbol}"}}"#);
        assert!(
            server_got(&server, &[&want]).await,
            "one message per topic: {symbol}"
        );
    }
    assert!(server.upgrades()[0].contains("token=fh-test-token"));
    for _ in 0..10 {
        server.push(&finnhub_batch(10, now_ms())).await;
    }
    server.push(r#"{"type":"ping"}"#).await;
    let spike = json!({"type": "trade",
                       "data": [{"s": "AAPL", "p": 100.0, "v": 250_000, "t": now_ms()}]});
    server.push(&spike.to_string()).await;
    svc.decoded_and_alerted(101, "AAPL").await;
    assert_eq!(
        svc.pipeline.metrics.decode_errors_total(),
        0,
        "pings are ignored"
    );
    svc.stop().await;
    server.stop().await;
}

#[actix::test]
async fn finnhub_hostile_frames_are_counted_and_the_rest_decodes() {
    let server = finnhub_server();
    let svc = Service::start(example(FINNHUB, &server, "?token=${env:FINNHUB_TOKEN}")).await;
    assert!(svc.streaming().await);
    let t = now_ms();
    let hostile = [
        r#"{"type":"trade","data":[{"s":"AAPL","p":1,"v":1,"t":1"#.to_owned(),
        r#"{"type":"trade","data":[}"#.to_owned(),
        r#"{"type":"trade","data":[42,{"s":"AAPL","p":"1.5","v":"2","t":T}]}"#
            .replace('T', &t.to_string()),
        r#"{"type":"trade","data":[{"s":"AAPL","v":1,"t":T}]}"#.replace('T', &t.to_string()),
        r#"{"type":"trade","data":[{"s":"AAPL","p":1e300,"v":1,"t":T}]}"#
            .replace('T', &t.to_string()),
        r#"{"type":"trade","data":[{"s":"AAPL","p":1,"v":1,"t":"yesterday"}]}"#.to_owned(),
        // Deep nesting in a field nobody reads is skipped without recursion:
        // the trade still decodes.
        format!(
            r#"{{"type":"trade","data":[{{"s":"AAPL","p":1,"v":1,"t":{t},"x":{}}}]}}"#,
            "[".repeat(200) + &"]".repeat(200)
        ),
        r#"{"type":"surprise"}"#.to_owned(),
        "not json at all".to_owned(),
    ];
    for frame in &hostile {
        server.push(frame).await;
    }
    server.push_binary(b"\x00\x01binary").await;
    server.push(&finnhub_batch(5, t)).await;
    let errors = |kind| svc.pipeline.metrics.decode_errors(kind).get();
    assert!(
        eventually(LIMIT, || svc.trades() == 7).await,
        "the good element of a bad frame, the deep one, and the good batch: {}",
        svc.trades()
    );
    let counted = [
        (IssueKind::Truncated, 1),
        (IssueKind::Malformed, 2),
        (IssueKind::NotObject, 1),
        (IssueKind::MissingField, 1),
        (IssueKind::BadValue, 2),
        (IssueKind::UnknownEvent, 1),
        (IssueKind::NotText, 1),
    ];
    assert!(
        eventually(LIMIT, || counted.iter().all(|(k, n)| errors(*k) == *n)).await,
        "{:?}",
        counted.map(|(k, _)| (k, errors(k)))
    );
    assert_eq!(server.connections(), 1, "no frame cost the connection");
    assert_eq!(svc.state().await, Some(SessionState::Streaming));
    svc.stop().await;
    server.stop().await;
}

#[actix::test]
async fn finnhub_subscriptions_change_at_run_time_and_pings_get_pongs() {
    let server = finnhub_server();
    let mut config = example(FINNHUB, &server, "?token=${env:FINNHUB_TOKEN}");
    // The test server pings with a timestamp the answer must echo.
    let spec = config.generic.as_mut().expect("a [generic] section");
    spec.heartbeat.pong = Some(
        serde_json::from_value(json!({
            "when": {"pointer": "/type", "equals": "ping"},
            "capture": {"ts": "/ts"},
            "message": "{\"type\":\"pong\",\"ts\":${capture.ts}}"
        }))
        .expect("a pong rule"),
    );
    config.generic.as_mut().expect("spec").data.ignore.clear();
    config.validate("test").expect("still valid");
    let svc = Service::start(config).await;
    assert!(svc.streaming().await);
    let (status, answer) = svc.change(Method::POST, &["TSLA"]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["acknowledged"], true,
        "sent is done without acks: {answer}"
    );
    assert!(answer["subscriptions"]
        .as_array()
        .is_some_and(|s| s.contains(&json!("TSLA"))));
    assert!(server_got(&server, &[r#"{"type":"subscribe","symbol":"TSLA"}"#]).await);
    let (status, _) = svc.change(Method::DELETE, &["MSFT"]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(server_got(&server, &[r#"{"type":"unsubscribe","symbol":"MSFT"}"#]).await);
    let (status, answer) = svc.change(Method::POST, &["bad topic!"]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    server.push(r#"{"type":"ping","ts":1700000000777}"#).await;
    assert!(server_got(&server, &[r#"{"type":"pong","ts":1700000000777}"#]).await);
    assert_eq!(svc.pipeline.metrics.decode_errors_total(), 0);
    svc.stop().await;
    server.stop().await;
}
