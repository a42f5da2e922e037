//! The generic provider configured by `examples/generic-kucoin.toml` alone
//! (its URL pointed at a small KuCoin-protocol server on loopback), against
//! the whole service: the server speaks first, its welcome id is echoed,
//! subscriptions are acknowledged (also at run time), heartbeats go out,
//! trades with string prices and nanosecond times alert on a spike, and a
//! handshake failure stops the service or reconnects as configured.

mod support;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tapewatch::service::{self, Outcome};

use support::eventually;
use support::feed_server::{FeedServer, OnMessage, OnOpen};
use support::generic::*;

/// How the KuCoin server treats each connection before its welcome.
#[derive(Clone, Copy)]
enum Opening {
    Welcome,
    RejectToken,
    Busy,
    Mute,
}

/// KuCoin's side: a welcome (or not), acks echoing the request id, pongs.
fn kucoin_server(openings: &'static [Opening]) -> FeedServer {
    let on_open: OnOpen = Arc::new(move |n| {
        let opening = openings.get(n - 1).copied().unwrap_or(Opening::Welcome);
        match opening {
            Opening::Welcome => {
                vec![json!({"id": format!("conn{n}"), "type": "welcome"}).to_string()]
            }
            Opening::RejectToken => {
                vec![r#"{"id":"x","type":"error","code":401,"data":"token is invalid"}"#.to_owned()]
            }
            Opening::Busy => {
                vec![
                    r#"{"id":"x","type":"error","code":509,"data":"exceed max permits"}"#
                        .to_owned(),
                ]
            }
            Opening::Mute => Vec::new(),
        }
    });
    let on_message: OnMessage = Arc::new(|_, text| {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return Vec::new();
        };
        let id = message["id"].clone();
        match message["type"].as_str() {
            Some("ping") => vec![json!({"id": id, "type": "pong"}).to_string()],
            Some("subscribe" | "unsubscribe") => vec![json!({"id": id, "type": "ack"}).to_string()],
            _ => Vec::new(),
        }
    });
    FeedServer::start(on_open, on_message)
}

fn kucoin_trade(symbol: &str, price: &str, size: &str, seq: u64) -> String {
    let ns = now_ms() as i128 * 1_000_000 + 123_456;
    json!({"type": "message", "topic": format!("/market/match:{symbol}"), "subject": "trade.l3match",
           "data": {"sequence": seq.to_string(), "symbol": symbol, "side": "buy",
                    "price": price, "size": size, "time": ns.to_string()}})
    .to_string()
}

#[actix::test]
async fn kucoin_handshake_acks_heartbeat_and_an_injected_spike() {
    let server = kucoin_server(&[]);
    let mut config = example(KUCOIN, &server, "?token=${env:KUCOIN_WS_TOKEN}");
    config.generic.as_mut().expect("spec").heartbeat.every_s = 1;
    let mut svc = Service::start(config).await;
    assert!(svc.streaming().await, "welcome, subscribe, ack");
    assert!(
        server.upgrades()[0].contains(TOKEN),
        "the token from the environment"
    );
    assert!(
        server_got(
            &server,
            &[r#""id":"add-conn1""#, "/market/match:BTC-USDT,ETH-USDT"]
        )
        .await,
        "one subscribe for all topics, echoing the welcome's id: {:?}",
        server.received()
    );
    for i in 0..60u64 {
        let size = if i % 2 == 0 { "0.0100" } else { "0.0120" };
        server
            .push(&kucoin_trade("BTC-USDT", "64000.5", size, i))
            .await;
    }
    server
        .push(&kucoin_trade("BTC-USDT", "64000.5", "75.0", 60))
        .await;
    svc.decoded_and_alerted(61, "BTC-USDT").await;
    let pings = || {
        (server.received().iter())
            .filter(|(_, m)| m == r#"{"id":"conn1","type":"ping"}"#)
            .count()
    };
    assert!(
        eventually(LIMIT, || pings() >= 2).await,
        "a ping every second"
    );
    assert_eq!(
        svc.pipeline.metrics.decode_errors_total(),
        0,
        "pongs are ignored"
    );
    // A runtime change waits for its own ack, told apart by its id.
    let (status, answer) = svc.change(Method::POST, &["SOL-USDT"]).await;
    assert_eq!(
        (status, &answer["acknowledged"]),
        (StatusCode::OK, &json!(true)),
        "{answer}"
    );
    assert!(server_got(&server, &[r#""id":"add-conn1""#, "/market/match:SOL-USDT"]).await);
    let (status, answer) = svc.change(Method::DELETE, &["ETH-USDT"]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["subscriptions"], json!(["BTC-USDT", "SOL-USDT"]));
    assert!(
        server_got(
            &server,
            &[r#""id":"remove-conn1""#, "/market/match:ETH-USDT"]
        )
        .await
    );
    svc.stop().await;
    server.stop().await;
}

#[actix::test]
async fn kucoin_retryable_handshake_failures_reconnect_until_welcomed() {
    let server = kucoin_server(&[Opening::Busy, Opening::Mute]);
    let mut config = example(KUCOIN, &server, "?token=${env:KUCOIN_WS_TOKEN}");
    config.generic.as_mut().expect("spec").handshake[0].timeout_ms = 300;
    let svc = Service::start(config).await;
    assert!(svc.streaming().await, "the third connection is welcomed");
    assert_eq!(server.connections(), 3);
    let notices = |kind| svc.pipeline.metrics.notice(kind).get();
    assert_eq!(
        (notices("handshake_failed"), notices("handshake_timeout")),
        (1, 1)
    );
    // Each connection ran the handshake from its first step.
    assert!(server_got(&server, &[r#""id":"add-conn3""#]).await);
    svc.stop().await;
    server.stop().await;
}

#[actix::test]
async fn kucoin_rejected_token_stops_the_service_after_one_attempt() {
    let server = kucoin_server(&[Opening::RejectToken, Opening::RejectToken]);
    let config = example(KUCOIN, &server, "?token=${env:KUCOIN_WS_TOKEN}");
    let never = std::future::pending::<()>();
    let run = service::run(config, no_credentials(), never);
    let outcome = tokio::time::timeout(LIMIT, run)
        .await
        .expect("the run ends by itself")
        .expect("the service starts");
    match outcome {
        Outcome::Failed(reason) => assert!(reason.contains("token is invalid"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.connections(), 1, "a terminal failure is not retried");
    server.stop().await;
}
