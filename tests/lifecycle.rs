//! Any order and timing of pause, resume, subscription changes and shutdown
//! leaves exactly one live connection per feed (none after a shutdown): a
//! property test over seeded random command sequences against the
//! simulator.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tapewatch::actors::ws_session::{ChangeSubscriptions, SessionState};
use tapewatch::pipeline::PipelineHandle;
use tapewatch_sim::{self as sim, SimConfig, SimHandle};

use support::{config_for, eventually, key};

const SEQUENCES: u64 = 24;
const SYMBOLS: [&str; 4] = ["T.AAPL", "T.MSFT", "T.NVDA", "T.SPY"];

/// One request to the running pipeline.
#[derive(Debug, Clone, Copy)]
enum Command {
    Pause,
    Resume,
    Subscribe(usize),
    Unsubscribe(usize),
}

fn command(rng: &mut ChaCha8Rng) -> Command {
    match rng.random_range(0..4) {
        0 => Command::Pause,
        1 => Command::Resume,
        2 => Command::Subscribe(rng.random_range(0..SYMBOLS.len())),
        _ => Command::Unsubscribe(rng.random_range(0..SYMBOLS.len())),
    }
}

/// Sends `command` without waiting for its answer.
fn send(handle: &PipelineHandle, command: Command) -> actix_rt::task::JoinHandle<()> {
    let handle = handle.clone();
    actix_rt::spawn(async move {
        let change = |add: bool, i: usize| {
            let topic = vec![SYMBOLS[i].to_owned()];
            if add {
                ChangeSubscriptions {
                    add: topic,
                    remove: vec![],
                }
            } else {
                ChangeSubscriptions {
                    add: vec![],
                    remove: topic,
                }
            }
        };
        match command {
            Command::Pause => handle.pause().await,
            Command::Resume => handle.resume().await,
            // Refusals and timeouts are fine here; only connections count.
            Command::Subscribe(i) => {
                let _ = handle.change_subscriptions("stocks", change(true, i)).await;
            }
            Command::Unsubscribe(i) => {
                let _ = handle
                    .change_subscriptions("stocks", change(false, i))
                    .await;
            }
        }
    })
}

async fn streaming(handle: &PipelineHandle) -> bool {
    let sessions = handle.sessions().await;
    sessions.len() == 1 && sessions[0].state == SessionState::Streaming
}

async fn until_streaming(handle: &PipelineHandle) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !streaming(handle).await {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

fn open(sim: &SimHandle) -> u64 {
    sim.stats.connections_open.load(Ordering::Relaxed)
}

#[actix::test]
async fn any_command_sequence_leaves_exactly_one_connection_per_feed() {
    let sim = sim::start(SimConfig {
        events_per_second: Some(500),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    for seed in 0..SEQUENCES {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut config = config_for(&sim, &["stocks"]);
        config.connection.ack_timeout_ms = 300;
        config.connection.backoff_min_ms = 5;
        config.connection.backoff_max_ms = 20;
        let pipeline = tapewatch::app::builder(config, key("k"))
            .start()
            .expect("pipeline starts");
        let handle = pipeline.handle();
        assert!(until_streaming(&handle).await, "seed {seed}: first connect");
        let length = rng.random_range(5..=15);
        let mut commands = Vec::new();
        let mut pending = Vec::new();
        for _ in 0..length {
            let c = command(&mut rng);
            commands.push(c);
            pending.push(send(&handle, c));
            let gap = [0, 0, 0, 1, 5, 20, 60][rng.random_range(0..7)];
            if gap > 0 {
                tokio::time::sleep(Duration::from_millis(gap)).await;
            }
        }
        if rng.random_bool(0.25) {
            // Shut down in the middle of whatever is in flight.
            pipeline.shutdown(Duration::from_millis(100)).await;
            let closed = eventually(Duration::from_secs(5), || open(&sim) == 0).await;
            assert!(
                closed,
                "seed {seed} {commands:?}: {} open after shutdown",
                open(&sim)
            );
            continue;
        }
        for task in pending {
            let _ = task.await;
        }
        handle.resume().await;
        assert!(
            until_streaming(&handle).await,
            "seed {seed} {commands:?}: streams"
        );
        let one = eventually(Duration::from_secs(5), || open(&sim) == 1).await;
        assert!(one, "seed {seed} {commands:?}: {} open", open(&sim));
        // Longer than a closed socket's write half lives: a late close of an
        // old socket must not end the new one.
        let accepted = sim.stats.connections_accepted.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            streaming(&handle).await,
            "seed {seed} {commands:?}: still streams"
        );
        assert_eq!(open(&sim), 1, "seed {seed} {commands:?}");
        assert_eq!(
            sim.stats.connections_accepted.load(Ordering::Relaxed),
            accepted,
            "seed {seed} {commands:?}: reconnected"
        );
        pipeline.shutdown(Duration::from_millis(100)).await;
        let closed = eventually(Duration::from_secs(5), || open(&sim) == 0).await;
        assert!(closed, "seed {seed}: {} open after shutdown", open(&sim));
    }
    sim.stop().await;
}
