//! The garbage rotation on the wire: exactly the documented hostile frames, in
//! order, between unchanged data frames, and only on faulty connections.

use awc::ws::Frame;
use bytes::Bytes;

use super::fault_tests::one_trade_per_frame;
use super::test_client::{start_sim, Next, WsClient, READ_TIMEOUT};
use super::{Faults, GarbageKind, Market, SimConfig, SimStats};

/// A script of `trades` trades, one per frame, with `faults`.
fn bounded(trades: u64, faults: Faults) -> SimConfig {
    let mut config = one_trade_per_frame(faults);
    config.script.total_events = Some(trades);
    config
}

/// The payload of the next frame, which must be a text or binary frame as
/// `kind` prescribes.
async fn garbage_payload(ws: &mut WsClient, kind: GarbageKind) -> Bytes {
    match ws.next_within(READ_TIMEOUT).await {
        Next::Frame(Frame::Text(payload)) if !kind.is_binary() => payload,
        Next::Frame(Frame::Binary(payload)) if kind.is_binary() => payload,
        other => panic!("expected the {} frame, got {other:?}", kind.name()),
    }
}

#[actix::test]
async fn garbage_rotates_through_every_kind_and_leaves_the_events_alone() {
    let every = 2;
    let oversize = 2 << 20;
    // One full rotation and the first kind again, to show that it wraps.
    let rounds = GarbageKind::ALL.len() as u64 + 1;
    let trades = rounds * every;
    let sim = start_sim(bounded(
        trades,
        Faults {
            garbage_every: Some(every),
            oversize_bytes: oversize,
            ..Faults::default()
        },
    ))
    .await;
    // The client's 4 MiB limit lets the 2 MiB frame through for inspection.
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    let mut events = Vec::new();
    for round in 0..rounds {
        for _ in 0..every {
            let frame = ws.events().await;
            assert_eq!(frame.len(), 1, "one trade per data frame");
            events.extend(frame);
        }
        let kind = GarbageKind::nth(round);
        let payload = garbage_payload(&mut ws, kind).await;
        // Not assert_eq: a mismatch would print two megabytes.
        assert!(
            payload[..] == kind.payload(oversize)[..],
            "round {round}: the {} frame differs",
            kind.name()
        );
    }
    assert!(matches!(
        ws.next_within(std::time::Duration::from_millis(300)).await,
        Next::Timeout
    ));

    let stats = &sim.stats;
    assert_eq!(SimStats::get(&stats.garbage_frames_sent), rounds);
    assert_eq!(stats.garbage_sent(GarbageKind::MalformedJson), 2);
    for kind in &GarbageKind::ALL[1..] {
        assert_eq!(stats.garbage_sent(*kind), 1, "{}", kind.name());
    }
    assert_eq!(SimStats::get(&stats.data_frames_sent), trades);
    assert_eq!(stats.events_sent(Market::Stocks), trades);
    assert_eq!(SimStats::get(&stats.faults_triggered), 0);

    let clean = start_sim(bounded(trades, Faults::default())).await;
    let mut reference = WsClient::connect(&clean.ws_url("stocks")).await;
    reference.login("any", "T.*").await;
    let expected = reference.collect(events.len()).await;
    assert_eq!(events, expected, "garbage must not change the valid events");
    clean.stop().await;
    sim.stop().await;
}

#[actix::test]
async fn garbage_goes_only_to_faulty_connections() {
    let sim = start_sim(bounded(
        10,
        Faults {
            faulty_connections: 0,
            garbage_every: Some(1),
            ..Faults::default()
        },
    ))
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    assert_eq!(ws.collect(10).await.len(), 10);
    assert!(matches!(
        ws.next_within(std::time::Duration::from_millis(300)).await,
        Next::Timeout
    ));
    assert_eq!(SimStats::get(&sim.stats.garbage_frames_sent), 0);
    sim.stop().await;
}
