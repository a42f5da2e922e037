//! `tapewatch ingest` and two `tapewatch worker`s against a real nats-server
//! raise exactly the alerts one `tapewatch run` raises on the same script.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::nats::{WorkerPartition, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};

use support::nats::{run_once, script_sim, stored, NatsServer, Stored, TRADES};
use support::{config_for, eventually, key};

fn ids(stored: &Stored, subject: &str) -> BTreeSet<String> {
    stored
        .get(subject)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[actix::test]
async fn ingest_and_two_workers_raise_the_alerts_of_one_process() {
    // The reference: one process on its own server.
    let reference = NatsServer::start();
    let (single, _) = run_once(&reference.url).await;
    let want = stored(&reference.url).await;
    assert_eq!(ids(&want, ALERTS_SUBJECT).len(), single.alerts.len());
    assert!(!single.alerts.is_empty());

    let nats = NatsServer::start();
    let sim = script_sim().await;
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.nats.url = Some(nats.url.clone());
    let mut ingest_config = config.clone();
    ingest_config.nats.ingest_partitions = Some(2);
    let ingest = tapewatch::app::builder(ingest_config, key("k"))
        .start()
        .expect("ingest starts");
    let workers: Vec<_> = (0..2)
        .map(|index| {
            let mut c = config.clone();
            c.nats.worker = Some(WorkerPartition { index, of: 2 });
            tapewatch::app::builder(c, key("k"))
                .start()
                .expect("worker starts")
        })
        .collect();

    let read = ingest.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || read.get() == 2 * TRADES).await,
        "ingest decoded {} of {}",
        read.get(),
        2 * TRADES
    );
    let counters: Vec<_> = workers
        .iter()
        .map(|w| w.metrics.events(EventKind::Trade).clone())
        .collect();
    assert!(
        eventually(Duration::from_secs(60), || counters
            .iter()
            .map(|c| c.get())
            .sum::<u64>()
            == 2 * TRADES)
        .await,
        "the workers consumed {:?} of {}",
        counters.iter().map(|c| c.get()).collect::<Vec<_>>(),
        2 * TRADES
    );
    assert!(
        counters.iter().all(|c| c.get() > 0),
        "both partitions carry trades"
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut got = stored(&nats.url).await;
    while (ids(&got, ALERTS_SUBJECT) != ids(&want, ALERTS_SUBJECT)
        || ids(&got, ENRICHMENTS_SUBJECT) != ids(&want, ENRICHMENTS_SUBJECT))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        got = stored(&nats.url).await;
    }
    assert_eq!(
        ids(&got, ALERTS_SUBJECT),
        ids(&want, ALERTS_SUBJECT),
        "the alerts of one process"
    );
    assert_eq!(
        ids(&got, ENRICHMENTS_SUBJECT),
        ids(&want, ENRICHMENTS_SUBJECT),
        "an enrichment for each"
    );
    for w in workers {
        w.shutdown(Duration::from_secs(2)).await;
    }
    ingest.shutdown(Duration::from_secs(2)).await;
    sim.stop().await;
}
