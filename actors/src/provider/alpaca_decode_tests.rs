//! Table tests for the Alpaca decoder, on the example frames of the provider's
//! own documentation (reference §4.2 and §4.5) and on hostile input.

use super::*;
use crate::provider::alpaca::Alpaca;
use crate::provider::{IssueKind, Provider};

fn decode(frame: &str) -> (Vec<Event>, Vec<DecodeIssue>) {
    let mut out = Vec::new();
    let mut issues = Vec::new();
    decode_frame(frame.as_bytes(), &mut out, &mut issues);
    (out, issues)
}

fn trade(symbol: &str, price: f64, size: f64, time_ms: i64) -> Event {
    Event::Trade(Trade {
        symbol: symbol.into(),
        class: class_of(symbol),
        price,
        size,
        exchange: None,
        conditions: Default::default(),
        time_ms,
        sequence: None,
    })
}

fn quote(symbol: &str, bid: (f64, f64), ask: (f64, f64), time_ms: i64) -> Event {
    Event::Quote(Quote {
        symbol: symbol.into(),
        class: class_of(symbol),
        bid: bid.0,
        bid_size: bid.1,
        ask: ask.0,
        ask_size: ask.1,
        time_ms,
    })
}

/// A bar from `[o, h, l, c, v, vw]`.
fn bar(symbol: &str, window: AggWindow, ohlcvw: [f64; 6], start_ms: i64, end_ms: i64) -> Event {
    let [open, high, low, close, volume, vwap] = ohlcvw;
    Event::Aggregate(Aggregate {
        symbol: symbol.into(),
        class: class_of(symbol),
        window,
        open,
        high,
        low,
        close,
        volume: Some(volume),
        vwap: Some(vwap),
        start_ms,
        end_ms,
    })
}

