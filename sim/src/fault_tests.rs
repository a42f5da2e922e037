//! The connection faults as a raw client sees them: an abrupt drop, a close
//! with a code, a muted and a deaf socket, which connections are faulty, and
//! how the stats record the way each connection ended.

use std::time::Duration;

use awc::ws::{CloseCode, CloseReason, Frame, Message};
use serde_json::Value;

use super::test_client::{eventually, start_sim, Next, WsClient, READ_TIMEOUT};
use super::{Ending, Faults, Market, ScriptConfig, SimConfig, SimHandle, SimStats};

/// How long a test listens to make sure that nothing arrives.
const SILENCE: Duration = Duration::from_millis(400);

/// Trades only, one per frame, so frame counts are easy to follow.
pub(super) fn one_trade_per_frame(faults: Faults) -> SimConfig {
    SimConfig {
        events_per_frame: 1,
        script: ScriptConfig {
            quotes: false,
            ..ScriptConfig::default()
        },
        faults,
        ..SimConfig::default()
    }
}

/// Logs in to `market` and reads `frames` data frames; returns their events.
async fn read_frames(sim: &SimHandle, market: Market, frames: usize) -> (WsClient, Vec<Value>) {
    let mut ws = WsClient::connect(&sim.ws_url(market.path())).await;
    ws.login("any", "T.*").await;
    let mut events = Vec::new();
    for _ in 0..frames {
        events.extend(ws.events().await);
    }
    (ws, events)
}

/// The next read must be the end of the stream, not a frame.
async fn assert_ends_without_close(ws: &mut WsClient) {
    match ws.next_within(READ_TIMEOUT).await {
        Next::End | Next::Error(actix_ws::ProtocolError::Io(_)) => {}
        other => panic!("expected the TCP stream to end without a Close frame, got {other:?}"),
    }
}

#[actix::test]
async fn drop_after_frames_ends_the_stream_without_a_close_frame() {
    let sim = start_sim(one_trade_per_frame(Faults {
        drop_after_frames: Some(3),
        ..Faults::default()
    }))
    .await;
    let (mut ws, events) = read_frames(&sim, Market::Stocks, 3).await;
    assert_eq!(events.len(), 3);
    assert_ends_without_close(&mut ws).await;
    eventually("the connection to end", || {
        sim.stats.connections()[0].ending.is_some()
    })
    .await;
    let record = &sim.stats.connections()[0];
    assert_eq!(record.ending, Some(Ending::Server(None)));
    assert_eq!((record.data_frames, record.faulty), (3, true));
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 1);
    assert_eq!(sim.stats.events_sent(Market::Stocks), 3);
    assert!(sim.stats.client_close_codes().is_empty());
    sim.stop().await;
}

#[actix::test]
async fn close_after_frames_sends_the_configured_close_code() {
    let sim = start_sim(one_trade_per_frame(Faults {
        close_after_frames: Some((3, 1011)),
        ..Faults::default()
    }))
    .await;
    let (mut ws, _) = read_frames(&sim, Market::Stocks, 3).await;
    assert_eq!(ws.close_code().await, Some(1011));
    eventually("the connection to end", || {
        sim.stats.connections()[0].ending.is_some()
    })
    .await;
    assert_eq!(
        sim.stats.connections()[0].ending,
        Some(Ending::Server(Some(1011)))
    );
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 1);
    sim.stop().await;
}

#[actix::test]
async fn a_muted_connection_sends_no_data_but_answers_pings_and_messages() {
    let sim = start_sim(one_trade_per_frame(Faults {
        mute_after_frames: Some(2),
        ..Faults::default()
    }))
    .await;
    let (mut ws, _) = read_frames(&sim, Market::Stocks, 2).await;
    assert!(matches!(ws.next_within(SILENCE).await, Next::Timeout));
    ws.send_message(Message::Ping("still there?".into())).await;
    match ws.next_within(READ_TIMEOUT).await {
        Next::Frame(Frame::Pong(payload)) => assert_eq!(&payload[..], b"still there?"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ws.subscribe("T.AAPL").await;
    assert!(matches!(ws.next_within(SILENCE).await, Next::Timeout));
    assert_eq!(SimStats::get(&sim.stats.pings_received), 1);
    assert_eq!(SimStats::get(&sim.stats.pongs_sent), 1);
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 1);
    assert_eq!(sim.stats.events_sent(Market::Stocks), 2);
    let record = &sim.stats.connections()[0];
    assert_eq!((record.ending, record.subscribe_messages), (None, 2));
    sim.stop().await;
}

#[actix::test]
async fn a_deaf_connection_answers_neither_pings_nor_a_close() {
    let sim = start_sim(one_trade_per_frame(Faults {
        deaf_after_frames: Some(2),
        ..Faults::default()
    }))
    .await;
    let (mut ws, _) = read_frames(&sim, Market::Stocks, 2).await;
    ws.send_message(Message::Ping("hello?".into())).await;
    assert!(matches!(ws.next_within(SILENCE).await, Next::Timeout));
    assert_eq!(SimStats::get(&sim.stats.pings_received), 1);
    assert_eq!(SimStats::get(&sim.stats.pongs_sent), 0);
    let going_away = CloseReason::from(CloseCode::Away);
    ws.send_message(Message::Close(Some(going_away))).await;
    assert!(matches!(ws.next_within(SILENCE).await, Next::Timeout));
    drop(ws);
    eventually("the connection to end", || {
        sim.stats.connections()[0].ending.is_some()
    })
    .await;
    assert_eq!(
        sim.stats.connections()[0].ending,
        Some(Ending::Client(Some(1001)))
    );
    assert_eq!(sim.stats.client_close_codes(), [Some(1001)]);
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 1);
    sim.stop().await;
}

