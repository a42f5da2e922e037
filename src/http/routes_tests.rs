//! Table tests of the HTTP handlers' pure parts: query and body parsing, and
//! the status codes of control errors.

use super::routes::*;
use crate::pipeline::ControlError;
use std::sync::Arc;
use tapewatch_actors::rest_fetcher::LookupError;
use tapewatch_actors::ws_session::SubscriptionError;

/// What `/alerts` parameters parse to, or a piece of the error.
type Parsed = Result<(usize, Option<&'static str>), &'static str>;

#[test]
fn alerts_parameters() {
    let cases: [(&str, Parsed); 9] = [
        ("", Ok((50, None))),
        ("limit=5", Ok((5, None))),
        ("limit=5000", Ok((1000, None))),
        ("limit=3&symbol=nvda", Ok((3, Some("NVDA")))),
        (
            "symbol=O:NVDA261218C00500000",
            Ok((50, Some("O:NVDA261218C00500000"))),
        ),
        ("limit=0", Err("at least 1")),
        ("limit=-2", Err("whole number")),
        ("limit=abc", Err("got `abc`")),
        ("lmit=3", Err("unknown parameter `lmit`")),
    ];
    for (query, want) in cases {
        match (alerts_query(query), want) {
            (Ok((l, s)), Ok((wl, ws))) => assert_eq!((l, s.as_deref()), (wl, ws), "{query}"),
            (Err(e), Err(needle)) => assert!(e.contains(needle), "{query}: {e}"),
            (got, want) => panic!("{query}: got {got:?}, want {want:?}"),
        }
    }
    assert!(alerts_query("symbol=A%20B").is_err());
}

#[test]
fn change_bodies() {
    let one: Vec<Arc<str>> = vec!["stocks".into()];
    let two: Vec<Arc<str>> = vec!["stocks".into(), "options".into()];
    let ok = parse_change(br#"{"topics":["T.AAPL"]}"#, &one).expect("one feed");
    assert_eq!(ok, ("stocks".to_owned(), vec!["T.AAPL".to_owned()]));
    let named = parse_change(br#"{"feed":"options","topics":["T.*"]}"#, &two).expect("named");
    assert_eq!(named.0, "options");
    let cases: [(&[u8], &str); 4] = [
        (br#"{"topics":["T.AAPL"]}"#, "name the `feed`"),
        (br#"{"feed":"stocks","topics":[]}"#, "is empty"),
        (b"{", "invalid body"),
        (br#"{"feed":"stocks","topic":["x"]}"#, "invalid body"),
    ];
    for (body, needle) in cases {
        let e = parse_change(body, &two).expect_err(needle);
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn control_errors_keep_their_meaning() {
    let sub = |e| ControlError::Subscription(e);
    let cases = [
        (ControlError::UnknownFeed("x".into()), 404),
        (sub(SubscriptionError::InvalidTopic("x".into())), 400),
        (sub(SubscriptionError::Rejected("no".into())), 502),
        (sub(SubscriptionError::Timeout(vec![])), 504),
        (sub(SubscriptionError::Stopped), 503),
        (ControlError::Unavailable, 503),
        (ControlError::Lookup(LookupError::Timeout), 502),
    ];
    for (e, code) in cases {
        assert_eq!(control_status(&e).as_u16(), code, "{e}");
    }
}
