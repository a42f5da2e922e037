//! What a stopped feed stops: a feed whose key is rejected stops after one
//! attempt, the other feeds carry on, and the service stops only when every
//! feed has stopped. (An auth timeout, which only reconnects, is tested on
//! the session itself: the simulator cannot be slower than the client.)

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::secret::ApiKey;
use tapewatch::actors::ws_session::SessionState;
use tapewatch::config::FeedConfig;
use tapewatch::service::{self, Outcome};
use tapewatch_sim::{self as sim, SimConfig, SimHandle};

use support::{config_for, eventually, key};

async fn sim_with_key(k: &str) -> SimHandle {
    sim::start(SimConfig {
        key: Some(ApiKey::new(k)),
        events_per_second: Some(2_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

#[actix::test]
async fn a_stopped_feed_leaves_the_other_feeds_streaming() {
    let good = sim_with_key("k").await;
    let other = sim_with_key("another-key").await;
    let mut config = config_for(&good, &["stocks"]);
    config.feeds.push(FeedConfig {
        name: "options".to_owned(),
        url: other.ws_url("options"),
        subscribe: vec!["T.*".to_owned()],
    });
    let mut pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let handle = pipeline.handle();
    let stopped = || async {
        let sessions = handle.sessions().await;
        sessions
            .iter()
            .any(|s| &*s.feed == "options" && s.state == SessionState::Stopped)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !stopped().await && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        stopped().await,
        "the options feed stops on its rejected key"
    );
    assert_eq!(other.stats.auth_attempts.load(Ordering::Relaxed), 1);
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    let at_stop = trades.get();
    assert!(
        eventually(Duration::from_secs(20), || trades.get() > at_stop + 500).await,
        "stocks keeps streaming"
    );
    let failed = tokio::time::timeout(Duration::from_millis(100), pipeline.failed()).await;
    assert!(failed.is_err(), "the service stopped: {failed:?}");
    pipeline.shutdown(Duration::from_secs(1)).await;
    good.stop().await;
    other.stop().await;
}

#[actix::test]
async fn the_service_stops_once_every_feed_has_stopped() {
    let other = sim_with_key("another-key").await;
    let config = config_for(&other, &["stocks", "options"]);
    let never = std::future::pending::<()>();
    let run = service::run(config, key("k"), never);
    let outcome = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the run ends by itself")
        .expect("the pipeline starts");
    match outcome {
        Outcome::Failed(reason) => {
            assert!(
                reason.contains("stocks") && reason.contains("options"),
                "{reason}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(other.stats.auth_attempts.load(Ordering::Relaxed), 2);
    other.stop().await;
}
