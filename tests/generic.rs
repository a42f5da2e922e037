//! The generic provider against the whole service: for each example
//! protocol of the README (`examples/generic-finnhub.toml`,
//! `examples/generic-kucoin.toml`), a small server speaking it on loopback,
//! and the service configured by the example file alone (its URL pointed at
//! the server). Events flow and an injected anomaly alerts; handshake
//! failures stop the feed or retry as configured; heartbeats and pongs go
//! out; subscriptions change at run time through `POST /subscriptions`;
//! hostile frames are counted and nothing else is lost.

mod support;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::Output;
use tapewatch::actors::provider::IssueKind;
use tapewatch::actors::secret::Credentials;
use tapewatch::actors::ws_session::SessionState;
use tapewatch::config::{Config, StdoutFormat};
use tapewatch::http::{self, HttpHandle};
use tapewatch::pipeline::Pipeline;
use tapewatch::service::{self, Outcome};
use tokio::sync::mpsc;

use support::feed_server::{FeedServer, OnMessage, OnOpen};
use support::http::call;
use support::{collector, eventually, Received};

const FINNHUB: &str = include_str!("../examples/generic-finnhub.toml");
const KUCOIN: &str = include_str!("../examples/generic-kucoin.toml");
/// The token the tests' KuCoin server wants in the upgrade URL.
const TOKEN: &str = "kc-test-token";
const LIMIT: Duration = Duration::from_secs(20);

fn now_ms() -> i64 {
    tapewatch::actors::messages::unix_ms()
}

/// An example file's configuration, pointed at `server`, quiet, with fast
/// timers and a short detector warm-up.
fn example(text: &str, server: &FeedServer, query: &str) -> Config {
    std::env::set_var("FINNHUB_TOKEN", "fh-test-token");
    std::env::set_var("KUCOIN_WS_TOKEN", TOKEN);
    let mut config = Config::parse(text).expect("the example parses");
    config.feeds[0].url = format!("{}{query}", server.url());
    config.output.stdout = StdoutFormat::Off;
    config.pipeline.progress_interval_s = 0;
    config.connection.backoff_min_ms = 20;
    config.connection.backoff_max_ms = 100;
    config.detector.warmup_trades = 50;
    config.http.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.validate("test").expect("the example is valid");
    config
}

fn no_credentials() -> Credentials {
    tapewatch::credentials::from_env("generic", |_| None).expect("generic needs no key")
}

/// The pipeline and the HTTP server in front of it.
struct Service {
    pipeline: Pipeline,
    server: HttpHandle,
    outputs: mpsc::UnboundedReceiver<Output>,
}

impl Service {
    async fn start(config: Config) -> Service {
        let (outputs_tx, outputs) = collector();
        let pipeline = tapewatch::app::builder(config.clone(), no_credentials())
            .with_hub(config.pipeline.subscriber_queue)
            .subscribe_outputs(outputs_tx)
            .start()
            .expect("pipeline starts");
        let hub = pipeline.hub().expect("a hub");
        let server = http::serve(config.http.clone(), pipeline.handle(), hub)
            .await
            .expect("server starts");
        Service {
            pipeline,
            server,
            outputs,
        }
    }

    async fn state(&self) -> Option<SessionState> {
        let sessions = self.pipeline.handle().sessions().await;
        sessions.first().map(|s| s.state)
    }

    async fn streaming(&self) -> bool {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while self.state().await != Some(SessionState::Streaming) {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    async fn change(&self, method: Method, topics: &[&str]) -> (StatusCode, Value) {
        let url = format!("{}/subscriptions", self.server.url());
        let body = json!({ "topics": topics }).to_string();
        let (status, _, answer) = call(method, &url, None, Some(&body)).await;
        (status, answer)
    }

    fn trades(&self) -> u64 {
        self.pipeline.metrics.events(EventKind::Trade).get()
    }

    async fn stop(self) {
        self.server.stop().await;
        self.pipeline.shutdown(Duration::from_secs(1)).await;
    }
}

/// Waits until the server received a message that contains every part.
async fn server_got(server: &FeedServer, parts: &[&str]) -> bool {
    eventually(LIMIT, || {
        server
            .received()
            .iter()
            .any(|(_, m)| parts.iter().all(|p| m.contains(p)))
    })
    .await
}

// ---------------------------------------------------------------- Finnhub

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
    assert!(
        eventually(LIMIT, || svc.trades() == 101).await,
        "decoded {} of 101 trades",
        svc.trades()
    );
    let mut got = Received::default();
    let alerted = got
        .until(&mut svc.outputs, LIMIT, |r| {
            r.alerts.iter().any(|a| a.symbol == "AAPL")
        })
        .await;
    assert!(alerted, "the spike alerts: {:?}", got.alerts);
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

// ----------------------------------------------------------------- KuCoin

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
    assert!(
        eventually(LIMIT, || svc.trades() == 61).await,
        "decoded {}",
        svc.trades()
    );
    let mut got = Received::default();
    let alerted = got
        .until(&mut svc.outputs, LIMIT, |r| {
            r.alerts.iter().any(|a| a.symbol == "BTC-USDT")
        })
        .await;
    assert!(alerted, "the spike alerts");
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
