//! `[state] dir`: subscriptions changed at runtime survive a restart of the
//! process, and a state file that cannot be read falls back to the
//! configured set.

mod support;

use std::time::Duration;

use tapewatch::actors::subscription_store::file_name;
use tapewatch::actors::ws_session::ChangeSubscriptions;
use tapewatch::config::Config;
use tapewatch::pipeline::Pipeline;
use tapewatch_sim::{self as sim, SimConfig, SimHandle};

use support::{config_for, eventually, key};

fn configured(sim: &SimHandle, dir: &std::path::Path) -> Config {
    let mut config = config_for(sim, &["stocks"]);
    config.feeds[0].subscribe = vec!["T.AAPL".to_owned()];
    config.state.dir = Some(dir.to_path_buf());
    config
}

async fn streaming(pipeline: &Pipeline) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if pipeline.ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// The `params` of the last subscribe message the simulator received.
fn last_subscribe(sim: &SimHandle) -> String {
    let messages = sim.stats.client_messages();
    let last = messages.iter().rev().find(|m| m.contains("\"subscribe\""));
    last.cloned().unwrap_or_default()
}

#[actix::test]
async fn acknowledged_changes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = sim::start(SimConfig {
        events_per_second: Some(1_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pipeline = tapewatch::app::builder(configured(&sim, dir.path()), key("k"))
        .start()
        .expect("pipeline starts");
    assert!(streaming(&pipeline).await);
    let change = ChangeSubscriptions {
        add: vec!["T.MSFT".to_owned()],
        remove: vec!["T.AAPL".to_owned()],
    };
    let reply = (pipeline.change_subscriptions("stocks", change).await).expect("acknowledged");
    assert!(reply.acknowledged);
    let file = dir.path().join(file_name("stocks"));
    let saved = eventually(Duration::from_secs(5), || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("T.MSFT") && !t.contains("T.AAPL"))
    })
    .await;
    assert!(saved, "{:?}", std::fs::read_to_string(&file));
    pipeline.shutdown(Duration::from_secs(1)).await;

    // The same configuration again: the stored set wins.
    let pipeline = tapewatch::app::builder(configured(&sim, dir.path()), key("k"))
        .start()
        .expect("pipeline starts again");
    assert!(streaming(&pipeline).await);
    let sessions = pipeline.sessions().await;
    assert_eq!(sessions[0].subscriptions, vec!["T.MSFT".to_owned()]);
    let sent = last_subscribe(&sim);
    assert!(
        sent.contains("T.MSFT") && !sent.contains("T.AAPL"),
        "{sent}"
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_corrupt_state_file_falls_back_to_the_configured_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(file_name("stocks"));
    std::fs::write(&file, "{ not a subscription set").expect("written");
    let sim = sim::start(SimConfig {
        events_per_second: Some(1_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pipeline = tapewatch::app::builder(configured(&sim, dir.path()), key("k"))
        .start()
        .expect("a corrupt file does not stop the start");
    assert!(streaming(&pipeline).await);
    let sessions = pipeline.sessions().await;
    assert_eq!(sessions[0].subscriptions, vec!["T.AAPL".to_owned()]);
    assert!(last_subscribe(&sim).contains("T.AAPL"));
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}
