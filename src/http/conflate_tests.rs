//! Tests of one client's conflating queue: one pending value per key kept in
//! its place, never an older value after a newer, one wake-up at a time,
//! `max_hz` spacing, and forgetting keys no longer held.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytestring::ByteString;

use super::conflate::Conflator;
use super::state::{StateKey, StateKind, StateValue};

fn value(symbol: &str, revision: u64) -> Arc<StateValue> {
    Arc::new(StateValue {
        key: StateKey {
            kind: StateKind::Last,
            symbol: symbol.into(),
        },
        revision,
        update: format!("{symbol}@{revision}").into(),
        snapshot: format!("snapshot {symbol}@{revision}").into(),
    })
}

fn take(q: &mut Conflator, now: Instant) -> (Vec<ByteString>, Option<Instant>) {
    let mut out = Vec::new();
    let next = q.take_due(now, &mut out);
    (out, next)
}

#[test]
fn a_newer_value_replaces_the_pending_one_in_its_place() {
    let mut q = Conflator::default();
    assert!(!q.offer(value("A", 1), true));
    assert!(!q.offer(value("B", 1), false));
    assert!(q.offer(value("A", 2), false), "conflated");
    assert!(q.offer(value("A", 3), false), "conflated");
    assert!(!q.offer(value("A", 2), false), "older than the pending one");
    assert_eq!(q.stats().conflated, 2);
    assert_eq!(q.stats().pending, 2);
    let (out, next) = take(&mut q, Instant::now());
    // A keeps its place before B, and is still the key's first push.
    assert_eq!(out, ["snapshot A@3", "B@1"]);
    assert_eq!(next, None);
    assert_eq!(q.stats().pending, 0);
}

#[test]
fn never_an_older_value_after_a_newer_one() {
    let mut q = Conflator::default();
    q.offer(value("A", 5), false);
    let (out, _) = take(&mut q, Instant::now());
    assert_eq!(out, ["A@5"]);
    for revision in [3, 5] {
        assert!(!q.offer(value("A", revision), false));
    }
    assert!(
        !q.has_pending(),
        "nothing older than what was sent is queued"
    );
    q.offer(value("A", 6), false);
    assert_eq!(take(&mut q, Instant::now()).0, ["A@6"]);
}

#[test]
fn one_wake_up_at_a_time() {
    let mut q = Conflator::default();
    assert!(!q.claim_wake(), "nothing to send");
    q.offer(value("A", 1), false);
    assert!(q.claim_wake());
    q.offer(value("B", 1), false);
    assert!(!q.claim_wake(), "one is outstanding");
    q.release_wake();
    assert!(q.claim_wake(), "given back, claimed again");
    take(&mut q, Instant::now());
    q.offer(value("A", 2), false);
    assert!(q.claim_wake(), "the client looked: the next offer wakes it");
}

#[test]
fn max_hz_spaces_each_key() {
    let mut q = Conflator::default();
    let gap = Duration::from_millis(100);
    q.hold((StateKind::Last, None), Some(gap));
    let t0 = Instant::now();
    q.offer(value("A", 1), false);
    assert_eq!(take(&mut q, t0).0, ["A@1"]);
    q.offer(value("A", 2), false);
    q.offer(value("B", 1), false);
    let (out, next) = take(&mut q, t0 + Duration::from_millis(10));
    assert_eq!(out, ["B@1"], "B had not been sent yet");
    assert_eq!(
        next,
        Some(t0 + gap),
        "A falls due one interval after its last"
    );
    q.offer(value("A", 3), false);
    let (out, next) = take(&mut q, t0 + gap);
    assert_eq!(out, ["A@3"]);
    assert_eq!(next, None);
    // A topic without max_hz that also covers the key lifts the limit.
    q.hold((StateKind::Last, Some("A".into())), None);
    q.offer(value("A", 4), false);
    assert_eq!(take(&mut q, t0 + gap).0, ["A@4"]);
}

#[test]
fn keys_no_longer_held_are_forgotten() {
    let mut q = Conflator::default();
    q.offer(value("A", 1), false);
    take(&mut q, Instant::now());
    q.offer(value("A", 2), false);
    q.offer(value("B", 1), false);
    q.retain(|k| k.symbol == "B");
    assert_eq!(q.stats().pending, 1);
    // A held again later starts over, from its snapshot.
    assert!(!q.offer(value("A", 1), true));
    let (out, _) = take(&mut q, Instant::now());
    assert_eq!(out, ["B@1", "snapshot A@1"]);
}
