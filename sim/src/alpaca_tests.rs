//! The Alpaca simulator as a raw client sees it: the handshake, the
//! subscription echo, every error code it sends, the test feed, the
//! connection limit and the faults, in JSON mode (msgpack mode is in
//! `alpaca_msgpack_tests`).

use serde_json::{json, Value};

use super::fault_tests::one_trade_per_frame;
use super::test_client::{eventually, start_sim, Next, WsClient};
use super::{Ending, Faults, SimConfig, SimProvider, SimStats, TEST_SYMBOL};
use tapewatch_actors::secret::ApiKey;

/// An Alpaca simulator with `config`'s other settings.
fn alpaca(config: SimConfig) -> SimConfig {
    SimConfig {
        provider: SimProvider::Alpaca,
        ..config
    }
}

fn auth(key: &str, secret: &str) -> String {
    json!({"action": "auth", "key": key, "secret": secret}).to_string()
}

/// The echo of a subscription to `trades` and `quotes`.
pub(super) fn echo(trades: &[&str], quotes: &[&str]) -> Value {
    json!([{"T": "subscription", "trades": trades, "quotes": quotes, "bars": [],
        "updatedBars": [], "dailyBars": [], "statuses": [], "lulds": [],
        "corrections": trades, "cancelErrors": trades}])
}

fn error(code: u16, msg: &str) -> Value {
    json!([{"T": "error", "code": code, "msg": msg}])
}

/// Connects in JSON mode, reads the greeting and authenticates.
async fn login(url: &str, key: &str, secret: &str) -> WsClient {
    let mut ws = WsClient::connect(url).await;
    assert_eq!(
        ws.json().await,
        json!([{"T": "success", "msg": "connected"}])
    );
    ws.send(&auth(key, secret)).await;
    assert_eq!(
        ws.json().await,
        json!([{"T": "success", "msg": "authenticated"}])
    );
    ws
}

