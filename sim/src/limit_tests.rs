//! Massive's connection limit as clients see it: `max_connections` for a
//! second connection with the same key, and for every connection when the
//! simulator rejects all of them.

use serde_json::json;

use super::fault_tests::one_trade_per_frame;
use super::test_client::{eventually, start_sim, WsClient};
use super::{Ending, Faults, SimStats, MAX_CONNECTIONS_MESSAGE};

/// Connects, authenticates with `key`, and expects `auth_success`, then
/// `max_connections`, then Close 1008.
async fn expect_max_connections(url: &str, key: &str) {
    let mut ws = WsClient::connect(url).await;
    assert_eq!(ws.json().await[0]["status"], "connected");
    ws.send(&json!({"action": "auth", "params": key}).to_string())
        .await;
    assert_eq!(ws.json().await[0]["status"], "auth_success");
    assert_eq!(
        ws.json().await,
        json!([{"ev": "status", "status": "max_connections", "message": MAX_CONNECTIONS_MESSAGE}])
    );
    assert_eq!(ws.close_code().await, Some(1008));
}

#[actix::test]
async fn a_second_connection_with_the_same_key_gets_max_connections() {
    let sim = start_sim(one_trade_per_frame(Faults {
        max_connections: true,
        ..Faults::default()
    }))
    .await;
    let url = sim.ws_url("stocks");
    let mut first = WsClient::connect(&url).await;
    first.login("k1", "T.*").await;
    first.collect(5).await;
    expect_max_connections(&url, "k1").await;
    assert!(
        MAX_CONNECTIONS_MESSAGE.starts_with("Maximum number of websocket connections exceeded.")
    );
    // The open connection goes on as if nothing happened.
    assert_eq!(first.collect(20).await.len(), 20);
    // Another key, or another market, has a slot of its own.
    let mut other_key = WsClient::connect(&url).await;
    other_key.login("k2", "T.*").await;
    let mut other_market = WsClient::connect(&sim.ws_url("options")).await;
    other_market.login("k1", "T.*").await;
    assert_eq!(SimStats::get(&sim.stats.max_connections_sent), 1);
    let rejected = &sim.stats.connections()[1];
    assert_eq!(rejected.ending, Some(Ending::Server(Some(1008))));
    // Once the first connection has gone, its key may connect again.
    drop(first);
    eventually("the first connection to end", || {
        sim.stats.connections()[0].ending.is_some()
    })
    .await;
    let mut again = WsClient::connect(&url).await;
    again.login("k1", "T.*").await;
    assert!(!again.events().await.is_empty());
    assert_eq!(SimStats::get(&sim.stats.max_connections_sent), 1);
    sim.stop().await;
}

#[actix::test]
async fn reject_all_turns_every_connection_away() {
    let sim = start_sim(one_trade_per_frame(Faults {
        reject_all_with_max_connections: true,
        ..Faults::default()
    }))
    .await;
    for _ in 0..3 {
        expect_max_connections(&sim.ws_url("stocks"), "k1").await;
    }
    assert_eq!(SimStats::get(&sim.stats.max_connections_sent), 3);
    assert_eq!(SimStats::get(&sim.stats.data_frames_sent), 0);
    sim.stop().await;
}
