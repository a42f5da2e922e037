//! Tests of the Alpaca protocol half: messages, topics, control replies.

use super::*;
use crate::provider::Severity;
use crate::secret::ApiKey;
use ControlEvent::*;

fn topics(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| t.to_string()).collect()
}

fn control(provider: &Alpaca, frame: &str) -> Control {
    provider.control(frame.as_bytes())
}

#[test]
fn auth_message_carries_key_and_secret_and_nothing_shows_them() {
    let creds = Credentials {
        key: ApiKey::new("K3Y"),
        secret: Some(ApiKey::new("S3CR3T")),
        rest: None,
    };
    let alpaca = Alpaca::default();
    assert_eq!(
        alpaca.auth_message(&creds),
        r#"{"action":"auth","key":"K3Y","secret":"S3CR3T"}"#
    );
    let shown = format!("{alpaca:?} {creds:?}");
    assert!(
        !shown.contains("K3Y") && !shown.contains("S3CR3T"),
        "{shown}"
    );
    let no_secret = Credentials::key(ApiKey::new("K3Y"));
    assert_eq!(
        alpaca.auth_message(&no_secret),
        r#"{"action":"auth","key":"K3Y","secret":""}"#
    );
}

#[test]
fn subscribe_messages_group_by_channel() {
    let alpaca = Alpaca::default();
    assert_eq!(
        alpaca.subscribe_message(&topics(&["trades:AAPL", "quotes:AMD"])),
        r#"{"action":"subscribe","trades":["AAPL"],"quotes":["AMD"]}"#
    );
    // Polygon spellings, duplicates, lower case, and a topic that is not one.
    let mixed = topics(&[
        "quotes:*",
        "T.AAPL",
        "Q.AMD",
        "AM.SPY",
        "trades:aapl",
        "dailyBars:VOO",
        "statuses:*",
        "lulds:IONM",
        "trades:BTC/USD",
        "bogus",
    ]);
    assert_eq!(
        alpaca.subscribe_message(&mixed),
        concat!(
            r#"{"action":"subscribe","trades":["AAPL","BTC/USD"],"quotes":["*","AMD"],"#,
            r#""bars":["SPY"],"dailyBars":["VOO"],"statuses":["*"],"lulds":["IONM"]}"#
        )
    );
    assert_eq!(
        alpaca.unsubscribe_message(&topics(&["T.AAPL", "updatedBars:SPY"])),
        r#"{"action":"unsubscribe","trades":["AAPL"],"updatedBars":["SPY"]}"#
    );
    assert_eq!(alpaca.subscribe_message(&[]), r#"{"action":"subscribe"}"#);
}

#[test]
fn topic_syntax() {
    let ok = [
        ("trades:AAPL", "trades", "AAPL"),
        (" quotes:* ", "quotes", "*"),
        ("bars:brk.b", "bars", "BRK.B"),
        ("T.BRK.B", "trades", "BRK.B"),
        ("Q.AMD", "quotes", "AMD"),
        ("AM.*", "bars", "*"),
        ("orderbooks:BTC/USD", "orderbooks", "BTC/USD"),
        ("imbalances:INAQU", "imbalances", "INAQU"),
    ];
    for (topic, channel, symbol) in ok {
        let want = AlpacaTopic {
            channel,
            symbol: symbol.to_owned(),
        };
        assert_eq!(AlpacaTopic::parse(topic), Some(want), "{topic}");
    }
    let bad = [
        "",
        "AAPL",
        "trades:",
        "trades",
        "Trades:AAPL",
        "A.AAPL",
        "XT.BTC-USD",
        "news:AAPL",
        "corrections:AAPL",
        "T.",
        ":AAPL",
    ];
    for topic in bad {
        assert_eq!(AlpacaTopic::parse(topic), None, "{topic}");
    }
}

#[test]
fn topics_for_staleness() {
    let alpaca = Alpaca::default();
    let key = alpaca.topic_of("T.AAPL").expect("valid topic");
    assert_eq!(
        (key.stream, key.symbol.as_deref()),
        (Stream::Trades, Some("AAPL"))
    );
    let key = alpaca.topic_of("dailyBars:*").expect("valid topic");
    assert_eq!((key.stream, key.symbol), (Stream::DayBars, None));
    assert_eq!(
        alpaca.topic_of("AM.SPY").map(|k| k.stream),
        Some(Stream::MinuteBars)
    );
    for quiet in ["updatedBars:SPY", "statuses:*", "lulds:X", "bogus"] {
        assert_eq!(alpaca.topic_of(quiet), None, "{quiet}");
    }
}

#[test]
fn default_urls() {
    let alpaca = Alpaca::default();
    let cases = [
        ("iex", Some("wss://stream.data.alpaca.markets/v2/iex")),
        ("sip", Some("wss://stream.data.alpaca.markets/v2/sip")),
        (
            "delayed_sip",
            Some("wss://stream.data.alpaca.markets/v2/delayed_sip"),
        ),
        ("test", Some("wss://stream.data.alpaca.markets/v2/test")),
        (
            "crypto",
            Some("wss://stream.data.alpaca.markets/v1beta3/crypto/us"),
        ),
        ("stocks", None),
        ("opra", None),
    ];
    for (market, want) in cases {
        assert_eq!(alpaca.default_url(market).as_deref(), want, "{market}");
    }
}

#[test]
fn greeting_auth_and_data_frames() {
    let alpaca = Alpaca::default();
    let cases: Vec<(&str, Vec<ControlEvent>, bool)> = vec![
        (r#"[{"T":"success","msg":"connected"}]"#, vec![Connected], false),
        (r#"[{"T":"success","msg":"authenticated"}]"#, vec![AuthSuccess], false),
        (r#"[{"T": "success", "msg": "odd"}]"#, vec![Other("success: odd".into())], false),
        (r#"[{"T":"t","S":"AAPL","p":1,"s":1,"t":"2021-02-22T15:51:44.208Z"}]"#, vec![], true),
        // A data string that happens to read "error" costs a parse, nothing more.
        (r#"[{"T":"t","S":"AAPL","c":["error"],"p":1,"s":1,"t":"2021-02-22T15:51:44.208Z"}]"#, vec![], true),
        (
            r#"[{"T":"error","code":407,"msg":"slow client"},{"T":"q","S":"AMD"}]"#,
            vec![Error(r#"slow client (407): the server's buffer for this connection is full; a disconnect may follow; server said "slow client""#.into())],
            true,
        ),
        // Unreadable frames go to the decoder, which reports them.
        (r#"{"T":"success","msg":"connected"}"#, vec![], true),
        (r#"[{"T":"success","msg":"conn"#, vec![], true),
        (r#"["error"]"#, vec![], true),
    ];
    for (frame, events, has_data) in cases {
        let got = control(&alpaca, frame);
        assert_eq!(got, Control { events, has_data }, "{frame}");
    }
}

#[test]
fn every_error_code_maps_to_its_reaction() {
    use Severity::*;
    let cases = [
        (400, "invalid syntax", Info),
        (401, "not authenticated", Info),
        (402, "auth failed", Terminal),
        (403, "already authenticated", Info),
        (404, "auth timeout", Reconnect),
        (405, "symbol limit exceeded", Info),
        (406, "connection limit exceeded", Throttle),
        (407, "slow client", Info),
        (408, "v2 not enabled", Info),
        (409, "insufficient subscription", Terminal),
        (410, "invalid subscribe action for this feed", Info),
        (411, "insufficient scope", Terminal),
        (
            412,
            "option messages are only available in MsgPack format",
            Info,
        ),
        (
            413,
            "star subscription is not allowed for option quotes",
            Info,
        ),
        (500, "internal error", Info),
        (599, "something new", Info),
    ];
    let alpaca = Alpaca::default();
    for (code, msg, severity) in cases {
        let frame = format!(r#"[{{"T":"error","code":{code},"msg":"{msg}"}}]"#);
        let got = control(&alpaca, &frame);
        assert!(!got.has_data, "{frame}");
        let [event] = &got.events[..] else {
            panic!("{frame}: {got:?}")
        };
        assert_eq!(event.severity(), severity, "{frame}");
        let text = match event {
            AuthFailed(t) | MaxConnections(t) | AuthTimeout(t) | Error(t) => t,
            other => panic!("{frame}: {other:?}"),
        };
        assert!(text.contains(&format!("{code}")), "{text}");
        assert!(text.contains(&format!("server said \"{msg}\"")), "{text}");
    }
    assert_eq!(
        alpaca_control::error(Some(409), "insufficient subscription"),
        AuthFailed(
            r#"insufficient subscription (409): this feed is not in the account's plan; server said "insufficient subscription""#
                .into()
        )
    );
    let no_code = control(&alpaca, r#"[{"T":"error","msg":"huh"}]"#);
    assert_eq!(
        no_code.events,
        vec![Error(r#"error without a code: server said "huh""#.into())]
    );
}

#[test]
fn subscription_sets_become_acknowledgements_in_the_spelling_asked_for() {
    let alpaca = Alpaca::default();
    // The documented full set; corrections and cancelErrors are auto-added.
    let documented = r#"[{"T":"subscription","trades":["AAPL"],"quotes":["AMD","CLDR"],"bars":["*"],"updatedBars":[],"dailyBars":["VOO"],"statuses":["*"],"lulds":[],"corrections":["AAPL"],"cancelErrors":["AAPL"]}]"#;
    let want: Vec<ControlEvent> = [
        "trades:AAPL",
        "quotes:AMD",
        "quotes:CLDR",
        "bars:*",
        "dailyBars:VOO",
        "statuses:*",
    ]
    .into_iter()
    .map(|t| Subscribed(t.into()))
    .collect();
    assert_eq!(
        control(&alpaca, documented),
        Control {
            events: want,
            has_data: false
        }
    );

    alpaca.subscribe_message(&topics(&["T.AAPL", "quotes:AMD", "AM.*"]));
    let set = r#"[{"T":"subscription","trades":["AAPL"],"quotes":["AMD"],"bars":["*"],"corrections":["AAPL"],"cancelErrors":["AAPL"]}]"#;
    assert_eq!(
        control(&alpaca, set).events,
        vec![
            Subscribed("T.AAPL".into()),
            Subscribed("quotes:AMD".into()),
            Subscribed("AM.*".into())
        ]
    );

    // Unsubscribing is acknowledged by the topic's absence from the next set.
    alpaca.unsubscribe_message(&topics(&["T.AAPL", "AM.*"]));
    let set = r#"[{"T":"subscription","trades":[],"quotes":["AMD"],"bars":[],"corrections":[],"cancelErrors":[]}]"#;
    let mut got = control(&alpaca, set).events;
    got[1..].sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        got,
        vec![
            Subscribed("quotes:AMD".into()),
            Unsubscribed("AM.*".into()),
            Unsubscribed("T.AAPL".into())
        ]
    );
    assert_eq!(
        control(&alpaca, set).events,
        vec![Subscribed("quotes:AMD".into())],
        "once"
    );
}

#[test]
fn an_error_that_answers_a_message_refuses_that_message_s_topics() {
    let alpaca = Alpaca::default();
    let creds = Credentials::key(ApiKey::new("k"));
    let error = |code: u16| format!(r#"[{{"T":"error","code":{code},"msg":"no"}}]"#);
    let echo = r#"[{"T":"subscription","trades":["AAPL"]}]"#;
    alpaca.auth_message(&creds);
    alpaca.subscribe_message(&topics(&["trades:AAPL"]));
    alpaca.subscribe_message(&topics(&["orderbooks:AAPL", " T.MSFT"]));
    alpaca.unsubscribe_message(&topics(&["quotes:X"]));
    // The echo answers the first message; the 410 the second; a 402 answers
    // no message; the 405 the third.
    control(&alpaca, echo);
    let refused = control(&alpaca, &error(410)).events;
    let [Rejected {
        topics: refused,
        message,
    }] = &refused[..]
    else {
        panic!("{refused:?}")
    };
    assert_eq!(refused, &topics(&["orderbooks:AAPL", "T.MSFT"]));
    assert!(message.contains("410"), "{message}");
    assert!(matches!(
        control(&alpaca, &error(402)).events[..],
        [AuthFailed(_)]
    ));
    let third = control(&alpaca, &error(405)).events;
    assert!(
        matches!(&third[..], [Rejected { topics, .. }] if topics == &["quotes:X".to_owned()]),
        "{third:?}"
    );
    // Nothing is waiting: an error stays an error.
    assert!(matches!(
        control(&alpaca, &error(410)).events[..],
        [Error(_)]
    ));
    // A new connection forgets the old one's messages.
    alpaca.subscribe_message(&topics(&["trades:A"]));
    alpaca.auth_message(&creds);
    assert!(matches!(
        control(&alpaca, &error(410)).events[..],
        [Error(_)]
    ));
}
