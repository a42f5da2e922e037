//! RestFetcher's memory stays bounded whatever tickers it is asked about:
//! 404s cached up to a cap, waiters per ticker capped.

use super::*;

async fn lookup(rig: &Rig, ticker: &str) -> LookupResult {
    let ask = Lookup {
        ticker: ticker.into(),
    };
    timeout(Duration::from_secs(10), rig.addr.send(ask))
        .await
        .expect("answered in time")
        .expect("fetcher alive")
}

#[actix::test]
async fn not_found_answers_are_cached_up_to_the_cap() {
    let script = Script::new(&[404], 0);
    let cfg = RestConfig {
        negative_cache_capacity: 2,
        ..config(serve(&script))
    };
    let rig = rig(cfg, Some(KEY));
    for ticker in ["ZZZA", "ZZZB", "ZZZC"] {
        let answer = lookup(&rig, ticker).await;
        assert!(
            matches!(answer, Err(LookupError::NotFound(_))),
            "{answer:?}"
        );
    }
    assert_eq!(rig.cache.len(), 2, "the third 404 found no room");
    assert!(!rig.cache.contains_key("ZZZC"));
    // A cached one is still served from the cache; the uncached one is asked again.
    let _ = lookup(&rig, "ZZZA").await;
    assert_eq!(script.hits(), 3);
    let _ = lookup(&rig, "ZZZC").await;
    assert_eq!(script.hits(), 4);
}

#[actix::test]
async fn expired_not_found_answers_make_room() {
    let script = Script::new(&[404], 0);
    let cfg = RestConfig {
        negative_cache_capacity: 1,
        negative_ttl_s: 0,
        ..config(serve(&script))
    };
    let rig = rig(cfg, Some(KEY));
    let _ = lookup(&rig, "ZZZA").await;
    let _ = lookup(&rig, "ZZZB").await;
    // With a TTL of 0 every entry is already expired, so each sweep frees the
    // room for the next.
    assert_eq!(rig.cache.len(), 1);
    assert!(rig.cache.contains_key("ZZZB"));
}

#[actix::test]
async fn waiters_on_one_ticker_are_capped() {
    let script = Script::new(&[200], 1_000);
    let rig = rig(config(serve(&script)), Some(KEY));
    let asks: Vec<_> = (0..MAX_WAITERS_PER_TICKER + 10)
        .map(|_| {
            rig.addr.send(Lookup {
                ticker: "NVDA".into(),
            })
        })
        .collect();
    let answers = futures_util::future::join_all(asks).await;
    let refused = answers
        .iter()
        .filter(|a| matches!(a, Ok(Err(LookupError::QueueFull))))
        .count();
    let ok = answers.iter().filter(|a| matches!(a, Ok(Ok(_)))).count();
    assert_eq!((ok, refused), (MAX_WAITERS_PER_TICKER, 10));
    assert_eq!(script.hits(), 1, "one request served every waiter");
    assert_eq!(rig.metrics.dropped("rest").get(), 10);
}