#[actix::test]
async fn only_the_first_connection_per_market_is_faulty_by_default() {
    let sim = start_sim(one_trade_per_frame(Faults {
        drop_after_frames: Some(2),
        ..Faults::default()
    }))
    .await;
    let (mut first, before) = read_frames(&sim, Market::Stocks, 2).await;
    assert_ends_without_close(&mut first).await;
    let (_second, after) = read_frames(&sim, Market::Stocks, 20).await;
    let time = |e: &Value| e["t"].as_i64().unwrap_or(0);
    assert!(time(&after[0]) > time(&before[1]), "the script resumes");
    // The first connection to the other market is faulty too.
    let (mut options, _) = read_frames(&sim, Market::Options, 2).await;
    assert_ends_without_close(&mut options).await;
    let records = sim.stats.connections();
    let faulty: Vec<(Market, u64, bool)> = records
        .iter()
        .map(|r| (r.market, r.market_index, r.faulty))
        .collect();
    assert_eq!(
        faulty,
        [
            (Market::Stocks, 0, true),
            (Market::Stocks, 1, false),
            (Market::Options, 0, true)
        ]
    );
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 2);
    sim.stop().await;
}

#[actix::test]
async fn faulty_connections_max_makes_every_connection_faulty() {
    let sim = start_sim(one_trade_per_frame(Faults {
        faulty_connections: u64::MAX,
        close_after_frames: Some((1, 1011)),
        ..Faults::default()
    }))
    .await;
    for _ in 0..3 {
        let (mut ws, _) = read_frames(&sim, Market::Stocks, 1).await;
        assert_eq!(ws.close_code().await, Some(1011));
    }
    assert_eq!(SimStats::get(&sim.stats.faults_triggered), 3);
    sim.stop().await;
}

#[actix::test]
async fn client_close_codes_record_how_clients_left() {
    let sim = start_sim(SimConfig::default()).await;
    let mut polite = WsClient::connect(&sim.ws_url("stocks")).await;
    polite.text().await;
    let normal = CloseReason::from(CloseCode::Normal);
    polite.send_message(Message::Close(Some(normal))).await;
    assert_eq!(polite.close_code().await, Some(1000), "the close is echoed");
    eventually("the first connection to end", || {
        sim.stats.client_close_codes().len() == 1
    })
    .await;
    let mut rude = WsClient::connect(&sim.ws_url("stocks")).await;
    rude.text().await;
    drop(rude);
    eventually("the second connection to end", || {
        sim.stats.client_close_codes().len() == 2
    })
    .await;
    assert_eq!(sim.stats.client_close_codes(), [Some(1000), None]);
    let endings: Vec<Option<Ending>> = sim.stats.connections().iter().map(|r| r.ending).collect();
    assert_eq!(
        endings,
        [Some(Ending::Client(Some(1000))), Some(Ending::Client(None))]
    );
    sim.stop().await;
}

#[actix::test]
async fn faults_set_at_run_time_hit_the_next_connection_only() {
    let sim = start_sim(one_trade_per_frame(Faults {
        faulty_connections: 0,
        ..Faults::default()
    }))
    .await;
    let (mut open, _) = read_frames(&sim, Market::Stocks, 2).await;
    sim.set_faults(Faults {
        faulty_connections: 1,
        drop_after_frames: Some(2),
        ..Faults::default()
    });
    // The connection opened before the change keeps streaming past 2 frames.
    assert_eq!(open.collect(4).await.len(), 4);
    let (mut faulty, events) = read_frames(&sim, Market::Stocks, 2).await;
    assert_eq!(events.len(), 2);
    assert_ends_without_close(&mut faulty).await;
    // Only one connection counts as faulty after the change.
    let (mut next, _) = read_frames(&sim, Market::Stocks, 3).await;
    assert_eq!(next.collect(1).await.len(), 1);
    let faulty_flags: Vec<bool> = sim.stats.connections().iter().map(|c| c.faulty).collect();
    assert_eq!(faulty_flags, [false, true, false]);
}

#[actix::test]
async fn a_held_simulator_sends_no_data_until_released() {
    let sim = start_sim(one_trade_per_frame(Faults {
        faulty_connections: 0,
        ..Faults::default()
    }))
    .await;
    let (mut ws, _) = read_frames(&sim, Market::Stocks, 1).await;
    sim.hold(true);
    // Frames already handed to the socket may still arrive; then nothing.
    while ws.frame_within(SILENCE).await.is_some() {}
    let sent = sim.stats.events_sent(Market::Stocks);
    assert!(ws.frame_within(SILENCE).await.is_none(), "held: no data");
    assert_eq!(sim.stats.events_sent(Market::Stocks), sent);
    sim.hold(false);
    assert_eq!(
        ws.collect(3).await.len(),
        3,
        "data flows again once released"
    );
}
