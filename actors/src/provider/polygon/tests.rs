//! Polygon's protocol: handshake, control replies, topics and errors.
use super::*;
use crate::secret::ApiKey;

#[test]
fn handshake_messages_match_the_wire_format() {
    let creds = Credentials::key(ApiKey::new("K3Y"));
    assert_eq!(
        Polygon.auth_message(&creds),
        r#"{"action":"auth","params":"K3Y"}"#
    );
    let topics = vec!["T.*".to_owned(), "Q.AAPL".to_owned()];
    assert_eq!(
        Polygon.subscribe_message(&topics),
        r#"{"action":"subscribe","params":"T.*,Q.AAPL"}"#
    );
    assert_eq!(
        Polygon.unsubscribe_message(&topics[..1]),
        r#"{"action":"unsubscribe","params":"T.*"}"#
    );
}

#[test]
fn default_urls_and_topics() {
    assert_eq!(
        Polygon.default_url("options").as_deref(),
        Some("wss://socket.massive.com/options")
    );
    assert_eq!(Polygon.default_url("iex"), None);
    let key = Polygon.topic_of(" XT.BTC-USD").expect("valid topic");
    assert_eq!(key.stream, Stream::Trades);
    assert_eq!(key.classes, &[AssetClass::Crypto]);
    assert_eq!(key.symbol.as_deref(), Some("BTC-USD"));
    let key = Polygon
        .topic_of("T.O:SPY241220P00720000")
        .expect("valid topic");
    assert_eq!(key.symbol.as_deref(), Some("O:SPY241220P00720000"));
    assert_eq!(Polygon.topic_of("AM.*").map(|k| k.symbol), Some(None));
    for bad in ["bogus", "ZZ.X", "T.", "LULD.AAPL", "trades:AAPL"] {
        assert_eq!(Polygon.topic_of(bad), None, "{bad}");
    }
}

#[test]
fn status_table() {
    use ControlEvent::*;
    let cases: Vec<(&str, &str, Vec<ControlEvent>)> = vec![
        ("connected", "Connected Successfully", vec![Connected]),
        ("auth_success", "authenticated", vec![AuthSuccess]),
        ("success", "authenticated", vec![AuthSuccess]),
        (
            "auth_failed",
            "authentication failed",
            vec![AuthFailed("authentication failed".into())],
        ),
        (
            "auth_timeout",
            "No authentication request received.",
            vec![AuthTimeout("No authentication request received.".into())],
        ),
        (
            "success",
            "subscribed to: T.AAPL",
            vec![Subscribed("T.AAPL".into())],
        ),
        (
            "success",
            "subscribed to: T.AAPL,Q.AAPL, A.AAPL",
            vec![
                Subscribed("T.AAPL".into()),
                Subscribed("Q.AAPL".into()),
                Subscribed("A.AAPL".into()),
            ],
        ),
        (
            "success",
            "unsubscribed to: T.AAPL",
            vec![Unsubscribed("T.AAPL".into())],
        ),
        (
            "max_connections",
            "Maximum number of websocket connections exceeded. ",
            vec![MaxConnections(
                "Maximum number of websocket connections exceeded. ".into(),
            )],
        ),
        (
            "error",
            "not authorized",
            vec![Error("not authorized".into())],
        ),
        ("weird", "x", vec![Other("weird: x".into())]),
    ];
    for (status, message, want) in cases {
        assert_eq!(
            status_to_control(status, message),
            want,
            "{status}/{message}"
        );
    }
}

#[test]
fn an_error_right_after_acknowledgements_refuses_those_topics() {
    use ControlEvent::*;
    let sub = |t: &str| Subscribed(t.into());
    let err = || Error("not authorized".into());
    let rejected = |topics: &[&str]| Rejected {
        topics: topics.iter().map(|t| t.to_string()).collect(),
        message: "not authorized".into(),
    };
    let cases: Vec<(Vec<ControlEvent>, Vec<ControlEvent>)> = vec![
        (vec![err()], vec![err()]),
        (
            vec![sub("XT.BTC-USD"), err()],
            vec![rejected(&["XT.BTC-USD"])],
        ),
        (
            vec![AuthSuccess, sub("T.A"), sub("T.B"), err()],
            vec![AuthSuccess, rejected(&["T.A", "T.B"])],
        ),
        (
            vec![sub("T.A"), Other("x".into()), err()],
            vec![sub("T.A"), Other("x".into()), err()],
        ),
        (vec![sub("T.A"), sub("T.B")], vec![sub("T.A"), sub("T.B")]),
        (vec![err(), sub("T.A")], vec![err(), sub("T.A")]),
    ];
    for (events, want) in cases {
        assert_eq!(refusals(events.clone()), want, "{events:?}");
    }
    let frame = br#"[{"ev":"status","status":"success","message":"subscribed to: XT.BTC-USD"},{"ev":"status","status":"error","message":"not authorized"}]"#;
    assert_eq!(
        Polygon.control(frame).events,
        vec![rejected(&["XT.BTC-USD"])]
    );
}

#[test]
fn control_reads_status_frames_and_skips_data_frames() {
    let data = br#"[{"ev":"T","sym":"MSFT","i":"50578","x":4,"p":215.9721,"s":100,"t":1611082428813,"z":3}]"#;
    let c = Polygon.control(data);
    assert!(c.events.is_empty() && c.has_data);

    let hello = br#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#;
    assert_eq!(
        Polygon.control(hello),
        Control {
            events: vec![ControlEvent::Connected],
            has_data: false
        }
    );

    let mixed = br#"[{"ev":"status","status":"success","message":"authenticated"},{"ev":"status","status":"success","message":"subscribed to: C.AUD/USD"}]"#;
    assert_eq!(
        Polygon.control(mixed).events,
        vec![
            ControlEvent::AuthSuccess,
            ControlEvent::Subscribed("C.AUD/USD".into())
        ]
    );

    let status_and_trade = br#"[{"ev":"status","status":"error","message":"not authorized"},{"ev":"T","sym":"A","p":1,"s":1,"t":1611082428813}]"#;
    let c = Polygon.control(status_and_trade);
    assert!(c.has_data);
    assert_eq!(c.events, vec![ControlEvent::Error("not authorized".into())]);
}
