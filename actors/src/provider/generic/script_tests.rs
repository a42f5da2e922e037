//! The generic provider's connection script on the example protocols of
//! `tests.rs`: handshake steps, captures, failures, acknowledgements by
//! order, pongs, per-topic messages.

use super::tests::{finnhub, generic, kucoin};
use super::*;
use crate::provider::script::Action;
use crate::provider::ControlEvent;

#[test]
fn the_script_waits_captures_sends_and_subscribes() {
    let p = generic(kucoin()).expect("compiles");
    let mut s = p.script().expect("a script");
    let first = s.start();
    assert!(
        matches!(first.as_slice(), [Action::Wait { step: 0, .. }]),
        "{first:?}"
    );
    // A frame that is not the welcome leaves the step waiting.
    let r = s.on_frame(br#"{"type":"pong"}"#);
    assert!(r.actions.is_empty() && !r.control.has_data);
    assert!(s.timed_out(0).is_some());
    let r = s.on_frame(br#"{"id":"c0nn","type":"welcome"}"#);
    let [Action::Send(auth), Action::Subscribe] = r.actions.as_slice() else {
        panic!("{:?}", r.actions);
    };
    assert_eq!(auth, r#"{"type":"auth","token":"t0ken","id":"c0nn"}"#);
    assert!(s.timed_out(0).is_none(), "the step is done");
    let sub = s.change_messages(true, &["BTC-USDT".into(), "ETH-USDT".into()]);
    assert_eq!(
        sub,
        vec![r#"{"id":"add-c0nn","type":"subscribe","topic":"/market/match:BTC-USDT,ETH-USDT"}"#]
    );
    assert!(s.acknowledged(true) && s.acknowledged(false));
    let unsub = s.change_messages(false, &["ETH-USDT".into()]);
    assert!(unsub[0].contains("remove-c0nn"));
    // Acknowledgements settle the oldest message of their kind.
    let r = s.on_frame(br#"{"id":"remove-c0nn","type":"ack"}"#);
    assert_eq!(
        r.control.events,
        vec![ControlEvent::Unsubscribed("ETH-USDT".into())]
    );
    let r = s.on_frame(br#"{"id":"add-c0nn","type":"ack"}"#);
    assert_eq!(
        r.control.events,
        vec![
            ControlEvent::Subscribed("BTC-USDT".into()),
            ControlEvent::Subscribed("ETH-USDT".into())
        ]
    );
    assert_eq!(
        s.heartbeat_message().as_deref(),
        Some(r#"{"id":"c0nn","type":"ping"}"#)
    );
    let r = s.on_frame(br#"{"type":"message","subject":"trade.l3match","data":{}}"#);
    assert!(r.control.has_data && r.actions.is_empty());
    let r = s.on_frame(br#"{"type":"error","code":404,"data":"topic BTC-XXX is not found"}"#);
    assert_eq!(
        r.control.events,
        vec![ControlEvent::Error("topic BTC-XXX is not found".into())]
    );
}

#[test]
fn handshake_failures_are_terminal_or_retryable_as_configured() {
    let p = generic(kucoin()).expect("compiles");
    let cases = [
        (
            r#"{"type":"error","code":401,"data":"token is invalid"}"#,
            true,
        ),
        (r#"{"type":"error","code":509,"data":"slow down"}"#, false),
    ];
    for (frame, terminal) in cases {
        let mut s = p.script().expect("a script");
        s.start();
        let r = s.on_frame(frame.as_bytes());
        match r.actions.as_slice() {
            [Action::Fail {
                terminal: t,
                reason,
            }] => {
                assert_eq!(*t, terminal, "{frame}");
                assert!(reason.contains("welcome"), "{reason}");
            }
            other => panic!("{frame}: {other:?}"),
        }
    }
    // A welcome without the value to capture fails the step, retryably.
    let mut s = p.script().expect("a script");
    s.start();
    let r = s.on_frame(br#"{"type":"welcome"}"#);
    assert!(matches!(
        r.actions.as_slice(),
        [Action::Fail {
            terminal: false,
            ..
        }]
    ));
}

#[test]
fn a_server_ping_gets_a_templated_pong() {
    let p = generic(finnhub()).expect("compiles");
    let mut s = p.script().expect("a script");
    assert!(matches!(s.start().as_slice(), [Action::Subscribe]));
    let r = s.on_frame(br#"{"type":"ping","ts":1700000000999}"#);
    let [Action::Send(pong)] = r.actions.as_slice() else {
        panic!("{:?}", r.actions);
    };
    assert_eq!(pong, r#"{"type":"pong","ts":1700000000999}"#);
    assert!(!r.control.has_data);
    // Per-topic messages, and no acknowledgement to wait for.
    let msgs = s.change_messages(true, &["AAPL".into(), "MSFT".into()]);
    assert_eq!(msgs.len(), 2);
    assert!(!s.acknowledged(true));
}
