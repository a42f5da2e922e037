//! The whole service against a misbehaving upstream: every failure is
//! survived, said, and counted.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::provider::IssueKind;
use tapewatch::config::Config;
use tapewatch_sim::{self as sim, Faults, GarbageKind, ScriptConfig, SimConfig, SimHandle};

use support::{collector, config_for, eventually, key, Received};

const TRADES: u64 = 20_000;

async fn sim_with(faults: Faults, events_per_second: Option<u64>, total: Option<u64>) -> SimHandle {
    sim::start(SimConfig {
        faults,
        events_per_second,
        script: ScriptConfig {
            total_events: total,
            quotes: false,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Fast heartbeat and staleness settings, so faults show within a second.
fn quick(mut config: Config) -> Config {
    config.connection.ping_after_ms = 200;
    config.connection.pong_timeout_ms = 400;
    config.staleness.min_silence_ms = 600;
    config.staleness.factor = 10.0;
    config.staleness.check_interval_ms = 50;
    config
}

fn subscribes(sim: &SimHandle) -> usize {
    let messages = sim.stats.client_messages();
    messages
        .iter()
        .filter(|m| m.contains("\"subscribe\""))
        .count()
}

#[actix::test]
async fn an_abrupt_drop_reconnects_resubscribes_and_reports_the_gap() {
    let faults = Faults {
        drop_after_frames: Some(50),
        ..Faults::default()
    };
    let sim = sim_with(faults, None, Some(TRADES)).await;
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config_for(&sim, &["stocks"]), key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    // Every trade the simulator sent, before and after the drop, is decoded.
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == TRADES).await,
        "decoded {} of {TRADES}",
        trades.get()
    );
    assert_eq!(sim.stats.events_sent(sim::Market::Stocks), TRADES);
    assert_eq!(pipeline.metrics.reconnects.get(), 1);
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 2);
    assert_eq!(subscribes(&sim), 2, "the subscription was sent again");
    let mut got = Received::default();
    let saw = got
        .until(&mut rx, Duration::from_secs(5), |r| {
            r.statuses.iter().any(|s| s.state == "reconnected")
        })
        .await;
    assert!(saw, "{:?}", got.statuses);
    let states: Vec<&str> = got.statuses.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["connected", "disconnected", "reconnected"]);
    let reconnected = &got.statuses[2];
    let (from, to) = (reconnected.gap_from_ms, reconnected.gap_to_ms);
    assert!(
        matches!((from, to), (Some(f), Some(t)) if f <= t),
        "{reconnected:?}"
    );
    assert_eq!(pipeline.metrics.dropped_total(), 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_close_with_an_error_code_reconnects() {
    let faults = Faults {
        close_after_frames: Some((30, 1011)),
        ..Faults::default()
    };
    let sim = sim_with(faults, None, Some(TRADES)).await;
    let pipeline = tapewatch::app::builder(config_for(&sim, &["stocks"]), key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(eventually(Duration::from_secs(60), || trades.get() == TRADES).await);
    assert_eq!(pipeline.metrics.reconnects.get(), 1);
    assert_eq!(subscribes(&sim), 2);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_mute_feed_is_reported_stale_without_reconnecting() {
    let faults = Faults {
        mute_after_frames: Some(200),
        ..Faults::default()
    };
    let sim = sim_with(faults, Some(5_000), None).await;
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(quick(config_for(&sim, &["stocks"])), key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let mut got = Received::default();
    let stale = got
        .until(&mut rx, Duration::from_secs(20), |r| {
            r.statuses.iter().any(|s| s.state == "stale")
        })
        .await;
    assert!(stale, "{:?}", got.statuses);
    let record = got
        .statuses
        .iter()
        .find(|s| s.state == "stale")
        .expect("stale record");
    assert!(record.message.contains("T.*"), "{}", record.message);
    let stale_topics = pipeline.metrics.stale_topics.with_label_values(&["stocks"]);
    assert_eq!(stale_topics.get(), 1);
    // The socket answers pings, so it is healthy: several pong deadlines pass
    // without a reconnect.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(pipeline.metrics.reconnects.get(), 0);
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 1);
    assert!(sim.stats.pongs_sent.load(Ordering::Relaxed) > 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_deaf_socket_is_detected_by_the_heartbeat_and_replaced() {
    let faults = Faults {
        deaf_after_frames: Some(100),
        ..Faults::default()
    };
    let sim = sim_with(faults, Some(5_000), None).await;
    let pipeline = tapewatch::app::builder(quick(config_for(&sim, &["stocks"])), key("k"))
        .start()
        .expect("pipeline starts");
    let reconnects = pipeline.metrics.reconnects.clone();
    assert!(eventually(Duration::from_secs(20), || reconnects.get() == 1).await);
    // The second connection is healthy: data flows again.
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    let before = trades.get();
    assert!(eventually(Duration::from_secs(20), || trades.get() > before + 1_000).await);
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 2);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn max_connections_waits_the_cooldown_instead_of_storming() {
    let faults = Faults {
        reject_all_with_max_connections: true,
        faulty_connections: u64::MAX,
        ..Faults::default()
    };
    let sim = sim_with(faults, Some(1_000), None).await;
    let mut config = config_for(&sim, &["stocks"]);
    config.connection.max_connections_cooldown_ms = 1_500;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let notices = pipeline.metrics.notice("max_connections");
    assert!(eventually(Duration::from_secs(10), || notices.get() == 1).await);
    let connections = || sim.stats.connections_accepted.load(Ordering::Relaxed);
    // Within the cooldown nothing reconnects (a storm would make dozens).
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(connections(), 1);
    assert!(eventually(Duration::from_secs(10), || connections() == 2).await);
    // One auth per connection: the second connection's auth lands just after
    // its accept, so wait for the counts to meet rather than read them at once.
    let auths = || sim.stats.auth_attempts.load(Ordering::Relaxed);
    assert!(eventually(Duration::from_secs(5), || auths() == 2).await);
    assert_eq!(connections(), 2);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn hostile_frames_are_counted_and_the_valid_frames_around_them_all_processed() {
    let faults = Faults {
        garbage_every: Some(7),
        oversize_bytes: 2 << 20,
        ..Faults::default()
    };
    let sim = sim_with(faults, None, Some(TRADES)).await;
    let mut config = config_for(&sim, &["stocks"]);
    // Within the limit the padded frame is an unknown event; over it, the
    // frame costs the connection (next test).
    config.connection.max_frame_bytes = 4 << 20;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let m = &pipeline.metrics;
    let sent = |k: GarbageKind| sim.stats.garbage_sent(k);
    // A truncated array carries one complete trade before the cut, and a
    // frame broken as a whole gives no event: exactly the script's trades.
    let trades = m.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || {
            sim.stats.events_sent(sim::Market::Stocks) == TRADES && trades.get() >= TRADES
        })
        .await,
        "decoded {} trades, expected {TRADES}",
        trades.get()
    );
    assert!(sent(GarbageKind::TruncatedArray) > 0);
    assert_eq!(trades.get(), TRADES, "no trade from a truncated frame");
    let oversize = sent(GarbageKind::Oversize);
    assert!(
        oversize > 0 && sent(GarbageKind::UnaskedAck) > 0,
        "every kind was sent"
    );
    // Each hostile frame landed in exactly its category.
    let settled = eventually(Duration::from_secs(10), || {
        m.decode_errors(IssueKind::UnknownEvent).get() == sent(GarbageKind::UnknownEv) + oversize
    })
    .await;
    assert!(settled);
    let table = [
        (
            IssueKind::Truncated,
            sent(GarbageKind::MalformedJson) + sent(GarbageKind::TruncatedArray),
        ),
        (
            IssueKind::NotText,
            sent(GarbageKind::Binary) + sent(GarbageKind::InvalidUtf8),
        ),
        (IssueKind::NotArray, sent(GarbageKind::ObjectNotArray)),
        (
            IssueKind::UnknownEvent,
            sent(GarbageKind::UnknownEv) + oversize,
        ),
        (IssueKind::MissingField, sent(GarbageKind::MissingFields)),
        (
            IssueKind::BadValue,
            sent(GarbageKind::MistypedField) + sent(GarbageKind::OutOfRange),
        ),
        (IssueKind::TooLarge, 0),
        (IssueKind::Malformed, 0),
        (IssueKind::NotObject, 0),
    ];
    for (kind, want) in table {
        assert_eq!(m.decode_errors(kind).get(), want, "{kind:?}");
    }
    assert_eq!(m.notice("error").get(), sent(GarbageKind::StatusError));
    assert_eq!(
        m.notice("unexpected_ack").get(),
        sent(GarbageKind::UnaskedAck)
    );
    assert_eq!(
        m.reconnects.get(),
        0,
        "hostile frames never cost the connection"
    );
    assert_eq!(m.dropped_total(), 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn an_oversize_frame_ends_its_connection_once_and_the_next_one_streams() {
    // Garbage after every data frame: the oversize frame is the twelfth.
    let faults = Faults {
        garbage_every: Some(1),
        oversize_bytes: 2 << 20,
        ..Faults::default()
    };
    let sim = sim_with(faults, Some(20_000), None).await;
    let mut config = config_for(&sim, &["stocks"]);
    config.connection.max_frame_bytes = 1 << 20;
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let m = &pipeline.metrics;
    let connections = || sim.stats.connections_accepted.load(Ordering::Relaxed);
    assert!(eventually(Duration::from_secs(20), || connections() == 2).await);
    let trades = m.events(EventKind::Trade).clone();
    let before = trades.get();
    assert!(
        eventually(Duration::from_secs(20), || trades.get() > before + 500).await,
        "the second connection streams"
    );
    // The simulator may write more before it sees the socket go; the
    // session read only up to the first.
    assert!(sim.stats.garbage_sent(GarbageKind::Oversize) >= 1);
    assert_eq!(m.decode_errors(IssueKind::TooLarge).get(), 1);
    assert_eq!(m.reconnects.get(), 1);
    assert_eq!(connections(), 2);
    let mut got = Received::default();
    let saw = got
        .until(&mut rx, Duration::from_secs(5), |r| {
            r.statuses.iter().any(|s| s.state == "reconnected")
        })
        .await;
    let disconnected = got.statuses.iter().find(|s| s.state == "disconnected");
    assert!(saw, "{:?}", got.statuses);
    assert!(
        disconnected.is_some_and(|s| s.message.contains("limit")),
        "{:?}",
        got.statuses
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}
