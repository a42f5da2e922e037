use super::*;
use crate::events::{AggWindow, Aggregate, Quote, Trade};
use crate::provider::alpaca::Alpaca;
use crate::provider::alpaca_decode::class_of;
use crate::provider::polygon::Polygon;

fn trade(sym: &str) -> Event {
    trade_of(sym, class_of(sym))
}

fn trade_of(sym: &str, class: AssetClass) -> Event {
    Event::Trade(Trade {
        symbol: sym.into(),
        class,
        price: 1.0,
        size: 1.0,
        exchange: None,
        conditions: Default::default(),
        time_ms: 1_700_000_000_000,
        sequence: None,
    })
}

fn quote(sym: &str) -> Event {
    Event::Quote(Quote {
        symbol: sym.into(),
        class: class_of(sym),
        bid: 1.0,
        bid_size: 1.0,
        ask: 1.1,
        ask_size: 1.0,
        time_ms: 1_700_000_000_000,
    })
}

fn bar(sym: &str, window: AggWindow) -> Event {
    Event::Aggregate(Aggregate {
        symbol: sym.into(),
        class: class_of(sym),
        window,
        open: 1.0,
        high: 1.0,
        low: 1.0,
        close: 1.0,
        volume: None,
        vwap: None,
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_000_060_000,
    })
}

fn monitor_for(provider: Arc<dyn Provider>, topics: &[&str]) -> StalenessMonitor {
    let config = StalenessConfig {
        factor: 10.0,
        min_silence_ms: 1_000,
        min_samples: 3,
        check_interval_ms: 100,
    };
    let mut m = StalenessMonitor::new(config, provider);
    m.set_topics(&topics.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    m
}

fn monitor(topics: &[&str]) -> StalenessMonitor {
    monitor_for(Arc::new(Polygon), topics)
}

/// Feeds `events` every 100 ms for 1 s, then checks 1.1 s after the last
/// delivery, when every fed topic must be stale: the topics that went stale.
fn fed_then_silent(m: &mut StalenessMonitor, events: &[Event]) -> Vec<String> {
    let t0 = Instant::now();
    for i in 0..10 {
        m.observe(events, t0 + ms(100 * i));
    }
    let mut stale: Vec<String> = m
        .check(t0 + ms(900 + 1_100))
        .into_iter()
        .map(|c| c.topic)
        .collect();
    stale.sort();
    stale
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
    assert!(m
        .check(t0 + ms(19_900 + 3_000))
        .iter()
        .all(|c| c.topic != "T.ILLIQ"));
}

#[test]
fn topics_without_enough_history_and_other_types_are_not_judged() {
    let mut m = monitor(&["T.*", "Q.*", "bogus", "ZZ.X"]);
    let t0 = Instant::now();
    m.observe(&[trade("A")], t0);
    m.observe(&[trade("A")], t0 + ms(10));
    assert!(
        m.check(t0 + ms(60_000)).is_empty(),
        "two samples are not enough"
    );
}

#[test]
fn changing_topics_keeps_history_of_those_that_stay() {
    let mut m = monitor(&["T.*"]);
    let t0 = Instant::now();
    for i in 0..10 {
        m.observe(&[trade("A")], t0 + ms(100 * i));
    }
    m.set_topics(&["T.*".to_owned(), "Q.AAPL".to_owned()]);
    assert_eq!(
        m.check(t0 + ms(900 + 1_100)).len(),
        1,
        "T.* kept its history"
    );
}

#[test]
fn polygon_topics_take_only_their_own_events() {
    let topics = [
        "T.*",
        "XT.BTC-USD",
        "Q.AAPL",
        "A.*",
        "AM.MSFT",
        "T.O:SPY241220P00720000",
    ];
    let mut m = monitor(&topics);
    // Only trades of AAPL: `T.*` alone learns a gap; nothing else was fed.
    assert_eq!(fed_then_silent(&mut m, &[trade("AAPL")]), vec!["T.*"]);

    let mut m = monitor(&topics);
    let events = [
        trade("O:SPY241220P00720000"),
        // Polygon's crypto pairs have a dash; the decoder marks them crypto.
        trade_of("BTC-USD", AssetClass::Crypto),
        quote("AAPL"),
        quote("MSFT"),
        bar("X", AggWindow::Second),
        bar("MSFT", AggWindow::Minute),
    ];
    let want = [
        "A.*",
        "AM.MSFT",
        "Q.AAPL",
        "T.*",
        "T.O:SPY241220P00720000",
        "XT.BTC-USD",
    ];
    assert_eq!(fed_then_silent(&mut m, &events), want);
}

#[test]
fn alpaca_topics_are_watched_in_both_spellings() {
    let alpaca = || -> Arc<dyn Provider> { Arc::new(Alpaca::default()) };
    let topics = [
        "trades:AAPL",
        "T.MSFT",
        "quotes:*",
        "bars:SPY",
        "AM.QQQ",
        "dailyBars:SPY",
    ];
    let mut m = monitor_for(alpaca(), &topics);
    let events = [
        trade("AAPL"),
        trade("MSFT"),
        quote("AMD"),
        bar("SPY", AggWindow::Minute),
        bar("QQQ", AggWindow::Minute),
        bar("SPY", AggWindow::Day),
    ];
    let mut want = topics.map(str::to_owned).to_vec();
    want.sort();
    assert_eq!(fed_then_silent(&mut m, &events), want);

    // Crypto pairs, wildcards, and topics that are never judged.
    let topics = [
        "trades:BTC/USD",
        "trades:*",
        "updatedBars:SPY",
        "statuses:*",
        "nope:X",
    ];
    let mut m = monitor_for(alpaca(), &topics);
    assert_eq!(
        fed_then_silent(&mut m, &[trade("BTC/USD")]),
        vec!["trades:*", "trades:BTC/USD"]
    );
    let mut m = monitor_for(alpaca(), &topics);
    assert_eq!(
        fed_then_silent(&mut m, &[trade("ETH/USD")]),
        vec!["trades:*"]
    );
}

#[test]
fn nothing_is_judged_while_the_feed_is_not_streaming_and_silence_restarts_after() {
    let mut m = monitor(&["T.AAPL"]);
    let t0 = Instant::now();
    for i in 0..5 {
        m.observe(&[trade("AAPL")], t0 + ms(100 * i));
    }
    let last = t0 + ms(400);
    // Paused (or backing off) long past the limit: no topic is stale.
    m.set_streaming(false, last + ms(50));
    for s in [1_100, 5_000, 60_000] {
        assert!(
            m.check(last + ms(s)).is_empty(),
            "judged while paused at {s} ms"
        );
    }
    // Streaming again at 60 s: silence counts from then, not from `last`.
    let resumed = last + ms(60_000);
    m.set_streaming(true, resumed);
    assert!(m.check(resumed + ms(900)).is_empty());
    let stale = m.check(resumed + ms(1_100));
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].topic, "T.AAPL");
    assert!(stale[0].silent_for < ms(2_000), "{:?}", stale[0].silent_for);
}
