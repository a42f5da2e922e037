//! RestFetcher when the provider fails, is slow or is not asked, and when the
//! actor itself is restarted.

use super::*;

#[actix::test]
async fn rate_limit_honours_retry_after() {
    let script = Script::new(&[429, 200], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    let started = TokioInstant::now();
    rig.send(1, "NVDA");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Ok);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(script.hits(), 2);
    assert_eq!((rig.requests("429"), rig.requests("200")), (1, 1));
}

#[actix::test]
async fn slow_provider_times_out() {
    let script = Script::new(&[200], 1_000);
    let cfg = RestConfig {
        timeout_ms: 200,
        max_retries: 0,
        ..config(serve(&script))
    };
    let mut rig = rig(cfg, Some(KEY));
    rig.send(1, "NVDA");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Timeout);
    assert!(e.latency_ms < 900, "{}", e.latency_ms);
    assert_eq!(rig.requests("timeout"), 1);
    assert!(rig.cache.is_empty(), "timeouts are not cached");
}

#[actix::test]
async fn not_found_is_failed_and_negatively_cached() {
    let script = Script::new(&[404], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    rig.send(1, "ZZZZ");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Failed);
    assert!(
        e.error
            .as_deref()
            .expect("error")
            .contains("Ticker not found."),
        "{e:?}"
    );
    rig.send(2, "ZZZZ");
    let e = rig.next().await;
    assert_eq!((e.status, e.cached), (EnrichStatus::Failed, true));
    assert_eq!(script.hits(), 1);
}

#[actix::test]
async fn server_errors_fail_after_all_retries() {
    let script = Script::new(&[500], 0);
    let cfg = RestConfig {
        max_retries: 2,
        ..config(serve(&script))
    };
    let mut rig = rig(cfg, Some(KEY));
    rig.send(1, "NVDA");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Failed);
    let error = e.error.as_deref().expect("error");
    assert!(
        error.contains("500") && error.contains("server trouble"),
        "{error}"
    );
    assert!(!error.contains(KEY));
    assert_eq!(script.hits(), 3);
    assert_eq!(rig.requests("500"), 3);
}

#[actix::test]
async fn unauthorised_is_final_and_not_cached() {
    let script = Script::new(&[401], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    rig.send(1, "NVDA");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Failed);
    assert!(
        e.error.as_deref().expect("error").contains("HTTP 401"),
        "{e:?}"
    );
    assert_eq!(script.hits(), 1);
    assert!(rig.cache.is_empty());
}

#[actix::test]
async fn without_key_everything_is_skipped() {
    let script = Script::new(&[200], 0);
    let mut rig = rig(config(serve(&script)), None);
    rig.send(1, "NVDA");
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Skipped);
    assert_eq!(e.error.as_deref(), Some("no REST API key configured"));
    let lookup = rig
        .addr
        .send(Lookup {
            ticker: "NVDA".into(),
        })
        .await
        .expect("actor alive");
    assert_eq!(lookup, Err(LookupError::NoKey));
    assert_eq!(script.hits(), 0);
}

#[actix::test]
async fn queue_overflow_is_skipped_at_once() {
    let script = Script::new(&[200], 300);
    let cfg = RestConfig {
        max_in_flight: 1,
        queue_capacity: 1,
        ..config(serve(&script))
    };
    let mut rig = rig(cfg, Some(KEY));
    for (id, ticker) in [(1, "AAA"), (2, "BBB"), (3, "CCC")] {
        rig.send(id, ticker);
    }
    let first = rig.next().await;
    assert_eq!((first.alert_id, first.status), (3, EnrichStatus::Skipped));
    assert_eq!(first.error.as_deref(), Some("enrichment queue full"));
    let (a, b) = (rig.next().await, rig.next().await);
    assert_eq!(
        (a.alert_id, a.status, b.alert_id, b.status),
        (1, EnrichStatus::Ok, 2, EnrichStatus::Ok)
    );
    assert_eq!(script.hits(), 2);
    assert_eq!(rig.metrics.dropped("rest").get(), 1);
}

#[actix::test]
async fn mailbox_drains_while_a_request_hangs() {
    let script = Script::new(&[200], 3_000);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    let details = Arc::new(serde_json::json!({"ticker": "AAPL", "name": "Apple"}));
    let entry = CacheEntry {
        fetched_at: Instant::now(),
        ttl: Duration::from_secs(60),
        outcome: CachedOutcome::Found(Arc::clone(&details)),
    };
    rig.cache.insert("AAPL".into(), entry);
    rig.send(1, OPTION);
    // Wait until the slow request is really on the wire.
    let on_the_wire = async {
        while script.hits() == 0 {
            tokio::task::yield_now().await;
        }
    };
    timeout(Duration::from_secs(5), on_the_wire)
        .await
        .expect("request reached the server");
    let started = TokioInstant::now();
    rig.send(2, "AAPL");
    let e = rig.next().await;
    assert_eq!(
        (e.alert_id, e.status, e.cached),
        (2, EnrichStatus::Ok, true)
    );
    let lookup = rig
        .addr
        .send(Lookup {
            ticker: "AAPL".into(),
        })
        .await
        .expect("actor alive");
    assert_eq!(lookup, Ok(details));
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        rig.metrics.rest_in_flight.get(),
        1,
        "the slow request is still pending"
    );
}

#[actix::test]
async fn alerts_cut_off_by_a_restart_are_counted_lost() {
    let script = Script::new(&[200], 5_000);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    rig.send(1, OPTION);
    rig.send(2, OPTION);
    rig.send(3, "NVDA");
    let on_the_wire = async {
        while script.hits() < 2 {
            tokio::task::yield_now().await;
        }
    };
    timeout(Duration::from_secs(5), on_the_wire)
        .await
        .expect("requests reached the server");
    assert_eq!(rig.metrics.rest_in_flight.get(), 2);
    rig.addr
        .try_send(crate::messages::Crash)
        .expect("fetcher alive");
    let dead = async {
        while rig.addr.connected() {
            tokio::task::yield_now().await;
        }
    };
    timeout(Duration::from_secs(5), dead)
        .await
        .expect("the fetcher died");
    // What the guardian does: the next incarnation from the same deps.
    let _next = RestFetcher::new(rig.deps.clone()).start();
    assert_eq!(rig.metrics.enrichments_lost.get(), 3, "three alerts waited");
    assert_eq!(rig.metrics.rest_in_flight.get(), 0);
    assert!(rig.rx.try_recv().is_err(), "nothing was answered");
    // Counted once: the next incarnation starts from a clean count.
    drop(RestFetcher::new(rig.deps.clone()));
    assert_eq!(rig.metrics.enrichments_lost.get(), 3);
}