#[test]
fn documented_frames_decode_to_typed_events() {
    let spy = [388.985, 389.13, 388.975, 389.12, 49378.0, 389.062639];
    let cases: Vec<(&str, Vec<Event>)> = vec![
        // §4.2, test stream: a quote and a minute bar.
        (
            r#"[{"T":"q","S":"FAKEPACA","bx":"O","bp":133.85,"bs":4,"ax":"R","ap":135.77,"as":5,"c":["R"],"z":"A","t":"2024-07-24T07:56:53.639713735Z"}]"#,
            vec![quote(
                "FAKEPACA",
                (133.85, 4.0),
                (135.77, 5.0),
                1721807813639,
            )],
        ),
        (
            r#"[{"T":"b","S":"FAKEPACA","o":132.65,"h":136,"l":132.12,"c":134.65,"v":205,"t":"2024-07-24T07:56:00Z","n":16,"vw":133.7}]"#,
            vec![bar(
                "FAKEPACA",
                AggWindow::Minute,
                [132.65, 136.0, 132.12, 134.65, 205.0, 133.7],
                1721807760000,
                1721807820000,
            )],
        ),
        // §4.5, stocks: trade, quote and bar, here in one frame.
        (
            r#"[{"T":"t","i":96921,"S":"AAPL","x":"D","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"},
 {"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"},
 {"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,"vw":389.062639,"t":"2021-02-22T19:15:00Z"}]"#,
            vec![
                trade("AAPL", 126.55, 1.0, 1614009104208),
                quote("AMD", (87.66, 1.0), (87.68, 4.0), 1614009105335),
                bar("SPY", AggWindow::Minute, spy, 1614021300000, 1614021360000),
            ],
        ),
        // Daily and updated bars share the bar schema.
        (
            r#"[{"T":"d","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,"vw":389.062639,"t":"2021-02-22T05:00:00Z"},
 {"T":"u","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,"vw":389.062639,"t":"2021-02-22T19:15:00Z"}]"#,
            vec![
                bar("SPY", AggWindow::Day, spy, 1613970000000, 1614056400000),
                bar("SPY", AggWindow::Minute, spy, 1614021300000, 1614021360000),
            ],
        ),
        // §4.5, crypto: a `/` pair, fractional size, a trade id beyond 2^53.
        (
            r#"[{"T":"t","S":"AVAX/USD","p":47.299,"s":29.205707815,"t":"2024-03-12T10:27:48.858228144Z","i":3447222699101865076,"tks":"S"}]"#,
            vec![trade("AVAX/USD", 47.299, 29.205707815, 1710239268858)],
        ),
        (
            r#"[{"T":"q","S":"BTC/USD","bp":67000.1,"bs":0.5,"ap":67001.2,"as":0.25,"t":"2024-03-12T10:27:48.858228144Z"}]"#,
            vec![quote(
                "BTC/USD",
                (67000.1, 0.5),
                (67001.2, 0.25),
                1710239268858,
            )],
        ),
        // §4.5: corrections, cancels, LULD, trading status: skipped quietly.
        (
            r#"[{"T":"c","S":"EEM","x":"M","oi":52983525033527,"op":39.1582,"os":440000,"oc":[" ","7"],"ci":52983525034326,"cp":39.1809,"cs":440000,"cc":[" ","7"],"z":"B","t":"2023-04-06T14:25:06.542305024Z"},
 {"T":"x","S":"GOOGL","i":465,"x":"D","p":105.31,"s":300,"a":"C","z":"C","t":"2023-04-06T13:15:42.83540958Z"},
 {"T":"l","S":"IONM","u":3.24,"d":2.65,"i":"B","t":"2023-04-06T13:34:45.565004401Z","z":"C"},
 {"T":"s","S":"AAPL","sc":"H","sm":"Trading Halt","rc":"T12","rm":"Trading Halted; For information requested by NASDAQ","t":"2021-02-22T19:15:00Z","z":"C"},
 {"T":"i","S":"INAQU","p":10.01,"z":"C","t":"2021-02-22T19:15:00Z"}]"#,
            vec![],
        ),
        // Control messages are the session's business, not the decoder's.
        (r#"[{"T":"success","msg":"connected"}]"#, vec![]),
        (r#"[{"T":"error","code":402,"msg":"auth failed"}]"#, vec![]),
        (
            r#"[{"T":"subscription","trades":["AAPL"],"quotes":[]}]"#,
            vec![],
        ),
        // Escaped strings still decode.
        (
            r#"[{"T":"t","S":"BRK\u002eB","p":1.5,"s":2,"t":"2021-02-22T15:51:44.208Z"}]"#,
            vec![trade("BRK.B", 1.5, 2.0, 1614009104208)],
        ),
        (r#"[]"#, vec![]),
    ];
    for (frame, want) in cases {
        let (got, issues) = decode(frame);
        assert!(issues.is_empty(), "{frame}: {issues:?}");
        assert_eq!(got, want, "{frame}");
    }
}

#[test]
fn bad_elements_are_reported_and_the_rest_of_the_frame_survives() {
    let good = r#"{"T":"t","S":"A","p":1.0,"s":1,"t":"2021-02-22T15:51:44.208Z"}"#;
    let time = r#""t":"2021-02-22T15:51:44.208Z""#;
    let cases: Vec<(String, IssueKind)> = vec![
        (r#"{"T":"zz","S":"A"}"#.into(), IssueKind::UnknownEvent),
        (r#"{"S":"A","p":1}"#.into(), IssueKind::MissingField),
        (r#"{"T":7}"#.into(), IssueKind::MissingField),
        (
            format!(r#"{{"T":"t","p":1.0,"s":1,{time}}}"#),
            IssueKind::MissingField,
        ),
        (
            format!(r#"{{"T":"t","S":"","p":1.0,"s":1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"t","S":["A"],"p":1.0,"s":1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"t","S":"A","p":"1.0","s":1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"t","S":"A","p":-5,"s":1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"t","S":"A","p":1e300,"s":1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"t","S":"A","p":1,"s":-1,{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            r#"{"T":"t","S":"A","p":1,"s":1}"#.into(),
            IssueKind::MissingField,
        ),
        (
            r#"{"T":"t","S":"A","p":1,"s":1,"t":1651684192462}"#.into(),
            IssueKind::BadValue,
        ),
        (
            r#"{"T":"t","S":"A","p":1,"s":1,"t":"2021-02-30T00:00:00Z"}"#.into(),
            IssueKind::BadValue,
        ),
        (
            r#"{"T":"t","S":"A","p":1,"s":1,"t":"1969-12-31T23:59:59Z"}"#.into(),
            IssueKind::BadValue,
        ),
        (
            r#"{"T":"t","S":"A","p":1,"s":1,"t":"yesterday"}"#.into(),
            IssueKind::BadValue,
        ),
        (
            format!(r#"{{"T":"q","S":"A",{time}}}"#),
            IssueKind::MissingField,
        ),
        (
            format!(r#"{{"T":"b","S":"A","o":1,"h":1,"l":1,"c":["x"],{time}}}"#),
            IssueKind::BadValue,
        ),
        (
            r#"{"T":"d","S":"A","o":1,"h":1,"l":1,"c":1}"#.into(),
            IssueKind::MissingField,
        ),
        (r#"[1,2]"#.into(), IssueKind::NotObject),
        (r#""t""#.into(), IssueKind::NotObject),
        (r#"null"#.into(), IssueKind::NotObject),
    ];
    for (bad, kind) in cases {
        let frame = format!("[{good},{bad},{good}]");
        let (got, issues) = decode(&frame);
        assert_eq!(got.len(), 2, "{frame}");
        assert_eq!(issues.len(), 1, "{frame}: {issues:?}");
        assert_eq!(issues[0].kind, kind, "{frame}: {issues:?}");
    }
}

#[test]
fn broken_frames_are_reported_once() {
    let cases: Vec<(&str, IssueKind)> = vec![
        (r#"[{"T":"t","S":"A","p":1.0,"#, IssueKind::Truncated),
        (r#"[{"T":"t""#, IssueKind::Truncated),
        (r#"not json"#, IssueKind::Malformed),
        (r#"[{"T" "t"}]"#, IssueKind::Malformed),
        (r#"{"T":"t"}"#, IssueKind::NotArray),
        (r#""hello""#, IssueKind::NotArray),
        (r#"42"#, IssueKind::NotArray),
        (r#"null"#, IssueKind::NotArray),
        ("", IssueKind::Truncated),
    ];
    for (frame, kind) in cases {
        let (_, issues) = decode(frame);
        assert_eq!(issues.len(), 1, "{frame}: {issues:?}");
        assert_eq!(issues[0].kind, kind, "{frame}: {issues:?}");
    }
}

#[test]
fn issue_text_is_specific_and_short() {
    let long = "X".repeat(10_000);
    let (_, issues) = decode(&format!(r#"[{{"T":"{long}"}}]"#));
    assert!(issues[0].detail.len() < 100, "{}", issues[0].detail);
    let (_, issues) = decode(&format!(
        r#"[{{"T":"t","S":"A","p":1,"s":1,"t":"{long}"}}]"#
    ));
    assert!(issues[0].detail.len() < 120, "{}", issues[0].detail);
    let (_, issues) =
        decode(r#"[{"T":"t","S":"A","p":1e300,"s":1,"t":"2021-02-22T15:51:44.208Z"}]"#);
    assert_eq!(
        issues[0].detail,
        "`t` message: field `p`: 1e300 is out of range"
    );
    let (_, issues) = decode(r#"[{"T":"t","S":"A","p":1.0,"t":"2021-02-22T15:51:44.208Z"}]"#);
    assert_eq!(issues[0].detail, "`t` message: field `s` is missing");
    let (_, issues) = decode(r#"[{"T":"q","S":"A","bp":1,"ap":1,"t":"2021-02-30T00:00:00Z"}]"#);
    assert_eq!(
        issues[0].detail,
        "`q` message: field `t`: `2021-02-30T00:00:00Z` is not an RFC-3339 timestamp"
    );
}

/// Every prefix of every documented frame, and each of them with one byte
/// flipped, goes through both entry points the session uses without a panic.
#[test]
fn cut_and_corrupted_frames_never_panic() {
    let frames = [
        r#"[{"T":"t","i":96921,"S":"AAPL","x":"D","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"}]"#,
        r#"[{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"}]"#,
        r#"[{"T":"subscription","trades":["AAPL"],"quotes":["AMD","CLDR"],"bars":["*"],"corrections":["AAPL"]}]"#,
        r#"[{"T":"error","code":409,"msg":"insufficient subscription"}]"#,
    ];
    let alpaca = Alpaca::default();
    for frame in frames {
        let bytes = frame.as_bytes();
        for cut in 0..=bytes.len() {
            let mut flipped = bytes.to_vec();
            if let Some(b) = flipped.get_mut(cut) {
                *b ^= 0x5a;
            }
            for input in [&bytes[..cut], &flipped[..]] {
                let (mut out, mut issues) = (Vec::new(), Vec::new());
                alpaca.decode(input, &mut out, &mut issues);
                let control = alpaca.control(input);
                assert!(out.len() <= 1 && issues.len() <= 2, "{input:?}");
                assert!(control.events.len() <= 6, "{input:?}");
            }
        }
    }
}