#[actix::test]
async fn the_json_handshake_echoes_subscriptions_and_sends_data() {
    let sim = start_sim(alpaca(SimConfig::default())).await;
    let mut ws = WsClient::connect(&sim.ws_url("v2/iex")).await;
    assert_eq!(
        ws.json().await,
        json!([{"T": "success", "msg": "connected"}])
    );
    let subscribe = json!({"action": "subscribe", "trades": ["AAPL"], "quotes": ["*"]});
    ws.send(&subscribe.to_string()).await;
    assert_eq!(ws.json().await, error(401, "not authenticated"));
    ws.send(&auth("kid", "s3cret")).await;
    assert_eq!(
        ws.json().await,
        json!([{"T": "success", "msg": "authenticated"}])
    );
    ws.send(&auth("kid", "s3cret")).await;
    assert_eq!(ws.json().await, error(403, "already authenticated"));
    ws.send(&subscribe.to_string()).await;
    assert_eq!(ws.json().await, echo(&["AAPL"], &["*"]));
    let mut trades = 0;
    while trades < 5 {
        for event in ws.json().await.as_array().cloned().unwrap_or_default() {
            match event["T"].as_str() {
                Some("t") => {
                    assert_eq!(event["S"], "AAPL", "{event}");
                    assert!(event["t"].as_str().is_some_and(|t| t.ends_with('Z')));
                    trades += 1;
                }
                Some("q") => assert!(event["bp"].as_f64() < event["ap"].as_f64()),
                _ => panic!("unexpected {event}"),
            }
        }
    }
    ws.send(r#"{"action":"unsubscribe","quotes":["*"]}"#).await;
    let mut next = ws.json().await;
    while next[0]["T"] != "subscription" {
        next = ws.json().await;
    }
    assert_eq!(next, echo(&["AAPL"], &[]));
    let log = sim.stats.client_messages();
    assert!(log
        .iter()
        .all(|m| !m.contains("s3cret") && !m.contains("kid")));
    assert_eq!(SimStats::get(&sim.stats.auth_attempts), 2);
    sim.stop().await;
}

#[actix::test]
async fn malformed_messages_and_foreign_channels_get_their_codes() {
    let sim = start_sim(alpaca(SimConfig::default())).await;
    let mut ws = login(&sim.ws_url("v2/sip"), "k", "s").await;
    for bad in [
        "hello",
        "[1]",
        r#"{"action":"dance"}"#,
        r#"{"action":"subscribe","trades":"AAPL"}"#,
    ] {
        ws.send(bad).await;
        assert_eq!(ws.json().await, error(400, "invalid syntax"), "{bad}");
    }
    ws.send(r#"{"action":"subscribe","trades":["AAPL"],"orderbooks":["BTC/USD"]}"#)
        .await;
    assert_eq!(
        ws.json().await,
        error(410, "invalid subscribe action for this feed")
    );
    // Nothing changed, so the next echo holds only what it adds.
    ws.send(r#"{"action":"subscribe","bars":["SPY"]}"#).await;
    assert_eq!(ws.json().await[0]["bars"], json!(["SPY"]));
    sim.stop().await;
}

#[actix::test]
async fn a_wrong_secret_gets_402_and_a_close() {
    let sim = start_sim(alpaca(SimConfig {
        key: Some(ApiKey::new("right")),
        secret: Some(ApiKey::new("right-secret")),
        ..SimConfig::default()
    }))
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("v2/iex")).await;
    ws.json().await;
    ws.send(&auth("right", "wrong")).await;
    assert_eq!(ws.json().await, error(402, "auth failed"));
    assert_eq!(ws.close_code().await, Some(1008));
    assert_eq!(SimStats::get(&sim.stats.auth_failures), 1);
    drop(login(&sim.ws_url("v2/iex"), "right", "right-secret").await);
    sim.stop().await;
}

#[actix::test]
async fn no_auth_in_time_gets_404_and_a_close() {
    let sim = start_sim(alpaca(SimConfig {
        auth_timeout: std::time::Duration::from_millis(200),
        ..SimConfig::default()
    }))
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("v2/iex")).await;
    ws.json().await;
    assert_eq!(ws.json().await, error(404, "auth timeout"));
    assert_eq!(ws.close_code().await, Some(1008));
    sim.stop().await;
}

#[actix::test]
async fn the_test_feed_trades_fakepaca_only() {
    let sim = start_sim(alpaca(SimConfig::default())).await;
    let mut ws = login(&sim.ws_url("v2/test"), "k", "s").await;
    ws.send(r#"{"action":"subscribe","trades":["*"],"quotes":["FAKEPACA"]}"#)
        .await;
    assert_eq!(ws.json().await, echo(&["*"], &[TEST_SYMBOL]));
    for _ in 0..5 {
        for event in ws.json().await.as_array().cloned().unwrap_or_default() {
            assert_eq!(event["S"], TEST_SYMBOL, "{event}");
        }
    }
    sim.stop().await;
}

#[actix::test]
async fn a_second_session_gets_406_instead_of_authenticated() {
    let sim = start_sim(alpaca(one_trade_per_frame(Faults {
        max_connections: true,
        ..Faults::default()
    })))
    .await;
    let url = sim.ws_url("v2/iex");
    let _first = login(&url, "k1", "s").await;
    let mut second = WsClient::connect(&url).await;
    second.json().await;
    second.send(&auth("k1", "s")).await;
    assert_eq!(second.json().await, error(406, "connection limit exceeded"));
    assert_eq!(second.close_code().await, Some(1008));
    assert_eq!(SimStats::get(&sim.stats.max_connections_sent), 1);
    eventually("the second connection to end", || {
        sim.stats.connections().get(1).and_then(|r| r.ending) == Some(Ending::Server(Some(1008)))
    })
    .await;
    sim.stop().await;
}

#[actix::test]
async fn faults_and_alpaca_shaped_garbage_apply() {
    let sim = start_sim(alpaca(one_trade_per_frame(Faults {
        garbage_every: Some(1),
        close_after_frames: Some((3, 1011)),
        ..Faults::default()
    })))
    .await;
    let mut ws = login(&sim.ws_url("v2/iex"), "k", "s").await;
    ws.send(r#"{"action":"subscribe","trades":["*"]}"#).await;
    assert_eq!(ws.json().await[0]["T"], "subscription");
    let mut data = 0;
    loop {
        match ws.next_within(super::test_client::READ_TIMEOUT).await {
            Next::Frame(awc::ws::Frame::Text(text)) => {
                let frame: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
                data += usize::from(frame[0]["T"] == "t" && frame[0]["p"].as_f64() > Some(0.0));
            }
            Next::Frame(awc::ws::Frame::Binary(_)) => {}
            Next::Frame(awc::ws::Frame::Close(reason)) => {
                assert_eq!(reason.map(|r| u16::from(r.code)), Some(1011));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(data, 3);
    assert_eq!(SimStats::get(&sim.stats.garbage_frames_sent), 3);
    sim.stop().await;
}

#[actix::test]
async fn each_mode_serves_only_its_own_feeds_and_both_serve_rest() {
    let polygon = start_sim(SimConfig::default()).await;
    let sim = start_sim(alpaca(SimConfig::default())).await;
    let client = awc::Client::new();
    let status = |url: String| {
        let request = client.get(url);
        async move {
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    assert_eq!(status(format!("{}/stocks", sim.rest_url())).await, 404);
    assert_eq!(status(format!("{}/v2/crypto", sim.rest_url())).await, 404);
    assert_eq!(status(format!("{}/v2/iex", polygon.rest_url())).await, 404);
    let ticker = format!("{}/v3/reference/tickers/AAPL", sim.rest_url());
    assert_eq!(status(ticker).await, 200);
    polygon.stop().await;
    sim.stop().await;
}
