use super::*;
use crate::events::{AssetClass, Trade};

fn trade(sym: &str) -> Event {
    Event::Trade(Trade {
        symbol: sym.into(),
        class: AssetClass::of(sym),
        price: 1.0,
        size: 1.0,
        exchange: None,
        conditions: Default::default(),
        time_ms: 1_700_000_000_000,
        sequence: None,
    })
}

fn monitor(topics: &[&str]) -> StalenessMonitor {
    let mut m = StalenessMonitor::new(StalenessConfig {
        factor: 10.0,
        min_silence_ms: 1_000,
        min_samples: 3,
        check_interval_ms: 100,
    });
    m.set_topics(&topics.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    m
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_silent_topic_goes_stale_and_comes_back_once_each() {
    let mut m = monitor(&["T.*"]);
    let t0 = Instant::now();
    for i in 0..10 {
        assert!(m.observe(&[trade("AAPL")], t0 + ms(100 * i)).is_empty());
    }
    let last = t0 + ms(900);
    // Usual gap 100 ms, factor 10, floor 1 s: still fine at 0.9 s of silence.
    assert!(m.check(last + ms(900)).is_empty());
    let stale = m.check(last + ms(1_100));
    assert_eq!(stale.len(), 1);
    assert!(stale[0].stale && stale[0].topic == "T.*");
    assert!(m.check(last + ms(5_000)).is_empty(), "reported once");
    assert_eq!(m.stale_count(), 1);
    let back = m.observe(&[trade("MSFT")], last + ms(6_000));
    assert_eq!(back.len(), 1);
    assert!(!back[0].stale);
    assert_eq!(back[0].silent_for, ms(6_000));
    assert_eq!(m.stale_count(), 0);
}

#[test]
fn topics_are_judged_against_their_own_gap() {
    let mut m = monitor(&["T.AAPL", "T.ILLIQ"]);
    let t0 = Instant::now();
    // AAPL trades every 100 ms; ILLIQ every 5 s.
    for i in 0..100u64 {
        let mut batch = vec![trade("AAPL")];
        if i % 50 == 0 {
            batch.push(trade("ILLIQ"));
        }
        m.observe(&batch, t0 + ms(100 * i));
    }
    for i in 100..200u64 {
        let mut batch = vec![trade("AAPL")];
        if i % 50 == 0 {
            batch.push(trade("ILLIQ"));
        }
        m.observe(&batch, t0 + ms(100 * i));
    }
    // ILLIQ last traded at 15 s; 3 s later it is quiet but not stale.
    assert!(m.check(t0 + ms(19_900 + 3_000)).iter().all(|c| c.topic != "T.ILLIQ"));
}

#[test]
fn topics_without_enough_history_and_other_types_are_not_judged() {
    let mut m = monitor(&["T.*", "Q.*", "bogus", "ZZ.X"]);
    let t0 = Instant::now();
    m.observe(&[trade("A")], t0);
    m.observe(&[trade("A")], t0 + ms(10));
    assert!(m.check(t0 + ms(60_000)).is_empty(), "two samples are not enough");
}

#[test]
fn changing_topics_keeps_history_of_those_that_stay() {
    let mut m = monitor(&["T.*"]);
    let t0 = Instant::now();
    for i in 0..10 {
        m.observe(&[trade("A")], t0 + ms(100 * i));
    }
    m.set_topics(&["T.*".to_owned(), "Q.AAPL".to_owned()]);
    assert_eq!(m.check(t0 + ms(900 + 1_100)).len(), 1, "T.* kept its history");
}
