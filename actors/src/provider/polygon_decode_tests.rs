//! Table tests for the Polygon decoder, on the example frames of the provider's
//! own documentation and on hostile input.

use super::*;
use crate::provider::IssueKind;
use smallvec::smallvec;

fn decode(frame: &str) -> (Vec<Event>, Vec<DecodeIssue>) {
    let mut out = Vec::new();
    let mut issues = Vec::new();
    decode_frame(frame.as_bytes(), &mut out, &mut issues);
    (out, issues)
}

fn trade(symbol: &str, price: f64, size: f64, time_ms: i64) -> Trade {
    Trade {
        symbol: symbol.into(),
        class: AssetClass::of(symbol),
        price,
        size,
        exchange: None,
        conditions: Default::default(),
        time_ms,
        sequence: None,
    }
}

#[test]
fn documented_frames_decode_to_typed_events() {
    let cases: Vec<(&str, Vec<Event>)> = vec![
        // Stocks trade, quickstart.
        (
            r#"[{"ev":"T","sym":"AAPL","i":"5096","x":10,"p":161.87,"s":300,"c":[14,41],"t":1651684192462,"q":4009402,"z":3}]"#,
            vec![Event::Trade(Trade {
                exchange: Some(10),
                conditions: smallvec![14, 41],
                sequence: Some(4009402),
                ..trade("AAPL", 161.87, 300.0, 1651684192462)
            })],
        ),
        // Two trades in one frame, the second with conditions.
        (
            r#"[{"ev":"T","sym":"MSFT","i":"50578","x":4,"p":215.9721,"s":100,"t":1611082428813,"z":3},
 {"ev":"T","sym":"MSFT","i":"12856","x":4,"p":215.989,"s":1,"c":[37],"t":1611082428814,"z":3}]"#,
            vec![
                Event::Trade(Trade {
                    exchange: Some(4),
                    ..trade("MSFT", 215.9721, 100.0, 1611082428813)
                }),
                Event::Trade(Trade {
                    exchange: Some(4),
                    conditions: smallvec![37],
                    ..trade("MSFT", 215.989, 1.0, 1611082428814)
                }),
            ],
        ),
        // Options trade: no `i`, no `z`.
        (
            r#"[{"ev":"T","sym":"O:AMC210827C00037000","x":65,"p":1.54,"s":1,"c":[233],"t":1629820676333,"q":651921857}]"#,
            vec![Event::Trade(Trade {
                exchange: Some(65),
                conditions: smallvec![233],
                sequence: Some(651921857),
                ..trade("O:AMC210827C00037000", 1.54, 1.0, 1629820676333)
            })],
        ),
        // Stocks NBBO quote.
        (
            r#"[{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,"i":[604],"t":1536036818784,"q":50385480,"z":3}]"#,
            vec![Event::Quote(Quote {
                symbol: "MSFT".into(),
                class: AssetClass::Stock,
                bid: 114.125,
                bid_size: 100.0,
                ask: 114.128,
                ask_size: 160.0,
                time_ms: 1536036818784,
            })],
        ),
        // Options quote.
        (
            r#"[{"ev":"Q","sym":"O:SPY241220P00720000","bx":302,"ax":302,"bp":9.71,"ap":9.81,"bs":17,"as":24,"t":1644506128351,"q":844090872}]"#,
            vec![Event::Quote(Quote {
                symbol: "O:SPY241220P00720000".into(),
                class: AssetClass::Option,
                bid: 9.71,
                bid_size: 17.0,
                ask: 9.81,
                ask_size: 24.0,
                time_ms: 1644506128351,
            })],
        ),
        // Stocks minute aggregate.
        (
            r#"[{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]"#,
            vec![Event::Aggregate(Aggregate {
                symbol: "GTE".into(),
                class: AssetClass::Stock,
                window: AggWindow::Minute,
                open: 0.4488,
                high: 0.4489,
                low: 0.4486,
                close: 0.4486,
                volume: Some(4110.0),
                vwap: Some(0.4488),
                start_ms: 1610144640000,
                end_ms: 1610144700000,
            })],
        ),
        // Options minute aggregate.
        (
            r#"[{"ev":"AM","sym":"O:ONEM220121C00025000","v":2,"av":8,"op":2.2,"vw":2.05,"o":2.05,"c":2.05,"h":2.05,"l":2.05,"a":2.1312,"z":2,"s":1632419640000,"e":1632419700000}]"#,
            vec![Event::Aggregate(Aggregate {
                symbol: "O:ONEM220121C00025000".into(),
                class: AssetClass::Option,
                window: AggWindow::Minute,
                open: 2.05,
                high: 2.05,
                low: 2.05,
                close: 2.05,
                volume: Some(2.0),
                vwap: Some(2.05),
                start_ms: 1632419640000,
                end_ms: 1632419700000,
            })],
        ),
        // Per-second aggregate (indices: no volume).
        (
            r#"[{"ev":"A","sym":"I:SPX","op":3985.67,"o":3985.67,"c":3985.67,"h":3985.67,"l":3985.67,"s":1678220675805,"e":1678220675805}]"#,
            vec![Event::Aggregate(Aggregate {
                symbol: "I:SPX".into(),
                class: AssetClass::Stock,
                window: AggWindow::Second,
                open: 3985.67,
                high: 3985.67,
                low: 3985.67,
                close: 3985.67,
                volume: None,
                vwap: None,
                start_ms: 1678220675805,
                end_ms: 1678220675805,
            })],
        ),
        // Crypto trade: pair instead of sym, fractional size.
        (
            r#"[{"ev":"XT","pair":"BTC-USD","p":33021.9,"t":1610462007425,"s":0.01616617,"c":[2],"i":14272084,"x":3,"r":1610462007576}]"#,
            vec![Event::Trade(Trade {
                class: AssetClass::Crypto,
                exchange: Some(3),
                conditions: smallvec![2],
                ..trade("BTC-USD", 33021.9, 0.01616617, 1610462007425)
            })],
        ),
        // Status messages.
        (
            r#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#,
            vec![Event::Status(Status {
                status: "connected".into(),
                message: "Connected Successfully".into(),
            })],
        ),
        // Event types tapewatch does not decode are skipped quietly.
        (
            r#"[{"ev":"LULD","T":"MSFT","h":218.96,"l":198.11,"i":[21],"z":3,"t":1601316752683746,"q":290317},{"ev":"FMV","fmv":189.22,"sym":"AAPL","t":1678220098130}]"#,
            vec![],
        ),
        // Escaped strings still decode.
        (
            r#"[{"ev":"T","sym":"BRK\u002eA","p":1.5,"s":2,"t":1651684192462}]"#,
            vec![Event::Trade(trade("BRK.A", 1.5, 2.0, 1651684192462))],
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
    let good = r#"{"ev":"T","sym":"A","p":1.0,"s":1,"t":1651684192462}"#;
    let cases: Vec<(String, IssueKind)> = vec![
        (r#"{"ev":"ZZ","sym":"A"}"#.into(), IssueKind::UnknownEvent),
        (r#"{"sym":"A","p":1}"#.into(), IssueKind::MissingField),
        (r#"{"ev":"T","p":1.0,"s":1,"t":1651684192462}"#.into(), IssueKind::MissingField),
        (r#"{"ev":"T","sym":"A","p":"1.0","s":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"A","p":-5,"s":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"A","p":1e300,"s":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"A","p":-1e-300,"s":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"A","p":1.0,"s":-5e-324,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"Q","sym":"A","bp":-1.7976931348623157e308,"ap":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"A","p":1.0,"s":1,"t":1651684192462000000}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"T","sym":"","p":1.0,"s":1,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"Q","sym":"A","t":1651684192462}"#.into(), IssueKind::MissingField),
        (r#"{"ev":"Q","sym":"A","bp":1,"ap":2,"bs":-3,"t":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"{"ev":"AM","sym":"A","o":1,"h":1,"l":1,"c":[1],"s":1651684192462,"e":1651684192462}"#.into(), IssueKind::BadValue),
        (r#"[1,2]"#.into(), IssueKind::NotObject),
        (r#""T""#.into(), IssueKind::NotObject),
        (r#"{"ev":7}"#.into(), IssueKind::MissingField),
    ];
    for (bad, kind) in cases {
        let frame = format!("[{good},{bad},{good}]");
        let (got, issues) = decode(&frame);
        assert_eq!(got.len(), 2, "{frame}");
        assert_eq!(issues.len(), 1, "{frame}: {issues:?}");
        assert_eq!(issues[0].kind, kind, "{frame}: {issues:?}");
        assert!(issues[0].detail.len() < 200, "{frame}: {issues:?}");
    }
}

#[test]
fn broken_frames_are_reported_once() {
    let cases: Vec<(&str, IssueKind)> = vec![
        (r#"[{"ev":"T","sym":"A","p":1.0,"#, IssueKind::Truncated),
        (r#"[{"ev":"T""#, IssueKind::Truncated),
        (r#"not json"#, IssueKind::Malformed),
        (r#"[{"ev" "T"}]"#, IssueKind::Malformed),
        (r#"{"ev":"T"}"#, IssueKind::NotArray),
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
fn a_broken_frame_gives_no_event_even_from_its_whole_elements() {
    let good = r#"{"ev":"T","sym":"AAPL","p":100.5,"s":100,"t":1700000000000}"#;
    let cases = [
        (
            format!("[{good},{good},{{\"ev\":\"T\",\"sym\":"),
            IssueKind::Truncated,
        ),
        (format!("[{good},{good}] trailing"), IssueKind::Malformed),
        (
            format!("[{good},{{\"ev\":\"T\" \"sym\"}}]"),
            IssueKind::Malformed,
        ),
    ];
    for (frame, kind) in cases {
        let (got, issues) = decode(&frame);
        assert!(got.is_empty(), "{frame}: {got:?}");
        assert_eq!(issues.len(), 1, "{frame}: {issues:?}");
        assert_eq!(issues[0].kind, kind, "{frame}: {issues:?}");
    }
}

#[test]
fn issue_text_is_specific_and_short() {
    let long_ev = "X".repeat(10_000);
    let (_, issues) = decode(&format!(r#"[{{"ev":"{long_ev}"}}]"#));
    assert!(issues[0].detail.len() < 100, "{}", issues[0].detail);
    let (_, issues) = decode(r#"[{"ev":"T","sym":"A","p":1.0,"t":1651684192462}]"#);
    assert_eq!(issues[0].detail, "`T` event: field `s` is missing");
}

#[test]
fn out_of_range_numbers_are_written_briefly() {
    // The first frame is the fuzzer's first finding (fuzz/README.md): `1e300`
    // used to be written out as 301 digits in the issue detail.
    let cases: &[(&str, &str)] = &[
        (
            r#"[{"ev":"T","sym":"A","p":1.0,"s":1,"t":1651684192462},{"ev":"T","sym":"A","p":1e300,"s":1,"t":1651684192462},{"ev":"T","sym":"A","p":1.0,"s":1,"t":1651684192462}]"#,
            "`T` event: field `p`: 1e300 is out of range",
        ),
        (
            r#"[{"ev":"T","sym":"A","p":-1e-300,"s":1,"t":1651684192462}]"#,
            "`T` event: field `p`: -1e-300 is out of range",
        ),
        (
            r#"[{"ev":"Q","sym":"A","bp":1,"ap":-1.7976931348623157e308,"t":1651684192462}]"#,
            "`Q` event: field `ap`: -1.7976931348623157e308 is out of range",
        ),
        // Ordinary magnitudes keep their plain spelling.
        (
            r#"[{"ev":"T","sym":"A","p":-5.25,"s":1,"t":1651684192462}]"#,
            "`T` event: field `p`: -5.25 is out of range",
        ),
        (
            r#"[{"ev":"T","sym":"A","p":1e12,"s":1,"t":1651684192462}]"#,
            "`T` event: field `p`: 1000000000000 is out of range",
        ),
    ];
    for (frame, want) in cases {
        let (got, issues) = decode(frame);
        let details: Vec<&str> = issues.iter().map(|i| i.detail.as_str()).collect();
        assert_eq!(details, [*want], "{frame}");
        assert!(got.iter().all(|e| matches!(e, Event::Trade(_))), "{frame}");
    }
}
