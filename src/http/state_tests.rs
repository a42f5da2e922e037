//! Table tests of the state table: values only move forward, the day's
//! volume follows the trading day, the cap holds, and changed keys are
//! reported once each in the order they changed.

use serde_json::{json, Value};
use tapewatch_actors::events::{AssetClass, Event, Quote, Trade};

use super::state::{Applied, StateKey, StateKind, StateTable};

/// 2026-03-02 15:00 UTC, a Monday afternoon in New York.
const T0: i64 = 1_772_463_600_000;
const HOUR: i64 = 3_600_000;

fn trade(symbol: &str, price: f64, size: f64, time_ms: i64, sequence: Option<i64>) -> Event {
    Event::Trade(Trade {
        symbol: symbol.into(),
        class: AssetClass::Stock,
        price,
        size,
        exchange: None,
        conditions: Default::default(),
        time_ms,
        sequence,
    })
}

fn quote(symbol: &str, bid: f64, time_ms: i64) -> Event {
    Event::Quote(Quote {
        symbol: symbol.into(),
        class: AssetClass::Stock,
        bid,
        bid_size: 1.0,
        ask: bid + 0.01,
        ask_size: 2.0,
        time_ms,
    })
}

fn key(kind: StateKind, symbol: &str) -> StateKey {
    StateKey {
        kind,
        symbol: symbol.into(),
    }
}

fn data(table: &StateTable, key: &StateKey) -> Value {
    let value = table.value(key).expect("a value");
    let v: Value = serde_json::from_str(&value.update).expect("json");
    v["data"].clone()
}

#[test]
fn last_trade_moves_forward_and_counts_the_day() {
    let k = key(StateKind::Last, "NVDA");
    // (event, applied, price shown, time shown, day volume, day trades)
    let steps = [
        (
            trade("NVDA", 10.0, 100.0, T0, Some(5)),
            Applied::Changed,
            10.0,
            T0,
            100.0,
            1,
        ),
        // Same time, higher sequence: newer.
        (
            trade("NVDA", 11.0, 10.0, T0, Some(6)),
            Applied::Changed,
            11.0,
            T0,
            110.0,
            2,
        ),
        // Same time, lower sequence: late, counted but not shown.
        (
            trade("NVDA", 9.0, 5.0, T0, Some(4)),
            Applied::Changed,
            11.0,
            T0,
            115.0,
            3,
        ),
        // Earlier time: late as well.
        (
            trade("NVDA", 8.0, 5.0, T0 - 1, None),
            Applied::Changed,
            11.0,
            T0,
            120.0,
            4,
        ),
        (
            trade("NVDA", 12.0, 1.0, T0 + 1, None),
            Applied::Changed,
            12.0,
            T0 + 1,
            121.0,
            5,
        ),
        // The next day (after midnight UTC-5): volume starts again.
        (
            trade("NVDA", 13.0, 7.0, T0 + 24 * HOUR, None),
            Applied::Changed,
            13.0,
            T0 + 24 * HOUR,
            7.0,
            1,
        ),
        // A straggler of the day before changes nothing.
        (
            trade("NVDA", 1.0, 1_000.0, T0 + 2, None),
            Applied::Unchanged,
            13.0,
            T0 + 24 * HOUR,
            7.0,
            1,
        ),
    ];
    let mut table = StateTable::new(10);
    let mut revision = 0;
    for (i, (event, applied, price, time, volume, trades)) in steps.into_iter().enumerate() {
        assert_eq!(table.apply(&event), applied, "step {i}");
        let d = data(&table, &k);
        assert_eq!(d["price"], json!(price), "step {i}: {d}");
        assert_eq!(d["time_ms"], json!(time), "step {i}: {d}");
        assert_eq!(d["day_volume"], json!(volume), "step {i}: {d}");
        assert_eq!(d["day_trades"], json!(trades), "step {i}: {d}");
        let now = table.value(&k).expect("value").revision;
        assert!(now >= revision, "step {i}: revisions never go back");
        assert_eq!(now > revision, applied == Applied::Changed, "step {i}");
        revision = now;
    }
}

#[test]
fn a_quote_older_than_the_one_held_is_ignored() {
    let k = key(StateKind::Quotes, "AAPL");
    let mut table = StateTable::new(10);
    assert_eq!(table.apply(&quote("AAPL", 10.0, T0)), Applied::Changed);
    assert_eq!(table.apply(&quote("AAPL", 9.0, T0 - 1)), Applied::Unchanged);
    assert_eq!(data(&table, &k)["bid"], json!(10.0));
    assert_eq!(table.apply(&quote("AAPL", 11.0, T0)), Applied::Changed);
    let d = data(&table, &k);
    assert_eq!(d["bid"], json!(11.0));
    assert_eq!(d["ask_size"], json!(2.0));
    assert!(
        table.value(&key(StateKind::Last, "AAPL")).is_none(),
        "no trade yet"
    );
}

#[test]
fn the_cap_holds_and_changed_keys_come_once_in_order() {
    let mut table = StateTable::new(2);
    let events = [
        trade("B", 1.0, 1.0, T0, None),
        quote("A", 1.0, T0),
        trade("B", 2.0, 1.0, T0 + 1, None),
        trade("A", 1.0, 1.0, T0, None),
    ];
    for e in &events {
        assert_eq!(table.apply(e), Applied::Changed);
    }
    assert_eq!(
        table.apply(&trade("C", 1.0, 1.0, T0, None)),
        Applied::NoRoom
    );
    assert_eq!(table.len(), 2);
    assert_eq!(
        table.take_dirty(),
        [
            key(StateKind::Last, "B"),
            key(StateKind::Quotes, "A"),
            key(StateKind::Last, "A")
        ]
    );
    assert!(!table.has_dirty());
    table.apply(&trade("A", 1.0, 1.0, T0 + 5, None));
    assert_eq!(table.take_dirty(), [key(StateKind::Last, "A")]);
    let mut keys: Vec<StateKey> = table.keys(StateKind::Last).collect();
    keys.sort();
    assert_eq!(keys, [key(StateKind::Last, "A"), key(StateKind::Last, "B")]);
}

#[test]
fn a_value_is_serialised_as_an_update_and_as_a_snapshot() {
    let mut table = StateTable::new(10);
    table.apply(&trade("O:NVDA261218C00500000", 2.5, 3.0, T0, Some(9)));
    let value = table
        .value(&key(StateKind::Last, "O:NVDA261218C00500000"))
        .expect("value");
    let update: Value = serde_json::from_str(&value.update).expect("json");
    let snapshot: Value = serde_json::from_str(&value.snapshot).expect("json");
    let data = json!({"symbol": "O:NVDA261218C00500000", "price": 2.5, "size": 3.0,
        "time_ms": T0, "sequence": 9, "day_volume": 3.0, "day_trades": 1});
    assert_eq!(
        update,
        json!({"topic": "last:O:NVDA261218C00500000", "data": data})
    );
    assert_eq!(
        snapshot,
        json!({"topic": "last:O:NVDA261218C00500000", "snapshot": true, "data": data})
    );
}
